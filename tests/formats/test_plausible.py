"""Intact files with values no human activity on foot has are refused, naming the field and the value."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from soleware.formats import FormatError, import_file, import_paths
from soleware.formats._plausible import MAX_SPEED_MPS

T0 = dt.datetime(2024, 3, 2, 7, 0, tzinfo=dt.UTC)


def garmin_tcx(
    points: list[tuple[float, float]], *, lap_distance_m: float, lap_timer_s: float, start: dt.datetime = T0
) -> bytes:
    """A TCX as Garmin Connect writes it: one lap with its totals, trackpoints with time and distance."""

    def iso(t_s: float) -> str:
        return (start + dt.timedelta(seconds=t_s)).isoformat().replace("+00:00", "Z")

    tps = "".join(
        f"<Trackpoint><Time>{iso(t)}</Time><DistanceMeters>{d:.2f}</DistanceMeters></Trackpoint>"
        for t, d in points
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        f'<Activities><Activity Sport="Running"><Id>{iso(0)}</Id><Lap StartTime="{iso(0)}">'
        f"<TotalTimeSeconds>{lap_timer_s}</TotalTimeSeconds><DistanceMeters>{lap_distance_m}</DistanceMeters>"
        "<Calories>0</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>"
        f"<Track>{tps}</Track></Lap></Activity></Activities></TrainingCenterDatabase>"
    ).encode()


def strava_gpx(points: list[tuple[float, float]], *, start: dt.datetime = T0) -> bytes:
    """A GPX as Strava writes it: one track segment, (seconds from start, metres north of 47°N) per point."""
    pts = "".join(
        f'<trkpt lat="{47 + d / 111_195:.7f}" lon="8.5"><time>'
        f"{(start + dt.timedelta(seconds=t)).isoformat().replace('+00:00', 'Z')}</time></trkpt>"
        for t, d in points
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="StravaGPX" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>Morning Run</name><type>running</type>'
        f"<trkseg>{pts}</trkseg></trk></gpx>"
    ).encode()


def steady(n: int, speed_mps: float, *, step_s: float = 1.0) -> list[tuple[float, float]]:
    return [(k * step_s, k * step_s * speed_mps) for k in range(n)]


def test_tcx_whose_distance_implies_25_km_per_s_is_refused():
    """The issue's file: 41,115 km in a lap of 1644 s (trackpoints at a believable 3.3 m/s)."""
    data = garmin_tcx(steady(1645, 3.3), lap_distance_m=41_115_000.0, lap_timer_s=1644.0)
    with pytest.raises(FormatError) as info:
        import_file(data, name="lap.tcx")
    assert info.value.problem.startswith("implausible activity: distance 41115.0 km")
    assert (info.value.params["check"], info.value.params["value"]) == ("distance", "41115.0 km")
    assert info.value.params["limit"] == "1500 km"


def test_tcx_whose_lap_distance_is_too_fast_for_its_timer_is_refused():
    data = garmin_tcx(steady(600, 3.3), lap_distance_m=50_000.0, lap_timer_s=599.0)
    with pytest.raises(FormatError, match=r"^fast\.tcx: implausible activity: average speed 83\.5 m/s"):
        import_file(data, name="fast.tcx")


def test_fit_whose_records_go_at_30_m_per_s_is_refused(make_fr110_fit):
    with pytest.raises(FormatError, match=r"^car\.fit: implausible activity: average speed 30\.0 m/s"):
        import_file(make_fr110_fit(speed_mps=30.0), name="car.fit")


def test_fit_from_a_watch_whose_clock_was_never_set_is_refused(make_fr110_fit):
    """FIT times below 0x10000000 s (1998) count from the device's power-up: there is no date to store."""
    data = make_fr110_fit(start=dt.datetime(1989, 12, 31, 0, 16, 40, tzinfo=dt.UTC))
    with pytest.raises(FormatError, match=r"^unset\.fit: FIT records have no date: .*clock was not set"):
        import_file(data, name="unset.fit")


def test_fit_in_the_future_is_refused(make_fr110_fit):
    data = make_fr110_fit(start=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    with pytest.raises(FormatError, match=r"^later\.fit: implausible activity: end time .* is in the future"):
        import_file(data, name="later.fit")


def test_gps_jump_in_an_otherwise_plausible_gpx_is_refused():
    """A 5 km jump between two points of a 3 m/s run: the average stays plausible, the stream does not."""
    points = [(t, d + (5000.0 if t >= 300 else 0.0)) for t, d in steady(1800, 3.0)]
    with pytest.raises(FormatError) as info:
        import_file(strava_gpx(points), name="jump.gpx")
    assert info.value.problem.startswith("implausible activity: distance stream covers ")
    assert f"faster than {MAX_SPEED_MPS} m/s" in info.value.problem


@pytest.mark.parametrize(
    ("points", "start", "problem"),
    [
        (steady(3, 1.0, step_s=5 * 86_400), T0, r"elapsed time 10 d 0:00:00 \(864000 s\) is longer than 7 d"),
        (steady(300, 3.0), dt.datetime(1985, 6, 1, tzinfo=dt.UTC), r"start time 1985-06-01T00:00:00\+00:00"),
        (
            steady(300, 3.0),
            dt.datetime(2031, 6, 1, tzinfo=dt.UTC),
            r"end time 2031-06-01T00:04:59\+00:00 is in",
        ),
    ],
)
def test_gpx_with_absurd_time_is_refused(points, start, problem):
    with pytest.raises(FormatError, match=r"^odd\.gpx: implausible activity: " + problem):
        import_file(strava_gpx(points, start=start), name="odd.gpx")


def test_a_world_record_sprint_and_a_long_ultra_are_still_accepted():
    sprint = import_file(strava_gpx(steady(11, 10.44)), name="100m.gpx")
    assert sprint.distance_m == pytest.approx(104.4, rel=0.01)
    ultra = garmin_tcx(steady(200, 2.0, step_s=1200.0), lap_distance_m=477_600.0, lap_timer_s=238_800.0)
    assert import_file(ultra, name="ultra.tcx").distance_m == pytest.approx(477_600.0)


def test_bulk_import_rejects_the_absurd_file_and_keeps_the_others(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "activities/1.tcx", garmin_tcx(steady(1645, 3.3), lap_distance_m=41_115_000.0, lap_timer_s=1644)
        )
        z.writestr("activities/2.gpx", strava_gpx(steady(600, 3.0)))
    report = import_paths(path)
    by_name = {r.name: r for r in report.results}
    assert by_name["export.zip/activities/2.gpx"].status == "ok"
    bad = by_name["export.zip/activities/1.tcx"]
    assert bad.status == "rejected" and bad.reason.startswith("implausible activity: distance 41115.0 km")


@pytest.mark.parametrize(
    ("points", "start", "check", "value", "limit"),
    [
        (steady(3, 1.0, step_s=5 * 86_400), T0, "elapsed", "10 d 0:00:00", "7 d 0:00:00"),
        (
            steady(300, 3.0),
            dt.datetime(1985, 6, 1, tzinfo=dt.UTC),
            "start",
            "1985-06-01T00:00:00+00:00",
            "1990",
        ),
        (steady(300, 3.0), dt.datetime(2031, 6, 1, tzinfo=dt.UTC), "end", "2031-06-01T00:04:59+00:00", ""),
        (steady(300, 30.0), T0, "speed", "30.0 m/s", f"{MAX_SPEED_MPS} m/s"),
        (
            [(t, d + (5000.0 if t >= 300 else 0.0)) for t, d in steady(1800, 3.0)],
            T0,
            "stretch",
            "86.3 m/s",
            f"{MAX_SPEED_MPS} m/s",
        ),
    ],
)
def test_a_refusal_names_its_check_value_and_limit_for_a_translated_message(
    points, start, check, value, limit
):
    """The web app says why in the runner's language from these; the English sentence stays the ``detail``."""
    with pytest.raises(FormatError) as info:
        import_file(strava_gpx(points, start=start), name="odd.gpx")
    params = info.value.params
    assert info.value.code == "implausible" and params["check"] == check and params["value"] == value
    assert params["limit"] == limit
    assert info.value.problem == f"implausible activity: {params['detail']}"
