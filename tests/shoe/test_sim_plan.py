"""Workout plan syntax of the virtual shoe and the speed profile it gives."""

from __future__ import annotations

import numpy as np
import pytest

from soleware.shoe.sim import PlanError, SpeedProfile, parse_plan
from soleware.shoe.sim.plan import DEFAULT_WALK_MPS


def test_interval_plan_unrolls_repetitions() -> None:
    plan = parse_plan("10min@6:00/km, 5x(3min@4:30/km + 2min walk), 5min@6:30/km")
    assert len(plan.segments) == 12
    assert [s.activity for s in plan.segments[1:3]] == ["auto", "walk"]
    assert plan.segments[0].speed_mps == pytest.approx(1000 / 360)
    assert plan.segments[1].speed_mps == pytest.approx(1000 / 270)
    assert plan.segments[2].speed_mps == DEFAULT_WALK_MPS
    assert plan.duration_s == pytest.approx(60 * (10 + 25 + 5))


@pytest.mark.parametrize(
    ("text", "speed_mps", "duration_s"),
    [
        ("2km@5:00/km", 1000 / 300, 600.0),
        ("1h@12km/h", 12 / 3.6, 3600.0),
        ("400m@3.5m/s", 3.5, 400 / 3.5),
        ("90s jog@5min/km", 1000 / 300, 90.0),
        ("3min walk@5km/h", 5 / 3.6, 180.0),
        ("10MIN @ 6:00", 1000 / 360, 600.0),
    ],
)
def test_amounts_and_speed_units(text: str, speed_mps: float, duration_s: float) -> None:
    (seg,) = parse_plan(text).segments
    assert seg.speed_mps == pytest.approx(speed_mps)
    assert seg.planned_duration_s == pytest.approx(duration_s)


def test_stand_segment_has_zero_speed() -> None:
    seg = parse_plan("1km@5:00/km, 30s stand").segments[1]
    assert (seg.activity, seg.speed_mps, seg.duration_s) == ("stand", 0.0, 30.0)


@pytest.mark.parametrize(
    ("text", "pos", "words"),
    [
        ("10min", 6, "expected '@'"),
        ("10 @6:00/km", 4, "expected a unit"),
        ("5x(3min@4:30/km + 2min walk", 28, "expected ')'"),
        ("10min@6:70/km", 7, "below 60"),
        ("2km stand", 1, "needs a duration"),
        ("walk", 1, "needs a duration or distance"),
        ("10min@6:00/km 5min walk", 15, "expected ','"),
        ("3min@4:30/km + 1min walk", 14, "joins the parts of a repetition"),
        ("10min swim", 7, "unknown word 'swim'"),
        ("0x(1min walk)", 1, "at least 1"),
        ("", 1, "empty plan"),
        ("5min@3kn", 7, "speed unit"),
        ("1min walk#", 10, "unexpected character"),
        ("5min@60:00/km", 1, "slower than a walk"),
        ("1min walk, 2min@0.3m/s", 1, "'stand' stands still"),
        ("1min@0:02/km", 1, "faster than any human"),
    ],
)
def test_invalid_plans_name_the_position(text: str, pos: int, words: str) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(text)
    msg = str(info.value)
    assert f"position {pos}:" in msg
    assert words in msg
    caret_line = msg.splitlines()[-1]
    assert caret_line.index("^") - 2 == pos - 1


def test_speed_profile_is_smooth_and_keeps_segment_distance() -> None:
    plan = parse_plan("2min@4:00/km, 1min walk, 30s stand, 1min@5:00/km")
    prof = SpeedProfile.from_plan(plan, lead_s=3.0, tail_s=3.0)
    t = np.arange(0.0, prof.duration_s, 0.01)
    v = prof.speed_mps(t)
    assert v[0] == 0.0 and v[-1] == 0.0
    assert np.max(np.abs(np.diff(v))) / 0.01 < 4.0  # no jumps: a runner accelerates at most ~4 m/s²
    first = (t >= 3.0) & (t < 123.0)
    assert np.trapezoid(v[first], t[first]) == pytest.approx(500.0, rel=0.01)
    assert prof.activity_at(130.0) == "walk"
    assert prof.activity_at(185.0) == "stand"
