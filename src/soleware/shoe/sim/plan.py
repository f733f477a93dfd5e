"""Workout plans in a small readable syntax, and the smooth speed profile they describe.

Grammar (whitespace is free, keywords are case-insensitive)::

    plan     := item ("," item)*
    item     := INT "x" "(" item (("+" | ",") item)* ")"  |  segment
    segment  := [amount] [activity] ["@" speed]
    amount   := NUMBER ("s" | "sec" | "min" | "h" | "m" | "km")      -- a duration or a distance
    activity := "walk" | "run" | "jog" | "stand"
    speed    := MIN ":" SS ["/km"]  |  NUMBER ("km/h" | "m/s" | "min/km")

Examples: ``10min@6:00/km, 5x(3min@4:30/km + 2min walk), 5min@6:30/km``, ``2km@5:00/km``, ``30s stand``,
``1h@12km/h``, ``400m@3.5m/s``. A segment needs an amount; ``walk`` without a speed walks at the runner's
default walking speed, ``stand`` stands still (a traffic light). Errors raise :class:`PlanError` naming the
position in the text.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

__all__ = [
    "DEFAULT_WALK_MPS",
    "Plan",
    "PlanError",
    "Segment",
    "SpeedProfile",
    "parse_plan",
]

#: walking speed of a ``walk`` segment without a speed
DEFAULT_WALK_MPS = 1.4
#: below this target speed the runner stands still (a moving segment must be at least this fast)
STOP_MPS = 0.35
#: no human runs faster than this
FASTEST_MPS = 12.0
#: accelerations between segments (m/s²) and the shortest and longest speed transition (s)
TRANSITION_ACCEL_MPS2 = 1.0
TRANSITION_MIN_S = 1.5
TRANSITION_MAX_S = 6.0
_ACTIVITIES = ("walk", "run", "jog", "stand")
_UNITS_S = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}
_UNITS_M = {"m": 1.0, "km": 1000.0}


class PlanError(ValueError):
    """A plan that cannot be parsed; the message shows the text and a caret under the position."""

    def __init__(self, text: str, pos: int, message: str) -> None:
        self.text = text
        self.pos = pos
        self.message = message
        super().__init__(f"plan error at position {pos + 1}: {message}\n  {text}\n  {' ' * pos}^")


@dataclasses.dataclass(frozen=True)
class Segment:
    """One part of a plan: ``activity`` is walk, run or stand (``auto`` lets the speed decide walk or run)."""

    activity: str
    speed_mps: float
    duration_s: float | None = None
    distance_m: float | None = None

    @property
    def planned_duration_s(self) -> float:
        if self.duration_s is not None:
            return self.duration_s
        assert self.distance_m is not None
        return self.distance_m / self.speed_mps


@dataclasses.dataclass(frozen=True)
class Plan:
    """A parsed workout plan: its segments in order, repetitions unrolled."""

    text: str
    segments: tuple[Segment, ...]

    @property
    def duration_s(self) -> float:
        return float(sum(s.planned_duration_s for s in self.segments))

    @property
    def distance_m(self) -> float:
        return float(sum(s.planned_duration_s * s.speed_mps for s in self.segments))


_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<pace>\d+:\d{1,2}(?:\s*/\s*km)?)
    |(?P<num>\d+(?:\.\d*)?|\.\d+)
    |(?P<word>km/h|m/s|min/km|/km|[a-zA-Z]+)
    |(?P<punct>[,+()@])
    """,
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise PlanError(text, pos, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        if kind != "ws":
            value = m.group(kind)
            out.append((kind, value.lower() if kind == "word" else value, pos))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str, walk_mps: float) -> None:
        self.text = text
        self.walk_mps = walk_mps
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, message: str, tok: tuple[str, str, int] | None = None) -> PlanError:
        tok = tok or self.peek()
        return PlanError(self.text, tok[2], message)

    def plan(self) -> list[Segment]:
        if self.peek()[0] == "end":
            raise self.fail("empty plan; expected e.g. '10min@6:00/km'")
        segs = self.items(closing=None)
        if self.peek()[0] != "end":
            raise self.fail(f"expected ',' between plan items, found {self.peek()[1]!r}")
        return segs

    def items(self, closing: str | None) -> list[Segment]:
        segs = self.item()
        while True:
            kind, value, _ = self.peek()
            if kind == "punct" and (value == "," or (value == "+" and closing)):
                self.take()
                segs += self.item()
            elif kind == "punct" and value == "+":
                raise self.fail("'+' joins the parts of a repetition, e.g. 5x(3min@4:30/km + 2min walk)")
            else:
                return segs

    def item(self) -> list[Segment]:
        kind, value, pos = self.peek()
        nxt = self.toks[self.i + 1]
        if kind == "num" and nxt[0] == "word" and nxt[1] == "x":
            count_tok = self.take()
            if "." in value or int(value) < 1:
                raise self.fail("a repetition count must be a whole number of at least 1", count_tok)
            self.take()
            open_tok = self.take()
            if open_tok[:2] != ("punct", "("):
                raise self.fail(
                    "expected '(' after the repetition count, e.g. 5x(1km@4:00/km + 90s walk)", open_tok
                )
            inner = self.items(closing=")")
            close_tok = self.take()
            if close_tok[:2] != ("punct", ")"):
                raise self.fail(
                    "expected ')' closing the repetition (or '+' before the next part)", close_tok
                )
            return inner * int(value)
        return [self.segment()]

    def segment(self) -> Segment:
        start = self.peek()
        duration = distance = None
        if start[0] == "num":
            num = self.take()
            unit = self.take()
            if unit[0] != "word" or (unit[1] not in _UNITS_S and unit[1] not in _UNITS_M):
                raise self.fail(
                    f"expected a unit after {num[1]} (s, min, h for a duration; m, km for a distance)", unit
                )
            amount = float(num[1])
            if amount <= 0:
                raise self.fail("an amount must be positive", num)
            if unit[1] in _UNITS_S:
                duration = amount * _UNITS_S[unit[1]]
            else:
                distance = amount * _UNITS_M[unit[1]]
        activity = "auto"
        kind, value, pos = self.peek()
        if kind == "word":
            if value not in _ACTIVITIES:
                raise self.fail(f"unknown word {value!r}; expected one of {', '.join(_ACTIVITIES)}")
            self.take()
            activity = "run" if value == "jog" else value
        if duration is None and distance is None:
            what = f"'{activity}'" if activity != "auto" else "a segment"
            raise self.fail(
                f"{what} needs a duration or distance first, e.g. '2min walk' or '1km@5:00/km'", start
            )
        speed = None
        if self.peek()[:2] == ("punct", "@"):
            at = self.take()
            if activity == "stand":
                raise self.fail("'stand' takes no speed", at)
            speed = self.speed()
        if activity == "stand":
            if distance is not None:
                raise self.fail("'stand' needs a duration, not a distance", start)
            return Segment("stand", 0.0, duration_s=duration)
        if speed is None:
            if activity != "walk":
                raise self.fail("expected '@' and a speed, e.g. '@5:30/km', '@12km/h' or '@3.5m/s'")
            speed = self.walk_mps
        return Segment(activity, speed, duration_s=duration, distance_m=distance)

    def speed(self) -> float:
        tok = self.take()
        kind, value, _ = tok
        if kind == "pace":
            minutes, rest = value.split(":")
            seconds = int(rest.split("/")[0].strip())
            if seconds >= 60:
                raise self.fail("seconds of a pace must be below 60", tok)
            per_km = 60 * int(minutes) + seconds
            if per_km <= 0:
                raise self.fail("a pace must be positive", tok)
            return 1000.0 / per_km
        if kind != "num":
            raise self.fail("expected a speed after '@', e.g. '5:30/km', '12km/h' or '3.5m/s'", tok)
        unit = self.take()
        x = float(value)
        if x <= 0:
            raise self.fail("a speed must be positive", tok)
        if unit[:2] == ("word", "km/h"):
            return x / 3.6
        if unit[:2] == ("word", "m/s"):
            return x
        if unit[:2] == ("word", "min/km"):
            return 1000.0 / (60.0 * x)
        raise self.fail(
            f"expected a speed unit after {value} (km/h, m/s, min/km, or a pace like 5:30/km)", unit
        )


def parse_plan(text: str, *, walk_speed_mps: float = DEFAULT_WALK_MPS) -> Plan:
    """Parse a plan; raise :class:`PlanError` with the position of the first problem."""
    segments = _Parser(text, walk_speed_mps).plan()
    for seg in segments:
        if seg.speed_mps > FASTEST_MPS:
            raise PlanError(text, 0, f"speed {seg.speed_mps:.1f} m/s is faster than any human runs")
        if seg.activity != "stand" and seg.speed_mps < STOP_MPS:
            raise PlanError(
                text,
                0,
                f"speed {seg.speed_mps:.2f} m/s is slower than a walk ({STOP_MPS:g} m/s at least); "
                "'stand' stands still",
            )
    return Plan(text=text, segments=tuple(segments))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (10.0 + x * (-15.0 + 6.0 * x))


@dataclasses.dataclass
class SpeedProfile:
    """Target speed over time: the plan's segments joined by smooth transitions centred on their boundaries.

    Centring each transition on the boundary keeps the distance of a segment as planned (what is lost at one
    end is gained at the other).
    """

    boundaries_s: np.ndarray
    speeds_mps: np.ndarray
    activities: tuple[str, ...]
    ramps_s: np.ndarray

    @classmethod
    def from_plan(cls, plan: Plan, *, lead_s: float = 0.0, tail_s: float = 0.0) -> SpeedProfile:
        segs = list(plan.segments)
        if lead_s > 0:
            segs.insert(0, Segment("stand", 0.0, duration_s=lead_s))
        if tail_s > 0:
            segs.append(Segment("stand", 0.0, duration_s=tail_s))
        dur = np.array([s.planned_duration_s for s in segs])
        bounds = np.concatenate(([0.0], np.cumsum(dur)))
        speeds = np.array([s.speed_mps for s in segs])
        dv = np.abs(np.diff(speeds))
        ramps = np.clip(dv / TRANSITION_ACCEL_MPS2, TRANSITION_MIN_S, TRANSITION_MAX_S)
        ramps = np.minimum(ramps, 0.9 * np.minimum(dur[:-1], dur[1:])) if len(dur) > 1 else ramps
        return cls(bounds, speeds, tuple(s.activity for s in segs), ramps)

    @property
    def duration_s(self) -> float:
        return float(self.boundaries_s[-1])

    def speed_mps(self, t_s: np.ndarray | float) -> np.ndarray:
        t = np.asarray(t_s, dtype=float)
        v = np.full(t.shape, self.speeds_mps[0])
        for k, ramp in enumerate(self.ramps_s):
            x = (t - self.boundaries_s[k + 1]) / ramp + 0.5
            v = v + (self.speeds_mps[k + 1] - self.speeds_mps[k]) * _smoothstep(x)
        return v

    def activity_at(self, t_s: float) -> str:
        k = int(
            np.clip(np.searchsorted(self.boundaries_s, t_s, side="right") - 1, 0, len(self.activities) - 1)
        )
        return self.activities[k]
