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

    The one mapping from the engine to the run domain.
    """
    return [
        Stride(
            side=side,
            t_start_s=s.t_start_s,
            t_end_s=s.t_end_s,
            length_m=s.length_m,
            speed_mps=s.speed_mps,
            cadence_spm=s.cadence_spm,
            contact_time_s=_opt(s.contact_time_s),
            flight_time_s=_opt(s.flight_time_s),
            strike_angle_deg=_opt(s.strike_angle_deg),
            strike_type=s.strike_type,
            impact_g=_opt(s.impact_mps2 / GRAVITY_MPS2),
            gait=s.gait,
        )
        for s in strides
    ]


def run_from_recordings(
    recordings: Sequence[Recording],
    *,
    start_time: dt.datetime,
    time_zone: str,
    shoe_serials: Iterable[str] = (),
    title: str = "",
) -> Run:
    """Analyse one recording per foot (side from each recording; one foot of unknown side counts as left)."""
    if not recordings:
        raise RunDataError("no recording to analyse")
    strides: list[Stride] = []
    sides = set()
    for rec in recordings:
        side = Side.parse(rec.side) or Side.LEFT
        if side in sides:
            raise RunDataError(f"two recordings of the {side} foot; give one per foot")
        sides.add(side)
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
