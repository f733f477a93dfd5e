"""GPX: the phone's route written with lxml; tracks read into runs with gpxpy (after the hardened XML checks of
_safety).

A written file is the run's route: one ``trk`` (the title as its name, type "running") of one ``trkseg``, one
``trkpt`` per fix with lat/lon to 1e-7 degree, ``ele`` (0.1 m) and ``time`` (ms). The phone keeps fixing while
the run is paused, so there is no gap to mark a pause with: reading the file back detects pauses from the
route's speed, and its distance is that of the good fixes (see _build), not the shoes'. A fix's accuracy goes in the trkpt's extensions as
``<sw:AccuracyMeters>`` (0.1 m, namespace NS_SOLEWARE): GPX's own ``hdop`` is a dilution of precision, a ratio
that other apps would misread a radius in metres as. A run without a route has no GPX (FormatError).

GPX has positions and times but no distance: the distance stream is the cumulative great-circle distance
between consecutive points, never bridging two track segments (apps start a new segment after a pause).
Gaps between segments of at least 3 s are pauses; a file with a single segment has its pauses detected from
the distance stream. Garmin's TrackPointExtension ``cad`` (strides per minute) gives the cadence.

A few points without a time (at most ``MAX_UNTIMED_SHARE``) are placed in time along the distance between their
timed neighbours, or at a segment's start or end at the pace of the nearest minute of it, so the whole track's
distance counts; a track with more, or whose untimed end points have no pace to go by (a segment's only timed
point, a standstill), is refused rather than cut short.
"""

from __future__ import annotations

import datetime as dt
import math

import gpxpy
import gpxpy.gpx
import numpy as np
from lxml import etree

from soleware.formats._build import Samples, build_run, haversine_m
from soleware.formats._safety import FormatError, FormatNote, drop_last, parse_xml, sniff, truncated
from soleware.runs.model import Run, Source

__all__ = ["NS_GPX", "NS_SOLEWARE", "read_gpx", "write_gpx"]

NS_GPX = "http://www.topografix.com/GPX/1/1"
NS_SOLEWARE = "urn:soleware:gpx:v1"
_NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_G = f"{{{NS_GPX}}}"
_ACCURACY = f"{{{NS_SOLEWARE}}}AccuracyMeters"

#: most points of a track that may lack a time, as a share: they get a time from the timed points around them
MAX_UNTIMED_SHARE = 0.1
#: points without a time at a segment's start or end are placed at the pace of this much of the timed track (s)
_EDGE_PACE_S = 60.0
#: ... when that is at least this fast (m/s); a standstill gives no pace to place them at
_EDGE_MIN_MPS = 0.3
#: track types (GPX <type>, lower case) that are certainly not runs; "1" is Strava's code for a ride
_NOT_RUNS = ("cycl", "bik", "ride", "swim", "ski", "rowing", "kayak", "paddl")


def _cadence_spm(point: gpxpy.gpx.GPXTrackPoint) -> float:
    """Steps per minute from a point's TrackPointExtension cad (strides per minute), NaN if absent."""
    for ext in point.extensions:
        for el in ext.iter():
            if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "cad":
                try:
                    return 2.0 * float(el.text or "")
                except ValueError:
                    return math.nan
    return math.nan


def _iso(t: dt.datetime) -> str:
    """UTC time rounded to the millisecond, e.g. 2026-11-01T06:30:00.250Z."""
    ms = dt.datetime.fromtimestamp(round(t.timestamp() * 1000) / 1000, dt.UTC)
    return ms.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_gpx(run: Run) -> bytes:
    """The run's route as a GPX 1.1 document (UTF-8 bytes), valid against gpx-1.1.xsd."""
    route = run.route
    if route is None or not len(route):
        raise FormatError(
            f"run {run.id or run.fingerprint()}.gpx", "run has no route: GPX holds positions only"
        )
    root = etree.Element(f"{_G}gpx", nsmap={None: NS_GPX, "sw": NS_SOLEWARE, "xsi": _NS_XSI})
    root.set("version", "1.1")
    root.set("creator", "Soleware")
    root.set(f"{{{_NS_XSI}}}schemaLocation", f"{NS_GPX} http://www.topografix.com/GPX/1/1/gpx.xsd")
    meta = etree.SubElement(root, f"{_G}metadata")
    etree.SubElement(meta, f"{_G}time").text = _iso(run.start_time)
    trk = etree.SubElement(root, f"{_G}trk")
    if run.title:
        etree.SubElement(trk, f"{_G}name").text = run.title
    etree.SubElement(trk, f"{_G}type").text = "running"
    seg = etree.SubElement(trk, f"{_G}trkseg")
    for k in range(len(route)):
        t = float(route.t_s[k])
        lon = float(route.lon_deg[k])
        point = etree.SubElement(seg, f"{_G}trkpt")
        point.set("lat", f"{route.lat_deg[k]:.7f}")
        point.set("lon", f"{-180.0 if lon >= 180.0 else lon:.7f}")  # GPX: -180 <= lon < 180
        if route.altitude_m is not None:
            etree.SubElement(point, f"{_G}ele").text = f"{route.altitude_m[k]:.1f}"
        etree.SubElement(point, f"{_G}time").text = _iso(run.start_time + dt.timedelta(seconds=t))
        if route.accuracy_m is not None:
            ext = etree.SubElement(point, f"{_G}extensions")
            etree.SubElement(ext, _ACCURACY).text = f"{route.accuracy_m[k]:.1f}"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _accuracy_m(point: gpxpy.gpx.GPXTrackPoint) -> float:
    """A point's accuracy from Soleware's extension, NaN if absent."""
    for ext in point.extensions:
        for el in ext.iter():
            if el.tag == _ACCURACY:
                try:
                    return float(el.text or "")
                except ValueError:
                    return math.nan
    return math.nan


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None or t.utcoffset() is None else t.astimezone(dt.UTC)


def _segment_times(points: list[gpxpy.gpx.GPXTrackPoint]) -> tuple[list[dt.datetime | None], int]:
    """Each point's time (UTC), a point without one placed between the timed points around it in proportion
    to the distance along the segment, or, before the first or after the last of them, at the pace of the
    nearest ``_EDGE_PACE_S`` of the timed track (a watch that wrote its last point without a time); and how many
    points could not be placed (they stay None): those beyond a segment's only timed point or a standstill."""
    raw = [_utc(p.time) if p.time is not None else None for p in points]
    timed = [k for k, t in enumerate(raw) if t is not None]
    if len(timed) == len(points) or not timed:
        return raw, len(points) - len(timed)
    along = np.concatenate(
        (
            [0.0],
            np.cumsum(
                haversine_m(np.array([p.latitude for p in points]), np.array([p.longitude for p in points]))
            ),
        )
    )
    stamps = np.array([raw[k].timestamp() for k in timed])  # type: ignore[union-attr]
    at = along[timed]
    out = list(raw)
    for k in range(timed[0] + 1, timed[-1]):
        if out[k] is None:
            out[k] = dt.datetime.fromtimestamp(float(np.interp(along[k], at, stamps)), dt.UTC)
    unplaced = 0
    for ends, near in ((range(timed[0]), stamps <= stamps[0] + _EDGE_PACE_S),
                       (range(timed[-1] + 1, len(points)), stamps >= stamps[-1] - _EDGE_PACE_S)):  # fmt: skip
        if not ends:
            continue
        span_s, span_m = float(np.ptp(stamps[near])), float(np.ptp(at[near]))
        if span_s <= 0 or span_m / span_s < _EDGE_MIN_MPS:
            unplaced += len(ends)
            continue
        edge = timed[0] if ends[0] < timed[0] else timed[-1]
        for k in ends:
            t = raw[edge].timestamp() + (along[k] - along[edge]) * span_s / span_m  # type: ignore[union-attr]
            out[k] = dt.datetime.fromtimestamp(t, dt.UTC)
    return out, unplaced


def read_gpx(
    data: bytes,
    *,
    name: str = "<bytes>",
    time_zone: str | None = None,
    notes: list[FormatNote] | None = None,
) -> Run:
    """A Run from the tracks of a GPX file; FormatError names the file and the problem."""
    kind = sniff(data)
    if kind == "empty":
        raise FormatError(name, "file is empty", code="empty")
    if kind not in ("gpx", "xml"):
        raise FormatError(
            name, f"not a GPX file (the data looks like {kind})", code="unknown_format", looks_like=kind
        )
    # refuses DTDs and entities before gpxpy's own parser sees the data
    root, cut = parse_xml(data, name=name)
    if cut is not None:
        if etree.QName(root).localname != "gpx":
            raise truncated(name, cut)
        drop_last(root, "{*}trkpt")
    if etree.QName(root).localname != "gpx":
        raise FormatError(
            name,
            f"not a GPX document (root element is {etree.QName(root).localname!r})",
            code="unknown_format",
            looks_like="xml",
        )
    try:
        gpx = gpxpy.parse(etree.tostring(root, encoding="unicode"))
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        raise FormatError(name, f"invalid GPX ({exc})", code="damaged") from exc

    times: list[dt.datetime] = []
    lat: list[float] = []
    lon: list[float] = []
    cadence: list[float] = []
    altitude: list[float] = []
    accuracy: list[float] = []
    segment: list[int] = []
    seg_no = 0
    n_points = n_timed = n_unplaceable = 0
    for track in gpx.tracks:
        kind_of = (track.type or "").strip().lower()
        if kind_of == "1" or any(word in kind_of for word in _NOT_RUNS):
            raise FormatError(
                name, f"track type is {track.type!r}, not a run", code="not_a_run", sport=str(track.type)
            )
        for seg in track.segments:
            seg_times, unplaceable = _segment_times(seg.points)
            n_points += len(seg.points)
            n_timed += sum(p.time is not None for p in seg.points)
            n_unplaceable += unplaceable
            for p, t in zip(seg.points, seg_times, strict=True):
                if t is None:
                    continue
                times.append(t)
                lat.append(p.latitude)
                lon.append(p.longitude)
                cadence.append(_cadence_spm(p))
                altitude.append(math.nan if p.elevation is None else float(p.elevation))
                accuracy.append(_accuracy_m(p))
                segment.append(seg_no)
            seg_no += 1
    if not n_timed and cut is not None:
        raise truncated(name, cut)
    if not n_timed:
        raise FormatError(name, "GPX file has no track points with a time", code="no_times")
    if n_timed < n_points:
        untimed = n_points - n_timed
        if untimed > MAX_UNTIMED_SHARE * n_points or n_unplaceable:
            why = (
                f"{n_unplaceable} points without a time lie before the first or after the last timed point of "
                "their segment, with no pace to place them at"
                if untimed <= MAX_UNTIMED_SHARE * n_points
                else "too few to tell when the rest of the track was run"
            )
            raise FormatError(
                name,
                f"GPX track has times on only {n_timed} of {n_points} points ({why}); importing the timed "
                "points alone would drop the rest of the track's distance",
                code="partly_timed",
                timed=str(n_timed),
                points=str(n_points),
            )

    stamps = np.array([t.timestamp() for t in times])
    segment_no = np.array(segment)
    ends = np.nonzero(np.diff(segment_no) != 0)[0]
    pauses = [(times[i], times[i + 1]) for i in ends if stamps[i + 1] - stamps[i] >= 3.0]
    title = next((t.name for t in gpx.tracks if t.name), None) or gpx.name or ""
    samples = Samples(
        time=times,
        lat_deg=np.array(lat),
        lon_deg=np.array(lon),
        cadence_spm=np.array(cadence),
        altitude_m=np.array(altitude),
        accuracy_m=np.array(accuracy),
        segment=segment_no.astype(np.float64),
        pauses=pauses or None,
    )
    return build_run(
        samples,
        name=name,
        source=Source.GPX.value,
        time_zone=time_zone or "UTC",
        title=title.strip(),
        cut=cut,
        notes=notes,
    )
