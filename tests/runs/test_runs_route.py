"""The phone's route: validation, the storage blob and the distance over good fixes."""

from __future__ import annotations

import numpy as np
import pytest

from soleware.runs.model import (
    MAX_ROUTE_FIXES,
    ROUTE_MAX_STORED_ACCURACY_M,
    ROUTE_RESOLUTION,
    Route,
    RunDataError,
    haversine_m,
    route_distance_m,
)


def _fixes(n: int = 5) -> dict[str, np.ndarray]:
    return {
        "t_s": np.arange(n, dtype=float),
        "lat_deg": np.full(n, 31.0),
        "lon_deg": np.linspace(121.0, 121.001, n),
        "accuracy_m": np.full(n, 5.0),
        "altitude_m": np.full(n, 10.0),
    }


@pytest.mark.parametrize(
    ("column", "index", "value", "message"),
    [
        ("lat_deg", 2, 90.5, r"lat_deg must lie in \[-90, 90\]"),
        ("lat_deg", 0, -91.0, r"lat_deg must lie in \[-90, 90\]"),
        ("lon_deg", 1, 180.01, r"lon_deg must lie in \[-180, 180\]"),
        ("lon_deg", 4, -181.0, r"lon_deg must lie in \[-180, 180\]"),
        ("t_s", 3, 1.5, r"t_s must never decrease: fix 3 at 1.5 s is before fix 2"),
        ("t_s", 0, -0.5, r"t_s must lie in \[0, "),
        ("accuracy_m", 1, -1.0, r"accuracy_m must be >= 0"),
        ("lat_deg", 3, np.nan, r"route lat_deg\[3\] is nan: every fix needs a finite value"),
        ("accuracy_m", 2, np.inf, r"route accuracy_m\[2\] is inf"),
        ("altitude_m", 0, np.nan, r"route altitude_m\[0\] is nan"),
    ],
)
def test_bad_fixes_are_refused_with_a_message_naming_them(column, index, value, message):
    cols = _fixes()
    cols[column][index] = value
    with pytest.raises(RunDataError, match=message):
        Route(**cols)


def test_columns_of_unequal_length_and_too_many_fixes_are_refused():
    cols = _fixes()
    cols["lon_deg"] = cols["lon_deg"][:4]
    with pytest.raises(RunDataError, match=r"route lon_deg has shape \(4,\), expected \(5,\)"):
        Route(**cols)
    n = MAX_ROUTE_FIXES + 1
    with pytest.raises(RunDataError, match=f"route has {n} fixes, more than the {MAX_ROUTE_FIXES}"):
        Route(np.arange(n) * 0.5, np.zeros(n), np.zeros(n), np.ones(n))


def test_equal_times_are_allowed_and_accuracy_and_altitude_may_be_unknown():
    r = Route([0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    assert len(r) == 3 and r.accuracy_m is None and r.altitude_m is None
    assert Route.from_bytes(r.to_bytes()) == r


def test_stored_route_is_the_route_to_its_resolution(make_route):
    route = make_route(3600.0)
    route.lon_deg[:3] = [179.9999999, -179.9999999, 0.0]  # int32 differences that wrap
    route.lat_deg[:3] = [-90.0, 90.0, 0.0]
    route.accuracy_m[5] = 1e6  # a cell-network guess: kept as the worst stored value
    blob = route.to_bytes()
    back = Route.from_bytes(blob)
    assert len(back) == len(route)
    for name, res in ROUTE_RESOLUTION.items():
        x, y = getattr(back, name), getattr(route, name)
        if name == "accuracy_m":
            y = np.minimum(y, ROUTE_MAX_STORED_ACCURACY_M)
        assert np.max(np.abs(x - y)) <= 0.5 * res * (1 + 1e-6), name
    # and lossless from there on: stored values come back exactly
    assert Route.from_bytes(back.to_bytes()) == back
    # lean: an hour at 1 Hz with accuracy and altitude in well under 10 bytes a fix (raw float64: 40)
    assert len(blob) < 10 * len(route), len(blob)


def test_a_blob_of_another_kind_or_cut_short_is_refused(make_route):
    blob = make_route(60.0).to_bytes()
    with pytest.raises(RunDataError, match="does not start with b'SWRT'"):
        Route.from_bytes(b"SWST" + blob[4:])
    bad = bytearray(blob)
    bad[8:12] = (10_000).to_bytes(4, "little")
    with pytest.raises(RunDataError, match="says 10000 fixes but holds"):
        Route.from_bytes(bytes(bad))


def test_route_distance_skips_poor_fixes(make_route):
    route = make_route(1200.0, speed_mps=3.0)
    # the loop is 3 m/s for 1200 s; fixes 1 s apart on a 400 m circle: chords are shorter than arcs by ~1e-6
    good = route_distance_m(route)
    assert good == pytest.approx(3.0 * (route.t_s[-1] - route.t_s[0]), rel=2e-3)
    # counting the poor fixes (each 60-500 m off the loop, there and back) adds their detours
    everything = route_distance_m(route, max_accuracy_m=1e9)
    assert everything > good + 2 * 60 * 20
    no_accuracy = Route(route.t_s, route.lat_deg, route.lon_deg)
    assert route_distance_m(no_accuracy) == pytest.approx(everything)
    assert route_distance_m(route, max_accuracy_m=1.0) == 0.0
    with pytest.raises(RunDataError, match="max_accuracy_m must be finite"):
        route_distance_m(route, max_accuracy_m=float("nan"))


def test_haversine_quarter_meridian():
    assert haversine_m([0.0, 90.0], [0.0, 0.0])[0] == pytest.approx(np.pi / 2 * 6_371_008.8)
