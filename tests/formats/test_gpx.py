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
