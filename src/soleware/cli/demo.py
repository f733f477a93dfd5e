"""``soleware demo``: options in, :func:`soleware.demo.main` does the rest."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from soleware import demo as demo_
from soleware.cli._app import app


@app.command()
def demo(
    plan: Annotated[str, typer.Option(help="workout both shoes run")] = demo_.DEFAULT_PLAN,
    speedup: Annotated[
        float, typer.Option(help="replay speed (default: the run lasts about a minute)")
    ] = 0.0,
    runs: Annotated[
        int, typer.Option(help="runs over simulated weeks, to build up progress and records")
    ] = 1,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="open the live page")] = True,
    keep: Annotated[bool, typer.Option("--keep", help="keep serving after the runs (Ctrl-C stops)")] = False,
    port: Annotated[int, typer.Option(help="run service port (0: any free port)")] = 8000,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 1,
    view: Annotated[bool, typer.Option("--view/--no-view", help="the gateway's live terminal view")] = True,
    report: Annotated[Path | None, typer.Option(help="write the measured figures as JSON here")] = None,
    password: Annotated[
        str, typer.Option(hidden=True, help="the demo runner's password (default: random)")
    ] = "",
    workdir: Annotated[
        Path | None, typer.Option(help="keep the database and logs here (default: a temp dir)")
    ] = None,
    phone: Annotated[
        bool,
        typer.Option(
            "--phone",
            help="Chromium is the phone: its web app pairs the shoes over (emulated) Web Bluetooth, shows the "
            "run live and uploads it, instead of the Python gateway (headless with --no-browser)",
        ),
    ] = False,
) -> None:
    """Two virtual shoes, a phone, a server and a web page: watch a run happen."""
    from rich.console import Console

    from soleware.shoe.sim import PlanError, parse_plan

    try:
        parsed = parse_plan(plan)
    except PlanError as exc:
        raise typer.BadParameter(str(exc), param_hint="--plan") from None
    if runs < 1:
        raise typer.BadParameter("at least 1", param_hint="--runs")
    if speedup <= 0:
        speedup = max(1.0, parsed.duration_s / 60.0)
    port = port or demo_.free_port()
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise typer.BadParameter(
                f"port {port} is in use; pass --port 0 for any free port", param_hint="--port"
            )
    if phone and runs != 1:
        raise typer.BadParameter(
            "the phone demo runs one run (the gateway demo runs several)", param_hint="--runs"
        )
    if phone:
        raise typer.Exit(
            demo_.phone_main(
                plan=plan,
                speedup=speedup,
                headless=not browser,
                port=port,
                seed=seed,
                password=password,
                workdir=workdir,
                console=Console(),
                keep=keep,
                report=report,
            )
        )
    status = demo_.main(
        plan=plan,
        speedup=speedup,
        runs=runs,
        browser=browser,
        keep=keep,
        port=port,
        seed=seed,
        view=view,
        report=report,
        password=password,
        workdir=workdir,
        console=Console(),
    )
    if status:
        raise typer.Exit(status)
