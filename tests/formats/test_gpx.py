"""GPX import: distance from positions (never across a pause), pauses from segments, cadence extension."""

from __future__ import annotations

import datetime as dt

import gpxpy
import numpy as np
import pytest

from soleware.formats import FormatError, import_file
from soleware.formats._build import haversine_m
from soleware.runs.model import Source


def test_gpx_distance_matches_gpxpy_and_skips_the_jump_between_segments(make_gpx):
    data = make_gpx(segments=(120, 80), gap_s=45)
    run = import_file(data, name="evening.gpx")
    gpx = gpxpy.parse(data.decode())
    segment_sum = sum(seg.length_2d() for seg in gpx.tracks[0].segments)
    assert run.distance_m == pytest.approx(segment_sum, rel=0.005)
    assert run.source == Source.GPX.value
    assert run.title == "Evening Run"
    assert run.start_time == dt.datetime(2025, 6, 1, 18, 0, tzinfo=dt.UTC)
    ((a, b),) = run.pauses
    assert (a, b) == pytest.approx((119.0, 165.0))
    assert run.elapsed_time_s == pytest.approx(120 + 45 + 80 - 1)
    assert run.moving_time_s == pytest.approx(run.elapsed_time_s - 46.0)
    assert np.all(np.diff(run.streams.distance_m) >= 0)


def test_single_segment_gpx_detects_standstill_as_pause(tmp_path):
    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack()
    gpx.tracks.append(track)
    seg = gpxpy.gpx.GPXTrackSegment()
    track.segments.append(seg)
    t0 = dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC)
    lat = 40.0
    for k in range(100):
        if not 40 <= k < 60:  # standing still for 20 s in the middle
            lat += 3e-5
        seg.points.append(gpxpy.gpx.GPXTrackPoint(lat, -3.7, time=t0 + dt.timedelta(seconds=k)))
    path = tmp_path / "standstill.gpx"
    path.write_text(gpx.to_xml())
    run = import_file(path)
    assert len(run.pauses) == 1
    a, b = run.pauses[0]
    assert 38 <= a <= 41 and 58 <= b <= 61


def test_gpx_cadence_extension_is_strides_per_minute(make_gpx):
    run = import_file(make_gpx(cadence=88), name="c.gpx")
    assert np.nanmedian(run.streams.cadence_spm) == pytest.approx(176.0)


@pytest.mark.parametrize("kind", ["cycling", "Ride", "1"])
def test_gpx_ride_is_rejected(make_gpx, kind):
    with pytest.raises(FormatError, match="not a run"):
        import_file(make_gpx(kind=kind), name="ride.gpx")


def test_gpx_without_times_is_rejected():
    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack()
    gpx.tracks.append(track)
    seg = gpxpy.gpx.GPXTrackSegment()
    track.segments.append(seg)
    seg.points.extend(gpxpy.gpx.GPXTrackPoint(50 + k * 1e-4, 8.0) for k in range(10))
    with pytest.raises(FormatError, match="route.gpx: GPX file has no track points with a time"):
        import_file(gpx.to_xml().encode(), name="route.gpx")


def test_haversine_one_degree_of_latitude():
    assert haversine_m(np.array([0.0, 1.0]), np.array([0.0, 0.0]))[0] == pytest.approx(111_195, rel=1e-4)


def partly_timed_gpx(n: int, timed: set[int], *, detour: range = range(0)) -> bytes:
    """One segment going north ~3 m a second; only the points in ``timed`` carry a time (as apps that thin
    out times, or route planners that stamp a few points, write them). Points in ``detour`` step 30 m east."""
    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name="Partly timed")
    gpx.tracks.append(track)
    seg = gpxpy.gpx.GPXTrackSegment()
    track.segments.append(seg)
    t0 = dt.datetime(2025, 4, 5, 9, tzinfo=dt.UTC)
    for k in range(n):
        lon = 11.5 + (4e-4 if k in detour else 0.0)
        t = t0 + dt.timedelta(seconds=k) if k in timed else None
        seg.points.append(gpxpy.gpx.GPXTrackPoint(48.1 + k * 2.7e-5, lon, time=t))
    return gpx.to_xml().encode()


def test_gpx_with_times_on_few_points_is_refused_not_cut_short():
    """The issue's file: times on 5 of 296 points used to be stored as 53 m, dropping 99% of the track."""
    data = partly_timed_gpx(296, {0, 1, 2, 3, 4})
    with pytest.raises(FormatError) as info:
        import_file(data, name="route.gpx")
    assert info.value.problem.startswith("GPX track has times on only 5 of 296 points")
    assert "drop the rest of the track's distance" in info.value.problem
    assert (info.value.code, info.value.params) == ("partly_timed", {"timed": "5", "points": "296"})


def test_a_track_of_one_timed_point_is_refused_as_too_few(make_gpx):
    with pytest.raises(FormatError, match=r"activity has 1 timed sample\(s\), need at least 2") as info:
        import_file(make_gpx(segments=(1,)), name="one.gpx")
    assert info.value.code == "too_few"


def test_gpx_with_untimed_points_at_its_ends_places_them_at_the_pace_there():
    """A watch that wrote its first or last points without a time (gpxpy's cerknicko-jezero-without-elevations:
    the last of 296): the whole file was refused; those points now go at the pace of the track next to them."""
    n = 300
    data = partly_timed_gpx(n, set(range(2, n - 3)))
    run = import_file(data, name="ends.gpx")
    full = gpxpy.parse(data.decode()).tracks[0].segments[0].length_2d()
    assert run.distance_m == pytest.approx(full, rel=0.002)
    assert run.elapsed_time_s == pytest.approx(n - 1, abs=0.01)
    assert len(run.streams) == n and np.all(np.diff(run.streams.t_s) > 0)


def test_gpx_with_untimed_points_after_a_standstill_is_refused():
    """No pace to place them at: the timed track before them stands still."""
    gpx = gpxpy.gpx.GPX()
    seg = gpxpy.gpx.GPXTrackSegment()
    gpx.tracks.append(gpxpy.gpx.GPXTrack(name="Stood"))
    gpx.tracks[0].segments.append(seg)
    t0 = dt.datetime(2025, 4, 5, 9, tzinfo=dt.UTC)
    for k in range(100):
        lat = 48.1 + min(k, 40) * 2.7e-5
        seg.points.append(gpxpy.gpx.GPXTrackPoint(lat, 11.5, time=t0 + dt.timedelta(seconds=k)))
    for k in range(3):
        seg.points.append(gpxpy.gpx.GPXTrackPoint(48.1 + (41 + k) * 2.7e-5, 11.5))
    with pytest.raises(FormatError, match=r"3 points without a time .* with no pace to place them at"):
        import_file(gpx.to_xml().encode(), name="stood.gpx")


def test_gpx_with_a_few_untimed_points_inside_keeps_the_whole_track():
    n, detour = 300, range(100, 104)
    data = partly_timed_gpx(n, set(range(n)) - set(detour), detour=detour)
    run = import_file(data, name="thinned.gpx")
    full = gpxpy.parse(data.decode()).tracks[0].segments[0].length_2d()
    straight = gpxpy.parse(partly_timed_gpx(n, set(range(n))).decode()).tracks[0].segments[0].length_2d()
    assert full - straight > 50  # the untimed points carry distance (the detour east and back)
    assert run.distance_m == pytest.approx(full, rel=0.002)
    assert run.elapsed_time_s == pytest.approx(n - 1)
    assert len(run.streams) == n
    assert np.all(np.diff(run.streams.t_s) > 0)


def test_a_foreign_gpx_keeps_its_track_as_the_route_without_accuracy(make_gpx):
    data = make_gpx(segments=(120, 80), gap_s=45)
    run = import_file(data, name="evening.gpx")
    gpx = gpxpy.parse(data.decode())
    points = [p for seg in gpx.tracks[0].segments for p in seg.points]
    route = run.route
    assert route is not None and len(route) == len(points) == 200
    assert route.accuracy_m is None  # GPX has no accuracy of its own; hdop is no radius
    assert np.array_equal(route.lat_deg, [p.latitude for p in points])
    assert np.array_equal(route.lon_deg, [p.longitude for p in points])
    start = run.start_time.timestamp()
    assert np.allclose(route.t_s, [p.time.timestamp() - start for p in points])
