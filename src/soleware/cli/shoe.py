"""``soleware shoe …``: the virtual shoe (simulate, replay, serve) and its flash run log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from soleware.cli._app import app
from soleware.gait.vocabulary import StrikeType

shoe_app = typer.Typer(help="The virtual shoe: simulator, firmware replay, run log.", no_args_is_help=True)
app.add_typer(shoe_app, name="shoe")

_SIDES = ("left", "right", "both")


@shoe_app.command()
def simulate(
    plan: Annotated[
        str, typer.Option(help="Workout plan, e.g. '10min@6:00/km, 5x(3min@4:30/km + 2min walk)'.")
    ],
    out: Annotated[
        Path, typer.Option(help="Output CSV; with --side both, FILE_left.csv and FILE_right.csv.")
    ],
    side: Annotated[str, typer.Option(help="left, right or both")] = "both",
    seed: Annotated[int, typer.Option(help="Seed of everything random (strides, mounting, sensor).")] = 0,
    rate: Annotated[float, typer.Option(help="Sample rate in Hz.")] = 200.0,
    strike: Annotated[
        str, typer.Option(help="Running foot strike: rearfoot, midfoot or forefoot.")
    ] = "rearfoot",
    perfect: Annotated[bool, typer.Option(help="An ideal sensor (no noise, bias, clipping, drops).")] = False,
    placement: Annotated[str, typer.Option(help="Where the chip sits: sole, heel, instep or toe.")] = "sole",
    acc_range: Annotated[
        float, typer.Option(help="Accelerometer full scale in g (±); values beyond it clip.")
    ] = 16.0,
    gyr_range: Annotated[
        float, typer.Option(help="Gyroscope full scale in °/s (±); values beyond it clip.")
    ] = 2000.0,
    calibrated: Annotated[
        bool,
        typer.Option(
            help="A module that calibrates its output: readings beyond the range clip softly, their plateau "
            "wobbling with the other axes."
        ),
    ] = False,
) -> None:
    """Simulate a runner's sole IMU(s) over a workout plan and save recordings with ground truth."""
    import math

    from soleware.gait.recording import save_recording
    from soleware.gait.vocabulary import GRAVITY_MPS2
    from soleware.shoe.sim import PLACEMENTS, PlanError, Runner, SensorModel, ShoeSimulator, parse_plan

    err = Console(stderr=True)
    if side not in _SIDES:
        err.print(f"[red]error:[/red] --side must be one of {', '.join(_SIDES)}, not {side!r}")
        raise typer.Exit(2)
    if StrikeType.parse(strike) is None:
        err.print(f"[red]error:[/red] --strike must be one of {', '.join(StrikeType)}, not {strike!r}")
        raise typer.Exit(2)
    if rate <= 0:
        err.print("[red]error:[/red] --rate must be positive")
        raise typer.Exit(2)
    if placement not in PLACEMENTS:
        err.print(f"[red]error:[/red] --placement must be one of {', '.join(PLACEMENTS)}, not {placement!r}")
        raise typer.Exit(2)
    for name, value, unit in (("--acc-range", acc_range, "g"), ("--gyr-range", gyr_range, "°/s")):
        if not value > 0 or not math.isfinite(value):
            err.print(f"[red]error:[/red] {name} must be a positive range in {unit}, not {value:g}")
            raise typer.Exit(2)
    if perfect and ((acc_range, gyr_range) != (16.0, 2000.0) or calibrated):
        err.print(
            "[red]error:[/red] --perfect has no range to clip at; leave out --acc-range, --gyr-range and "
            "--calibrated"
        )
        raise typer.Exit(2)
    try:
        parsed = parse_plan(plan)
    except PlanError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    sides = ("left", "right") if side == "both" else (side,)
    sim = ShoeSimulator(
        runner=Runner(strike=strike),
        sensor=SensorModel.perfect()
        if perfect
        else SensorModel(
            acc_range_mps2=acc_range * GRAVITY_MPS2,
            gyr_range_rps=math.radians(gyr_range),
            factory_calibrated=calibrated,
        ),
        sample_rate_hz=rate,
        placement=placement,
        seed=seed,
    ).simulate(parsed, sides=sides)
    out = out.with_suffix(".csv")
    for name in sides:
        rec = sim.recordings_[name]
        path = out.with_name(f"{out.stem}_{name}.csv") if side == "both" else out
        save_recording(rec, path)
        gt = rec.ground_truth
        assert gt.distance_m is not None  # the simulator knows the distance it laid out
        typer.echo(
            f"{name:5s} {path}: {rec.duration_s / 60:.1f} min, {gt.distance_m / 1000:.3f} km, "
            f"{gt.steps} strides, {len(rec):,} samples at {rate:g} Hz ({rec.activity})"
        )
