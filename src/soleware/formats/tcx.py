"""TCX (Garmin Training Center Database v2) activities, written and read with lxml.

A written file has one Activity Sport="Running" whose Laps partition the run: the run's laps (their names in
the Lap's Notes) and, where no lap covers a stretch, filler laps marked ``<sw:Filler/>`` in the Lap's
Extensions so that reading drops them again (a run without laps is one lap). Every Lap has TotalTimeSeconds
(timer time, pauses excluded) and DistanceMeters that add up to the run's stored moving time and distance
(see _totals), Calories (0: unknown), Intensity and TriggerMethod. A new Track
starts after each pause, and samples inside a pause are left out, which is how Garmin marks pauses in TCX.
Trackpoints carry Time (ms), DistanceMeters and, in Garmin's ActivityExtension v2 TPX element, Speed (m/s) and
RunCadence (strides per minute, a whole number: half the steps per minute). The phone's route goes in the
same Trackpoints (a fix in the millisecond of a stream sample joins it, else it is a Trackpoint of its own with
no DistanceMeters, which reading takes as a fix only): Position in degrees to 1e-7, AltitudeMeters to 0.1 m and
the fix's accuracy as ``<sw:AccuracyMeters>`` (0.1 m) in the Trackpoint's Extensions; fixes inside a pause stay
in the Track before it, so Tracks still start only after pauses. Shoe serials, the run's time
zone and its elapsed time go in Soleware elements in the Activity's Extensions; the title in its Notes. Stride length and contact
time have no TCX field and are not written.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from lxml import etree

from soleware.formats._build import Samples, build_run
from soleware.formats._safety import FormatError, FormatNote, drop_last, parse_xml, sniff, truncated
from soleware.formats._totals import lap_totals
from soleware.runs.model import Run, Source

__all__ = ["NS_SOLEWARE", "NS_TCX", "NS_TPX", "read_tcx", "write_tcx"]

NS_TCX = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
NS_TPX = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
NS_SOLEWARE = "urn:soleware:tcx:v1"
_NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = (
    f"{NS_TCX} http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd "
    f"{NS_TPX} http://www.garmin.com/xmlschemas/ActivityExtensionv2.xsd"
)
_T = f"{{{NS_TCX}}}"
_X = f"{{{NS_TPX}}}"
_S = f"{{{NS_SOLEWARE}}}"


def _iso(t: dt.datetime) -> str:
    """UTC time rounded to the millisecond, e.g. 2026-11-01T06:30:00.250Z."""
    ms = dt.datetime.fromtimestamp(round(t.timestamp() * 1000) / 1000, dt.UTC)
    return ms.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _num(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _segments(run: Run) -> list[tuple[float, float, str | None]]:
    """(start, end, name) partitioning [0, elapsed]: the run's laps and, as name None, filler laps."""
    end = run.elapsed_time_s
    out: list[tuple[float, float, str | None]] = []
    t = 0.0
    for lap in sorted(run.laps, key=lambda x: x.t_start_s):
        a, b = max(lap.t_start_s, t), min(lap.t_end_s, end)
        if b <= a:
            continue
        if a - t > 1e-3:
            out.append((t, a, None))
        out.append((a, b, lap.name))
        t = b
    if end - t > 1e-3 or not out:
        out.append((t, end, None if out else ""))
    return out


def _fixes_in(run: Run, a: float, b: float, *, first: bool, last: bool) -> np.ndarray:
    """Indices of the route's fixes in the lap [a, b) (the first lap from the run's start, the last one to the
    end of the route, past the run's end)."""
    if run.route is None:
        return np.zeros(0, dtype=np.int64)
    t = run.route.t_s
    return np.nonzero(((t >= a) | first) & ((t < b) | last))[0]


def _points(run: Run, samples: np.ndarray, fixes: np.ndarray) -> list[tuple[int, int | None, int | None]]:
    """Trackpoints in time order as (Unix ms, stream sample, route fix): a fix in the millisecond of a stream
    sample joins it; of a millisecond's fixes the later one stays."""
    t0 = run.start_time.timestamp()  # the millisecond of the written (absolute) time
    by_ms: dict[int, list[int | None]] = {}
    for i in samples:
        by_ms.setdefault(round((t0 + float(run.streams.t_s[i])) * 1000), [None, None])[0] = int(i)
    if run.route is not None:
        for f in fixes:
            by_ms.setdefault(round((t0 + float(run.route.t_s[f])) * 1000), [None, None])[1] = int(f)
    return [(t, i, f) for t, (i, f) in sorted(by_ms.items())]


def write_tcx(run: Run) -> bytes:
    """The run as a TCX document (UTF-8 bytes), valid against TrainingCenterDatabasev2.xsd."""
    root = etree.Element(
        f"{_T}TrainingCenterDatabase", nsmap={None: NS_TCX, "ns3": NS_TPX, "sw": NS_SOLEWARE, "xsi": _NS_XSI}
    )
    root.set(f"{{{_NS_XSI}}}schemaLocation", _SCHEMA_LOCATION)
    activity = _sub(_sub(root, f"{_T}Activities"), f"{_T}Activity")
    activity.set("Sport", "Running")
    _sub(activity, f"{_T}Id", _iso(run.start_time))

    s = run.streams
    pauses = [(a, b) for a, b in run.pauses if b > a]
    segments = _segments(run)
    totals = lap_totals(run, [(a, b) for a, b, _ in segments])
    for k, ((a, b, name), (dist, timer_s)) in enumerate(zip(segments, totals, strict=True)):
        last = k == len(segments) - 1
        inside = (s.t_s >= a) & ((s.t_s <= b) if last else (s.t_s < b))
        for pa, pb in pauses:
            inside &= ~((s.t_s > pa) & (s.t_s < pb))
        speeds = s.speed_mps[inside]
        speeds = speeds[np.isfinite(speeds)]

        lap = _sub(activity, f"{_T}Lap")
        lap.set("StartTime", _iso(run.start_time + dt.timedelta(seconds=a)))
        _sub(lap, f"{_T}TotalTimeSeconds", _num(timer_s))
        _sub(lap, f"{_T}DistanceMeters", _num(dist))
        if len(speeds):
            _sub(lap, f"{_T}MaximumSpeed", _num(float(np.max(speeds))))
        _sub(lap, f"{_T}Calories", "0")
        _sub(lap, f"{_T}Intensity", "Active")
        _sub(lap, f"{_T}TriggerMethod", "Manual")
        track = None
        prev_t: float | None = None
        fixes = _fixes_in(run, a, b, first=k == 0, last=last)
        for t_ms, i, f in _points(run, np.nonzero(inside)[0], fixes):
            if track is None or (
                i is not None
                and prev_t is not None
                and any(prev_t <= pa and float(s.t_s[i]) >= pb for pa, pb in pauses)
            ):
                track = _sub(lap, f"{_T}Track")
            if i is not None:
                prev_t = float(s.t_s[i])
            point = _sub(track, f"{_T}Trackpoint")
            route = run.route
            _sub(point, f"{_T}Time", _iso(dt.datetime.fromtimestamp(t_ms / 1000, dt.UTC)))
            if f is not None and route is not None:
                position = _sub(point, f"{_T}Position")
                _sub(position, f"{_T}LatitudeDegrees", f"{route.lat_deg[f]:.7f}")
                _sub(position, f"{_T}LongitudeDegrees", f"{route.lon_deg[f]:.7f}")
                if route.altitude_m is not None:
                    _sub(point, f"{_T}AltitudeMeters", _num(float(route.altitude_m[f]), 1))
            if i is not None:
                _sub(point, f"{_T}DistanceMeters", _num(float(s.distance_m[i])))
            v = float(s.speed_mps[i]) if i is not None else math.nan
            c = float(s.cadence_spm[i]) if i is not None else math.nan
            accuracy = route.accuracy_m if f is not None and route is not None else None
            if np.isfinite(v) or (np.isfinite(c) and 0 <= c / 2 <= 254) or accuracy is not None:
                ext = _sub(point, f"{_T}Extensions")
                if np.isfinite(v) or (np.isfinite(c) and 0 <= c / 2 <= 254):
                    tpx = _sub(ext, f"{_X}TPX")
                    if np.isfinite(v):
                        _sub(tpx, f"{_X}Speed", _num(v))
                    if np.isfinite(c) and 0 <= c / 2 <= 254:
                        _sub(tpx, f"{_X}RunCadence", str(round(c / 2)))
                if accuracy is not None:
                    _sub(ext, f"{_S}AccuracyMeters", _num(float(accuracy[f]), 1))
        if name:
            _sub(lap, f"{_T}Notes", name)
        ext = _sub(lap, f"{_T}Extensions")
        lx = _sub(ext, f"{_X}LX")
        _sub(lx, f"{_X}AvgSpeed", _num(dist / timer_s if timer_s > 0 else 0.0))
        if name is None:
            _sub(ext, f"{_S}Filler")

    if run.title:
        _sub(activity, f"{_T}Notes", run.title)
    ext = _sub(activity, f"{_T}Extensions")
    info = _sub(ext, f"{_S}Run")
    _sub(info, f"{_S}TimeZone", run.time_zone)
    _sub(info, f"{_S}ElapsedSeconds", _num(run.elapsed_time_s))
    for serial in run.shoe_serials:
        _sub(info, f"{_S}Shoe", serial)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# ---------------------------------------------------------------------------------------------- reading
def _parse_time(text: str | None, name: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise FormatError(name, f"bad TCX time {text!r}", code="damaged") from None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _float(el: etree._Element | None) -> float:
    if el is None or el.text is None:
        return math.nan
    try:
        return float(el.text)
    except ValueError:
        return math.nan


def _zone_or_none(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def read_tcx(
    data: bytes,
    *,
    name: str = "<bytes>",
    time_zone: str | None = None,
    notes: list[FormatNote] | None = None,
) -> Run:
    """A Run from the first Activity of a TCX document; FormatError names the file and the problem.

    Pauses are where a new Track starts within a lap, or at a lap after a gap clearly longer than the sampling
    interval; a file that marks none has its pauses detected from the distance stream. GPS distance (when the
    trackpoints have no DistanceMeters) never bridges a pause.
    """
    kind = sniff(data)
    if kind == "empty":
        raise FormatError(name, "file is empty", code="empty")
    if kind not in ("tcx", "xml"):
        raise FormatError(
            name, f"not a TCX file (the data looks like {kind})", code="unknown_format", looks_like=kind
        )
    root, cut = parse_xml(data, name=name)
    if cut is not None:
        drop_last(root, f"{_T}Trackpoint")
    activity = root.find(f"{_T}Activities/{_T}Activity")
    if cut is not None and (activity is None or root.tag != f"{_T}TrainingCenterDatabase"):
        raise truncated(name, cut)
    if root.tag != f"{_T}TrainingCenterDatabase":
        raise FormatError(
            name,
            f"not a TCX v2 document (root element is {etree.QName(root).localname!r})",
            code="unknown_format",
            looks_like="xml",
        )
    if activity is None:
        raise FormatError(name, "TCX document has no Activity", code="too_few")
    sport = activity.get("Sport", "")
    if sport == "Biking":
        raise FormatError(name, "activity sport is 'Biking', not a run", code="not_a_run", sport="Biking")

    times: list[dt.datetime] = []
    cols: dict[str, list[float]] = {k: [] for k in ("d", "lat", "lon", "v", "c", "alt", "acc")}
    track_starts: list[tuple[int, bool]] = []  # index of each Track's first point, whether it starts a lap
    all_laps: list[tuple[dt.datetime, str, bool]] = []
    timer_total = 0.0
    distance_total = 0.0
    for lap in activity.iterfind(f"{_T}Lap"):
        if cut is not None and lap.get("StartTime") is None:
            continue  # the cut lies in its start tag
        all_laps.append(
            (
                _parse_time(lap.get("StartTime"), name),
                (lap.findtext(f"{_T}Notes") or "").strip(),
                lap.find(f"{_T}Extensions/{_S}Filler") is not None,
            )
        )
        timer_total += np.nan_to_num(_float(lap.find(f"{_T}TotalTimeSeconds")))
        distance_total += np.nan_to_num(_float(lap.find(f"{_T}DistanceMeters")))
        for k, track in enumerate(lap.iterfind(f"{_T}Track")):
            track_starts.append((len(times), k == 0))
            for point in track.iterfind(f"{_T}Trackpoint"):
                times.append(_parse_time(point.findtext(f"{_T}Time"), name))
                cols["d"].append(_float(point.find(f"{_T}DistanceMeters")))
                cols["lat"].append(_float(point.find(f"{_T}Position/{_T}LatitudeDegrees")))
                cols["lon"].append(_float(point.find(f"{_T}Position/{_T}LongitudeDegrees")))
                cols["alt"].append(_float(point.find(f"{_T}AltitudeMeters")))
                cols["acc"].append(_float(point.find(f"{_T}Extensions/{_S}AccuracyMeters")))
                cols["v"].append(_float(point.find(f".//{_X}Speed")))
                cadence = _float(point.find(f".//{_X}RunCadence"))
                if math.isnan(cadence):
                    cadence = _float(point.find(f"{_T}Cadence"))
                cols["c"].append(2.0 * cadence)
    if not times and cut is not None:
        raise truncated(name, cut)
    if not times:
        raise FormatError(name, "TCX activity has no trackpoints", code="too_few")

    # a new Track within a lap follows a pause; a lap's first Track does when the gap is clearly longer than
    # the sampling interval (Soleware's files sample more often than every 3 s)
    info = activity.find(f"{_T}Extensions/{_S}Run")
    stamps = np.array([t.timestamp() for t in times])
    steps = np.diff(stamps)
    lap_gap_s = 3.0 if info is not None or not len(steps) else max(3.0, 2.5 * float(np.median(steps)))
    # measured between stream samples: a Track may hold fixes of the phone's route inside the pause after it
    has_data = np.isfinite(cols["d"]) | np.isfinite(cols["v"]) | np.isfinite(cols["c"])
    if not has_data.any():
        has_data[:] = True
    data_at = np.nonzero(has_data)[0]
    pauses: list[tuple[dt.datetime, dt.datetime]] = []
    for i, first_in_lap in track_starts:
        k = int(np.searchsorted(data_at, i))
        if 0 < k < len(data_at):
            before, after = data_at[k - 1], data_at[k]
            gap = (times[before], times[after])
            if stamps[after] - stamps[before] >= (lap_gap_s if first_in_lap else 1e-3) and gap not in pauses:
                pauses.append(gap)
    # a lap lasts until the next one starts; the last one until the last trackpoint (of the streams)
    laps: list[tuple[dt.datetime, float, str]] = []
    for k, (lap_start, lap_name, filler) in enumerate(all_laps):
        end = all_laps[k + 1][0] if k + 1 < len(all_laps) else max(times[i] for i in data_at)
        if not filler:
            laps.append((lap_start, (end - lap_start).total_seconds(), lap_name))

    serials: list[str] = []
    if info is not None:
        serials = [el.text.strip() for el in info.iterfind(f"{_S}Shoe") if el.text and el.text.strip()]
        if time_zone is None:
            time_zone = _zone_or_none(info.findtext(f"{_S}TimeZone"))
    samples = Samples(
        time=times,
        distance_m=np.array(cols["d"]),
        lat_deg=np.array(cols["lat"]),
        lon_deg=np.array(cols["lon"]),
        altitude_m=np.array(cols["alt"]),
        accuracy_m=np.array(cols["acc"]),
        speed_mps=np.array(cols["v"]),
        cadence_spm=np.array(cols["c"]),
        start_time=_parse_time(activity.findtext(f"{_T}Id"), name)
        if activity.find(f"{_T}Id") is not None
        else None,
        pauses=pauses if pauses or info is not None else None,  # our own files mark every pause
        laps=laps,
        total_distance_m=distance_total if distance_total > 0 else None,
        total_elapsed_s=_float(info.find(f"{_S}ElapsedSeconds")) if info is not None else None,
        total_timer_s=timer_total if timer_total > 0 else None,
    )
    return build_run(
        samples,
        name=name,
        source=Source.TCX.value,
        time_zone=time_zone or "UTC",
        title=(activity.findtext(f"{_T}Notes") or "").strip(),
        shoe_serials=serials,
        cut=cut,
        notes=notes,
    )
