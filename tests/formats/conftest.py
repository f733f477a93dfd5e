"""Runs and foreign activity files for the format tests, all generated at test time (no binary fixtures)."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
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
from fit_tool.profile.messages.sport_message import SportMessage
from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer, Sport, SubSport
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
    """Garmin's TCX v2 schema from ../shared/schemas; the tests that validate against it skip without it."""
    xsd = SCHEMAS / "TrainingCenterDatabasev2.xsd"
    if not xsd.is_file():
        pytest.skip(f"../shared/schemas not present ({xsd} is missing)")
    return etree.XMLSchema(etree.parse(str(xsd)))


@pytest.fixture(scope="session")
def gpx_schema() -> etree.XMLSchema:
    """Topografix's GPX 1.1 schema from ../shared/schemas; the tests that validate against it skip without it."""
    xsd = SCHEMAS / "gpx-1.1.xsd"
    if not xsd.is_file():
        pytest.skip(f"../shared/schemas not present ({xsd} is missing)")
    return etree.XMLSchema(etree.parse(str(xsd)))


def activity_builder(
    t0_ms: int = 1_780_000_000_000, *, file_type: FileType = FileType.ACTIVITY
) -> FitFileBuilder:
    """A FIT file builder holding the file_id a Garmin watch writes, created at ``t0_ms`` (ms since 1970)."""
    b = FitFileBuilder(auto_define=True)
    m = FileIdMessage()
    m.type = file_type
    m.manufacturer = Manufacturer.GARMIN.value
    m.product = 1
    m.serial_number = 99
    m.time_created = t0_ms
    b.add(m)
    return b


def watch_fit(
    *,
    n: int = 120,
    sport: Sport = Sport.RUNNING,
    sub_sport: SubSport | None = None,
    file_type: FileType = FileType.ACTIVITY,
    pause: tuple[int, int] | None = None,
    with_distance: bool = False,
) -> bytes:
    """A FIT file as a GPS watch writes it: positions (degrees), strides/min cadence, optional timer pause."""
    t0 = 1_780_000_000_000
    b = activity_builder(t0, file_type=file_type)

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
    if sub_sport is not None:
        s.sub_sport = sub_sport
    b.add(s)
    return b.build().to_bytes()


def multisport_fit(legs: list[tuple[Sport, int, float]], *, cumulative: bool = True) -> bytes:
    """A multisport activity as a watch writes it: one session per leg (sport, seconds, speed in m/s), legs back
    to back, a record a second whose distance runs on over the whole activity (``cumulative``) or restarts at 0
    in each leg (watches do both)."""
    t0 = 1_780_000_000_000
    b = activity_builder(t0)
    e = EventMessage()
    e.timestamp = t0
    e.event = Event.TIMER
    e.event_type = EventType.START
    b.add(e)
    k, total_m = 0, 0.0
    for sport, duration_s, speed_mps in legs:
        first, leg_m = k, 0.0
        for _ in range(duration_s):
            r = RecordMessage()
            r.timestamp = t0 + 1000 * k
            r.distance = total_m + leg_m if cumulative else leg_m
            b.add(r)
            leg_m += speed_mps
            k += 1
        s = SessionMessage()
        s.timestamp = t0 + 1000 * (k - 1)
        s.start_time = t0 + 1000 * first
        s.total_elapsed_time = s.total_timer_time = duration_s - 1.0
        s.total_distance = speed_mps * (duration_s - 1)
        s.sport = sport
        b.add(s)
        total_m += leg_m
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


#: when summary_first_fit's files start, ms since 1970: a day after the watch files above
SUMMARY_FIRST_T0_MS = 1_780_100_000_000


def summary_first_fit(
    *, n: int = 600, sport: Sport = Sport.RUNNING, session: bool = True, stray: bool = False
) -> bytes:
    """A FIT file as some phone apps write it: its summary (a 10 km session of an hour) before its records (3 m/s
    for ``n`` s); ``sport`` in a sport message too; ``stray``: one last record dated decades later, as a broken
    tail decodes."""
    b = activity_builder(SUMMARY_FIRST_T0_MS)
    sp = SportMessage()
    sp.sport = sport
    b.add(sp)
    if session:
        s = SessionMessage()
        s.timestamp = SUMMARY_FIRST_T0_MS + 3_600_000
        s.start_time = SUMMARY_FIRST_T0_MS
        s.total_elapsed_time = 3600.0
        s.total_timer_time = 3600.0
        s.total_distance = 10_000.0
        s.sport = sport
        b.add(s)
    for k in range(n):
        r = RecordMessage()
        r.timestamp = SUMMARY_FIRST_T0_MS + 1000 * k
        r.distance = 3.0 * k
        b.add(r)
    if stray:
        r = RecordMessage()
        r.timestamp = SUMMARY_FIRST_T0_MS + 1000 * 86_400 * 365 * 40
        r.distance = 3.0 * n
        b.add(r)
    return b.build().to_bytes()


@pytest.fixture
def make_activity_builder() -> Callable[..., FitFileBuilder]:
    return activity_builder


@pytest.fixture
def make_summary_first_fit() -> Callable[..., bytes]:
    return summary_first_fit


@pytest.fixture
def make_watch_fit() -> Callable[..., bytes]:
    return watch_fit


@pytest.fixture
def make_multisport_fit() -> Callable[..., bytes]:
    return multisport_fit


@pytest.fixture
def make_gpx() -> Callable[..., bytes]:
    return track_gpx


# ------------------------------------------------------------------ FIT bytes as older Garmin watches write them
#: FIT base types (size, struct code, type byte) used by the hand-assembled files below
_FIT_TYPES = {
    "enum": (1, "B", 0x00),
    "uint8": (1, "B", 0x02),
    "uint16": (2, "H", 0x84),
    "uint32": (4, "I", 0x86),
}
#: seconds between the Unix and the FIT epoch (1989-12-31T00:00:00Z)
FIT_EPOCH_S = 631_065_600


class LegacyFit:
    """A FIT file assembled byte by byte: 14-byte header whose CRC may be left 0x0000 (the protocol allows it,
    the Forerunner 110 does it), definition messages, data messages with normal or compressed timestamp
    record headers (bit 7 set, local message type in bits 5-6, the timestamp's low 5 bits in bits 0-4)."""

    def __init__(self) -> None:
        self.body = bytearray()
        self.fields: dict[int, list[tuple[int, str]]] = {}

    def define(self, local: int, global_num: int, fields: list[tuple[int, str]]) -> None:
        """A definition message: little-endian architecture, (field number, base type name) per field."""
        self.fields[local] = fields
        self.body += struct.pack("<BBBHB", 0x40 | local, 0, 0, global_num, len(fields))
        for num, kind in fields:
            size, _, code = _FIT_TYPES[kind]
            self.body += struct.pack("<BBB", num, size, code)

    def _values(self, local: int, values: list[int]) -> bytes:
        codes = "".join(_FIT_TYPES[kind][1] for _, kind in self.fields[local])
        return struct.pack("<" + codes, *values)

    def data(self, local: int, values: list[int]) -> None:
        """A data message with a normal record header."""
        self.body += bytes([local]) + self._values(local, values)

    def compressed(self, local: int, timestamp_s: int, values: list[int]) -> None:
        """A data message with a compressed timestamp header: only the low 5 bits of the time are written."""
        assert 0 <= local <= 3
        self.body += bytes([0x80 | local << 5 | timestamp_s & 0x1F]) + self._values(local, values)

    def to_bytes(self, *, header_crc: bool = False, profile_version: int = 100) -> bytes:
        header = bytearray(struct.pack("<BBHI4sH", 14, 0x10, profile_version, len(self.body), b".FIT", 0))
        if header_crc:
            header[12:14] = struct.pack("<H", fit_crc(bytes(header[:12])))
        data = bytes(header) + bytes(self.body)
        return data + struct.pack("<H", fit_crc(data))


def fit_crc(data: bytes) -> int:
    """The FIT CRC-16 (the algorithm of the FIT SDK's FitCRC_Get16)."""
    table = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
             0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)  # fmt: skip
    crc = 0
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = table[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc = crc ^ tmp ^ table[nibble]
    return crc


def forerunner_110_fit(
    *,
    n: int = 600,
    speed_mps: float = 3.0,
    compressed: bool = True,
    header_crc: bool = False,
    start: dt.datetime = dt.datetime(2012, 5, 6, 7, 30, tzinfo=dt.UTC),
) -> bytes:
    """A foot-pod run as a Garmin Forerunner 110 writes it: header CRC 0x0000, one record a second whose
    record headers are compressed timestamp headers (all but the first), timer events, a lap, a session and the
    activity. Distances and speeds come from the foot pod (no GPS)."""
    t0 = round(start.timestamp()) - FIT_EPOCH_S
    f = LegacyFit()
    f.define(0, 0, [(0, "enum"), (1, "uint16"), (2, "uint16"), (3, "uint32"), (4, "uint32")])
    f.data(0, [4, 1, 1124, 3_812_345_678, t0])  # file_id: activity, Garmin, Forerunner 110
    f.define(1, 21, [(253, "uint32"), (0, "enum"), (1, "enum")])
    f.data(1, [t0, 0, 0])  # timer start
    f.define(2, 20, [(253, "uint32"), (5, "uint32"), (6, "uint16"), (4, "uint8")])
    f.define(3, 20, [(5, "uint32"), (6, "uint16"), (4, "uint8")])  # the same record without its timestamp
    for k in range(n):
        values = [round(100 * speed_mps * k), round(1000 * speed_mps), 88]
        if k == 0 or not compressed:
            f.data(2, [t0 + k, *values])
        else:
            f.compressed(3, t0 + k, values)
    end = t0 + n - 1
    f.data(1, [end, 0, 4])  # timer stop_all
    total = [end, t0, 1000 * (n - 1), 1000 * (n - 1), round(100 * speed_mps * (n - 1))]
    f.define(0, 19, [(253, "uint32"), (2, "uint32"), (7, "uint32"), (8, "uint32"), (9, "uint32")])
    f.data(0, total)  # lap
    f.define(
        1, 18, [(253, "uint32"), (2, "uint32"), (7, "uint32"), (8, "uint32"), (9, "uint32"), (5, "enum")]
    )
    f.data(1, [*total, 1])  # session, running
    f.define(2, 34, [(253, "uint32"), (0, "uint32"), (1, "uint16"), (2, "enum"), (5, "uint32")])
    f.data(2, [end, 1000 * (n - 1), 1, 0, end + 7200])  # activity, local time UTC+2
    return f.to_bytes(header_crc=header_crc)


def settings_fit(*, header_crc: bool = False) -> bytes:
    """An intact settings file (file type 2) with a user profile, as a watch keeps it beside its activities."""
    f = LegacyFit()
    f.define(0, 0, [(0, "enum"), (1, "uint16"), (2, "uint16"), (3, "uint32")])
    f.data(0, [2, 1, 1124, 3_812_345_678])
    f.define(1, 3, [(1, "enum"), (2, "uint8"), (3, "uint8"), (4, "uint16")])
    f.data(1, [0, 38, 168, 612])  # user_profile: gender, age, height (cm), weight (0.1 kg)
    return f.to_bytes(header_crc=header_crc)


@pytest.fixture
def make_fr110_fit() -> Callable[..., bytes]:
    return forerunner_110_fit


@pytest.fixture
def make_settings_fit() -> Callable[..., bytes]:
    return settings_fit


def zip_of_copies(path: Path, names: list[str], content: bytes) -> None:
    """A zip archive whose members all hold ``content``, deflated once and written byte by byte (local headers,
    central directory, end record) as a hostile uploader would: 100 members of 45 MiB cost 4.7 MB to store."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(content) + packer.flush()
    crc = zlib.crc32(content)
    body, central = bytearray(), bytearray()
    for name in names:
        raw = name.encode()
        fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0x21, crc, len(deflated), len(content), len(raw), 0)
        central += (
            struct.pack("<IH", 0x02014B50, 20) + fields + struct.pack("<HHHII", 0, 0, 0, 0, len(body)) + raw
        )
        body += struct.pack("<I", 0x04034B50) + fields + raw + deflated
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(central), len(body), 0)
    path.write_bytes(bytes(body + central) + end)


@pytest.fixture
def make_zip_of_copies() -> Callable[[Path, list[str], bytes], None]:
    return zip_of_copies
