"""Runs and foreign activity files for the format tests, all generated at test time (no binary fixtures)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import gpxpy.gpx
import numpy as np
import pytest
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer, Sport
from lxml import etree

from soleware.runs.model import Lap, Run, Stride, StrikeType

START = dt.datetime(2026, 11, 1, 6, 30, 15, tzinfo=dt.UTC)
SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas"


def realistic_strides(
    *, n: int = 900, seed: int = 7, pause_after: int = 400, pause_s: float = 25.0
) -> list[Stride]:
    """Two feet of an ~11 min run: varying pace and form, a standstill after stride ``pause_after``."""
    rng = np.random.default_rng(seed)
    out = []
    for side, offset in (("left", 0.0), ("right", 0.36)):
        t = 2.0 + offset
        for k in range(n):
            if k == pause_after:
                t += pause_s
            period = 0.72 + 0.03 * np.sin(k / 50) + 0.01 * rng.standard_normal()
            length = 2.5 + 0.3 * np.sin(k / 80) + 0.05 * rng.standard_normal()
            out.append(
                Stride(
                    side=side,
                    t_start_s=t,
                    t_end_s=t + period,
                    length_m=length,
                    contact_time_s=0.21 + 0.01 * rng.standard_normal(),
                    flight_time_s=0.12,
                    strike_angle_deg=5.0 + rng.standard_normal(),
                    strike_type=StrikeType.MIDFOOT if k % 3 else StrikeType.REARFOOT,
                    impact_g=8.0 + rng.standard_normal(),
                )
            )
            t += period
    return out


@pytest.fixture
def realistic_run() -> Run:
    strides = realistic_strides()
    run = Run.from_strides(
        strides,
        start_time=START,
        time_zone="Europe/Berlin",
        shoe_serials=("SW-L-0042", "SW-R-0042"),
        title="Tempo along the river",
    )
    end = run.elapsed_time_s
    run.laps = [Lap(0.0, 200.0, "warm-up"), Lap(200.0, 450.0, "tempo"), Lap(450.0, end, "cool-down")]
    return run


@pytest.fixture(scope="session")
def tcx_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "TrainingCenterDatabasev2.xsd")))


def watch_fit(
    *,
    n: int = 120,
    sport: Sport = Sport.RUNNING,
    file_type: FileType = FileType.ACTIVITY,
    pause: tuple[int, int] | None = None,
    with_distance: bool = False,
) -> bytes:
    """A FIT file as a GPS watch writes it: positions (degrees), strides/min cadence, optional timer pause."""
    t0 = 1_780_000_000_000
    b = FitFileBuilder(auto_define=True)
    m = FileIdMessage()
    m.type = file_type
    m.manufacturer = Manufacturer.GARMIN.value
    m.product = 1
    m.serial_number = 99
    m.time_created = t0
    b.add(m)

    def event(k: int, kind: EventType) -> None:
        e = EventMessage()
        e.timestamp = t0 + 1000 * k
        e.event = Event.TIMER
        e.event_type = kind
        b.add(e)

    event(0, EventType.START)
    lat = 52.5
    for k in range(n):
        if pause and k == pause[0]:
            event(k - 1, EventType.STOP_ALL)
            event(pause[1], EventType.START)
        if pause and pause[0] <= k < pause[1]:
            continue
        lat += 3e-5  # ~3.3 m per second, northwards
        r = RecordMessage()
        r.timestamp = t0 + 1000 * k
        r.position_lat = lat
        r.position_long = 13.4
        r.cadence = 86
        if with_distance:
            r.distance = 3.0 * k
        b.add(r)
    event(n - 1, EventType.STOP_ALL)
    s = SessionMessage()
    s.timestamp = t0 + 1000 * (n - 1)
    s.start_time = t0
    s.sport = sport
    b.add(s)
    return b.build().to_bytes()


def track_gpx(
    *,
    segments: tuple[int, ...] = (100,),
    gap_s: int = 60,
    kind: str | None = "running",
    cadence: int | None = None,
) -> bytes:
    """A GPX track going north ~3 m per second, one segment per entry, ``gap_s`` of standstill between."""
    gpx = gpxpy.gpx.GPX()
    if cadence is not None:
        gpx.nsmap["gpxtpx"] = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
    track = gpxpy.gpx.GPXTrack(name="Evening Run")
    track.type = kind
    gpx.tracks.append(track)
    t = dt.datetime(2025, 6, 1, 18, 0, tzinfo=dt.UTC)
    lat = 48.1
    for count in segments:
        seg = gpxpy.gpx.GPXTrackSegment()
        track.segments.append(seg)
        for _ in range(count):
            lat += 2.7e-5
            p = gpxpy.gpx.GPXTrackPoint(lat, 11.5, time=t)
            if cadence is not None:
                ext = etree.Element(
                    "{http://www.garmin.com/xmlschemas/TrackPointExtension/v1}TrackPointExtension"
                )
                etree.SubElement(
                    ext, "{http://www.garmin.com/xmlschemas/TrackPointExtension/v1}cad"
                ).text = str(cadence)
                p.extensions.append(ext)
            seg.points.append(p)
            t += dt.timedelta(seconds=1)
        t += dt.timedelta(seconds=gap_s)
        lat += 0.001  # the position jumps while paused; that distance must not count
    return gpx.to_xml().encode()


@pytest.fixture
def make_watch_fit() -> Callable[..., bytes]:
    return watch_fit


@pytest.fixture
def make_gpx() -> Callable[..., bytes]:
    return track_gpx
