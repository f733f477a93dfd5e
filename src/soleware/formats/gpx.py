"""GPX tracks read into runs with gpxpy (after the hardened XML checks of _safety).

GPX has positions and times but no distance: the distance stream is the cumulative great-circle distance
between consecutive points, never bridging two track segments (apps start a new segment after a pause).
Gaps between segments of at least 3 s are pauses; a file with a single segment has its pauses detected from
the distance stream. Garmin's TrackPointExtension ``cad`` (strides per minute) gives the cadence.
"""

from __future__ import annotations

import datetime as dt
import math

import gpxpy
import gpxpy.gpx
import numpy as np
from lxml import etree

from soleware.formats._build import Samples, build_run
from soleware.formats._safety import FormatError, parse_xml, sniff
from soleware.runs.model import Run, Source

__all__ = ["read_gpx"]

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


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None or t.utcoffset() is None else t.astimezone(dt.UTC)


def read_gpx(data: bytes, *, name: str = "<bytes>", time_zone: str | None = None) -> Run:
    """A Run from the tracks of a GPX file; FormatError names the file and the problem."""
    kind = sniff(data)
    if kind == "empty":
        raise FormatError(name, "file is empty")
    if kind not in ("gpx", "xml"):
        raise FormatError(name, f"not a GPX file (the data looks like {kind})")
    root = parse_xml(data, name=name)  # refuses DTDs and entities before gpxpy's own parser sees the data
    if etree.QName(root).localname != "gpx":
        raise FormatError(name, f"not a GPX document (root element is {etree.QName(root).localname!r})")
    try:
        gpx = gpxpy.parse(etree.tostring(root, encoding="unicode"))
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        raise FormatError(name, f"invalid GPX ({exc})") from exc

    times: list[dt.datetime] = []
    lat: list[float] = []
    lon: list[float] = []
    cadence: list[float] = []
    segment: list[int] = []
    seg_no = 0
    for track in gpx.tracks:
        kind_of = (track.type or "").strip().lower()
        if kind_of == "1" or any(word in kind_of for word in _NOT_RUNS):
            raise FormatError(name, f"track type is {track.type!r}, not a run")
        for seg in track.segments:
            for p in seg.points:
                if p.time is None:
                    continue
                times.append(_utc(p.time))
                lat.append(p.latitude)
                lon.append(p.longitude)
                cadence.append(_cadence_spm(p))
                segment.append(seg_no)
            seg_no += 1
    if not times:
        raise FormatError(name, "GPX file has no track points with a time")

    stamps = np.array([t.timestamp() for t in times])
    seg = np.array(segment)
    ends = np.nonzero(np.diff(seg) != 0)[0]
    pauses = [(times[i], times[i + 1]) for i in ends if stamps[i + 1] - stamps[i] >= 3.0]
    title = next((t.name for t in gpx.tracks if t.name), None) or gpx.name or ""
    samples = Samples(
        time=times,
        lat_deg=np.array(lat),
        lon_deg=np.array(lon),
        cadence_spm=np.array(cadence),
        segment=seg.astype(np.float64),
        pauses=pauses or None,
    )
    return build_run(
        samples, name=name, source=Source.GPX.value, time_zone=time_zone or "UTC", title=title.strip()
    )
