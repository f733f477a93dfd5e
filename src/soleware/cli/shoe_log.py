"""``soleware shoe log …``: inspect and check a shoe's flash run log image."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from soleware.cli._json import dumps
from soleware.cli.shoe import shoe_app
from soleware.shoe.runlog import (
    FileFlash,
    FlashError,
    LogRecord,
    RunLog,
    RunLogError,
    detect_page_size,
    parse_size,
    record_to_dict,
)

log_app = typer.Typer(help="The shoe's flash run log: dump and check an image.", no_args_is_help=True)
shoe_app.add_typer(log_app, name="log")

ImageArg = Annotated[Path, typer.Argument(help="Flash image file.")]
PageSizeOpt = Annotated[
    int, typer.Option("--page-size", help="Erase page size in bytes (0: read it from the image).")
]


def _open(image: Path, page_size: int) -> tuple[FileFlash, RunLog]:
    """Open ``image`` read-only (dump/check never change an image)."""
    if not image.is_file():
        raise typer.BadParameter(f"{image} does not exist", param_hint="IMAGE")
    if page_size <= 0:
        with image.open("rb") as f:
            page_size = detect_page_size(f.read()) or 4096
    try:
        flash = FileFlash(image, page_size=page_size, readonly=True)
        return flash, RunLog.open(flash, repair=False)
    except (FlashError, RunLogError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e


@log_app.command("new")
def new(
    image: ImageArg,
    size: Annotated[str, typer.Option("--size", help="Image size, e.g. 4MiB, 512KiB.")] = "4MiB",
    page_size: Annotated[int, typer.Option("--page-size", help="Erase page size in bytes.")] = 4096,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Create an erased flash image (all bytes 0xFF)."""
    if image.exists() and not force:
        typer.echo(f"error: {image} exists (use --force to replace it)", err=True)
        raise typer.Exit(2)
    try:
        nbytes = parse_size(size)
        FileFlash.create(image, nbytes, page_size=page_size).close()
    except (ValueError, FlashError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    typer.echo(f"{image}: {nbytes:,} bytes, {nbytes // page_size} pages of {page_size} bytes, erased")


def _row(rec: LogRecord) -> tuple[str, str, str, str]:
    """A record as the table shows it: its raw fields, a contact time of 0 ms said to be the unknown it stands
    for, the estimated mark only on the strides that carry it."""
    d = record_to_dict(rec)
    kind, seq = d.pop("type"), d.pop("seq")
    run = str(d.pop("run_id", ""))
    if d.get("estimated") is False:
        del d["estimated"]
    fields = [f"{k}={v}" + (" (unknown)" if k == "contact_ms" and v == 0 else "") for k, v in d.items()]
    return str(seq), kind, run, " ".join(fields)


@log_app.command("dump")
def dump(
    image: ImageArg,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    from_seq: Annotated[int, typer.Option("--from", help="First seq to show.")] = 0,
    acks: Annotated[bool, typer.Option("--acks", help="Also show ACK records.")] = False,
    page_size: PageSizeOpt = 0,
) -> None:
    """Print the records of an image, oldest first."""
    flash, log = _open(image, page_size)
    try:
        for p in log.problems_:
            typer.echo(f"warning: {p} (`soleware shoe log check` lists every problem)", err=True)
        recs = [r for r in log.records() if (acks or r.is_data) and (r.seq >= from_seq or not r.is_data)]
        if as_json:
            for r in recs:
                typer.echo(dumps(record_to_dict(r)))
            return
        table = Table(title=f"{image.name}: {len(recs)} records, acknowledged up to {log.acked_seq}")
        for col in ("seq", "type", "run", "fields"):
            table.add_column(col, justify="right" if col in ("seq", "run") else "left")
        for r in recs:
            table.add_row(*_row(r))
        Console().print(table)
    finally:
        flash.close()


@log_app.command("check")
def check(image: ImageArg, page_size: PageSizeOpt = 0) -> None:
    """Check an image; exit 1 with one line per problem, 0 if clean."""
    flash, log = _open(image, page_size)
    try:
        problems = log.check()
        st = log.stats
        runs = log.runs()
        typer.echo(
            f"{image}: {st.records} records ({st.unsynced_records} unsynced, {st.unsynced_bytes:,} bytes), "
            f"{len(runs)} runs ({sum(not r.acknowledged for r in runs)} unsynced), "
            f"{st.torn_records} torn records, {st.overflow_count} overflows, next seq {st.next_seq}, "
            f"acknowledged up to {st.acked_seq}, {st.used_bytes:,} of {st.capacity_bytes:,} bytes used"
        )
        for p in problems:
            typer.echo(f"problem: {p}")
        if problems:
            raise typer.Exit(1)
    finally:
        flash.close()
