"""``soleware shoe replay``: the firmware over a recording (simulated or real), as the shoe would see it."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from soleware.cli._json import dumps, jsonable
from soleware.cli.shoe import shoe_app
from soleware.gait.recording import RecordingError, load_recording
from soleware.shoe.firmware import Firmware, FirmwareEvent, StrideEvent
from soleware.shoe.runlog import FileFlash, FlashError, RunLog, RunLogError


def _pace(speed_mps: float) -> str:
    if speed_mps <= 0.1:
        return "–"
    m, s = divmod(round(1000.0 / speed_mps), 60)
    return f"{m}:{s:02d}"


def _num(x: float, fmt: str) -> str:
    return format(x, fmt) if math.isfinite(x) else "–"


@shoe_app.command()
def replay(
    recording: Annotated[Path, typer.Argument(help="Recording (.csv with optional .json sidecar).")],
    log: Annotated[
        Path | None, typer.Option("--log", help="Flash image to log runs in (created if missing).")
    ] = None,
    side: Annotated[str, typer.Option(help="left or right (default: from the sidecar)")] = "",
    strides: Annotated[
        bool, typer.Option("--strides/--summary", help="Print every stride or only the summary.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines: one per stride and event.")] = False,
    calibration: Annotated[float, typer.Option(help="Distance calibration factor.")] = 1.0,
    auto_end_s: Annotated[float, typer.Option(help="Seconds without steps that end a run.")] = 60.0,
) -> None:
    """Run the shoe's firmware over RECORDING and print what the shoe would report."""
    try:
        rec = load_recording(recording)
    except RecordingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    side = side or (rec.side if rec.side in ("left", "right") else "left")
    flash = run_log = None
    try:
        if log is not None:
            flash = FileFlash(log) if log.exists() else FileFlash.create(log)
            run_log = RunLog.open(flash)
        fw = Firmware(
            side=side,
            sample_rate_hz=rec.sample_rate_hz,
            run_log=run_log,
            calibration=calibration,
            auto_end_s=auto_end_s,
        )
        t0 = time.perf_counter()
        events = list(fw.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps)) + fw.finish()
        cpu_s = time.perf_counter() - t0
        logged = (
            f"logged to {log}: {len(run_log.runs())} run(s), next seq {run_log.next_seq}" if run_log else ""
        )
    except (FlashError, RunLogError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        if flash is not None:
            flash.close()
    stride_events = [e for e in events if isinstance(e, StrideEvent)]
    if as_json:
        for e in events:
            if isinstance(e, StrideEvent):
                row = {"type": "stride", "seq": e.seq, "run_id": e.run_id, **jsonable(e.stride), "rsc": e.rsc}
            else:
                row = {"type": e.kind, "t_s": e.t_s, "run_id": e.run_id}
            typer.echo(dumps(row))
        return
    console = Console()
    if strides:
        table = Table(title=f"{recording.name}: strides ({side} shoe)")
        for col in (
            "#",
            "end s",
            "length m",
            "pace /km",
            "cadence",
            "contact ms",
            "flight ms",
            "strike",
            "total m",
        ):
            table.add_column(col, justify="right")
        for e in stride_events:
            s = e.stride
            table.add_row(
                str(e.seq),
                f"{s.t_end_s:.2f}",
                f"{s.length_m:.2f}",
                _pace(s.speed_mps),
                f"{e.rsc.cadence_spm:.0f}",
                _num(1000 * s.contact_time_s, ".0f"),
                _num(1000 * s.flight_time_s, ".0f"),
                f"{(s.strike_type or '–').removesuffix('foot')} {_num(s.strike_angle_deg, '+.0f')}°",
                f"{e.rsc.total_distance_m:.1f}",
            )
        console.print(table)
    for e in events:
        if isinstance(e, FirmwareEvent):
            console.print(
                f"{e.t_s:8.1f} s  {e.kind.replace('_', ' ')}" + (f" (run {e.run_id})" if e.run_id else "")
            )
    distance = sum(e.stride.length_m for e in stride_events)
    running = [e for e in stride_events if e.stride.gait == "run"]
    console.print(
        f"[bold]{len(stride_events)} strides, {distance:.1f} m[/bold]; "
        f"{len(running)} running; battery {fw.battery.percent}%; "
        f"state {fw.state_bytes() / 1024:.0f} KiB; processed {rec.duration_s / cpu_s:.0f}× real time"
    )
    if logged:
        console.print(logged)
