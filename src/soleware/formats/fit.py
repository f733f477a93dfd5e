"""FIT activity files: writing with fit-tool, reading with fitdecode (every record header kind, CRCs checked).

A written file holds file_id, a device_info for the creator and one per shoe (product_name "Soleware shoe",
descriptor = the shoe's serial), timer start/stop events at the run's pauses, one record per stream sample
outside the pauses, the laps (one lap over the whole run when it has none; their distances and timer times
are shares of the stored totals, see _totals), one running session with the stored totals and the activity.
Units on the wire: record cadence is strides per minute (half the steps per minute) plus fractional_cadence in
1/128; step_length is half a stride in mm (0.1 mm); stance_time is ms (0.1 ms); distance m (1 cm);
enhanced_speed m/s (1 mm/s). Timestamps are whole seconds. FIT has no lap names, titles or strides:
those are lost (the stride CSV keeps strides).

The phone's route goes in the same records: a fix's position_lat/position_long (semicircles), gps_accuracy
(whole metres, at most 254) and enhanced_altitude (0.2 m) join the stream sample of its second, or make a
record of their own (pauses included: the timer events, not the records, mark pauses). One fix per second
survives, the later. Reading keeps every record's position as the route (see _build).

Reading takes an activity on foot (see RUN_SPORTS); of a multisport activity (a triathlon, a duathlon) the legs
on foot are the run, their distances joined, the other legs between them pauses.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import math
from typing import Any

import fitdecode
import numpy as np
from fit_tool.data_message import DataMessage
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages import record_message as rm
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.device_info_message import DeviceInfoMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import (
    Activity,
    Event,
    EventType,
    FileType,
    Intensity,
    LapTrigger,
    Manufacturer,
    SessionTrigger,
    SourceType,
    Sport,
    SubSport,
)

from soleware.formats._build import Samples, build_run, zone_from_offset
from soleware.formats._plausible import MAX_ELAPSED_S
from soleware.formats._safety import FormatError, FormatNote, sniff
from soleware.formats._totals import lap_totals
from soleware.runs.model import Run, Source

__all__ = ["RUN_SPORTS", "SHOE_PRODUCT_NAME", "read_fit", "write_fit"]

#: device_info product_name that marks a Soleware shoe (its serial is in descriptor)
SHOE_PRODUCT_NAME = "Soleware shoe"
#: FIT timestamps count seconds from 1989-12-31T00:00:00Z
_FIT_EPOCH_S = 631_065_600
_SEMICIRCLE_DEG = 180.0 / 2**31
#: sports accepted on import (FIT sport names); anything else is not a run
RUN_SPORTS = frozenset({"running", "walking", "hiking", "generic", "all", "fitness_equipment", "training"})
#: of these sports only a few sub-sports are runs: a treadmill is fitness equipment, and so is a rowing machine
_EQUIPMENT_SPORTS = frozenset({"fitness_equipment", "training"})
_RUN_SUB_SPORTS = frozenset({"generic", "treadmill", "indoor_running", "indoor_walking"})
#: sports that name a leg on foot outright (of a multisport activity, whose "generic" session may be the whole)
_FOOT_SPORTS = frozenset({"running", "walking", "hiking"})

_RECORD_FIELDS = (
    rm.TimestampField,
    rm.RecordDistanceField,
    rm.RecordEnhancedSpeedField,
    rm.RecordCadenceField,
    rm.RecordFractionalCadenceField,
    rm.RecordStepLengthField,
    rm.RecordStanceTimeField,
    rm.RecordPositionLatField,
    rm.RecordPositionLongField,
    rm.RecordGpsAccuracyField,
    rm.RecordEnhancedAltitudeField,
)
_STREAM_FIELDS = ("distance", "enhanced_speed", "cadence", "step_length", "stance_time")
_FIX_FIELDS = ("position_lat", "position_long", "gps_accuracy", "enhanced_altitude")


def _new_record(local_id: int) -> RecordMessage:
    """A record message with only the fields we write (RecordMessage() builds ~90 fields, 10× slower)."""
    msg = RecordMessage.__new__(RecordMessage)
    DataMessage.__init__(
        msg,
        name=RecordMessage.NAME,
        global_id=RecordMessage.ID,
        local_id=local_id,
        fields=[f(size=0, growable=True) for f in _RECORD_FIELDS],
    )
    return msg


def _finite(x: float, hi: float) -> bool:
    return bool(np.isfinite(x)) and 0.0 <= x <= hi


def _in_pause(t: float, pauses: list[tuple[float, float]]) -> bool:
    return any(a < t < b for a, b in pauses)


def _stream_stats(run: Run, a: float, b: float) -> dict[str, float]:
    """Averages of the run's streams over [a, b] (moving samples only), in SI units."""
    s = run.streams
    sel = (s.t_s >= a) & (s.t_s <= b) & (s.speed_mps > 0)
    out: dict[str, float] = {}
    for key, col in (
        ("cadence_spm", s.cadence_spm),
        ("stride_length_m", s.stride_length_m),
        ("contact_time_s", s.contact_time_s),
    ):
        vals = col[sel]
        vals = vals[np.isfinite(vals)]
        if len(vals):
            out[key] = float(np.mean(vals))
    speeds = s.speed_mps[(s.t_s >= a) & (s.t_s <= b)]
    speeds = speeds[np.isfinite(speeds)]
    if len(speeds):
        out["max_speed_mps"] = float(np.max(speeds))
    return out


def _set_summary(msg: Any, stats: dict[str, float], distance_m: float, timer_s: float) -> None:
    """Average speed, cadence, step length and stance time on a lap or session message."""
    if timer_s > 0:
        msg.enhanced_avg_speed = distance_m / timer_s
    if "max_speed_mps" in stats:
        msg.enhanced_max_speed = stats["max_speed_mps"]
    if _finite(stats.get("cadence_spm", math.nan), 508.0):
        q = round(stats["cadence_spm"] / 2 * 128)
        msg.avg_running_cadence = q // 128
        msg.avg_fractional_cadence = (q % 128) / 128
    if _finite(stats.get("stride_length_m", math.nan), 13.0):
        msg.avg_step_length = stats["stride_length_m"] * 500.0
    if _finite(stats.get("contact_time_s", math.nan), 6.5):
        msg.avg_stance_time = stats["contact_time_s"] * 1000.0


def _fixes(run: Run, ms: Any) -> list[tuple[int, float, dict[str, float]]]:
    """The route's fixes as (FIT time, seconds from the start, record values), the later of a second's fixes
    only; positions in degrees (fit-tool turns them into semicircles), accuracy in whole metres (254 at most:
    255 means "invalid" in a uint8 field), altitude as enhanced_altitude (0.2 m, from -500 m)."""
    route = run.route
    assert route is not None
    top = 180.0 - _SEMICIRCLE_DEG  # +180° is one semicircle past sint32
    out: dict[int, tuple[float, dict[str, float]]] = {}
    for k in range(len(route)):
        t = float(route.t_s[k])
        fix = {
            "position_lat": min(float(route.lat_deg[k]), top),
            "position_long": min(float(route.lon_deg[k]), top),
        }
        if route.accuracy_m is not None:
            fix["gps_accuracy"] = min(round(float(route.accuracy_m[k])), 254)
        if route.altitude_m is not None and -500.0 <= route.altitude_m[k] <= 8e8:
            fix["enhanced_altitude"] = float(route.altitude_m[k])
        out[ms(t)] = (t, fix)
    return [(stamp, t, fix) for stamp, (t, fix) in out.items()]


def write_fit(run: Run) -> bytes:
    """The run as a FIT activity file (see the module docstring for what goes where)."""
    start_s = math.floor(run.start_time.timestamp())
    frac_s = run.start_time.timestamp() - start_s

    def ms(t_s: float) -> int:
        """Whole-second FIT time (as fit-tool's Unix milliseconds) of a time in seconds from the start."""
        return 1000 * round(start_s + frac_s + t_s)

    end_ms = ms(run.elapsed_time_s)
    builder = FitFileBuilder(auto_define=True, min_string_size=32)

    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value
    file_id.product = 0
    file_id.serial_number = int(run.fingerprint()[3:11], 16) or 1
    file_id.time_created = ms(0.0)
    builder.add(file_id)

    creator = DeviceInfoMessage()
    creator.timestamp = ms(0.0)
    creator.device_index = 0
    creator.manufacturer = Manufacturer.DEVELOPMENT.value
    creator.product = 0
    creator.product_name = "Soleware"
    creator.source_type = SourceType.LOCAL
    builder.add(creator)
    for k, serial in enumerate(run.shoe_serials, start=1):
        shoe = DeviceInfoMessage()
        shoe.timestamp = ms(0.0)
        shoe.device_index = k
        shoe.manufacturer = Manufacturer.DEVELOPMENT.value
        shoe.product = 1
        shoe.product_name = SHOE_PRODUCT_NAME
        shoe.descriptor = serial
        shoe.source_type = SourceType.BLUETOOTH_LOW_ENERGY
        builder.add(shoe)

    pauses = [(a, b) for a, b in run.pauses if b > a]
    timeline: list[tuple[float, int, Any]] = []

    def timer_event(t_s: float, kind: EventType) -> None:
        e = EventMessage()
        e.timestamp = ms(t_s)
        e.event = Event.TIMER
        e.event_type = kind
        e.data = 0
        # starts sort before records of the same second, stops after
        timeline.append((t_s, 0 if kind is EventType.START else 2, e))

    first_start = pauses[0][1] if pauses and pauses[0][0] <= 0.5 else 0.0
    timer_event(first_start, EventType.START)
    for a, b in pauses:
        if b == first_start:
            continue
        timer_event(a, EventType.STOP_ALL)
        timer_event(b, EventType.START)
    timer_event(run.elapsed_time_s, EventType.STOP_ALL)

    s = run.streams
    records: dict[int, tuple[float, dict[str, float]]] = {}  # one record per second: the later sample wins
    for i in range(len(s)):
        t = float(s.t_s[i])
        if _in_pause(t, pauses):
            continue
        values: dict[str, float] = {"distance": float(s.distance_m[i])}
        v = float(s.speed_mps[i])
        if _finite(v, 4_000_000.0):
            values["enhanced_speed"] = v
        c = float(s.cadence_spm[i])
        if _finite(c, 508.0):
            q = round(c / 2 * 128)
            values["cadence"] = q // 128
            values["fractional_cadence"] = (q % 128) / 128
        step = float(s.stride_length_m[i]) * 500.0
        if _finite(step, 6553.4):
            values["step_length"] = step
        stance = float(s.contact_time_s[i]) * 1000.0
        if _finite(stance, 6553.4):
            values["stance_time"] = stance
        records[ms(t)] = (t, values)
    if run.route is not None:
        for stamp, t, fix in _fixes(run, ms):
            if stamp in records:
                t_stream, values = records[stamp]
                records[stamp] = (t_stream, values | fix)
            else:
                records[stamp] = (t, fix)
    record_ids: dict[tuple[bool, ...], int] = {}
    for stamp, (t, values) in records.items():
        shape = tuple(k in values for k in _STREAM_FIELDS + _FIX_FIELDS)
        local_id = record_ids.setdefault(shape, 1 + len(record_ids) % 15)
        rec = _new_record(local_id)
        rec.timestamp = stamp
        for key, value in values.items():
            setattr(rec, key, value)
        timeline.append((t, 1, rec))

    timeline.sort(key=lambda x: (x[0], x[1]))
    for _, _, msg in timeline:
        builder.add(msg)

    laps = [
        (lap.t_start_s, lap.t_end_s, LapTrigger.MANUAL) for lap in sorted(run.laps, key=lambda x: x.t_start_s)
    ]
    if not laps:
        laps = [(0.0, run.elapsed_time_s, LapTrigger.SESSION_END)]
    totals = lap_totals(run, [(a, b) for a, b, _ in laps])
    for k, ((a, b, trigger), (dist, timer_s)) in enumerate(zip(laps, totals, strict=True)):
        lap = LapMessage()
        lap.message_index = k
        lap.timestamp = ms(b)
        lap.start_time = ms(a)
        lap.event = Event.LAP
        lap.event_type = EventType.STOP
        lap.total_elapsed_time = b - a
        lap.total_timer_time = timer_s
        lap.total_distance = dist
        lap.lap_trigger = trigger
        lap.intensity = Intensity.ACTIVE
        lap.sport = Sport.RUNNING
        lap.sub_sport = SubSport.GENERIC
        _set_summary(lap, _stream_stats(run, a, b), dist, timer_s)
        builder.add(lap)

    session = SessionMessage()
    session.message_index = 0
    session.timestamp = end_ms
    session.start_time = ms(0.0)
    session.event = Event.SESSION
    session.event_type = EventType.STOP
    session.trigger = SessionTrigger.ACTIVITY_END
    session.sport = Sport.RUNNING
    session.sub_sport = SubSport.GENERIC
    session.total_elapsed_time = run.elapsed_time_s
    session.total_timer_time = run.moving_time_s
    session.total_distance = run.distance_m
    session.first_lap_index = 0
    session.num_laps = len(laps)
    _set_summary(session, _stream_stats(run, 0.0, run.elapsed_time_s), run.distance_m, run.moving_time_s)
    builder.add(session)

    activity = ActivityMessage()
    activity.timestamp = end_ms
    activity.total_timer_time = run.moving_time_s
    activity.num_sessions = 1
    activity.type = Activity.MANUAL
    activity.event = Event.ACTIVITY
    activity.event_type = EventType.STOP
    end = dt.datetime.fromtimestamp(end_ms / 1000, dt.UTC)
    offset = end.astimezone(run.local_start.tzinfo).utcoffset() or dt.timedelta(0)
    activity.local_timestamp = end_ms // 1000 - _FIT_EPOCH_S + int(offset.total_seconds())
    builder.add(activity)
    return builder.build().to_bytes()


# ---------------------------------------------------------------------------------------------- reading
def _check_container(data: bytes, name: str) -> str | None:
    """Reject what is not a FIT file, or is a corrupt one, saying why; return how the last file is cut short
    (None: it is whole).

    The header CRC is checked only when it is set: the FIT protocol lets writers leave it 0x0000, as older
    Garmin watches (the Forerunner 110) do. The file CRC over header and data is checked for each of the FIT
    files chained one after another in the data. The last one may stop before its end (a watch whose battery
    died while it wrote the file, a copy broken off): what it holds is read as far as it goes, unchecked.
    """
    kind = sniff(data)
    if kind == "empty":
        raise FormatError(name, "file is empty", code="empty")
    if len(data) < 12:
        problem = f"not a FIT file: {len(data)} bytes is shorter than a FIT header"
        if data[0] in (12, 14):  # a FIT header's size, then nothing: cut in its header
            raise FormatError(name, problem, code="truncated")
        raise FormatError(name, problem, code="unknown_format", looks_like=kind)
    if kind != "fit":
        raise FormatError(
            name,
            f"not a FIT file (no '.FIT' signature; the data looks like {kind})",
            code="unknown_format",
            looks_like=kind,
        )
    start = 0
    while start < len(data):
        part = "" if start == 0 else f"chained FIT file at byte {start}: "
        header = data[start : start + 14]
        if len(header) < 12 or header[8:12] != b".FIT":
            raise FormatError(
                name,
                f"FIT file is corrupt: the {len(data) - start} bytes after byte {start} are no FIT file",
                code="corrupt",
            )
        header_size = header[0]
        data_size = int.from_bytes(header[4:8], "little")
        if header_size not in (12, 14):
            raise FormatError(
                name, f"not a FIT file: {part}header size {header_size} is neither 12 nor 14", code="damaged"
            )
        end = start + header_size + data_size
        cut = None
        if len(data) < end + 2:
            cut = f"{part}header announces {end + 2 - start} bytes, file has {len(data) - start}"
        if header_size == 14:
            header_crc = int.from_bytes(header[12:14], "little")
            if header_crc != 0 and header_crc != fitdecode.utils.compute_crc(
                data, start=start, end=start + 12
            ):
                raise FormatError(name, f"FIT file is corrupt: {part}header CRC check failed", code="corrupt")
        if cut is not None:
            return cut
        if int.from_bytes(data[end : end + 2], "little") != fitdecode.utils.compute_crc(
            data, start=start, end=end
        ):
            raise FormatError(name, f"FIT file is corrupt: {part}CRC check failed", code="corrupt")
        start = end + 2
    return None


def _decode(data: bytes, name: str) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Every data message of the file by kind ("record_mesgs", ...), as {field name: value} without the fields
    the file leaves invalid, and how the file is cut short (None: whole; its messages up to the last whole one).
    Decoded with fitdecode, which reads every record header the protocol has, compressed timestamp headers
    included (older Garmin watches write records with them)."""
    cut = _check_container(data, name)
    messages: dict[str, list[dict[str, Any]]] = {}
    try:
        with fitdecode.FitReader(
            io.BytesIO(data),
            check_crc=fitdecode.CrcCheck.DISABLED,  # every CRC was checked above
            error_handling=fitdecode.ErrorHandling.IGNORE,
        ) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                values = {f.name: f.value for f in frame.fields if f.value is not None and f.name}
                if frame.name == "file_id" and "file_id_mesgs" not in messages:
                    _check_file_type(values.get("type"), name)
                messages.setdefault(f"{frame.name}_mesgs", []).append(values)
    except FormatError:
        raise
    except Exception as exc:  # fitdecode trips in many ways over data that passed the CRC but is not FIT
        if cut is None or not isinstance(exc, fitdecode.FitError):
            raise FormatError(
                name, f"FIT file could not be decoded ({type(exc).__name__}: {exc})", code="damaged"
            ) from exc
        # a file cut short stops in the middle of a message: those before it are whole
    return messages, cut


def _check_file_type(kind: Any, name: str) -> None:
    """Refuse, as soon as its file_id is read, an intact FIT file that holds something else than an activity."""
    if kind in ("activity", None):
        return
    what = str(kind).replace("_", " ") if isinstance(kind, str) else f"FIT file type {kind}"
    raise FormatError(
        name, f"not an activity: this FIT file holds {what} data", code="not_an_activity", holds=what
    )


def _f(msg: dict[str, Any], *keys: str) -> float:
    for key in keys:
        value = msg.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return math.nan


def _is_run(session: dict[str, Any]) -> bool:
    """Whether a session's sport is one of those read as a run (an unknown sport is)."""
    sport, sub_sport = session.get("sport"), session.get("sub_sport")
    if isinstance(sport, str) and sport not in RUN_SPORTS:
        return False
    return not (
        sport in _EQUIPMENT_SPORTS and isinstance(sub_sport, str) and sub_sport not in _RUN_SUB_SPORTS
    )


def _run_sessions(sessions: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The sessions that are the run: all of them, or of a multisport activity (a triathlon: swim, transition,
    bike, transition, run) its legs on foot, named so (running, walking, hiking, a treadmill) and timed. An
    activity with none is refused, naming its sport(s)."""
    if all(_is_run(s) for s in sessions):
        return sessions
    on_foot = [
        s
        for s in sessions
        if _is_run(s)
        and (s.get("sport") in _FOOT_SPORTS or s.get("sport") in _EQUIPMENT_SPORTS)
        and isinstance(s.get("start_time"), dt.datetime)
    ]
    if on_foot:
        return on_foot
    other = [s for s in sessions if not _is_run(s)]
    if len(sessions) > 1:
        sports = ", ".join(dict.fromkeys(str(s.get("sport")) for s in sessions))
        raise FormatError(
            name, f"multisport activity ({sports}) has no leg on foot", code="not_a_run", sport=sports
        )
    sport, sub_sport = other[0].get("sport"), other[0].get("sub_sport")
    if sport in _EQUIPMENT_SPORTS:
        raise FormatError(
            name,
            f"activity is {sport!r} ({sub_sport!r}), not a run",
            code="not_a_run",
            sport=str(sub_sport),
        )
    raise FormatError(name, f"activity sport is {sport!r}, not a run", code="not_a_run", sport=str(sport))


def _session_ends(s: dict[str, Any]) -> list[dt.datetime]:
    """When a session's recording ended (its start plus its elapsed time) and when its message was written (at
    or after that), as far as it says."""
    out = []
    a, elapsed_s = s.get("start_time"), _f(s, "total_elapsed_time", "total_timer_time")
    if isinstance(a, dt.datetime) and np.isfinite(elapsed_s):
        out.append(a + dt.timedelta(seconds=elapsed_s))
    if isinstance(s.get("timestamp"), dt.datetime):
        out.append(s["timestamp"])
    return out


def _records_in_order(records: list[dict[str, Any]], sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of a file cut short (nothing checks its bytes), the records up to the first that goes back in time or
    past the end of every session (a summary written first), or lasts longer than an activity does: what
    follows is no longer the run."""
    ends = [e for s in sessions for e in _session_ends(s)]
    latest = max(ends) + dt.timedelta(seconds=1) if ends else None
    for k, r in enumerate(records):
        t = r["timestamp"]
        if k and (
            t < records[k - 1]["timestamp"]
            or (latest is not None and t > latest)
            or (t - records[0]["timestamp"]).total_seconds() > MAX_ELAPSED_S
        ):
            return records[:k]
    return records


def _summary_reached(sessions: list[dict[str, Any]], last: dt.datetime) -> bool:
    """Whether the records, up to ``last``, reach the end of every session: a summary to count the run by."""
    ends = [_session_ends(s) for s in sessions]
    return bool(ends) and all(e and e[0] <= last + dt.timedelta(seconds=1) for e in ends)


def _legs(sessions: list[dict[str, Any]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """The (start, end) of each session, in time order: its end time, else its start plus its elapsed time."""
    legs = []
    for s in sessions:
        a, b = s["start_time"], s.get("timestamp")
        if not isinstance(b, dt.datetime):
            elapsed_s = _f(s, "total_elapsed_time", "total_timer_time")
            b = a + dt.timedelta(seconds=elapsed_s if np.isfinite(elapsed_s) else 0.0)
        legs.append((a, max(a, b)))
    return sorted(legs)


def _leg_records(
    records: list[dict[str, Any]], legs: list[tuple[dt.datetime, dt.datetime]]
) -> list[dict[str, Any]]:
    """The records in the legs, each leg's distance going on from where the leg before it ended (watches count
    each leg from 0, or the whole activity on)."""
    out: list[dict[str, Any]] = []
    offset_m = 0.0
    for a, b in legs:
        leg = [r for r in records if a <= r["timestamp"] <= b]
        distances = [_f(r, "distance") for r in leg]
        known = [d for d in distances if np.isfinite(d)]
        for r, d in zip(leg, distances, strict=True):
            out.append({**r, "distance": d - known[0] + offset_m} if np.isfinite(d) else r)
        if known:
            offset_m += known[-1] - known[0]
    return out


def _timer_pauses(
    events: list[dict[str, Any]],
    start: dt.datetime | None,
    legs: list[tuple[dt.datetime, dt.datetime]] | None = None,
) -> list[tuple[dt.datetime, dt.datetime]] | None:
    """Pauses from timer events: each stop to the next start (and the session start to the first start); of a
    multisport activity's legs on foot, the time between them (the other legs) too."""
    between = [] if legs is None else [(b, c) for (_, b), (c, _) in itertools.pairwise(legs) if c > b]
    timer = [e for e in events if e.get("event") == "timer" and isinstance(e.get("timestamp"), dt.datetime)]
    if legs is not None:
        timer = [e for e in timer if any(a <= e["timestamp"] <= b for a, b in legs)]
    if not timer:
        return between or None
    pauses: list[tuple[dt.datetime, dt.datetime]] = []
    stopped_at: dt.datetime | None = start
    running = False
    for e in sorted(timer, key=lambda x: x["timestamp"]):
        kind = str(e.get("event_type", ""))
        if kind == "start" and not running:
            if stopped_at is not None and e["timestamp"] > stopped_at:
                pauses.append((stopped_at, e["timestamp"]))
            running = True
        elif kind.startswith("stop") and running:
            stopped_at = e["timestamp"]
            running = False
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in sorted(pauses + between):
        if merged and a < merged[-1][1]:  # overlapping (a timer stop at a leg's end); touching ones stay two
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def read_fit(
    data: bytes,
    *,
    name: str = "<bytes>",
    time_zone: str | None = None,
    notes: list[FormatNote] | None = None,
) -> Run:
    """A Run from a FIT activity file; FormatError names the file and the problem when it is not one.

    ``time_zone`` defaults to a fixed-offset zone from the activity's local_timestamp (else UTC). A file cut
    short (see :func:`_check_container`) gives the run up to its last whole record, its distance and times from
    the records (a summary written first counts what the file no longer holds), and a note in ``notes``
    (code ``cut_short``); one cut before its second timed record is refused (``truncated``).
    """
    msgs, cut = _decode(data, name)
    sports = msgs.get("sport_mesgs", [])
    if not msgs.get("session_mesgs") and sports and not any(_is_run(s) for s in sports):
        # no summary (a file cut short before it): the sport message, which watches write first, says what it was
        _run_sessions(sports[:1], name)
    sessions = _run_sessions(msgs.get("session_mesgs", []), name)
    legs = _legs(sessions) if len(sessions) < len(msgs.get("session_mesgs", [])) else None
    records = [r for r in msgs.get("record_mesgs", []) if isinstance(r.get("timestamp"), dt.datetime)]
    if cut is not None:
        records = _records_in_order(records, sessions)
    if legs is not None:
        records = _leg_records(records, legs)
    if not records and any(isinstance(r.get("timestamp"), int) for r in msgs.get("record_mesgs", [])):
        # FIT date_time values below 0x10000000 count seconds from the device's power-up, not from the epoch
        raise FormatError(
            name,
            "FIT records have no date: their times count from the device's power-up "
            "(the watch's clock was not set)",
            code="no_date",
        )
    if len(records) < 2 and cut is not None:
        raise FormatError(name, f"FIT file is truncated: {cut}", code="truncated")
    if not records:
        raise FormatError(name, "FIT activity has no timed records", code="no_times")

    def col(fn: Any) -> np.ndarray:
        return np.array([fn(r) for r in records], dtype=np.float64)

    strides_per_min = col(
        lambda r: _f(r, "cadence") + (_f(r, "fractional_cadence") if "fractional_cadence" in r else 0.0)
    )
    session_starts = [s["start_time"] for s in sessions if isinstance(s.get("start_time"), dt.datetime)]
    start = min(session_starts) if session_starts else None

    # cut after its records and summary (only its checksum, or a chained file after it): nothing of the run lost
    lost = cut is not None and not _summary_reached(sessions, records[-1]["timestamp"])

    def total(key: str) -> float | None:
        vals = [_f(s, key) for s in sessions]
        return float(sum(vals)) if vals and all(np.isfinite(vals)) else None

    samples = Samples(
        time=[r["timestamp"] for r in records],
        distance_m=col(lambda r: _f(r, "distance")),
        lat_deg=col(lambda r: _f(r, "position_lat") * _SEMICIRCLE_DEG),
        lon_deg=col(lambda r: _f(r, "position_long") * _SEMICIRCLE_DEG),
        accuracy_m=col(lambda r: _f(r, "gps_accuracy")),
        altitude_m=col(lambda r: _f(r, "enhanced_altitude", "altitude")),
        speed_mps=col(lambda r: _f(r, "enhanced_speed", "speed")),
        cadence_spm=2.0 * strides_per_min,
        stride_length_m=col(lambda r: _f(r, "step_length")) * 2.0 / 1000.0,
        contact_time_s=col(lambda r: _f(r, "stance_time")) / 1000.0,
        start_time=start,
        pauses=_timer_pauses(msgs.get("event_mesgs", []), start, legs),
        laps=[
            (lap["start_time"], _f(lap, "total_elapsed_time"), "")
            for lap in msgs.get("lap_mesgs", [])
            if isinstance(lap.get("start_time"), dt.datetime)
            and np.isfinite(_f(lap, "total_elapsed_time"))
            and (legs is None or any(a <= lap["start_time"] < b for a, b in legs))
        ],
        total_distance_m=total("total_distance"),
        total_elapsed_s=total("total_elapsed_time"),
        total_timer_s=total("total_timer_time"),
    )
    if time_zone is None:
        time_zone = "UTC"
        for act in msgs.get("activity_mesgs", []):
            local, stamp = act.get("local_timestamp"), act.get("timestamp")
            if isinstance(local, dt.datetime):  # fitdecode gives the local clock reading as a UTC datetime
                local = round(local.timestamp()) - _FIT_EPOCH_S
            if isinstance(local, int) and isinstance(stamp, dt.datetime):
                time_zone = zone_from_offset(local + _FIT_EPOCH_S - stamp.timestamp())
    serials = sorted(
        {
            str(d["descriptor"])
            for d in msgs.get("device_info_mesgs", [])
            if d.get("product_name") == SHOE_PRODUCT_NAME and d.get("descriptor")
        }
    )
    return build_run(
        samples,
        name=name,
        source=Source.FIT.value,
        time_zone=time_zone,
        shoe_serials=serials,
        cut=cut if lost else None,
        notes=notes,
    )
