"""What a stride is called, once for every layer: the foot, its strike, its gait, and gravity.

The engine sits at the bottom, so its words are everyone's: the firmware, the run log, the Bluetooth
characteristics, the HTTP body and the database use these enums and map them to and from their own integers or
strings inside their codecs, nowhere else. The enums are string enums whose values are the lower-case words the
JSON API and the files use (``Side.LEFT == "left"``).

A stride's fields and their units (the same spelling in every layer that holds the quantity in SI)::

    side              Side            which foot
    t_start_s         s               previous footfall (start of the stance the stride leaves from)
    t_end_s           s               this footfall
    length_m          m               footfall to footfall
    speed_mps         m/s             length over duration
    cadence_spm       steps/min       both feet (two steps per stride of one foot)
    contact_time_s    s               ground contact of the stance the stride starts from
    flight_time_s     s               per step, neither foot on the ground (0 for a walk)
    strike_angle_deg  deg             foot pitch at initial contact relative to foot-flat, + toe up
    strike_type       StrikeType      from the strike angle; None when unknown
    impact_mps2       m/s²            peak acceleration magnitude at initial contact (domain: ``impact_g``, g)
    gait              Gait            walk or run (a flight phase exists)

On every wire (flash record, Bluetooth characteristic) a measured value is quantised by `quantize`: rounded to the
field's resolution and saturated to its range, NaN as 0. One policy, so a sensor glitch never crashes the shoe and
never differs between what the shoe logs and what it notifies.
"""

from __future__ import annotations

import enum
import math
from typing import TypeVar

__all__ = ["GRAVITY_MPS2", "Gait", "Side", "StrikeType", "quantize"]

#: Standard gravity (m/s²), also the unit "g" of accelerometer ranges and impact peaks.
GRAVITY_MPS2 = 9.80665
#: A sample this close (fraction of the range) to a chip's full-scale range is clipped: a two's-complement chip
#: tops out one step (2^-15 .. 2^-11 of its range) below it.
FULL_SCALE_TOL = 1e-3
#: plausible full-scale ranges of a chip: ±2-64 g, ±125-4000 °/s (SI units)
ACC_RANGE_MPS2 = (19.0, 630.0)
GYR_RANGE_RPS = (2.1, 70.0)


class Side(enum.StrEnum):
    """Which foot."""

    LEFT = "left"
    RIGHT = "right"

    @classmethod
    def parse(cls, value: object) -> Side | None:
        """The side named by ``value`` (an enum or its word, any case); None for anything else."""
        return _parse(cls, value)


class StrikeType(enum.StrEnum):
    """Which part of the foot touches the ground first (Altman & Davis 2012 classes of the strike angle)."""

    REARFOOT = "rearfoot"
    MIDFOOT = "midfoot"
    FOREFOOT = "forefoot"

    @classmethod
    def parse(cls, value: object) -> StrikeType | None:
        """The strike type named by ``value``; None for unknown, empty or anything else."""
        return _parse(cls, value)


class Gait(enum.StrEnum):
    """Walking (a foot always on the ground) or running (a flight phase)."""

    WALK = "walk"
    RUN = "run"

    @classmethod
    def parse(cls, value: object) -> Gait | None:
        """The gait named by ``value``; None for unknown, empty or anything else."""
        return _parse(cls, value)


def quantize(value: float, scale: float, lo: int, hi: int) -> int:
    """``value × scale`` rounded to an integer and saturated to ``lo..hi``; NaN gives 0 (or the bound nearest 0)."""
    if math.isnan(value):
        return min(max(0, lo), hi)
    scaled = value * scale
    if not math.isfinite(scaled):
        return hi if scaled > 0 else lo
    v = round(scaled)
    return lo if v < lo else hi if v > hi else v


_E = TypeVar("_E", bound=enum.StrEnum)


def _parse(cls: type[_E], value: object) -> _E | None:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            return cls(value.lower())
        except ValueError:
            return None
    return None
