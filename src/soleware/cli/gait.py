"""``soleware analyze`` and ``soleware eval``: the gait engine on recordings."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from soleware.cli._app import app
from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import (
    ACC_UNITS,
    GYR_UNITS,
    TIME_UNITS,
    RecordingError,
    load_recording,
    sample_recording_path,
)
from soleware.gait.vocabulary import GRAVITY_MPS2, Gait, StrikeType


def _pace(s_per_km: float | None) -> str:
    if s_per_km is None or not math.isfinite(s_per_km):
        return "–"
    m, s = divmod(round(s_per_km), 60)
    return f"{m}:{s:02d} /km"


@app.command()
def analyze(
    file: Annotated[
        Path | None,
        typer.Argument(help="Recording CSV (with its JSON sidecar); default: the bundled sample."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    acc_unit: Annotated[str, typer.Option(help="auto, m/s^2 or g")] = "auto",
    gyr_unit: Annotated[str, typer.Option(help="auto, rad/s or deg/s")] = "auto",
    time_unit: Annotated[str, typer.Option(help="s, ms, us or ns")] = "s",
) -> None:
    """Analyse one foot's recording: distance, pace, cadence and every stride."""
    path = file or sample_recording_path()
    units = (("--acc-unit", acc_unit, ACC_UNITS), ("--gyr-unit", gyr_unit, GYR_UNITS))
    for option, value, allowed in (*units, ("--time-unit", time_unit, tuple(TIME_UNITS))):
        if value not in allowed:
            Console(stderr=True).print(
                f"[red]error:[/red] {option} must be one of {', '.join(allowed)}, not {value!r}"
            )
            raise typer.Exit(2)
    try:
        rec = load_recording(
            path, acc_unit=acc_unit, gyr_unit=gyr_unit, time_unit=time_unit, with_trajectory=False
        )
    except RecordingError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    ga = GaitAnalysis().analyze(rec)
    s = ga.summary_
    if as_json:
        from soleware.cli._json import dumps

        out = {
            "recording": str(path),
            "distance_m": s.distance_m,
            "duration_s": s.duration_s,
            "moving_time_s": s.moving_time_s,
            "steps": s.steps,
            "cadence_spm": s.cadence_spm,
            "avg_pace_s_per_km": s.avg_pace_s_per_km,
            "best_pace_s_per_km": s.best_pace_s_per_km,
            "splits_s": s.splits_s,
            "stops": s.stops,
            "warnings": rec.warnings,
            "rests": [
                {"t_s": t0, "gyr_bias_rps": bias[0].tolist(), "acc_offset_mps2": bias[1].tolist()}
                for t0, bias in ga.rest_biases_
            ],
            "strides": ga.strides_,
        }
        typer.echo(dumps(out))
        return
    console = Console()
    for w in rec.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    table = Table(title=f"Run summary — {Path(path).name}")
    table.add_column("")
    table.add_column("", justify="right")
    gaits = [x.gait for x in ga.strides_]
    strikes = [x.strike_type for x in ga.strides_]
    rows = [
        ("Distance", f"{s.distance_m:.1f} m"),
        ("Duration", f"{s.duration_s:.1f} s (moving {s.moving_time_s:.1f} s)"),
        ("Strides of this foot", str(s.steps)),
        ("Cadence (both feet)", f"{s.cadence_spm:.0f} steps/min"),
        ("Average pace", _pace(s.avg_pace_s_per_km)),
        ("Best pace (10 strides)", _pace(s.best_pace_s_per_km)),
        ("Running / walking strides", f"{gaits.count(Gait.RUN)} / {gaits.count(Gait.WALK)}"),
        (
            "Strike (rear/mid/fore)",
            f"{strikes.count(StrikeType.REARFOOT)} / {strikes.count(StrikeType.MIDFOOT)} / {strikes.count(StrikeType.FOREFOOT)}",
        ),
        ("Stops", str(len(s.stops))),
        *_sensor_rows(ga),
        *_clipping_rows(ga),
        *_bridged_rows(ga),
    ]
    if rec.ground_truth.distance_m:
        rows.append(("Reference distance", f"{rec.ground_truth.distance_m:.1f} m"))
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)


def _median(values: list[float]) -> float:
    """The median of a few numbers (``np.median`` imports numpy.ma: a hundredth of a second of every analyse)."""
    v = sorted(values)
    return 0.5 * (v[(len(v) - 1) // 2] + v[len(v) // 2])


def _sensor_rows(ga: GaitAnalysis) -> list[tuple[str, str]]:
    """What the rests said of the chip: its gyroscope bias and the accelerometer offset taken off (medians)."""
    if not ga.rest_biases_:
        return [("Sensor biases", f"not measured (no rest of {ga.rest_min_s:g} s)")]
    gyr = _median([float(np.linalg.norm(b[0])) for _, b in ga.rest_biases_])
    acc = _median([float(np.linalg.norm(b[1])) for _, b in ga.rest_biases_])
    n = len(ga.rest_biases_)
    return [
        ("Gyroscope bias", f"{np.degrees(gyr):.2f} °/s ({n} rest{'s' if n > 1 else ''})"),
        (
            "Accelerometer offset taken off",
            f"{acc:.2f} m/s² ({acc / GRAVITY_MPS2 * 1000:.0f} mg)"
            if acc > 0
            else f"none (within ±{ga.acc_offset_deadband_mps2:g} m/s² of gravity)",
        ),
    ]


def _clipping_rows(ga: GaitAnalysis) -> list[tuple[str, str]]:
    """What the strides got back where the chip clipped: velocity (accelerometer) and turn (gyroscope); a stride
    counts where it got at least what the row shows (0.01 m/s, 0.1°)."""
    parts = []
    for label, values, digits, unit in (
        ("velocity", [x.clip_recovered_mps for x in ga.strides_], 2, " m/s"),
        ("turn", [float(np.degrees(x.clip_turn_recovered_rad)) for x in ga.strides_], 1, "°"),
    ):
        given = [v for v in values if round(v, digits) > 0]
        if given:
            n = len(given)
            parts.append(
                f"{label} in {n} stride{'s' if n > 1 else ''}, median {_median(given):.{digits}f}{unit}"
            )
    return [("Clipping recovered", "; ".join(parts))] if parts else []


def _bridged_rows(ga: GaitAnalysis) -> list[tuple[str, str]]:
    """The strides estimated across gaps in the samples (none measured there)."""
    bridged = [x for x in ga.strides_ if x.bridged]
    if not bridged:
        return []
    n, metres = len(bridged), sum(x.length_m for x in bridged)
    return [("Across gaps (estimated)", f"{n} stride{'s' if n > 1 else ''}, {metres:.1f} m")]


@app.command("eval")
def eval_(
    folder: Annotated[Path, typer.Argument(help="Folder searched recursively for recordings.")],
    jobs: Annotated[
        int | None,
        typer.Option(help="Recordings evaluated at once, one process each; default: one per core."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(help="Also write an HTML report (tables, error and Bland–Altman plots) to this file."),
    ] = None,
) -> None:
    """Errors against ground truth for every recording of a folder, and their aggregate."""
    from soleware.gait.evaluation import REFERENCE_KINDS, Skipped, evaluate_folder

    if not folder.is_dir():
        Console(stderr=True).print(f"[red]error:[/red] {folder}: not a folder")
        raise typer.Exit(2)
    if jobs is not None and jobs < 1:
        Console(stderr=True).print(f"[red]error:[/red] --jobs must be at least 1, not {jobs}")
        raise typer.Exit(2)
    skipped: list[Skipped] = []
    results = evaluate_folder(folder, jobs=jobs, skipped=skipped)
    errors = Console(stderr=True)
    unreadable = [s for s in skipped if s.unreadable]
    for s in unreadable:
        errors.print(f"[red]error:[/red] {s.path}: {s.reason}", highlight=False)
    no_truth = [s.path.name for s in skipped if not s.unreadable]
    if no_truth:
        more = f" and {len(no_truth) - 5} more" if len(no_truth) > 5 else ""
        errors.print(f"not scored, no exact ground truth: {', '.join(no_truth[:5])}{more}", highlight=False)
    if not results:
        errors.print(
            f"[red]error:[/red] {folder}: no recording with a ground truth below it (a CSV whose sidecar JSON "
            "gives ground_truth.strides or an exact ground_truth.distance_m)"
        )
        raise typer.Exit(1)
    if report is not None:
        from soleware.gait.report import accuracy_report

        page = accuracy_report(
            results,
            title=f"Soleware gait engine against ground truth — {folder}",
            peer_note="gaitmap's errors on the same recordings: benchmarks/accuracy_report.py in a checkout "
            "where scripts/peers installed it.",
            skipped=skipped,
        ).html
        try:
            report.write_text(page, encoding="utf-8")
        except OSError as exc:
            Console(stderr=True).print(f"[red]error:[/red] cannot write the report: {exc}")
            raise typer.Exit(2) from None
    table = Table(title=f"Gait engine against ground truth — {folder}")
    for col in (
        "recording",
        "activity",
        "walked m",
        "reference",
        "ours m",
        "ref m",
        "dist err %",
        "vs distance_m %",
        "strides",
        "ref",
        "step err %",
        "RMSE cm",
    ):
        table.add_column(col, justify="left" if col in ("recording", "reference") else "right")

    def f(x: float | None, fmt: str) -> str:
        return "–" if x is None else format(x, fmt)

    for r in results:
        table.add_row(
            r.name,
            r.activity,
            f(r.walked_m, ".1f"),
            r.reference_kind or "–",
            f(r.distance_m, ".1f"),
            f(r.reference_distance_m, ".1f"),
            f(r.distance_error_pct, "+.1f"),
            f(r.sidecar_error_pct, "+.1f"),
            str(r.strides),
            f(r.reference_strides, "d") if r.reference_strides is not None else "–",
            f(r.step_error_pct, "+.1f"),
            f(None if r.stride_length_rmse_m is None else 100 * r.stride_length_rmse_m, ".1f"),
        )
    console = Console(width=180)
    console.print(table)
    for kind in sorted(
        {r.reference_kind for r in results if r.reference_kind}, key=list(REFERENCE_KINDS).index
    ):
        console.print(f"reference [bold]{kind}[/bold]: {REFERENCE_KINDS[kind]}", highlight=False)
    agg = Table(title="Aggregate (absolute errors)")
    for col in ("activity", "n", "median dist %", "worst dist %", "median step %", "median RMSE cm"):
        agg.add_column(col, justify="right")
    for act in sorted({r.activity for r in results}):
        rs = [r for r in results if r.activity == act]
        d = [abs(r.distance_error_pct) for r in rs if r.distance_error_pct is not None]
        st = [abs(r.step_error_pct) for r in rs if r.step_error_pct is not None]
        rm = [100 * r.stride_length_rmse_m for r in rs if r.stride_length_rmse_m is not None]
        agg.add_row(
            act,
            str(len(rs)),
            f(float(np.median(d)) if d else None, ".1f"),
            f(max(d) if d else None, ".1f"),
            f(float(np.median(st)) if st else None, ".1f"),
            f(float(np.median(rm)) if rm else None, ".1f"),
        )
    console.print(agg)
    if report is not None:
        console.print(f"report: {report}", highlight=False)
    if unreadable:
        errors.print(
            f"[red]error:[/red] {len(unreadable)} recording(s) could not be read (above); the rest is scored"
        )
        raise typer.Exit(1)
