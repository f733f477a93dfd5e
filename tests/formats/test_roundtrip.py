"""Export then import gives the original run back within each format's resolution.

FIT: start and sample times to the second (later sample of one second wins), distance 1 cm, speed 1 mm/s,
cadence 1/64 step/min, stride length 0.2 mm, contact time 0.1 ms, totals to the ms, no lap names or title.
TCX: times to the ms, distance and speed to 1 mm(/s), cadence to 2 steps/min (whole strides/min), pauses to
the sample interval; no stride length or contact time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from soleware.formats import FormatError, export_run, import_file
from soleware.runs.model import Lap, Run, Source, Stride, route_distance_m, same_activity

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Shanghai", "Australia/Sydney"]
NAME_CHARS = st.characters(whitelist_categories=("L", "N"), whitelist_characters=" -_.")


@st.composite
def run_params(draw: st.DrawFn) -> dict:
    """Parameters of a run (small to print when an example fails); build_run turns them into the Run."""
    n = draw(st.integers(3, 120))
    return {
        "sides": draw(st.sampled_from([("left",), ("right",), ("left", "right")])),
        "periods": draw(st.lists(st.floats(0.45, 1.6), min_size=n, max_size=n)),
        "lengths": draw(st.lists(st.floats(0.3, 3.5), min_size=n, max_size=n)),
        "with_contact": draw(st.booleans()),
        "gaps": draw(st.dictionaries(st.integers(0, n - 1), st.floats(0.0, 40.0), max_size=3)),
        "lead_s": draw(st.floats(0.0, 8.0)),
        "start": draw(
            # imports refuse activities that end in the future (see soleware.formats._plausible)
            st.datetimes(dt.datetime(2001, 1, 1), dt.datetime(2025, 12, 31), timezones=st.just(dt.UTC))
        ),
        "time_zone": draw(st.sampled_from(ZONES)),
        "shoes": draw(
            st.lists(st.text(NAME_CHARS, min_size=1, max_size=16).map(str.strip).filter(bool), max_size=2)
        ),
        "title": draw(st.text(NAME_CHARS, max_size=30)).strip(),
        "interval_s": draw(st.sampled_from([1.0, 1.0, 2.0])),
        "cuts": sorted(set(draw(st.lists(st.floats(0.05, 0.95), max_size=4)))),
        "lap_names": draw(st.lists(st.text(NAME_CHARS, max_size=10).map(str.strip), min_size=5, max_size=5)),
    }


def build_run(p: dict) -> Run:
    """Runs of one or two feet with varying strides, optional standstills, laps and shoes."""
    strides = []
    periods = p["periods"]
    for j, side in enumerate(p["sides"]):
        t = p["lead_s"] + j * periods[0] / 2
        for k, period in enumerate(periods):
            t += p["gaps"].get(k, 0.0)
            strides.append(
                Stride(
                    side=side,
                    t_start_s=t,
                    t_end_s=t + period,
                    length_m=p["lengths"][k] * (1.0 + 0.03 * j),
                    contact_time_s=0.15 + 0.1 * period if p["with_contact"] else None,
                )
            )
            t += period
    run = Run.from_strides(
        strides,
        start_time=p["start"],
        time_zone=p["time_zone"],
        shoe_serials=p["shoes"],
        title=p["title"],
        stream_interval_s=p["interval_s"],
    )
    cuts = [c for a, c in zip([0.0, *p["cuts"]], p["cuts"], strict=False) if c - a > 0.04]
    if cuts:
        bounds = [0.0, *(c * run.elapsed_time_s for c in cuts), run.elapsed_time_s]
        laps = [Lap(a, b, nm) for a, b, nm in zip(bounds, bounds[1:], p["lap_names"], strict=False)]
        run = dataclasses.replace(run, laps=laps)
    return run


def stream_at(run: Run, column: str, t_s: np.ndarray) -> np.ndarray:
    """The original stream's value at the sample each imported time came from (nearest original sample)."""
    k = np.abs(run.streams.t_s[None, :] - t_s[:, None]).argmin(axis=1)
    return getattr(run.streams, column)[k]


def assert_close(got: np.ndarray, want: np.ndarray, atol: float) -> None:
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.allclose(got[ok], want[ok], atol=atol, rtol=0)


def check_fit(run: Run) -> None:
    back = import_file(export_run(run, "fit"), name="run.fit")
    assert back.source == Source.FIT.value
    shift = (back.start_time - run.start_time).total_seconds()
    assert abs(shift) <= 0.5 + 1e-6
    assert back.distance_m == pytest.approx(run.distance_m, abs=0.006)
    assert back.elapsed_time_s == pytest.approx(run.elapsed_time_s, abs=0.0011)
    assert back.moving_time_s == pytest.approx(run.moving_time_s, abs=0.0011)
    assert back.shoe_serials == run.shoe_serials
    assert back.local_start.utcoffset() == run.local_start.utcoffset()
    assert len(back.pauses) == len(run.pauses)
    for (a, b), (c, d) in zip(back.pauses, run.pauses, strict=True):
        assert abs(a + shift - c) <= 1.0 and abs(b + shift - d) <= 1.0
    assert len(back.laps) == len(run.laps)
    for x, y in zip(back.laps, run.laps, strict=True):
        assert abs(x.t_start_s + shift - y.t_start_s) <= 1.0 and abs(x.t_end_s + shift - y.t_end_s) <= 1.0
    assert same_activity(back, run)

    # every imported sample is the last original sample of its whole second
    s = back.streams
    t_orig = run.streams.t_s
    stamps = np.round(run.start_time.timestamp() + t_orig)
    src = np.array([np.nonzero(stamps == round(back.start_time.timestamp() + t))[0][-1] for t in s.t_s])
    assert np.all(np.abs(s.t_s + shift - t_orig[src]) <= 0.5 + 1e-6)
    o = run.streams
    assert np.allclose(s.distance_m, o.distance_m[src], atol=0.0051)
    assert_close(s.speed_mps, o.speed_mps[src], 0.00051)
    assert_close(s.cadence_spm, o.cadence_spm[src], 1 / 64 + 1e-4)
    assert_close(s.stride_length_m, o.stride_length_m[src], 0.00011)
    assert_close(s.contact_time_s, o.contact_time_s[src], 0.000051)
    paused = np.zeros(len(t_orig), bool)
    for a, b in run.pauses:
        paused |= (t_orig > a) & (t_orig < b)
    assert len(s) == len(np.unique(stamps[~paused]))


def check_tcx(run: Run) -> None:
    back = import_file(export_run(run, "tcx"), name="run.tcx")
    assert back.source == Source.TCX.value
    assert abs((back.start_time - run.start_time).total_seconds()) <= 0.0006
    assert back.time_zone == run.time_zone
    assert back.title == run.title
    assert back.shoe_serials == run.shoe_serials
    assert back.distance_m == pytest.approx(run.distance_m, abs=0.0006 * (len(run.laps) + 1))
    assert back.elapsed_time_s == pytest.approx(run.elapsed_time_s, abs=0.0011)
    # lap timer times are rounded to the ms, and moving time cannot exceed the (ms-rounded) elapsed time
    assert back.moving_time_s == pytest.approx(run.moving_time_s, abs=0.0011 + 0.0006 * (len(run.laps) + 1))
    assert [x.name for x in back.laps] == [x.name for x in run.laps]
    for x, y in zip(back.laps, run.laps, strict=True):
        assert x.t_start_s == pytest.approx(y.t_start_s, abs=0.0011)
        assert x.t_end_s == pytest.approx(y.t_end_s, abs=0.0011)
    # a pause widens to the samples around it; pauses with no sample between them merge into one
    interval = float(np.max(np.diff(run.streams.t_s))) + 0.002
    for c, d in run.pauses:
        assert any(a <= c + 0.002 and b >= d - 0.002 for a, b in back.pauses)
    for a, b in back.pauses:
        assert any(c - interval <= a <= c + 0.002 for c, _ in run.pauses)
        assert any(d - 0.002 <= b <= d + interval for _, d in run.pauses)
    assert same_activity(back, run)

    s = back.streams
    assert np.allclose(s.distance_m, stream_at(run, "distance_m", s.t_s), atol=0.00051)
    assert_close(s.speed_mps, stream_at(run, "speed_mps", s.t_s), 0.00051)
    assert_close(s.cadence_spm, stream_at(run, "cadence_spm", s.t_s), 1.0 + 1e-4)
    assert np.all(np.isnan(s.stride_length_m)) and np.all(np.isnan(s.contact_time_s))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_params())
def test_fit_round_trip(params):
    check_fit(build_run(params))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_params())
def test_tcx_round_trip(params):
    check_tcx(build_run(params))


def test_realistic_run_round_trips_through_fit_and_tcx(realistic_run):
    check_fit(realistic_run)
    check_tcx(realistic_run)


def test_realistic_run_fit_keeps_names_off_but_tcx_keeps_them(realistic_run):
    fit_back = import_file(export_run(realistic_run, "fit"), name="r.fit")
    tcx_back = import_file(export_run(realistic_run, "tcx"), name="r.tcx")
    assert [x.name for x in fit_back.laps] == ["", "", ""]
    assert [x.name for x in tcx_back.laps] == ["warm-up", "tempo", "cool-down"]
    assert fit_back.fingerprint() == realistic_run.fingerprint()
    assert tcx_back.fingerprint() == realistic_run.fingerprint()


# ---------------------------------------------------------------------------------------------- the route
SEMICIRCLE_DEG = 180.0 / 2**31


def route_run(run: Run, make_route) -> Run:
    """``run`` with the phone's fixes once a second, through its pause and 30 s past its end."""
    return dataclasses.replace(run, route=make_route(run.elapsed_time_s + 30.0, seed=3))


def test_route_round_trips_through_fit(realistic_run, make_route):
    run = route_run(realistic_run, make_route)
    assert any(a < t < b for a, b in run.pauses for t in run.route.t_s)  # some fixes lie inside the pause
    check_fit(run)  # the fixes' records leave streams, pauses, laps and totals as they were
    back = import_file(export_run(run, "fit"), name="run.fit")
    shift = (back.start_time - run.start_time).total_seconds()
    r, o = back.route, run.route
    assert r is not None and len(r) == len(o)  # one fix a second: every one has its own record
    assert np.all(np.abs(r.t_s + shift - o.t_s) <= 0.5 + 1e-6)
    assert np.allclose(r.lat_deg, o.lat_deg, atol=SEMICIRCLE_DEG / 2 + 1e-12, rtol=0)
    assert np.allclose(r.lon_deg, o.lon_deg, atol=SEMICIRCLE_DEG / 2 + 1e-12, rtol=0)
    assert np.array_equal(r.accuracy_m, np.minimum(np.round(o.accuracy_m), 254))
    assert np.allclose(r.altitude_m, o.altitude_m, atol=0.1 + 1e-9, rtol=0)


def test_route_round_trips_through_tcx(realistic_run, make_route, tcx_schema):
    run = route_run(realistic_run, make_route)
    data = export_run(run, "tcx")
    tcx_schema.assertValid(etree.fromstring(data))
    check_tcx(run)
    r, o = import_file(data, name="run.tcx").route, run.route
    assert r is not None and len(r) == len(o)
    assert np.allclose(r.t_s, o.t_s, atol=0.0006, rtol=0)
    for name, res in (("lat_deg", 1e-7), ("lon_deg", 1e-7), ("accuracy_m", 0.1), ("altitude_m", 0.1)):
        assert np.allclose(getattr(r, name), getattr(o, name), atol=res / 2 + 1e-9, rtol=0), name


def test_route_round_trips_through_gpx(realistic_run, make_route, gpx_schema):
    run = route_run(realistic_run, make_route)
    data = export_run(run, "gpx")
    gpx_schema.assertValid(etree.fromstring(data))
    back = import_file(data, name="run.gpx")
    assert back.source == Source.GPX.value and back.title == run.title
    r, o = back.route, run.route
    assert r is not None and len(r) == len(o)
    shift = (back.start_time - run.start_time).total_seconds()
    assert np.allclose(r.t_s + shift, o.t_s, atol=0.0006, rtol=0)
    for name, res in (("lat_deg", 1e-7), ("lon_deg", 1e-7), ("accuracy_m", 0.1), ("altitude_m", 0.1)):
        assert np.allclose(getattr(r, name), getattr(o, name), atol=res / 2 + 1e-9, rtol=0), name
    # the distance of a GPX import is the route's over its good fixes (the poor ones' detours left out)
    assert back.distance_m == pytest.approx(route_distance_m(o), abs=0.05)  # positions to 1e-7 degree (1 cm)


def test_a_run_without_a_route_writes_no_positions_and_no_gpx(realistic_run):
    assert import_file(export_run(realistic_run, "fit"), name="run.fit").route is None
    assert import_file(export_run(realistic_run, "tcx"), name="run.tcx").route is None
    with pytest.raises(FormatError, match="run has no route: GPX holds positions only"):
        export_run(realistic_run, "gpx")


@st.composite
def route_params(draw: st.DrawFn) -> dict:
    """A run (as run_params) and fixes at times drawn over and past it: some on a stream sample's exact time,
    some sharing a millisecond, some in pauses; accuracy and altitude each present or not."""
    p = draw(run_params())
    p["fix_times"] = draw(st.lists(st.floats(0.0, 1.2), min_size=2, max_size=60))
    p["on_samples"] = draw(st.lists(st.integers(0, 10_000), max_size=5))
    p["with_accuracy"] = draw(st.booleans())
    p["with_altitude"] = draw(st.booleans())
    p["lat0"] = draw(st.floats(-89.0, 89.0))
    p["lon0"] = draw(st.floats(-179.99, 179.99))
    return p


def build_route_run(p: dict) -> Run:
    from soleware.runs.model import Route

    run = build_run(p)
    st_t = run.streams.t_s
    t = [f * run.elapsed_time_s for f in p["fix_times"]] + [
        float(st_t[k % len(st_t)]) for k in p["on_samples"]
    ]
    t = np.sort(np.array(t))
    n = len(t)
    rng = np.random.default_rng(n)
    lat = np.clip(p["lat0"] + np.cumsum(rng.normal(0, 2e-5, n)), -90, 90)
    lon = np.clip(p["lon0"] + np.cumsum(rng.normal(0, 2e-5, n)), -180, 180)
    accuracy = rng.uniform(0, 300, n) if p["with_accuracy"] else None
    altitude = rng.uniform(-400, 3000, n) if p["with_altitude"] else None
    return dataclasses.replace(run, route=Route(t, lat, lon, accuracy, altitude))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(route_params())
def test_any_route_round_trips_through_tcx_and_fit(params):
    run = build_route_run(params)
    o = run.route
    check_tcx(run)
    tcx = import_file(export_run(run, "tcx"), name="run.tcx")
    r = tcx.route
    # TCX: one trackpoint per millisecond (of the stream's times), the later fix of a millisecond stays
    ms = np.round((run.start_time.timestamp() + o.t_s) * 1000)
    last = np.append(np.diff(ms) != 0, True)
    assert r is not None and len(r) == int(last.sum())
    shift = (tcx.start_time - run.start_time).total_seconds()
    assert np.allclose(r.t_s + shift, o.t_s[last], atol=0.0006, rtol=0)
    assert np.allclose(r.lat_deg, o.lat_deg[last], atol=0.5e-7 + 1e-9, rtol=0)
    assert np.allclose(r.lon_deg, o.lon_deg[last], atol=0.5e-7 + 1e-9, rtol=0)
    assert (r.accuracy_m is None) == (o.accuracy_m is None)
    assert (r.altitude_m is None) == (o.altitude_m is None)
    if o.accuracy_m is not None:
        assert np.allclose(r.accuracy_m, o.accuracy_m[last], atol=0.05 + 1e-9, rtol=0)
    if o.altitude_m is not None:
        assert np.allclose(r.altitude_m, o.altitude_m[last], atol=0.05 + 1e-9, rtol=0)

    check_fit(run)
    back = import_file(export_run(run, "fit"), name="run.fit")
    shift = (back.start_time - run.start_time).total_seconds()
    stamps = np.round(run.start_time.timestamp() + o.t_s)
    last = np.append(np.diff(stamps) != 0, True)  # FIT: one record per second, the later fix stays
    f = back.route
    assert f is not None and len(f) == int(last.sum())
    assert np.all(np.abs(f.t_s + shift - o.t_s[last]) <= 0.5 + 1e-6)
    assert np.allclose(f.lat_deg, o.lat_deg[last], atol=SEMICIRCLE_DEG / 2 + 1e-12, rtol=0)
    top = 180 - SEMICIRCLE_DEG
    assert np.allclose(f.lon_deg, np.minimum(o.lon_deg[last], top), atol=SEMICIRCLE_DEG / 2 + 1e-12, rtol=0)
    if o.accuracy_m is not None:
        assert np.array_equal(f.accuracy_m, np.minimum(np.round(o.accuracy_m[last]), 254))
    if o.altitude_m is not None:
        assert np.allclose(f.altitude_m, o.altitude_m[last], atol=0.1 + 1e-9, rtol=0)
