"""``soleware shoe serve``, ``soleware gateway``, ``soleware radio``: the Bluetooth side, one process each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Annotated, Any

import platformdirs
import typer

from soleware.cli._app import app
from soleware.cli._json import dumps
from soleware.cli.shoe import shoe_app


def _run(coro: Coroutine[Any, Any, object]) -> None:
    """Run until done or SIGINT/SIGTERM, then cancel cleanly (no process or task left behind)."""

    async def main() -> None:
        task = asyncio.ensure_future(coro)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())


@contextlib.contextmanager
def _lap_keys(on_lap: Callable[[], None]) -> Iterator[bool]:
    """While inside, the L key (or the space bar) calls ``on_lap``: the terminal in cbreak mode (Ctrl-C still
    stops), its keys read by the running event loop. Yields whether keys are read: not where stdin is no terminal
    (piped, a service) or the platform has no termios."""
    try:
        import termios
        import tty
    except ImportError:  # Windows
        yield False
        return
    if not sys.stdin.isatty():
        yield False
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    loop = asyncio.get_running_loop()

    def read() -> None:
        data = os.read(fd, 64)
        if not data:  # the terminal hung up: stop listening rather than be woken for nothing
            loop.remove_reader(fd)
        elif any(ch in "lL " for ch in data.decode(errors="ignore")):
            on_lap()

    tty.setcbreak(fd)
    loop.add_reader(fd, read)
    try:
        yield True
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@app.command()
def radio(
    ports: Annotated[
        list[int], typer.Argument(help="TCP ports on 127.0.0.1, one virtual controller each (0: any)")
    ],
) -> None:
    """Virtual Bluetooth LE controllers on one simulated radio (for shoes and gateway without hardware)."""
    from soleware.link.controllers import serve

    logging.basicConfig(level=logging.WARNING)
    _run(serve(ports))


@shoe_app.command()
def serve(
    side: Annotated[str, typer.Option(help="left or right")],
    transport: Annotated[str, typer.Option(help="Bumble transport, e.g. tcp-client:127.0.0.1:9101 or usb:0")],
    plan: Annotated[str, typer.Option(help="workout to simulate")] = "2min walk, 10min@5:30/km, 2min walk",
    recording: Annotated[Path | None, typer.Option(help="replay this recording instead of a plan")] = None,
    serial: Annotated[str, typer.Option(help="shoe serial (default SW-L-0001 / SW-R-0001)")] = "",
    speedup: Annotated[float, typer.Option(help="replay speed; 1 = real time")] = 1.0,
    log: Annotated[Path | None, typer.Option("--log", help="flash image (created if missing)")] = None,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 0,
    start: Annotated[
        str, typer.Option(help="wall-clock time of the first sample, ISO 8601 (default: now)")
    ] = "",
    serve_after_s: Annotated[
        float | None, typer.Option(help="keep serving this long after the workout (default: until stopped)")
    ] = None,
    stats: Annotated[
        Path | None, typer.Option(help="write what the shoe sent (JSON) when the workout ends")
    ] = None,
) -> None:
    """One virtual shoe: advertise, stream a simulated or replayed workout, serve the run log."""
    import datetime as dt

    from soleware.gait.recording import RecordingError, load_recording
    from soleware.link.shoe import VirtualShoe
    from soleware.shoe.sim import PlanError, simulate

    if side not in ("left", "right"):
        raise typer.BadParameter("left or right", param_hint="--side")
    logging.basicConfig(level=logging.WARNING, format=f"shoe {side}: %(message)s")
    try:
        rec = load_recording(recording) if recording else simulate(plan, seed=seed)[side]
    except (RecordingError, PlanError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    boot = None
    if start:
        t = dt.datetime.fromisoformat(start)
        boot = int((t if t.tzinfo else t.replace(tzinfo=dt.UTC)).timestamp() * 1000)
    serial = serial or f"SW-{side[0].upper()}-0001"
    keys = log.with_suffix(".keys.json") if log else None
    shoe = VirtualShoe(
        side=side,
        serial=serial,
        recording=rec,
        transport=transport,
        speedup=speedup,
        log_path=log,
        keys_path=keys,
        boot_unix_ms=boot,
    )
    typer.echo(f"shoe {serial} ({side}): {rec.duration_s:.0f} s of samples at {speedup:g}x on {transport}")

    async def main() -> None:
        task = asyncio.create_task(shoe.run(serve_after_s=serve_after_s))
        if stats is not None:
            done = asyncio.create_task(shoe.done.wait())
            await asyncio.wait({task, done}, return_when=asyncio.FIRST_COMPLETED)
            if shoe.done.is_set():
                tmp = stats.with_suffix(".tmp")  # whoever polls for the file never reads half of it
                tmp.write_text(
                    dumps(
                        {
                            "serial": serial,
                            "side": side,
                            "strides_sent": shoe.stats.strides_sent,
                            "runs": shoe.run_log.runs(),
                        }
                    )
                )
                tmp.replace(stats)
        await task

    _run(main())


gateway_app = typer.Typer(
    help="The phone: connect to the shoes (or a running pod), show them live, sync their runs."
)
app.add_typer(gateway_app, name="gateway")
rejected_app = typer.Typer(
    help="Runs the run service refused, kept by the gateway: see them, send them again.", no_args_is_help=True
)
gateway_app.add_typer(rejected_app, name="rejected")


def _state_dir(state_dir: Path | None) -> Path:
    return state_dir or Path(platformdirs.user_data_dir("soleware", appauthor=False)) / "gateway"


@gateway_app.callback(invoke_without_command=True)
def gateway(
    ctx: typer.Context,
    transport: Annotated[
        str | None, typer.Option(help="Bumble transport of the phone's controller (required to run)")
    ] = None,
    server: Annotated[str | None, typer.Option(help="run service URL, e.g. http://127.0.0.1:8000")] = None,
    email: Annotated[
        str | None, typer.Option(envvar="SOLEWARE_EMAIL", help="runner's e-mail on the server")
    ] = None,
    password: Annotated[
        str | None, typer.Option(envvar="SOLEWARE_PASSWORD", help="runner's password")
    ] = None,
    shoes: Annotated[int, typer.Option(help="how many shoes to use (1 or 2)")] = 2,
    state_dir: Annotated[Path | None, typer.Option(help="where synced runs and keys are kept")] = None,
    time_zone: Annotated[str, typer.Option(help="the runner's IANA time zone")] = "UTC",
    view: Annotated[bool, typer.Option("--view/--no-view", help="live terminal view")] = True,
    exit_after_upload: Annotated[
        int, typer.Option(help="stop after this many runs are uploaded (0: never)")
    ] = 0,
    pod: Annotated[
        str | None,
        typer.Option(
            help="record a running pod (any Running Speed and Cadence sensor) instead of shoes: 'any', its name "
            "or its address; the run is uploaded when the gateway stops (Ctrl-C)"
        ),
    ] = None,
) -> None:
    """The phone: connect to the shoes, show them live, sync their runs to the run service."""
    if ctx.invoked_subcommand is not None:
        return
    if transport is None:
        raise typer.BadParameter(
            "give the phone's controller, e.g. tcp-client:127.0.0.1:9103", param_hint="--transport"
        )
    if pod is not None and not pod.strip():
        raise typer.BadParameter("give 'any', the pod's name or its address", param_hint="--pod")
    from rich.live import Live

    from soleware.console import render
    from soleware.link.central import BumbleCentral
    from soleware.link.gateway import Gateway, ServerClient

    logging.basicConfig(level=logging.WARNING, format="gateway: %(message)s")
    state_dir = _state_dir(state_dir)
    client = ServerClient(server, email=email, password=password) if server else None

    async def main() -> None:
        central = await BumbleCentral(transport, keys_path=state_dir / "keys.json").open()
        gw = Gateway(central, state_dir=state_dir, server=client, shoes=shoes, time_zone=time_zone, pod=pod)
        task = asyncio.create_task(gw.run())
        try:
            if view:
                with _lap_keys(gw.mark_lap) as keys, Live(render(gw), refresh_per_second=4) as live:
                    while not task.done():
                        live.update(render(gw, lap_key=keys))
                        if exit_after_upload and gw.settled(exit_after_upload):
                            gw.stop()
                        await asyncio.sleep(0.25)
            else:
                while not task.done():
                    if exit_after_upload and gw.settled(exit_after_upload):
                        gw.stop()
                    await asyncio.sleep(0.25)
            await task
        finally:
            gw.stop()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            await central.close()
            if client is not None:
                await client.close()
            for u in gw.uploads:  # also when stopped by Ctrl-C, as a pod run is
                typer.echo(f"run {u['run_id']}: {'stored' if u['created'] else 'already stored'}")

    _run(main())


StateDir = Annotated[Path | None, typer.Option(help="the gateway's state folder (default: as the gateway's)")]


@rejected_app.command("list")
def rejected_list(state_dir: StateDir = None) -> None:
    """The refused runs the gateway keeps: which shoe and run, how many strides, and why."""
    from rich.console import Console
    from rich.table import Table

    from soleware.link.gateway import rejected_runs

    kept = rejected_runs(_state_dir(state_dir))
    if not kept:
        typer.echo("no refused runs")
        return
    table = Table("name", "shoe", "run", "strides", "on the service", "reason")
    for r in kept:
        table.add_row(
            r.name, r.serial, str(r.run_id), str(r.strides), "yes" if r.reported else "not yet", r.reason
        )
    Console(width=200).print(table)


@rejected_app.command("resend")
def rejected_resend(
    names: Annotated[list[str] | None, typer.Argument(help="runs to send (as listed; default: all)")] = None,
    server: Annotated[str, typer.Option(help="run service URL, e.g. http://127.0.0.1:8000")] = "",
    email: Annotated[
        str | None, typer.Option(envvar="SOLEWARE_EMAIL", help="runner's e-mail on the server")
    ] = None,
    password: Annotated[
        str | None, typer.Option(envvar="SOLEWARE_PASSWORD", help="runner's password")
    ] = None,
    time_zone: Annotated[
        str, typer.Option(help="the runner's IANA time zone (runs kept without one)")
    ] = "UTC",
    state_dir: StateDir = None,
) -> None:
    """Send refused runs again (once the cause is fixed): each one stored is removed from the folder; one
    refused again stays, with the new reason."""
    from soleware.link.gateway import RejectedRun, ServerClient, UploadRejected, rejected_runs

    if not server:
        raise typer.BadParameter("give the run service's URL", param_hint="--server")
    kept = rejected_runs(_state_dir(state_dir))
    unknown = set(names or ()) - {r.name for r in kept}
    if unknown:
        raise typer.BadParameter(f"no refused run {', '.join(sorted(unknown))}", param_hint="NAMES")
    by_key: dict[str, list[RejectedRun]] = {}
    for r in kept:
        if not names or r.name in names:
            by_key.setdefault(r.key, []).append(r)
    if not by_key:
        typer.echo("no refused runs")
        return

    async def main() -> int:
        client = ServerClient(server, email=email, password=password)
        refused_again = 0
        try:
            for key, files in by_key.items():
                body = files[0].upload_body(time_zone=time_zone)
                upload = await client.report_refused(key=key, body=body, reason=files[0].reason)
                try:
                    answer = await client.resend_refused(upload["id"])
                except UploadRejected as exc:
                    refused_again += 1
                    for r in files:
                        r.reason, r.reported = str(exc), True
                        r.save()
                    typer.echo(f"{key}: refused again: {exc}")
                    continue
                for r in files:
                    r.path.unlink()
                typer.echo(f"{key}: stored as run {answer['run_id']}")
        finally:
            await client.close()
        return refused_again

    if asyncio.run(main()):
        raise typer.Exit(1)
