"""The run model: construction from strides, streams and stride blobs, fingerprints, summaries."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import lzma
import struct
import zlib

import numpy as np
import pytest
import zstandard

from soleware.runs.model import (
    SPEED_BIN_MPS,
    STREAM_RESOLUTION,
    STRIDE_RESOLUTION,
    Gait,
    Lap,
    Run,
    RunDataError,
    RunSummary,
    Side,
    Source,
    Streams,
    Stride,
    StrikeType,
    feet_of_columns,
    pack_strides,
    same_activity,
    stride_streams,
    unpack_stride_columns,
    unpack_strides,
)
from soleware.runs.splits import splits

START = dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)


def feet_strides(
    n: int,
    *,
    period_s: float = 0.7,
    left_m: float = 2.8,
    right_m: float = 2.6,
    gap_at: int | None = None,
    gap_s: float = 0.0,
) -> list[Stride]:
    """Contiguous strides of both feet, the right foot half a stride behind, optional standstill after stride gap_at."""
    out = []
    for side, length, offset in (("left", left_m, 0.0), ("right", right_m, period_s / 2)):
        t = offset
        for k in range(n):
            if k == gap_at:
                t += gap_s
            strike = StrikeType.FOREFOOT if k % 4 else StrikeType.REARFOOT
            out.append(
                Stride(
                    side=side,
                    t_start_s=t,
                    t_end_s=t + period_s,
                    length_m=length,
                    contact_time_s=0.2,
                    strike_type=strike,
                )
            )
            t += period_s
    return out


def test_from_strides_two_feet_averages_distance_not_sum():
    run = Run.from_strides(
        feet_strides(1000), start_time=START, time_zone="Europe/Berlin", shoe_serials=("R1", "L1")
    )
    assert run.distance_m == pytest.approx(1000 * (2.8 + 2.6) / 2)
    assert run.streams.distance_m[-1] == pytest.approx(run.distance_m)
    assert run.elapsed_time_s == pytest.approx(1000 * 0.7 + 0.35)
    assert run.moving_time_s == pytest.approx(run.elapsed_time_s)
    assert run.pauses == []
    assert run.shoe_serials == ("L1", "R1")
    # one foot alone: its own distance
    left_only = [s for s in feet_strides(100) if s.side == "left"]
    assert Run.from_strides(left_only, start_time=START, time_zone="UTC").distance_m == pytest.approx(280.0)


def test_from_strides_finds_pause_and_moving_time():
    strides = feet_strides(600, gap_at=300, gap_s=42.0)
    run = Run.from_strides(strides, start_time=START, time_zone="UTC")
    assert len(run.pauses) == 1
    a, b = run.pauses[0]
    assert b - a == pytest.approx(42.0 - 0.35)  # both feet stand; the right foot's gap overlaps the left's
    assert run.moving_time_s == pytest.approx(run.elapsed_time_s - (b - a))
    inside = (run.streams.t_s > a + 1) & (run.streams.t_s < b - 1)
    assert np.all(run.streams.speed_mps[inside] == 0)
    assert np.ptp(run.streams.distance_m[inside]) == 0
    assert np.all(np.isnan(run.streams.cadence_spm[inside]))


def test_stride_defaults_and_validation():
    s = Stride(side="left", t_start_s=1.0, t_end_s=1.8, length_m=2.4)
    assert s.speed_mps == pytest.approx(3.0)
    assert s.cadence_spm == pytest.approx(150.0)
    assert s.gait is Gait.RUN
    with pytest.raises(RunDataError, match="side"):
        Stride(side="middle", t_start_s=0, t_end_s=1, length_m=1)
    with pytest.raises(RunDataError, match="end after"):
        Stride(side="left", t_start_s=2, t_end_s=1, length_m=1)
    with pytest.raises(RunDataError, match="overlap"):
        Run.from_strides(
            [
                Stride(side="left", t_start_s=0, t_end_s=1, length_m=1),
                Stride(side="left", t_start_s=0.5, t_end_s=1.5, length_m=1),
            ],
            start_time=START,
            time_zone="UTC",
        )
    with pytest.raises(RunDataError, match="timezone-aware"):
        Run.from_strides(feet_strides(3), start_time=START.replace(tzinfo=None), time_zone="UTC")
    with pytest.raises(RunDataError, match="unknown time zone"):
        Run.from_strides(feet_strides(3), start_time=START, time_zone="Mars/Olympus")
    with pytest.raises(RunDataError, match="at least one stride"):
        Run.from_strides([], start_time=START, time_zone="UTC")


def _v1_streams_blob(s: Streams) -> bytes:
    """The layout written before revision 0005: float64 time and distance, float32 metrics, zlib."""
    body = b"".join(getattr(s, c).astype("<f8").tobytes() for c in ("t_s", "distance_m")) + b"".join(
        getattr(s, c).astype("<f4").tobytes()
        for c in ("speed_mps", "cadence_spm", "stride_length_m", "contact_time_s")
    )
    return b"SWST" + struct.pack("<BBHI", 1, 6, 0, len(s)) + zlib.compress(body)


def test_streams_blob_round_trip_within_resolution():
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.5, 1.5, 5000))
    d = np.cumsum(rng.uniform(0, 4, 5000))
    cad = rng.uniform(150, 190, 5000)
    cad[100:120] = np.nan
    s = Streams(t_s=t, distance_m=d, speed_mps=rng.uniform(0, 6, 5000), cadence_spm=cad, stride_length_m=None)
    blob = s.to_bytes()
    back = Streams.from_bytes(blob)
    for name, res in STREAM_RESOLUTION.items():
        x, y = getattr(back, name).astype(float), getattr(s, name).astype(float)
        assert np.array_equal(np.isnan(x), np.isnan(y)), name
        # cumulative columns are rounded as a whole, so errors never add up along the run
        assert np.nanmax(np.abs(x - y), initial=0.0) <= 0.5 * res + 1e-5, name  # + float32 rounding
    assert np.all(np.isnan(back.stride_length_m))
    assert len(blob) < 0.5 * len(_v1_streams_blob(s))
    assert Streams.from_bytes(_v1_streams_blob(s)) == s  # databases before revision 0005 still read exactly
    with pytest.raises(RunDataError, match="SWST"):
        Streams.from_bytes(b"nonsense" * 3)
    with pytest.raises(RunDataError, match="never decrease"):
        Streams(t_s=[0, 1, 2], distance_m=[0, 2, 1])


def test_stride_blob_round_trip_within_resolution():
    strides = feet_strides(50)
    strides[3] = Stride(
        side="right", t_start_s=100.0, t_end_s=100.9, length_m=1.1, gait=Gait.WALK, impact_g=2.5
    )
    strides[7] = dataclasses.replace(strides[7], speed_mps=3.3333, cadence_spm=171.23, flight_time_s=0.0994)
    back = unpack_strides(pack_strides(strides))
    assert len(back) == len(strides)
    for a, b in zip(strides, back, strict=True):
        assert (a.side, a.gait, a.strike_type) == (b.side, b.gait, b.strike_type)
        for name, res in STRIDE_RESOLUTION.items():
            x, y = getattr(a, name), getattr(b, name)
            tol = res if name == "length_m" else 0.5 * res  # a length to 1 mm, a foot's sum of them to 0.5 mm
            assert (x is None) == (y is None) and (x is None or abs(x - y) <= tol * (1 + 1e-6)), name
    for side in ("left", "right"):
        total = sum(s.length_m for s in strides if s.side == side)
        assert abs(sum(s.length_m for s in back if s.side == side) - total) <= 0.0005 + 1e-9


def test_strides_at_the_shoes_resolution_round_trip_exactly_and_give_the_same_streams():
    """A shoe's strides are already at its wire resolution: storage gives them back as they came."""
    strides = [
        Stride(
            side,
            t0 + k * 0.731,
            t0 + (k + 1) * 0.731,
            2.213 + 0.001 * (k % 7),
            contact_time_s=0.243,
            flight_time_s=0.121,
            strike_angle_deg=7.5,
            strike_type=StrikeType.MIDFOOT,
            impact_g=3.12,
            speed_mps=round((2.213 + 0.001 * (k % 7)) / 0.731, 3),
            cadence_spm=round(120 / 0.731, 1),
        )
        for side, t0 in (("left", 0.0), ("right", 0.366))
        for k in range(400)
    ]
    back = unpack_strides(pack_strides(strides))
    for a, b in zip(
        sorted(strides, key=lambda s: (s.side, s.t_start_s)),
        sorted(back, key=lambda s: (s.side, s.t_start_s)),
        strict=True,
    ):
        for name in STRIDE_RESOLUTION:
            assert getattr(b, name) == pytest.approx(getattr(a, name), abs=1e-9), name
    run = Run.from_strides(strides, start_time=START, time_zone="UTC")
    cols = unpack_stride_columns(pack_strides(run.strides))
    derived = stride_streams(cols, elapsed_s=run.elapsed_time_s, pauses=run.pauses)
    for name in STREAM_RESOLUTION:
        assert np.allclose(getattr(derived, name), getattr(run.streams, name), atol=1e-6, equal_nan=True), (
            name
        )
    assert feet_of_columns(cols) == Run.from_strides(back, start_time=START, time_zone="UTC").feet()


def _as_lzma(blob: bytes, header: int, magic: bytes) -> bytes:
    """A blob of the layout before Zstandard (stride version 2, streams version 2): the same planes, raw LZMA2."""
    planes = zstandard.ZstdDecompressor().decompress(blob[header:])
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 6, "dict_size": 1 << 20}]
    return magic + blob[4:header] + lzma.compress(planes, format=lzma.FORMAT_RAW, filters=filters)


def test_blobs_written_before_zstandard_still_read_exactly_and_damaged_ones_are_refused():
    strides = feet_strides(300)
    packed = pack_strides(strides)
    assert packed[:4] == b"SWS3"
    assert unpack_strides(_as_lzma(packed, 8, b"SWS2")) == unpack_strides(packed)
    streams = Run.from_strides(strides, start_time=START, time_zone="UTC").streams
    blob = streams.to_bytes()
    assert blob[4] == 3
    v2 = _as_lzma(blob, 12, b"SWST")
    assert Streams.from_bytes(v2[:4] + bytes([2]) + v2[5:]) == Streams.from_bytes(blob)
    for bad in (packed[:-7], packed[:20] + bytes(len(packed) - 20)):
        with pytest.raises(RunDataError, match="blob"):
            unpack_strides(bad)
    with pytest.raises(RunDataError, match="blob"):
        Streams.from_bytes(blob[:-5])


def test_fingerprint_equal_for_duplicates_and_different_otherwise():
    strides = feet_strides(800)
    a = Run.from_strides(strides, start_time=START, time_zone="UTC", title="Morning run", id="x")
    b = Run.from_strides(
        list(reversed(strides)),
        start_time=START.astimezone(dt.timezone(dt.timedelta(hours=8))),
        time_zone="Asia/Shanghai",
        source="fit",
        id="y",
        stream_interval_s=2.0,
    )
    assert a.fingerprint() == b.fingerprint()
    later = Run.from_strides(strides, start_time=START + dt.timedelta(minutes=1), time_zone="UTC")
    longer = Run.from_strides(feet_strides(810), start_time=START, time_zone="UTC")
    assert len({a.fingerprint(), later.fingerprint(), longer.fingerprint()}) == 3


def test_summary_contents_and_json_round_trip():
    rng = np.random.default_rng(3)
    strides = []
    t = 0.0
    for k in range(2000):  # speeds vary between 2.5 and 4.5 m/s, cadence rises with speed
        v = 2.5 + 2.0 * (k // 200 % 2) + rng.normal(0, 0.05)
        period = 0.72 - 0.04 * (v - 2.5)
        strides.append(
            Stride(
                side="left",
                t_start_s=t,
                t_end_s=t + period,
                length_m=v * period,
                contact_time_s=0.3 - 0.02 * v,
                strike_type=StrikeType.MIDFOOT,
            )
        )
        t += period
    run = Run.from_strides(strides, start_time=START, time_zone="Europe/Paris", id="r1")
    s = run.summary()
    assert s.fore_mid_strike_fraction == 1.0
    assert s.avg_cadence_spm == pytest.approx(np.mean([x.cadence_spm for x in strides]))
    assert [e.distance_m for e in s.efforts][:3] == [400.0, 804.672, 1000.0]
    assert sum(s.speed_time_s) == pytest.approx(run.moving_time_s, abs=1.0)
    fast_bin = int(4.5 / SPEED_BIN_MPS)
    assert s.speed_time_s[fast_bin - 1] + s.speed_time_s[fast_bin] > 0.3 * run.moving_time_s
    fit = s.form["contact_time_s"]
    assert fit.slope == pytest.approx(-0.02, abs=2e-3)
    assert fit.at(3.5) == pytest.approx(0.3 - 0.07, abs=2e-3)
    assert fit.at(9.0) is None
    assert RunSummary.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    with pytest.raises(RunDataError, match="run id"):
        Run.from_strides(strides, start_time=START, time_zone="UTC").summary()


def test_from_streams_for_runs_without_strides():
    t = np.arange(5.0, 1000.0, 1.0)  # the file's first sample comes 5 s after the start
    v = np.full(len(t), 3.0)
    v[300:360] = 0.0  # a minute standing at a crossing
    d = np.concatenate(([0.0], np.cumsum(v[:-1])))
    run = Run.from_streams(
        Streams(t_s=t, distance_m=d), start_time=START, time_zone="UTC", source="gpx", laps=[Lap(5.0, 500.0)]
    )
    assert run.pauses == [(0.0, 5.0), (305.0, 365.0)]
    assert run.elapsed_time_s == 999.0
    assert run.moving_time_s == 999.0 - 65.0
    assert run.distance_m == pytest.approx(d[-1])
    assert run.source == "gpx"
    assert Lap.from_dict(json.loads(json.dumps(run.laps[0].to_dict()))) == run.laps[0]
    with pytest.raises(RunDataError, match="unknown run source 'strava'"):
        Run.from_streams(Streams(t_s=t, distance_m=d), start_time=START, time_zone="UTC", source="strava")


def test_same_activity_tolerates_small_differences():
    a = Run.from_strides(feet_strides(800), start_time=START, time_zone="UTC")
    b = Run.from_strides(
        feet_strides(790), start_time=START + dt.timedelta(seconds=40), time_zone="UTC", source="fit"
    )
    c = Run.from_strides(feet_strides(800), start_time=START + dt.timedelta(hours=3), time_zone="UTC")
    assert a.fingerprint() != b.fingerprint()
    assert same_activity(a, b) and same_activity(a.summary("x"), b.summary("y"))
    assert not same_activity(a, c)
    assert not same_activity(a, Run.from_strides(feet_strides(600), start_time=START, time_zone="UTC"))


def test_per_foot_form_is_on_the_run() -> None:
    """Each foot's means and strike counts come from its own strides; a value no stride has stays None."""
    strides = [
        Stride("left", 0.0, 0.8, 2.0, contact_time_s=0.30, strike_type=StrikeType.REARFOOT, impact_g=3.0),
        Stride("left", 0.8, 1.6, 2.0, contact_time_s=0.20, strike_type=StrikeType.MIDFOOT, impact_g=5.0),
        Stride("left", 1.6, 2.4, 2.0, contact_time_s=0.25, strike_type=StrikeType.REARFOOT),
        Stride("right", 0.4, 1.2, 2.0),
    ]
    run = Run.from_strides(strides, start_time=dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC), time_zone="UTC")
    left, right = run.feet()
    assert (left.side, left.strides, right.side, right.strides) == (Side.LEFT, 3, Side.RIGHT, 1)
    assert left.avg_contact_time_s == pytest.approx(0.25) and left.avg_impact_g == pytest.approx(4.0)
    assert left.strike_types == {StrikeType.REARFOOT: 2, StrikeType.MIDFOOT: 1}
    assert right.avg_contact_time_s is None and right.strike_types == {} and right.avg_impact_g is None
    one_foot = Run.from_strides(strides[3:], start_time=run.start_time, time_zone="UTC")
    assert [f.side for f in one_foot.feet()] == [Side.RIGHT]


def test_an_estimated_stride_keeps_its_mark_through_storage_and_the_feet_count_it() -> None:
    """A stride the engine estimated across samples lost to a gap is stored as such (bit 4 of the codes), and no
    other code moves with it: every strike, gait and side reads back as it was. Each foot counts its estimated
    strides and their metres, from strides and from stored columns alike."""
    strides = [
        dataclasses.replace(s, estimated=k % 5 in (1, 2), gait=Gait.WALK if k % 3 else Gait.RUN)
        for k, s in enumerate(feet_strides(40))
    ]
    back = unpack_strides(pack_strides(strides))
    key = lambda s: (s.side, s.t_start_s)  # noqa: E731
    for a, b in zip(sorted(strides, key=key), sorted(back, key=key), strict=True):
        assert (b.estimated, b.strike_type, b.gait, b.side) == (a.estimated, a.strike_type, a.gait, a.side)
    run = Run.from_strides(strides, start_time=START, time_zone="UTC")
    left, right = run.feet()
    assert (left.estimated_strides, right.estimated_strides) == (16, 16)
    assert left.estimated_m == pytest.approx(16 * 2.8) and right.estimated_m == pytest.approx(16 * 2.6)
    assert feet_of_columns(unpack_stride_columns(pack_strides(strides))) == run.feet()
    measured = unpack_strides(pack_strides(feet_strides(10)))
    assert not any(s.estimated for s in measured)
    assert [
        f.estimated_strides for f in Run.from_strides(measured, start_time=START, time_zone="UTC").feet()
    ] == [
        0,
        0,
    ]
    with pytest.raises(RunDataError, match="estimated"):
        Stride("left", 0.0, 0.7, 2.0, estimated="yes")  # type: ignore[arg-type]


def test_a_run_entered_by_hand_is_its_two_ends_and_invents_nothing() -> None:
    start = dt.datetime(2026, 5, 1, 6, 30, tzinfo=dt.UTC)
    run = Run.manual(start_time=start, time_zone="Asia/Shanghai", distance_m=8500.0, duration_s=2700.0)
    assert (run.distance_m, run.moving_time_s, run.elapsed_time_s) == (8500.0, 2700.0, 2700.0)
    assert run.source == Source.MANUAL and not run.measured
    assert run.efforts() == () and splits(run) == [] and run.strides == []
    summary = run.summary("r1")
    assert summary.avg_cadence_spm is None and summary.efforts == ()
    assert sum(summary.speed_time_s) == pytest.approx(2700.0)  # its pace still counts in the time per speed
    assert (
        run.fingerprint()
        == Run.manual(
            start_time=start, time_zone="UTC", distance_m=8504.0, duration_s=2700.2, title="again"
        ).fingerprint()
    )
    with pytest.raises(RunDataError, match="faster than anyone runs"):
        Run.manual(start_time=start, time_zone="UTC", distance_m=85_000.0, duration_s=2700.0)
    for distance_m, duration_s in ((0.0, 60.0), (1000.0, 0.0), (float("nan"), 60.0), (2e6, 1e6)):
        with pytest.raises(RunDataError):
            Run.manual(start_time=start, time_zone="UTC", distance_m=distance_m, duration_s=duration_s)


def test_a_run_starts_within_the_calendar_it_is_summed_in() -> None:
    """A clock never set (year 1) or a file's 9999: refused, where the day and week sums about it overflowed."""
    strides = [Stride("left", 0.0, 0.8, 2.4), Stride("left", 0.8, 1.6, 2.4)]
    for start in (dt.datetime(1, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 12, 31, tzinfo=dt.UTC)):
        with pytest.raises(RunDataError, match=f"year {start.year}:"):
            Run.from_strides(strides, start_time=start, time_zone="UTC")
    assert Run.from_strides(strides, start_time=dt.datetime(1985, 4, 21, tzinfo=dt.UTC), time_zone="UTC")
