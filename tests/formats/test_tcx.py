"""TCX export validated against Garmin's TrainingCenterDatabase v2 schema; TCX import of other apps' files."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from lxml import etree

from soleware.formats import FormatError, export_run, import_file
from soleware.formats.tcx import NS_TCX, NS_TPX
from soleware.runs.model import Lap, Source

NS = {"t": NS_TCX, "x": NS_TPX}


def test_tcx_export_is_valid_against_the_schema(realistic_run, tcx_schema):
    doc = etree.fromstring(export_run(realistic_run, "tcx"))
    assert tcx_schema.validate(doc), tcx_schema.error_log
    (activity,) = doc.findall("t:Activities/t:Activity", NS)
    assert activity.get("Sport") == "Running"
    laps = activity.findall("t:Lap", NS)
    assert [lap.findtext("t:Notes", namespaces=NS) for lap in laps] == [x.name for x in realistic_run.laps]
    for lap in laps:
        for tag in ("TotalTimeSeconds", "DistanceMeters", "Calories", "Intensity", "TriggerMethod"):
            assert lap.find(f"t:{tag}", NS) is not None, tag
    total = sum(float(lap.findtext("t:DistanceMeters", namespaces=NS)) for lap in laps)
    assert total == pytest.approx(realistic_run.distance_m, abs=0.01)
    timer = sum(float(lap.findtext("t:TotalTimeSeconds", namespaces=NS)) for lap in laps)
    assert timer == pytest.approx(realistic_run.moving_time_s, abs=0.01)


def test_tcx_trackpoints_carry_speed_and_run_cadence_in_strides_per_minute(realistic_run):
    doc = etree.fromstring(export_run(realistic_run, "tcx"))
    points = doc.findall(".//t:Trackpoint", NS)
    cadence = [
        int(p.findtext(".//x:RunCadence", namespaces=NS))
        for p in points
        if p.find(".//x:RunCadence", NS) is not None
    ]
    assert 70 < np.median(cadence) < 100
    spm = realistic_run.streams.cadence_spm
    assert np.median(cadence) == pytest.approx(np.nanmedian(spm) / 2, abs=1)
    assert all(p.find("t:DistanceMeters", NS) is not None for p in points)
    assert all(p.find(".//x:Speed", NS) is not None for p in points)


def test_tcx_starts_a_new_track_after_a_pause(realistic_run):
    doc = etree.fromstring(export_run(realistic_run, "tcx"))
    (a, b) = realistic_run.pauses[-1]
    start = realistic_run.start_time
    tracks = doc.findall(".//t:Track", NS)
    boundaries = []
    for track in tracks[1:]:
        first = track.find("t:Trackpoint/t:Time", NS).text
        boundaries.append((dt.datetime.fromisoformat(first) - start).total_seconds())
    assert any(b <= x <= b + 1.0 for x in boundaries)
    assert len(tracks) == len(realistic_run.laps) + len(realistic_run.pauses)


def test_laps_that_leave_gaps_get_filler_laps_which_reading_drops(realistic_run, tcx_schema):
    realistic_run.laps = [Lap(100.0, 200.0, "hill")]
    data = export_run(realistic_run, "tcx")
    doc = etree.fromstring(data)
    assert tcx_schema.validate(doc), tcx_schema.error_log
    assert len(doc.findall(".//t:Lap", NS)) == 3
    back = import_file(data, name="run.tcx")
    ((a, b, name),) = [(x.t_start_s, x.t_end_s, x.name) for x in back.laps]
    assert (a, b) == pytest.approx((100.0, 200.0), abs=0.002)
    assert name == "hill"


FOREIGN_TCX = """<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
  xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
 <Activities><Activity Sport="{sport}"><Id>2024-03-02T07:00:00Z</Id>
  <Lap StartTime="2024-03-02T07:00:00Z"><TotalTimeSeconds>59</TotalTimeSeconds><DistanceMeters>0</DistanceMeters>
   <Calories>12</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod><Track>{points}</Track>
  </Lap></Activity></Activities></TrainingCenterDatabase>"""


def foreign_tcx(sport: str = "Running", n: int = 60) -> bytes:
    points = "".join(
        f"<Trackpoint><Time>2024-03-02T07:00:{k:02d}Z</Time><Position><LatitudeDegrees>{45 + k * 3e-5:.6f}"
        f"</LatitudeDegrees><LongitudeDegrees>7.0</LongitudeDegrees></Position>"
        f"<Extensions><ns3:TPX><ns3:RunCadence>84</ns3:RunCadence></ns3:TPX></Extensions></Trackpoint>"
        for k in range(n)
    )
    return FOREIGN_TCX.format(sport=sport, points=points).encode()


def test_tcx_with_positions_but_no_distance_gets_gps_distance(tcx_schema):
    data = foreign_tcx()
    assert tcx_schema.validate(etree.fromstring(data))
    run = import_file(data, name="phone.tcx")
    assert run.source == Source.TCX.value
    assert run.start_time == dt.datetime(2024, 3, 2, 7, 0, tzinfo=dt.UTC)
    assert run.distance_m == pytest.approx(59 * 3.336, rel=0.01)
    assert run.elapsed_time_s == pytest.approx(59.0)
    assert np.nanmedian(run.streams.cadence_spm) == pytest.approx(168.0)


def test_biking_tcx_is_rejected():
    with pytest.raises(FormatError, match="phone.tcx: activity sport is 'Biking'"):
        import_file(foreign_tcx("Biking"), name="phone.tcx")


def test_tcx_without_trackpoints_is_rejected():
    with pytest.raises(FormatError, match="no trackpoints"):
        import_file(foreign_tcx(n=0), name="empty-laps.tcx")


def test_foreign_tcx_laps_keep_gps_distance_and_a_track_split_is_a_pause():
    def points(ks):
        return "".join(
            f"<Trackpoint><Time>{(dt.datetime(2024, 3, 2, 7, tzinfo=dt.UTC) + dt.timedelta(seconds=k)).isoformat()}</Time>"
            f"<Position><LatitudeDegrees>{45 + i * 3e-5:.6f}</LatitudeDegrees>"
            f"<LongitudeDegrees>7.0</LongitudeDegrees></Position></Trackpoint>"
            for i, k in ks
        )

    lap = (
        '<Lap StartTime="{start}"><TotalTimeSeconds>{timer}</TotalTimeSeconds><DistanceMeters>0</DistanceMeters>'
        "<Calories>0</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>{tracks}</Lap>"
    )
    # lap timers as the trackpoints show them (a placeholder of 1 s each would be 327 m in 2 s: implausible)
    lap1 = lap.format(
        start="2024-03-02T07:00:00Z", timer=60, tracks=f"<Track>{points((i, i) for i in range(60))}</Track>"
    )
    # lap 2: 20 points, then a 30 s pause during which the position jumps by 100 points, then 20 more
    lap2 = lap.format(
        start="2024-03-02T07:01:00Z",
        timer=38,
        tracks=f"<Track>{points((i, i) for i in range(60, 80))}</Track>"
        f"<Track>{points((i + 100, i + 30) for i in range(80, 100))}</Track>",
    )
    data = FOREIGN_TCX.split("<Lap")[0] + lap1 + lap2 + "</Activity></Activities></TrainingCenterDatabase>"
    run = import_file(data.encode(), name="two-laps.tcx")
    assert run.pauses == [(79.0, 110.0)]
    # 99 steps of ~3.336 m, minus the one across the pause
    assert run.distance_m == pytest.approx(98 * 3.336, rel=0.01)
    assert [(x.t_start_s, x.t_end_s) for x in run.laps] == [(0.0, 60.0), (60.0, 129.0)]
