"""Personal records: history, 2nd/3rd best, deletion, and incremental == full recompute."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from soleware.runs.efforts import Effort
from soleware.runs.model import RunSummary
from soleware.runs.records import PersonalRecords

T0 = dt.datetime(2026, 1, 5, 7, tzinfo=dt.UTC)


def summary(run_id: str, day: int, times: dict[float, float], *, hour: int = 0) -> RunSummary:
    efforts = tuple(Effort(d, t, 10.0, 10.0 + t) for d, t in sorted(times.items()))
    distance = max(times, default=3000.0) + 100.0
    return RunSummary(
        run_id=run_id,
        start_time=T0 + dt.timedelta(days=day, hours=hour),
        time_zone="UTC",
        distance_m=distance,
        elapsed_time_s=distance / 3.0,
        moving_time_s=distance / 3.0,
        efforts=efforts,
    )


def test_history_and_podium():
    runs = [
        summary("a", 0, {1000.0: 300.0, 5000.0: 1500.0}),
        summary("b", 3, {1000.0: 290.0, 5000.0: 1450.0}),
        summary("c", 6, {1000.0: 295.0, 5000.0: 1480.0}),
        summary("d", 9, {1000.0: 280.0, 5000.0: 1400.0}),
        summary("e", 12, {1000.0: 310.0}),
    ]
    rec = PersonalRecords().compute(runs)
    five = rec.records_["5k"]
    assert [(c.record.run_id, c.replaced and c.replaced.run_id) for c in five.history] == [
        ("a", None),
        ("b", "a"),
        ("d", "b"),
    ]
    assert five.history[2].improvement_s == 50.0
    assert [(e.run_id, e.time_s) for e in five.best] == [("d", 1400.0), ("b", 1450.0), ("c", 1480.0)]
    assert five.record.start_s == 10.0
    assert [e.run_id for e in rec.records_["1k"].best] == ["d", "b", "c"]
    assert set(rec.records_) == {"1k", "5k"}
    # deleting the record run brings back the previous record and the 4th best onto the podium
    rec2 = PersonalRecords().compute(r for r in runs if r.run_id != "d")
    five = rec2.records_["5k"]
    assert [e.run_id for e in five.best] == ["b", "c", "a"]
    assert [c.record.run_id for c in five.history] == ["a", "b"]
    # editing a run (its 5 km got slower) is a recompute with the edited summary
    edited = [*runs[:3], summary("d", 9, {1000.0: 280.0, 5000.0: 1470.0}), runs[4]]
    assert [e.run_id for e in PersonalRecords().compute(edited).records_["5k"].best] == ["b", "d", "c"]


def test_ties_keep_the_earlier_record():
    rec = PersonalRecords().compute([summary("x", 1, {400.0: 80.0}), summary("w", 2, {400.0: 80.0})])
    assert [c.record.run_id for c in rec.records_["400m"].history] == ["x"]
    assert [e.run_id for e in rec.records_["400m"].best] == ["x", "w"]


def test_input_order_does_not_matter_and_state_round_trips():
    runs = [summary(f"r{k}", k, {1000.0: 300.0 - (k * 7) % 13}) for k in range(20)]
    a = PersonalRecords().compute(runs)
    b = PersonalRecords().compute(reversed(runs))
    assert a.records_ == b.records_
    c = PersonalRecords.from_dict(json.loads(json.dumps(a.to_dict())))
    assert c.records_ == a.records_ and c.run_ids_ == set()  # ids are not stored (they grow with history)


DISTANCES = (400.0, 1000.0, 5000.0)

run_sets = st.lists(
    st.tuples(
        st.integers(0, 60),  # day
        st.integers(0, 3),  # hour
        st.fixed_dictionaries(
            {}, optional={d: st.integers(60, 90).map(lambda s, d=d: s * d / 20.0) for d in DISTANCES}
        ),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=80, deadline=None)
@given(run_sets, st.integers(0, 24), st.randoms(use_true_random=False))
def test_incremental_add_equals_full_recompute(spec, n_initial, rnd):
    runs = [summary(f"r{k:02d}", day, times, hour=hour) for k, (day, hour, times) in enumerate(spec)]
    rnd.shuffle(runs)
    n_initial = min(n_initial, len(runs))
    inc = PersonalRecords(distances_m=DISTANCES, top_n=3).compute(runs[:n_initial])
    for r in runs[n_initial:]:  # any order: old runs imported late included
        inc = PersonalRecords.from_dict(inc.to_dict()).add(r)
    full = PersonalRecords(distances_m=DISTANCES, top_n=3).compute(runs)
    assert inc.records_ == full.records_


@settings(max_examples=60, deadline=None)
@given(run_sets, st.randoms(use_true_random=False))
def test_remove_equals_recompute(spec, rnd):
    runs = [summary(f"r{k:02d}", day, times, hour=hour) for k, (day, hour, times) in enumerate(spec)]
    gone = rnd.choice(runs)
    rest = [r for r in runs if r is not gone]
    rec = PersonalRecords(distances_m=DISTANCES).compute(runs).remove(gone.run_id, remaining=lambda: rest)
    full = PersonalRecords(distances_m=DISTANCES).compute(rest)
    assert rec.records_ == full.records_
    assert rec.run_ids_ == full.run_ids_
    stored = PersonalRecords.from_dict(PersonalRecords(distances_m=DISTANCES).compute(runs).to_dict())
    assert stored.remove(gone.run_id, remaining=lambda: rest).records_ == full.records_
