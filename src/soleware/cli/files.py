"""``soleware export`` and ``soleware import``: runs to and from FIT, TCX, GPX and CSV files, on the local database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from soleware.cli._app import app
from soleware.cli.service import DatabaseUrl, database_errors

if TYPE_CHECKING:
    from soleware.runs.storage import RunStore

User = Annotated[str, typer.Option("--user", envvar="SOLEWARE_USER", help="the runner's e-mail address")]


def _store_and_runner(database_url: str | None, email: str) -> tuple[RunStore, str, str]:
    import sqlalchemy as sa

    from soleware.runs.storage import RunStore
    from soleware.runs.storage.db import Runner, make_engine
    from soleware.runs.storage.migrate import upgrade

    with database_errors(database_url):
        engine = make_engine(database_url)
        upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(Runner.id, Runner.time_zone).where(Runner.email == email.strip().lower())
            ).first()
    if row is None:
        typer.echo(f"error: no runner {email} (create one with `soleware user create`)", err=True)
        raise typer.Exit(2)
    return RunStore(engine), row.id, row.time_zone


@app.command("export")
def export_cmd(
    run_id: Annotated[str, typer.Argument(help="the run's id (see the web app or the API)")],
    user: User,
    fmt: Annotated[str, typer.Option("--format", help="fit, tcx or csv")] = "fit",
    out: Annotated[
        Path | None, typer.Option("--out", help="file to write (default: soleware-RUN.FORMAT)")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write one run as a FIT activity, a TCX file or a CSV of its strides."""
    from soleware.formats import FormatError
    from soleware.formats.history import export
    from soleware.runs.storage import NotFound

    if fmt not in ("fit", "tcx", "csv"):
        raise typer.BadParameter("fit, tcx or csv", param_hint="--format")
    store, runner_id, _zone = _store_and_runner(database_url, user)
    try:
        data = export(store, runner_id, run_id, fmt)
    except (NotFound, FormatError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    out = out or Path(f"soleware-{run_id[:8]}.{fmt}")
    out.write_bytes(data)
    typer.echo(f"wrote {out} ({len(data):,} bytes)")


@app.command("import")
def import_cmd(
    paths: Annotated[list[Path], typer.Argument(help="FIT/TCX/GPX files (also .gz), folders or zip exports")],
    user: User,
    database_url: DatabaseUrl = None,
) -> None:
    """Import activities from watches and other apps; ones already in the history are skipped."""
    from soleware.formats.history import import_into

    for p in paths:
        if not p.exists():
            raise typer.BadParameter(f"{p} does not exist", param_hint="PATHS")
    store, runner_id, zone = _store_and_runner(database_url, user)
    console = Console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=Path(name).name[:40])

        outcomes = import_into(store, runner_id, paths, time_zone=zone, progress=progress)
    for o in outcomes:
        if o.status == "rejected":
            console.print(f"[red]rejected[/red] {o.name}: {o.reason}")
        elif o.status == "imported" and o.reason:
            console.print(f"[yellow]imported in part[/yellow] {o.name}: {o.reason}")
    counts = {s: sum(o.status == s for o in outcomes) for s in ("imported", "duplicate", "rejected")}
    console.print(
        f"[bold]{counts['imported']} imported[/bold], {counts['duplicate']} already there, {counts['rejected']} rejected"
    )
    if counts["rejected"] and not counts["imported"] and not counts["duplicate"]:
        raise typer.Exit(1)
