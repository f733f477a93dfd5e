"""Runs from what reaches the service: raw recordings analysed by the gait engine."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.pipeline import Stride as GaitStride
from soleware.gait.recording import Recording
from soleware.gait.vocabulary import GRAVITY_MPS2, Side
from soleware.runs.model import Run, RunDataError, Source, Stride

__all__ = ["run_from_recordings", "strides_from_gait"]


def _opt(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def strides_from_gait(strides: Iterable[GaitStride], side: Side) -> list[Stride]:
    """The gait engine's strides of one foot as the domain's strides (impact from m/s² to g, unknown as None).

    The one mapping from the engine to the run domain. A stride runs from the foot's lift to its landing: a rest
    it starts or ends in (:meth:`~soleware.gait.Stride.without_rests`) is left between strides, a pause.
    """
    return [
        Stride(
            side=side,
            t_start_s=s.t_moving_start_s,
            t_end_s=s.t_moving_end_s,
            length_m=s.length_m,
            speed_mps=s.speed_mps,
            cadence_spm=s.cadence_spm,
            contact_time_s=_opt(s.contact_time_s),
            flight_time_s=_opt(s.flight_time_s),
            strike_angle_deg=_opt(s.strike_angle_deg),
            strike_type=s.strike_type,
            impact_g=_opt(s.impact_mps2 / GRAVITY_MPS2),
            gait=s.gait,
            estimated=s.bridged,
        )
        for s in strides
    ]


def _side_in_name(name: str) -> Side | None:
    """The foot a file name names (``left``/``right`` in it, one of them only), or None."""
    found = [side for side in Side if side.value in name.lower()]
    return found[0] if len(found) == 1 else None


def run_from_recordings(
    recordings: Sequence[Recording],
    *,
    start_time: dt.datetime,
    time_zone: str,
    shoe_serials: Iterable[str] = (),
    title: str = "",
) -> Run:
    """Analyse one recording per foot.

    Each recording's side comes from its sidecar, else from its file name where that names one foot
    (``run_left.csv``). A recording of unknown side is the foot the other one is not (left when it is alone); two
    of unknown side, or a side that names no foot, are an error that says so.
    """
    if not recordings:
        raise RunDataError("no recording to analyse")
    if len(recordings) > 2:
        raise RunDataError(f"{len(recordings)} recordings; give one per foot")
    for rec in recordings:
        if Side.parse(rec.side) is None and rec.side.strip().lower() not in ("", "unknown"):
            raise RunDataError(f"{rec.name}: side {rec.side!r} is no foot (left or right)")
    named = [Side.parse(rec.side) or _side_in_name(rec.name) for rec in recordings]
    if len(recordings) == 2 and named == [None, None]:
        raise RunDataError(
            "two recordings of unknown side: say which foot each is, by its sidecar's side (left or right) or "
            "in its file name (run_left.csv)"
        )
    sides = [s or (Side.RIGHT if Side.LEFT in named else Side.LEFT) for s in named]
    if len(set(sides)) < len(sides):
        raise RunDataError(f"two recordings of the {sides[0]} foot; give one per foot")
    strides: list[Stride] = []
    for rec, side in zip(recordings, sides, strict=True):
        strides += strides_from_gait(GaitAnalysis().analyze(rec).strides_, side)
    if not strides:
        raise RunDataError("the gait engine found no strides in the recording (is it a walk or run?)")
    return Run.from_strides(
        strides,
        start_time=start_time,
        time_zone=time_zone,
        shoe_serials=shoe_serials,
        source=Source.RECORDING.value,
        title=title,
    )
