"""The run domain model: strides, streams, laps, runs and the compact per-run summary everything else reads.

Plain dataclasses with SI units in the names; no database and no web framework here. Storage keeps a run as
its scalar fields, ``pack_strides()`` (columns at STRIDE_RESOLUTION, the shoe's own) and ``Streams.to_bytes()``
blobs (none for a run made of strides: ``stride_streams`` gives its streams back from them), ``Run.feet()`` and
``RunSummary.to_dict()`` / ``pack_summary()`` — the summary alone is enough for records, achievements and
progress, so those never load streams or strides. The phone's route, when a run has one, is ``Route.to_bytes()``.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import enum
import hashlib
import json
import lzma
import math
import struct
import zlib
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import zstandard
from numpy.typing import ArrayLike

from soleware.gait.vocabulary import Gait, Side, StrikeType
from soleware.runs.efforts import Effort, best_efforts

__all__ = [
    "FORM_METRICS",
    "FootSummary",
    "MOVING_SPEED_MPS",
    "SPEED_BIN_MPS",
    "SPEED_BIN_COUNT",
    "FormFit",
    "Gait",
    "Lap",
    "Run",
    "RunDataError",
    "Sensor",
    "RunSummary",
    "EARTH_RADIUS_M",
    "GOOD_FIX_ACCURACY_M",
    "MAX_ROUTE_FIXES",
    "ROUTE_MAX_STORED_ACCURACY_M",
    "ROUTE_RESOLUTION",
    "Route",
    "Side",
    "Source",
    "Streams",
    "StrikeType",
    "Stride",
    "detect_pauses",
    "haversine_m",
    "laps_within",
    "route_distance_m",
    "feet_of_columns",
    "STREAM_RESOLUTION",
    "STRIDE_CODES",
    "STRIDE_RESOLUTION",
    "pack_stride_columns",
    "pack_summary",
    "pack_strides",
    "stride_columns",
    "stride_streams",
    "unpack_stride_columns",
    "unpack_summary",
    "same_activity",
    "unpack_strides",
]

#: width of the speed histogram bins in RunSummary.speed_time_s (0-0.25, 0.25-0.5, ... m/s)
SPEED_BIN_MPS = 0.25
#: number of speed bins; the last bin also holds everything faster than its lower edge (8 m/s)
SPEED_BIN_COUNT = 33
#: slowest distance-stream speed that counts as moving, m/s
MOVING_SPEED_MPS = 0.5
#: a run starts within these (a clock read wrong, or a file's year 1 or 9999, is no run's start; the day and week
#: sums about a run must stay within the calendar)
EARLIEST_START = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_START = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
#: a run entered by hand is refused faster than this (m/s): the 100 m world record's pace is 10.4
MANUAL_MAX_SPEED_MPS = 11.0
#: nor longer than this (s), or farther than this (m)
MANUAL_MAX_DURATION_S = 7 * 24 * 3600.0
MANUAL_MAX_DISTANCE_M = 1_000_000.0


class RunDataError(ValueError):
    """Run data is inconsistent or incomplete; the message names the field and the problem."""


class Source(enum.StrEnum):
    """Where a run came from."""

    SHOE = "shoe"
    RECORDING = "recording"
    FIT = "fit"
    TCX = "tcx"
    GPX = "gpx"
    MANUAL = "manual"
    #: a third-party Running Speed and Cadence sensor (foot pod, a watch's pod mode): no strides, no per-foot form
    POD = "pod"


@dataclasses.dataclass(frozen=True, slots=True)
class Sensor:
    """The sensor a run was recorded with when it was not our shoes: its advertised name, and what its Device
    Information service told (``None`` where the sensor has none)."""

    name: str
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None

    @property
    def label(self) -> str:
        """One line for people: name, then manufacturer and model where they add something, then the serial."""
        parts = [self.name]
        parts += [x for x in (self.manufacturer, self.model) if x and x not in self.name]
        if self.serial:
            parts.append(f"#{self.serial}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sensor:
        return cls(
            name=str(d["name"]),
            manufacturer=d.get("manufacturer"),
            model=d.get("model"),
            serial=d.get("serial"),
        )


_SIDES = (Side.LEFT, Side.RIGHT)


@dataclasses.dataclass(frozen=True, slots=True)
class Stride:
    """One stride of one foot (from one initial contact to the next), times in seconds from the run's start.

    ``speed_mps`` and ``cadence_spm`` default to what length and duration imply; cadence counts steps of both
    feet per minute (two steps per stride), as running watches show it. ``estimated``: the engine had no samples
    of this stride (lost to a gap in the data) and took its length from the pace around it; it has no form figures.
    """

    side: Side
    t_start_s: float
    t_end_s: float
    length_m: float
    speed_mps: float | None = None
    cadence_spm: float | None = None
    contact_time_s: float | None = None
    flight_time_s: float | None = None
    strike_angle_deg: float | None = None
    strike_type: StrikeType | None = None
    impact_g: float | None = None
    gait: Gait = Gait.RUN
    estimated: bool = False

    def __post_init__(self) -> None:
        side = Side.parse(self.side)
        if side is None:
            raise RunDataError(f"stride side must be 'left' or 'right', got {self.side!r}")
        object.__setattr__(self, "side", side)
        if not (
            math.isfinite(self.t_start_s) and math.isfinite(self.t_end_s) and self.t_end_s > self.t_start_s
        ):
            raise RunDataError(
                f"stride must end after it starts, got t_start_s={self.t_start_s}, t_end_s={self.t_end_s}"
            )
        if not (math.isfinite(self.length_m) and self.length_m >= 0):
            raise RunDataError(f"stride length_m must be finite and >= 0, got {self.length_m}")
        duration = self.t_end_s - self.t_start_s
        if self.speed_mps is None:
            object.__setattr__(self, "speed_mps", self.length_m / duration)
        if self.cadence_spm is None:
            object.__setattr__(self, "cadence_spm", 120.0 / duration)
        if self.strike_type is not None and not isinstance(self.strike_type, StrikeType):
            object.__setattr__(self, "strike_type", StrikeType(self.strike_type))
        if not isinstance(self.gait, Gait):
            object.__setattr__(self, "gait", Gait(self.gait))
        if not isinstance(self.estimated, bool):  # a numpy bool or a 0/1 from a column; nothing else
            if self.estimated not in (0, 1):
                raise RunDataError(f"stride estimated must be true or false, got {self.estimated!r}")
            object.__setattr__(self, "estimated", bool(self.estimated))

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s


# Packed stride layout, version 1 (read only): one record per stride, little-endian, zlib after an 8-byte header.
_STRIDE_MAGIC = b"SWSR"
_STRIDE_DTYPE = np.dtype(
    [
        ("side", "u1"),  # 0 left, 1 right
        ("gait", "u1"),  # 0 walk, 1 run
        ("strike", "i1"),  # -1 unknown, 0 rearfoot, 1 midfoot, 2 forefoot
        ("t_start_s", "<f8"),
        ("t_end_s", "<f8"),
        ("length_m", "<f4"),
        ("speed_mps", "<f4"),
        ("cadence_spm", "<f4"),
        ("contact_time_s", "<f4"),  # NaN = unknown, as for every float below
        ("flight_time_s", "<f4"),
        ("strike_angle_deg", "<f4"),
        ("impact_g", "<f4"),
    ]
)
_STRIKES = (StrikeType.REARFOOT, StrikeType.MIDFOOT, StrikeType.FOREFOOT)
_OPTIONAL_FLOATS = ("contact_time_s", "flight_time_s", "strike_angle_deg", "impact_g")
#: what the integer columns ``side``, ``gait`` and ``strike`` of ``stride_columns`` number (-1: unknown strike)
STRIDE_CODES: dict[str, tuple[enum.StrEnum, ...]] = {
    "side": _SIDES,
    "gait": (Gait.WALK, Gait.RUN),
    "strike": _STRIKES,
}

# Packed stride layout, version 3 (written): b"SWS3", uint32 count, then a Zstandard frame of column planes
# (version 2, read only: b"SWS2" and raw LZMA2 of the same planes). Every value is an
# integer at the resolution of STRIDE_RESOLUTION (the shoe's own wire resolution); each stride's start is stored
# as the gap after the same foot's previous stride (mostly 0), lengths so that each foot's cumulative distance
# is exact to 0.5 mm (a length itself to 1 mm), speed and cadence are stored as their difference from what length and duration imply (mostly 0), unknown values
# as -2**31; each int32 column is split into byte planes before compression, so small numbers cost little. The
# first column packs the codes: bit 0 side, bit 1 gait, bits 2-3 strike + 1, bit 4 estimated (0 in blobs written
# before it was kept).
_STRIDE2_MAGIC = b"SWS2"
_STRIDE3_MAGIC = b"SWS3"
_MISSING = np.int32(-(2**31))
#: an unknown value among a stride blob's integers (``unpack_stride_units``)
STRIDE_MISSING = int(_MISSING)
_TIMES = ("t_start_s", "t_end_s")  # never unknown
#: resolution of stored stride values (what a stored stride may differ from the uploaded one by, at most half)
STRIDE_RESOLUTION = {
    "t_start_s": 1e-3,
    "t_end_s": 1e-3,
    "length_m": 1e-3,
    "speed_mps": 1e-3,
    "cadence_spm": 1e-1,
    "contact_time_s": 1e-3,
    "flight_time_s": 1e-3,
    "strike_angle_deg": 1e-1,
    "impact_g": 1e-2,
}
_QUANTIZED = ("length_m", "contact_time_s", "flight_time_s", "strike_angle_deg", "impact_g")


def _q(values: np.ndarray, resolution: float) -> np.ndarray:
    """Values as integers of ``resolution`` (NaN as the missing marker)."""
    out = np.full(len(values), _MISSING, dtype=np.int64)
    ok = np.isfinite(values)
    out[ok] = np.rint(values[ok] / resolution)
    return out


def _dq(values: np.ndarray, resolution: float) -> np.ndarray:
    out = values.astype(np.float64) / round(
        1.0 / resolution
    )  # division: k / 1000 is the double nearest k·1e-3
    out[values == _MISSING] = np.nan
    return out


_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 6, "dict_size": 1 << 20}]  # fixed: part of the layout
#: Zstandard level of stride and stream blobs: as small as LZMA within ~4 %, as slow to write, 20× faster to read
_ZSTD_LEVEL = 19


def _lzma(raw: bytes) -> bytes:
    """Raw LZMA2 (no container: its headers would cost more than small runs gain)."""
    return lzma.compress(raw, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)


def _unlzma(data: bytes) -> bytes:
    return lzma.decompress(data, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)


def _zstd(raw: bytes) -> bytes:
    """A Zstandard frame with its content size."""
    return zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(raw)


def _unzstd(data: bytes, size: int) -> bytes:
    """The ``size`` bytes a Zstandard frame holds (RunDataError for a damaged frame or another size)."""
    try:
        raw = zstandard.ZstdDecompressor().decompress(data, max_output_size=size)
    except zstandard.ZstdError as e:
        raise RunDataError(f"a compressed blob is damaged: {e}") from e
    if len(raw) != size:
        raise RunDataError(f"a compressed blob holds {len(raw)} bytes, not {size}")
    return raw


def _check_range(columns: list[np.ndarray], what: str) -> None:
    for c in columns:
        v = c[c != _MISSING]
        if len(v) and (v.max() > 2**31 - 1 or v.min() <= -(2**31)):
            raise RunDataError(f"a {what} value is out of the stored range")


def _planes(columns: list[np.ndarray]) -> bytes:
    """int32 columns as byte planes (all low bytes, then the next ...), which compress far better than rows."""
    if not columns:
        return b""
    a = np.stack([np.asarray(c, dtype="<i4") for c in columns])
    return np.ascontiguousarray(a.view(np.uint8).reshape(len(columns), -1, 4).transpose(0, 2, 1)).tobytes()


def _unplanes(raw: bytes, ncols: int, n: int) -> np.ndarray:
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(ncols, 4, n)
    out = np.empty((ncols, n), "<i4")
    as_bytes = out.view(np.uint8).reshape(ncols, n, 4)
    for k in range(4):  # a plane at a time: 3x faster than one copy of the transposed planes
        as_bytes[:, :, k] = planes[:, k, :]
    return out


def _speed_pred(length_q: np.ndarray, duration_ms: np.ndarray) -> np.ndarray:
    speed = np.divide(length_q * 1000.0, duration_ms, out=np.zeros(len(duration_ms)), where=duration_ms > 0)
    pred: np.ndarray = np.rint(speed).astype(np.int64)
    return pred


def _cadence_pred(duration_ms: np.ndarray) -> np.ndarray:
    cadence = np.divide(1200.0 * 1e3, duration_ms, out=np.zeros(len(duration_ms)), where=duration_ms > 0)
    pred: np.ndarray = np.rint(cadence).astype(np.int64)
    return pred


def stride_columns(strides: Sequence[Stride]) -> dict[str, np.ndarray]:
    """Strides as columns: side (0 left, 1 right), gait (0 walk, 1 run), strike (-1 unknown, 0 rear, 1 mid,
    2 fore), estimated (0 measured, 1 estimated) and the float fields of Stride (NaN = unknown)."""
    cols: dict[str, np.ndarray] = {
        "side": np.array([_SIDES.index(s.side) for s in strides], dtype=np.int64),
        "gait": np.array([1 if s.gait is Gait.RUN else 0 for s in strides], dtype=np.int64),
        "strike": np.array(
            [-1 if s.strike_type is None else _STRIKES.index(s.strike_type) for s in strides], dtype=np.int64
        ),
        "estimated": np.array([s.estimated for s in strides], dtype=np.int64),
    }
    for name in ("t_start_s", "t_end_s", "length_m", "speed_mps", "cadence_spm", *_OPTIONAL_FLOATS):
        cols[name] = np.array(
            [np.nan if (v := getattr(s, name)) is None else v for s in strides], dtype=np.float64
        )
    return cols


def pack_stride_columns(cols: dict[str, np.ndarray]) -> bytes:
    """Stride columns (see ``stride_columns``) as one compact blob (layout above)."""
    n = len(cols["t_start_s"])
    side = np.asarray(cols["side"], np.int64)
    start_ms = np.rint(np.asarray(cols["t_start_s"], np.float64) * 1000).astype(np.int64)
    end_ms = np.rint(np.asarray(cols["t_end_s"], np.float64) * 1000).astype(np.int64)
    duration_ms = end_ms - start_ms
    gap_ms = np.empty(n, np.int64)
    length_q = np.empty(n, np.int64)
    length = np.asarray(cols["length_m"], np.float64)
    for k in (0, 1):
        idx = np.nonzero(side == k)[0]
        gap_ms[idx] = start_ms[idx] - np.concatenate(([0], end_ms[idx][:-1]))
        length_q[idx] = np.diff(np.rint(np.cumsum(length[idx]) * 1000).astype(np.int64), prepend=0)
    speed_q = _q(np.asarray(cols["speed_mps"], np.float64), 1e-3)
    cadence_q = _q(np.asarray(cols["cadence_spm"], np.float64), 1e-1)
    estimated = np.asarray(cols.get("estimated", np.zeros(n, np.int64)), np.int64)
    columns = [
        np.asarray(cols["side"])
        | (np.asarray(cols["gait"]) << 1)
        | ((np.asarray(cols["strike"]) + 1) << 2)
        | (estimated << 4),
        gap_ms,
        duration_ms,
        length_q,
        np.where(speed_q == _MISSING, _MISSING, speed_q - _speed_pred(length_q, duration_ms)),
        np.where(cadence_q == _MISSING, _MISSING, cadence_q - _cadence_pred(duration_ms)),
        *(_q(np.asarray(cols[f], np.float64), STRIDE_RESOLUTION[f]) for f in _OPTIONAL_FLOATS),
    ]
    _check_range(columns, "stride")
    return _STRIDE3_MAGIC + struct.pack("<I", n) + _zstd(_planes(columns))


def unpack_stride_columns(blob: bytes) -> dict[str, np.ndarray]:
    """Inverse of pack_stride_columns (values at STRIDE_RESOLUTION); reads version 1 blobs too."""
    if len(blob) >= 8 and blob[:4] == _STRIDE_MAGIC:
        (count,) = struct.unpack_from("<I", blob, 4)
        raw = zlib.decompress(blob[8:])
        if len(raw) != count * _STRIDE_DTYPE.itemsize:
            raise RunDataError(f"stride blob says {count} strides but holds {len(raw)} bytes")
        rec = np.frombuffer(raw, dtype=_STRIDE_DTYPE)
        out: dict[str, np.ndarray] = {k: rec[k].astype(np.int64) for k in ("side", "gait", "strike")}
        out["estimated"] = np.zeros(count, np.int64)
        out.update({k: rec[k].astype(np.float64) for k in _STRIDE_DTYPE.names or () if k not in out})
        return out
    units = unpack_stride_units(blob)
    assert units is not None  # (version 1 read above)
    out = {k: units[k] for k in (*STRIDE_CODES, "estimated")}
    for name, resolution in STRIDE_RESOLUTION.items():
        out[name] = units[name] / 1000.0 if name in _TIMES else _dq(units[name], resolution)
    return out


def unpack_stride_units(blob: bytes) -> dict[str, np.ndarray] | None:
    """The stored integers of a stride blob: the codes of ``STRIDE_CODES``, ``estimated`` (0 / 1) and every other
    column in units of its STRIDE_RESOLUTION (int32 or int64, STRIDE_MISSING where unknown); None for a version 1
    blob, which holds floats.

    ``unpack_stride_columns`` is these over their resolution."""
    if len(blob) >= 8 and blob[:4] == _STRIDE_MAGIC:
        return None
    if len(blob) < 8 or blob[:4] not in (_STRIDE2_MAGIC, _STRIDE3_MAGIC):
        raise RunDataError("stride blob does not start with b'SWSR', b'SWS2' or b'SWS3'")
    (n,) = struct.unpack_from("<I", blob, 4)
    ncols = 6 + len(_OPTIONAL_FLOATS)
    raw = _unlzma(blob[8:]) if blob[:4] == _STRIDE2_MAGIC else _unzstd(blob[8:], 4 * ncols * n)
    if len(raw) != 4 * ncols * n:
        raise RunDataError(f"stride blob says {n} strides but holds {len(raw)} bytes")
    c = _unplanes(raw, ncols, n)  # int32: widened below only where sums need it
    codes, gap_ms, duration_ms = c[0].astype(np.int64), c[1].astype(np.int64), c[2].astype(np.int64)
    side = codes & 1
    start_ms = np.empty(n, np.int64)
    for k in (0, 1):
        idx = np.nonzero(side == k)[0]
        start_ms[idx] = np.cumsum(gap_ms[idx] + np.concatenate(([0], duration_ms[idx][:-1])))
    out = {
        "side": side,
        "gait": (codes >> 1) & 1,
        "strike": ((codes >> 2) & 3) - 1,
        "estimated": (codes >> 4) & 1,
        "t_start_s": start_ms,
        "t_end_s": start_ms + duration_ms,
        "length_m": c[3],
        "speed_mps": np.where(c[4] == _MISSING, _MISSING, c[4] + _speed_pred(c[3], duration_ms)),
        "cadence_spm": np.where(c[5] == _MISSING, _MISSING, c[5] + _cadence_pred(duration_ms)),
    }
    for k, f in enumerate(_OPTIONAL_FLOATS):
        out[f] = c[6 + k]
    return out


def pack_strides(strides: Sequence[Stride]) -> bytes:
    """Strides as one compact blob (version 2 above), at STRIDE_RESOLUTION."""
    return pack_stride_columns(stride_columns(strides))


def unpack_strides(blob: bytes) -> list[Stride]:
    """Inverse of pack_strides (values come back at STRIDE_RESOLUTION; version 1 blobs as float32)."""
    c = unpack_stride_columns(blob)

    def opt(x: float) -> float | None:
        return None if math.isnan(x) else x

    lists = {k: v.tolist() for k, v in c.items()}
    return [
        Stride(
            side=_SIDES[lists["side"][k]],
            t_start_s=lists["t_start_s"][k],
            t_end_s=lists["t_end_s"][k],
            length_m=lists["length_m"][k],
            speed_mps=opt(lists["speed_mps"][k]),
            cadence_spm=opt(lists["cadence_spm"][k]),
            contact_time_s=opt(lists["contact_time_s"][k]),
            flight_time_s=opt(lists["flight_time_s"][k]),
            strike_angle_deg=opt(lists["strike_angle_deg"][k]),
            strike_type=None if lists["strike"][k] < 0 else _STRIKES[lists["strike"][k]],
            impact_g=opt(lists["impact_g"][k]),
            gait=Gait.RUN if lists["gait"][k] else Gait.WALK,
            estimated=bool(lists["estimated"][k]),
        )
        for k in range(len(lists["side"]))
    ]


# Streams blob: b"SWST", uint8 version, uint8 column count, uint16 reserved, uint32 n; then the columns, compressed.
# Version 1 (read only): zlib of t_s and distance_m as <f8, the other four as <f4. Version 2 (read only): raw LZMA2 of
# integers at STREAM_RESOLUTION as byte planes; t_s and distance_m delta-coded; unknown values as -2**31.
# Version 3 (written): the planes of version 2 in a Zstandard frame.
_STREAM_MAGIC = b"SWST"
_STREAM_VERSION = 3
_STREAM_F8 = ("t_s", "distance_m")
_STREAM_F4 = ("speed_mps", "cadence_spm", "stride_length_m", "contact_time_s")
#: resolution of stored stream values
STREAM_RESOLUTION = {
    "t_s": 1e-3,
    "distance_m": 1e-3,
    "speed_mps": 1e-3,
    "cadence_spm": 1e-2,
    "stride_length_m": 1e-3,
    "contact_time_s": 1e-4,
}


def _metric_column(name: str, value: ArrayLike | None, n: int) -> np.ndarray:
    """A float32 stream column of length ``n``; all NaN when omitted."""
    arr = np.full(n, np.nan, np.float32) if value is None else np.ascontiguousarray(value, np.float32)
    if arr.shape != (n,):
        raise RunDataError(f"streams {name} has shape {arr.shape}, expected ({n},) like t_s")
    return arr


@dataclasses.dataclass(eq=False, init=False)
class Streams:
    """Per-sample arrays over a run, all the same length; NaN marks an unknown value (e.g. no stride, paused).

    ``t_s`` (strictly increasing, seconds from the run's start) and ``distance_m`` (never decreasing) are float64;
    the metric columns are float32. Omitted metric columns are all NaN.
    """

    t_s: np.ndarray
    distance_m: np.ndarray
    speed_mps: np.ndarray
    cadence_spm: np.ndarray
    stride_length_m: np.ndarray
    contact_time_s: np.ndarray

    def __init__(
        self,
        t_s: ArrayLike,
        distance_m: ArrayLike,
        speed_mps: ArrayLike | None = None,
        cadence_spm: ArrayLike | None = None,
        stride_length_m: ArrayLike | None = None,
        contact_time_s: ArrayLike | None = None,
    ) -> None:
        # an explicit __init__ so that the metric columns are typed as the arrays they always are once built
        self.t_s = np.ascontiguousarray(t_s, dtype=np.float64)
        self.distance_m = np.ascontiguousarray(distance_m, dtype=np.float64)
        n = len(self.t_s)
        if self.t_s.ndim != 1 or self.distance_m.shape != (n,):
            raise RunDataError(
                f"streams t_s and distance_m must be 1-d and equal length, got {self.t_s.shape}, {self.distance_m.shape}"
            )
        self.speed_mps = _metric_column("speed_mps", speed_mps, n)
        self.cadence_spm = _metric_column("cadence_spm", cadence_spm, n)
        self.stride_length_m = _metric_column("stride_length_m", stride_length_m, n)
        self.contact_time_s = _metric_column("contact_time_s", contact_time_s, n)
        if not (np.all(np.isfinite(self.t_s)) and np.all(np.isfinite(self.distance_m))):
            raise RunDataError("streams t_s and distance_m must be finite")
        if n > 1 and np.any(np.diff(self.t_s) <= 0):
            raise RunDataError("streams t_s must be strictly increasing")
        if n > 1 and np.any(np.diff(self.distance_m) < 0):
            raise RunDataError("streams distance_m must never decrease")

    def __len__(self) -> int:
        return len(self.t_s)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Streams):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, c), getattr(other, c), equal_nan=True)
            for c in _STREAM_F8 + _STREAM_F4
        )

    def to_bytes(self) -> bytes:
        """One blob for storage (version 3 above); ``from_bytes`` gives the streams back at STREAM_RESOLUTION."""
        t_q = _q(self.t_s, STREAM_RESOLUTION["t_s"])
        d_q = _q(self.distance_m, STREAM_RESOLUTION["distance_m"])
        columns = [np.diff(t_q, prepend=0), np.diff(d_q, prepend=0)]
        columns += [_q(getattr(self, c).astype(np.float64), STREAM_RESOLUTION[c]) for c in _STREAM_F4]
        _check_range(columns, "stream")
        header = _STREAM_MAGIC + struct.pack("<BBHI", _STREAM_VERSION, 6, 0, len(self))
        return header + _zstd(_planes(columns))

    @classmethod
    def from_bytes(cls, blob: bytes) -> Streams:
        if len(blob) < 12 or blob[:4] != _STREAM_MAGIC:
            raise RunDataError("streams blob does not start with b'SWST'")
        version, ncols, _, n = struct.unpack_from("<BBHI", blob, 4)
        if version not in (1, 2, 3) or ncols != 6:
            raise RunDataError(f"streams blob version {version} with {ncols} columns is not supported")
        if version == 3:
            raw = _unzstd(blob[12:], n * 4 * 6)
        else:
            raw = _unlzma(blob[12:]) if version == 2 else zlib.decompress(blob[12:])
        cols: dict[str, np.ndarray] = {}
        if version >= 2:
            if len(raw) != n * 4 * 6:
                raise RunDataError(f"streams blob says {n} samples but holds {len(raw)} bytes")
            c = _unplanes(raw, 6, n).astype(np.int64)
            cols["t_s"] = _dq(np.cumsum(c[0]), STREAM_RESOLUTION["t_s"])
            cols["distance_m"] = _dq(np.cumsum(c[1]), STREAM_RESOLUTION["distance_m"])
            for k, name in enumerate(_STREAM_F4):
                cols[name] = _dq(c[2 + k], STREAM_RESOLUTION[name])
            return cls(**cols)
        if len(raw) != n * (8 * 2 + 4 * 4):
            raise RunDataError(f"streams blob says {n} samples but holds {len(raw)} bytes")
        offset = 0
        for name in _STREAM_F8:
            cols[name] = np.frombuffer(raw, "<f8", n, offset).astype(np.float64)
            offset += 8 * n
        for name in _STREAM_F4:
            cols[name] = np.frombuffer(raw, "<f4", n, offset).astype(np.float32)
            offset += 4 * n
        return cls(**cols)


#: mean Earth radius (IUGG), metres
EARTH_RADIUS_M = 6_371_008.8
#: most fixes a route may hold: a day at one fix a second
MAX_ROUTE_FIXES = 100_000
#: latest fix time a route may hold, seconds from the run's start (its stored times are int32 milliseconds)
MAX_ROUTE_T_S = 2_000_000.0
#: resolution of stored route values; accuracy is stored as uint16 decimetres, so anything worse than
#: ROUTE_MAX_STORED_ACCURACY_M is kept as that (such a fix says nothing about where the runner was anyway)
ROUTE_RESOLUTION = {"t_s": 1e-3, "lat_deg": 1e-7, "lon_deg": 1e-7, "accuracy_m": 1e-1, "altitude_m": 1e-1}
ROUTE_MAX_STORED_ACCURACY_M = 6553.5
#: fixes worse than this (accuracy radius, metres) do not count towards route_distance_m by default
GOOD_FIX_ACCURACY_M = 20.0


def haversine_m(lat_deg: ArrayLike, lon_deg: ArrayLike) -> np.ndarray:
    """Great-circle distance between consecutive points, metres (length n - 1)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    dlat, dlon = np.diff(lat), np.diff(lon)
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(dlon / 2) ** 2
    out: np.ndarray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out


def _route_column(name: str, value: ArrayLike, n: int) -> np.ndarray:
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.shape != (n,):
        raise RunDataError(f"route {name} has shape {arr.shape}, expected ({n},) like t_s")
    if not np.all(np.isfinite(arr)):
        k = int(np.argmin(np.isfinite(arr)))
        raise RunDataError(f"route {name}[{k}] is {arr[k]}: every fix needs a finite value")
    return arr


# Route blob: b"SWRT", uint8 version (1), uint8 flags (1 accuracy, 2 altitude), uint16 reserved, uint32 n; then raw
# LZMA2 of byte planes: time (ms), latitude and longitude (1e-7 deg, int32, wrapping) and altitude (dm) as
# differences from the previous fix, accuracy as uint16 dm (saturating).
_ROUTE_MAGIC = b"SWRT"
_ROUTE_ACCURACY, _ROUTE_ALTITUDE = 1, 2


def _byte_planes(a: np.ndarray) -> bytes:
    """A little-endian integer column as its byte planes (all low bytes first), which compress far better."""
    width = a.dtype.itemsize
    return np.ascontiguousarray(a.view(np.uint8).reshape(-1, width).T).tobytes()


def _from_byte_planes(raw: bytes, dtype: str, n: int) -> np.ndarray:
    width = np.dtype(dtype).itemsize
    return np.ascontiguousarray(np.frombuffer(raw, np.uint8).reshape(width, n).T).view(dtype).reshape(n)


@dataclasses.dataclass(eq=False, init=False)
class Route:
    """Where the phone was during a run: one position fix per row, ``t_s`` seconds from the run's start.

    ``accuracy_m`` is each fix's horizontal accuracy (the radius of 68 % confidence, as the browser's Geolocation
    API gives it): the reference that per-runner calibration learns from, so it is kept per fix. It is None when
    the source does not say (a watch's file); ``altitude_m`` is None when no fix has one. All columns float64.
    Refused with RunDataError: unequal lengths, NaN or infinite values, latitudes outside [-90, 90], longitudes
    outside [-180, 180], negative or decreasing times, negative accuracies, more than MAX_ROUTE_FIXES fixes.
    """

    t_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    accuracy_m: np.ndarray | None
    altitude_m: np.ndarray | None

    def __init__(
        self,
        t_s: ArrayLike,
        lat_deg: ArrayLike,
        lon_deg: ArrayLike,
        accuracy_m: ArrayLike | None = None,
        altitude_m: ArrayLike | None = None,
    ) -> None:
        t = np.ascontiguousarray(t_s, dtype=np.float64)
        if t.ndim != 1:
            raise RunDataError(f"route t_s must be 1-d, got shape {t.shape}")
        n = len(t)
        if n > MAX_ROUTE_FIXES:
            raise RunDataError(f"route has {n} fixes, more than the {MAX_ROUTE_FIXES} a run may hold")
        self.t_s = _route_column("t_s", t, n)
        self.lat_deg = _route_column("lat_deg", lat_deg, n)
        self.lon_deg = _route_column("lon_deg", lon_deg, n)
        self.accuracy_m = None if accuracy_m is None else _route_column("accuracy_m", accuracy_m, n)
        self.altitude_m = None if altitude_m is None else _route_column("altitude_m", altitude_m, n)
        if n and not (self.t_s[0] >= 0.0 and self.t_s[-1] <= MAX_ROUTE_T_S):
            raise RunDataError(f"route t_s must lie in [0, {MAX_ROUTE_T_S:.0f}] s from the run's start")
        if n > 1 and np.any(np.diff(self.t_s) < 0):
            k = int(np.argmax(np.diff(self.t_s) < 0))
            raise RunDataError(
                f"route t_s must never decrease: fix {k + 1} at {self.t_s[k + 1]} s is before fix {k}"
            )
        if np.any(np.abs(self.lat_deg) > 90):
            raise RunDataError("route lat_deg must lie in [-90, 90]")
        if np.any(np.abs(self.lon_deg) > 180):
            raise RunDataError("route lon_deg must lie in [-180, 180]")
        if self.accuracy_m is not None and np.any(self.accuracy_m < 0):
            raise RunDataError("route accuracy_m must be >= 0")
        if self.altitude_m is not None and np.any(np.abs(self.altitude_m) > 100_000):
            raise RunDataError("route altitude_m must lie in [-100000, 100000]")

    def __len__(self) -> int:
        return len(self.t_s)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Route):
            return NotImplemented
        return all(
            (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
            for a, b in ((getattr(self, c), getattr(other, c)) for c in ROUTE_RESOLUTION)
        )

    def to_bytes(self) -> bytes:
        """One blob for storage (layout above); ``from_bytes`` gives the route back at ROUTE_RESOLUTION."""
        t_q = np.rint(self.t_s * 1000).astype(np.int64)
        lat_q = np.rint(self.lat_deg * 1e7).astype(np.int64).astype(np.int32)
        lon_q = np.rint(self.lon_deg * 1e7).astype(np.int64).astype(np.int32)
        parts = [
            np.diff(t_q, prepend=0).astype("<i4"),
            np.diff(lat_q, prepend=np.int32(0)).astype("<i4"),  # int32 differences wrap; cumsum unwraps them
            np.diff(lon_q, prepend=np.int32(0)).astype("<i4"),
        ]
        flags = 0
        if self.accuracy_m is not None:
            flags |= _ROUTE_ACCURACY
            acc = np.minimum(np.rint(self.accuracy_m * 10), 65535).astype("<u2")
            parts.append(acc)
        if self.altitude_m is not None:
            flags |= _ROUTE_ALTITUDE
            parts.append(np.diff(np.rint(self.altitude_m * 10).astype(np.int64), prepend=0).astype("<i4"))
        header = _ROUTE_MAGIC + struct.pack("<BBHI", 1, flags, 0, len(self))
        return header + _lzma(b"".join(_byte_planes(p) for p in parts))

    @classmethod
    def from_bytes(cls, blob: bytes) -> Route:
        if len(blob) < 12 or blob[:4] != _ROUTE_MAGIC:
            raise RunDataError("route blob does not start with b'SWRT'")
        version, flags, _, n = struct.unpack_from("<BBHI", blob, 4)
        if version != 1 or flags & ~(_ROUTE_ACCURACY | _ROUTE_ALTITUDE):
            raise RunDataError(f"route blob version {version} with flags {flags} is not supported")
        dtypes = ["<i4"] * 3
        if flags & _ROUTE_ACCURACY:
            dtypes.append("<u2")
        if flags & _ROUTE_ALTITUDE:
            dtypes.append("<i4")
        raw = _unlzma(blob[12:])
        if len(raw) != n * sum(np.dtype(d).itemsize for d in dtypes):
            raise RunDataError(f"route blob says {n} fixes but holds {len(raw)} bytes")
        cols, offset = [], 0
        for d in dtypes:
            size = n * np.dtype(d).itemsize
            cols.append(_from_byte_planes(raw[offset : offset + size], d, n))
            offset += size
        t_ms = np.cumsum(cols[0].astype(np.int64))
        lat = np.cumsum(cols[1], dtype=np.int32)
        lon = np.cumsum(cols[2], dtype=np.int32)
        extra = iter(cols[3:])
        accuracy = next(extra).astype(np.float64) / 10 if flags & _ROUTE_ACCURACY else None
        altitude = np.cumsum(next(extra).astype(np.int64)) / 10 if flags & _ROUTE_ALTITUDE else None
        return cls(t_ms / 1000, lat / 1e7, lon / 1e7, accuracy, altitude)

    def to_dict(self) -> dict[str, list[float] | None]:
        """The API's column form (see ``server.schemas.RouteIn``)."""

        def column(a: np.ndarray | None) -> list[float] | None:
            return None if a is None else a.tolist()

        return {
            "t_s": self.t_s.tolist(),
            "lat_deg": self.lat_deg.tolist(),
            "lon_deg": self.lon_deg.tolist(),
            "accuracy_m": column(self.accuracy_m),
            "altitude_m": column(self.altitude_m),
        }


def route_distance_m(route: Route, *, max_accuracy_m: float = GOOD_FIX_ACCURACY_M) -> float:
    """Great-circle distance along a route's good fixes: those with an accuracy of ``max_accuracy_m`` or better
    (every fix when the route has no accuracies), each joined to the next good fix.

    Calibration compares it with the shoes' distance over the same time, so poor fixes (a phone in a tunnel,
    a first fix from the cell network) are skipped rather than let their error add up.
    """
    if not (math.isfinite(max_accuracy_m) and max_accuracy_m >= 0):
        raise RunDataError(f"max_accuracy_m must be finite and >= 0, got {max_accuracy_m}")
    good = np.ones(len(route), bool) if route.accuracy_m is None else route.accuracy_m <= max_accuracy_m
    if good.sum() < 2:
        return 0.0
    return float(np.sum(haversine_m(route.lat_deg[good], route.lon_deg[good])))


@dataclasses.dataclass(frozen=True, slots=True)
class Lap:
    """A lap the runner marked (lap button, or an imported file's laps), seconds from the run's start."""

    t_start_s: float
    t_end_s: float
    name: str = ""

    def __post_init__(self) -> None:
        if not self.t_end_s > self.t_start_s:
            raise RunDataError(f"lap must end after it starts, got {self.t_start_s}..{self.t_end_s}")

    def to_dict(self) -> dict[str, Any]:
        return {"t_start_s": self.t_start_s, "t_end_s": self.t_end_s, "name": self.name}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Lap:
        return cls(float(d["t_start_s"]), float(d["t_end_s"]), str(d.get("name", "")))


def laps_within(laps: Iterable[Lap], elapsed_s: float) -> list[Lap]:
    """``laps`` in time order, each cut to the run (0 to ``elapsed_s``); a lap left without time is dropped.

    A lap is marked on the phone's clock: the last one ends when the runner pressed Finish, after the last
    stride, and the shoes' own run (which replaces the live one) may start after the phone did.
    """
    out = []
    for lap in sorted(laps, key=lambda x: x.t_start_s):
        a, b = max(lap.t_start_s, 0.0), min(lap.t_end_s, elapsed_s)
        if b > a:
            out.append(lap if (a, b) == (lap.t_start_s, lap.t_end_s) else Lap(a, b, lap.name))
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class FormFit:
    """A running-form metric of one run as a line over speed: value ≈ intercept + slope·speed.

    Fitted on running strides; ``speed_lo_mps``..``speed_hi_mps`` (10th-90th percentile) is where the line is
    trusted. ``slope`` is 0 when the run's speeds were too uniform to fit one (the intercept is then the mean).
    """

    intercept: float
    slope: float
    n: int
    speed_lo_mps: float
    speed_hi_mps: float

    def at(self, speed_mps: float, *, margin_mps: float = 0.25) -> float | None:
        """The metric at ``speed_mps``, or None when that speed is outside this run's range (± margin)."""
        if not (self.speed_lo_mps - margin_mps <= speed_mps <= self.speed_hi_mps + margin_mps):
            return None
        return self.intercept + self.slope * speed_mps

    def to_list(self) -> list[float]:
        return [self.intercept, self.slope, self.n, self.speed_lo_mps, self.speed_hi_mps]

    @classmethod
    def from_list(cls, x: Sequence[float]) -> FormFit:
        return cls(float(x[0]), float(x[1]), int(x[2]), float(x[3]), float(x[4]))


#: the form metrics fitted per run (Stride attribute names)
FORM_METRICS = ("cadence_spm", "length_m", "contact_time_s")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RunDataError("unknown time zone (use an IANA name such as 'Asia/Shanghai')") from exc


@dataclasses.dataclass(frozen=True, slots=True)
class RunSummary:
    """What records, achievements and progress need of one run — small, JSON-able, no streams.

    ``speed_time_s[k]`` is the moving time spent at speeds in [k, k+1)·SPEED_BIN_MPS (last bin open-ended);
    ``form`` maps FORM_METRICS names to their FormFit (absent when the run had too few running strides).
    """

    run_id: str
    start_time: dt.datetime
    time_zone: str
    distance_m: float
    elapsed_time_s: float
    moving_time_s: float
    shoe_serials: tuple[str, ...] = ()
    source: str = Source.SHOE.value
    avg_cadence_spm: float | None = None
    #: share of strides with a known strike type that were midfoot or forefoot, 0..1
    fore_mid_strike_fraction: float | None = None
    efforts: tuple[Effort, ...] = ()
    speed_time_s: tuple[float, ...] = ()
    form: dict[str, FormFit] = dataclasses.field(default_factory=dict)
    #: what recorded the run when it was not our shoes (``Source.POD``)
    sensor: Sensor | None = None

    def __post_init__(self) -> None:
        if self.start_time.tzinfo is None or self.start_time.utcoffset() is None:
            raise RunDataError("start_time must be timezone-aware")
        _zone(self.time_zone)
        distances = [e.distance_m for e in self.efforts]
        if len(set(distances)) != len(distances):
            raise RunDataError(f"run {self.run_id!r} has more than one effort for one distance: {distances}")

    @property
    def local_start(self) -> dt.datetime:
        return self.start_time.astimezone(ZoneInfo(self.time_zone))

    @property
    def sort_key(self) -> tuple[dt.datetime, str]:
        """Run order used everywhere (start time, then id), so results do not depend on input order."""
        return (self.start_time, self.run_id)

    def effort(self, distance_m: float) -> Effort | None:
        for e in self.efforts:
            if e.distance_m == distance_m:
                return e
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "start_time": self.start_time.isoformat(),
            "time_zone": self.time_zone,
            "distance_m": self.distance_m,
            "elapsed_time_s": self.elapsed_time_s,
            "moving_time_s": self.moving_time_s,
            "shoe_serials": list(self.shoe_serials),
            "source": self.source,
            "avg_cadence_spm": self.avg_cadence_spm,
            "fore_mid_strike_fraction": self.fore_mid_strike_fraction,
            "efforts": [e.to_dict() for e in self.efforts],
            "speed_time_s": list(self.speed_time_s),
            "form": {k: v.to_list() for k, v in self.form.items()},
            **({"sensor": self.sensor.to_dict()} if self.sensor is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        return cls(
            run_id=str(data["run_id"]),
            start_time=dt.datetime.fromisoformat(data["start_time"]),
            time_zone=data["time_zone"],
            distance_m=float(data["distance_m"]),
            elapsed_time_s=float(data["elapsed_time_s"]),
            moving_time_s=float(data["moving_time_s"]),
            shoe_serials=tuple(data.get("shoe_serials", ())),
            source=data.get("source", Source.SHOE.value),
            avg_cadence_spm=data.get("avg_cadence_spm"),
            fore_mid_strike_fraction=data.get("fore_mid_strike_fraction"),
            efforts=tuple(Effort.from_dict(e) for e in data.get("efforts", ())),
            speed_time_s=tuple(float(x) for x in data.get("speed_time_s", ())),
            form={k: FormFit.from_list(v) for k, v in data.get("form", {}).items()},
            sensor=Sensor.from_dict(data["sensor"]) if data.get("sensor") else None,
        )


_SUMMARY_MAGIC = b"SWS\x01"
_SUMMARY_HEAD = struct.Struct("<qidddddBBB")
_NAN = float("nan")


def _opt(x: float) -> float | None:
    return None if x != x else x


def pack_summary(r: RunSummary) -> bytes:
    """A RunSummary as a small blob that reads back several times faster than its JSON (``unpack_summary``)."""
    offset = r.start_time.utcoffset()
    assert offset is not None
    utc = r.start_time.astimezone(dt.UTC)
    micros = (utc - _EPOCH) // dt.timedelta(microseconds=1)
    head = _SUMMARY_HEAD.pack(
        micros,
        round(offset.total_seconds()),
        r.distance_m,
        r.elapsed_time_s,
        r.moving_time_s,
        _NAN if r.avg_cadence_spm is None else r.avg_cadence_spm,
        _NAN if r.fore_mid_strike_fraction is None else r.fore_mid_strike_fraction,
        len(r.efforts),
        len(r.speed_time_s),
        len(r.form),
    )
    text = "\x1f".join((r.run_id, r.time_zone, r.source, *r.shoe_serials))
    if r.sensor is not None:  # after a separator no serial holds: blobs without it read as before
        text += "\x1e" + json.dumps(r.sensor.to_dict())
    text_bytes = text.encode()
    numbers = [x for e in r.efforts for x in (e.distance_m, e.time_s, e.start_s, e.end_s)]
    numbers += r.speed_time_s
    numbers += [x for k in FORM_METRICS if k in r.form for x in r.form[k].to_list()]
    mask = sum(1 << i for i, k in enumerate(FORM_METRICS) if k in r.form)
    return b"".join(
        (
            _SUMMARY_MAGIC,
            head,
            struct.pack("<BH", mask, len(text_bytes)),
            text_bytes,
            struct.pack(f"<{len(numbers)}d", *numbers),
        )
    )


def unpack_summary(blob: bytes) -> RunSummary:
    """Inverse of pack_summary."""
    if blob[:4] != _SUMMARY_MAGIC:
        raise RunDataError("summary blob does not start with b'SWS\\x01'")
    micros, offset_s, distance, elapsed, moving, cadence, fore_mid, n_eff, n_speed, n_form = (
        _SUMMARY_HEAD.unpack_from(blob, 4)
    )
    pos = 4 + _SUMMARY_HEAD.size
    mask, n_text = struct.unpack_from("<BH", blob, pos)
    pos += 3
    text, _, sensor = blob[pos : pos + n_text].decode().partition("\x1e")
    run_id, zone, source, *serials = text.split("\x1f")
    pos += n_text
    count = 4 * n_eff + n_speed + 5 * n_form
    x = struct.unpack_from(f"<{count}d", blob, pos)
    tz = dt.UTC if offset_s == 0 else dt.timezone(dt.timedelta(seconds=offset_s))
    start = (_EPOCH + dt.timedelta(microseconds=micros)).astimezone(tz)
    f0 = 4 * n_eff + n_speed
    form = {}
    for i, k in enumerate(FORM_METRICS):
        if mask >> i & 1:
            form[k] = FormFit(x[f0], x[f0 + 1], int(x[f0 + 2]), x[f0 + 3], x[f0 + 4])
            f0 += 5
    # checked when packed: build it without validating again (this is the hot path of progress pages)
    out = object.__new__(RunSummary)
    for name, value in (
        ("run_id", run_id),
        ("start_time", start),
        ("time_zone", zone),
        ("distance_m", distance),
        ("elapsed_time_s", elapsed),
        ("moving_time_s", moving),
        ("shoe_serials", tuple(serials)),
        ("source", source),
        ("avg_cadence_spm", _opt(cadence)),
        ("fore_mid_strike_fraction", _opt(fore_mid)),
        ("efforts", tuple(Effort(*x[4 * k : 4 * k + 4]) for k in range(n_eff))),
        ("speed_time_s", x[4 * n_eff : 4 * n_eff + n_speed]),
        ("form", form),
        ("sensor", Sensor.from_dict(json.loads(sensor)) if sensor else None),
    ):
        object.__setattr__(out, name, value)
    return out


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def detect_pauses(
    t_s: np.ndarray,
    distance_m: np.ndarray,
    *,
    min_pause_s: float = 3.0,
    min_speed_mps: float = MOVING_SPEED_MPS,
) -> list[tuple[float, float]]:
    """Pauses in a distance stream (runs without strides): stretches of at least ``min_pause_s`` in which the
    speed between consecutive samples stays below ``min_speed_mps``."""
    t = np.asarray(t_s, dtype=np.float64)
    d = np.asarray(distance_m, dtype=np.float64)
    if len(t) < 2:
        return []
    slow = np.diff(d) < min_speed_mps * np.diff(t)
    edges = np.diff(np.concatenate(([0], slow.astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return [
        (float(t[a]), float(t[b])) for a, b in zip(starts, ends, strict=True) if t[b] - t[a] >= min_pause_s
    ]


def same_activity(
    a: Run | RunSummary,
    b: Run | RunSummary,
    *,
    start_tolerance_s: float = 120.0,
    distance_tolerance: float = 0.03,
) -> bool:
    """Whether two runs are probably one activity recorded or exported twice (near-equal start and distance).

    A tolerant companion to ``Run.fingerprint()`` for sources that disagree by seconds or metres (a shoe sync
    and a watch's FIT file of the same run).
    """
    if abs((a.start_time - b.start_time).total_seconds()) > start_tolerance_s:
        return False
    longer = max(a.distance_m, b.distance_m)
    return longer == 0 or abs(a.distance_m - b.distance_m) <= distance_tolerance * longer


def _merge_intervals(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _foot_distance(start_s: np.ndarray, end_s: np.ndarray, length_m: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Cumulative distance of one foot on the grid t: linear within each stride, flat between strides."""
    total = np.cumsum(length_m)
    knots_t = np.column_stack((start_s, end_s)).ravel()  # start, end, start, end, ...
    knots_d = np.column_stack((np.concatenate(([0.0], total[:-1])), total)).ravel()
    distance_m: np.ndarray = np.interp(t, knots_t, knots_d)
    return distance_m


def _covering(start_s: np.ndarray, end_s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each grid time, the index of the stride covering it (0 before the first), and whether one does."""
    k = np.searchsorted(start_s, t, side="right") - 1
    before = k < 0
    k[before] = 0
    inside = ~before & (t <= end_s[k])
    return k, inside


def stride_streams(
    cols: dict[str, np.ndarray],
    *,
    elapsed_s: float,
    pauses: Sequence[tuple[float, float]],
    interval_s: float = 1.0,
) -> Streams:
    """The streams of a run made of these strides (see ``stride_columns``), as ``Run.from_strides`` builds them.

    Each foot's strides cover the whole route, so with two feet the distance stream is the *average* of the two
    feet's cumulative distances; metrics are the mean over the feet of the stride covering each sample.
    """
    t = np.arange(0.0, elapsed_s, interval_s)
    if len(t) == 0 or t[-1] < elapsed_s:
        t = np.append(t, elapsed_s)
    feet = [np.nonzero(cols["side"] == k)[0] for k in (0, 1)]
    feet = [idx for idx in feet if len(idx)]
    bounds = [(cols["t_start_s"][i], cols["t_end_s"][i]) for i in feet]
    # the mean over the feet, summed and divided as np.mean does
    distance = sum(
        _foot_distance(start, end, cols["length_m"][i], t)
        for i, (start, end) in zip(feet, bounds, strict=True)
    ) / len(feet)

    # the metrics as rows of one table, and per foot the stride covering each grid time (an index into cols)
    names = ("speed_mps", "cadence_spm", "length_m", "contact_time_s")
    table = np.stack([cols[name] for name in names])
    rows = []
    for i, (start, end) in zip(feet, bounds, strict=True):
        k, inside = _covering(start, end, t)
        rows.append(np.where(inside, np.take(table, i[k], axis=1), np.nan))
    speed, cadence, length, contact = _nanmean_rows(rows)
    in_pause = np.zeros(len(t), dtype=bool)
    for a, b in pauses:
        in_pause |= (t > a) & (t < b)
    speed[in_pause | np.isnan(speed)] = 0.0
    return Streams(
        t_s=t,
        distance_m=distance,
        speed_mps=speed,
        cadence_spm=cadence,
        stride_length_m=length,
        contact_time_s=contact,
    )


def _nanmean_rows(rows: list[np.ndarray]) -> np.ndarray:
    """The mean of one or two rows ignoring NaN (NaN where both are): exactly what summing the known values
    and dividing by their count gives."""
    if len(rows) == 1:
        return rows[0]
    a, b = rows
    a_nan, b_nan = np.isnan(a), np.isnan(b)
    mean: np.ndarray = np.where(a_nan, b + 0.0, np.where(b_nan, a + 0.0, (a + b) / 2))
    return mean


@dataclasses.dataclass(frozen=True, slots=True)
class FootSummary:
    """One foot's running form over a run: stride count, mean contact, flight, strike angle and impact (None where
    no stride has the value), how many strides landed with each strike type, and how many strides (and metres)
    were estimated across gaps in the data rather than measured (``Stride.estimated``; metres to the millimetre)."""

    side: Side
    strides: int
    avg_contact_time_s: float | None
    avg_flight_time_s: float | None
    avg_strike_angle_deg: float | None
    strike_types: dict[StrikeType, int]
    avg_impact_g: float | None
    estimated_strides: int = 0
    estimated_m: float = 0.0

    @classmethod
    def of(cls, side: Side, strides: Iterable[Stride]) -> FootSummary | None:
        """The summary of ``side``'s strides among ``strides``; None if that foot has none."""
        ss = [s for s in strides if s.side is side]
        if not ss:
            return None

        def mean(values: Iterable[float | None]) -> float | None:
            v = [x for x in values if x is not None]
            return float(np.mean(v)) if v else None

        counts = collections.Counter(s.strike_type for s in ss if s.strike_type is not None)
        estimated = [s.length_m for s in ss if s.estimated]
        return cls(
            side=side,
            strides=len(ss),
            avg_contact_time_s=mean(s.contact_time_s for s in ss),
            avg_flight_time_s=mean(s.flight_time_s for s in ss),
            avg_strike_angle_deg=mean(s.strike_angle_deg for s in ss),
            strike_types={t: counts[t] for t in StrikeType if counts[t]},
            avg_impact_g=mean(s.impact_g for s in ss),
            estimated_strides=len(estimated),
            estimated_m=round(float(sum(estimated)), 3),
        )

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["side"] = self.side.value
        d["strike_types"] = {t.value: n for t, n in self.strike_types.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FootSummary:
        return cls(
            **{
                **d,
                "side": Side(d["side"]),
                "strike_types": {StrikeType(t): n for t, n in d["strike_types"].items()},
            }
        )


def feet_of_columns(cols: dict[str, np.ndarray]) -> list[FootSummary]:
    """``Run.feet()`` from stride columns (see ``stride_columns``), without building Stride objects."""
    out = []
    for k, side in enumerate(_SIDES):
        sel = cols["side"] == k
        n = int(np.sum(sel))
        if not n:
            continue

        def mean(name: str, sel: np.ndarray = sel) -> float | None:
            v = cols[name][sel]
            v = v[~np.isnan(v)]
            return float(np.mean(v)) if len(v) else None

        counts = np.bincount(cols["strike"][sel] + 1, minlength=len(_STRIKES) + 1)
        estimated = sel & (cols["estimated"] != 0) if "estimated" in cols else np.zeros_like(sel)
        out.append(
            FootSummary(
                side=side,
                strides=n,
                avg_contact_time_s=mean("contact_time_s"),
                avg_flight_time_s=mean("flight_time_s"),
                avg_strike_angle_deg=mean("strike_angle_deg"),
                strike_types={t: int(counts[i + 1]) for i, t in enumerate(_STRIKES) if counts[i + 1]},
                avg_impact_g=mean("impact_g"),
                estimated_strides=int(np.sum(estimated)),
                estimated_m=round(float(np.sum(cols["length_m"][estimated])), 3),
            )
        )
    return out


@dataclasses.dataclass(eq=False)
class Run:
    """One run: when and where it started, what it came from, its strides, streams, pauses and laps.

    ``start_time`` is timezone-aware (the instant of t = 0 s); ``time_zone`` is the IANA zone the runner was in,
    used for local days, weeks and times of day. Strides, pauses and laps are in seconds from the start.
    """

    start_time: dt.datetime
    time_zone: str
    distance_m: float
    elapsed_time_s: float
    moving_time_s: float
    streams: Streams
    strides: list[Stride] = dataclasses.field(default_factory=list)
    pauses: list[tuple[float, float]] = dataclasses.field(default_factory=list)
    laps: list[Lap] = dataclasses.field(default_factory=list)
    shoe_serials: tuple[str, ...] = ()
    source: str = Source.SHOE.value
    title: str = ""
    id: str | None = None
    #: the runner's calibration applied to the distance (see soleware.runs.calibration); 1.0 when none
    calibration_factor: float = 1.0
    #: what recorded the run when it was not our shoes (``Source.POD``)
    sensor: Sensor | None = None
    #: where the phone was, when the runner let it record its position
    route: Route | None = None
    #: read from a file cut short (a watch's battery died while writing it, a copy broke off): the run stops
    #: where the file does, so it may be shorter than the run was
    cut_short: bool = False

    def __post_init__(self) -> None:
        if self.start_time.tzinfo is None or self.start_time.utcoffset() is None:
            raise RunDataError("start_time must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
        if not EARLIEST_START <= self.start_time < LATEST_START:
            raise RunDataError(
                f"a run cannot start in the year {self.start_time.year}: its start must fall between the years "
                f"{EARLIEST_START.year} and {LATEST_START.year - 1} (is the clock that recorded it set?)"
            )
        _zone(self.time_zone)
        for name in ("distance_m", "elapsed_time_s", "moving_time_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise RunDataError(f"run {name} must be finite and >= 0, got {value}")
        if self.moving_time_s > self.elapsed_time_s + 1e-6:
            raise RunDataError(
                f"moving_time_s ({self.moving_time_s}) cannot exceed elapsed_time_s ({self.elapsed_time_s})"
            )
        try:
            self.source = Source(self.source).value
        except ValueError:
            raise RunDataError(
                f"unknown run source {self.source!r}; expected one of {[x.value for x in Source]}"
            ) from None
        self.shoe_serials = tuple(sorted(set(self.shoe_serials)))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_strides(
        cls,
        strides: Iterable[Stride],
        *,
        start_time: dt.datetime,
        time_zone: str,
        shoe_serials: Iterable[str] = (),
        source: str = Source.SHOE.value,
        title: str = "",
        laps: Iterable[Lap] = (),
        id: str | None = None,
        route: Route | None = None,
        min_pause_s: float = 3.0,
        stream_interval_s: float = 1.0,
    ) -> Run:
        """Build a run from the strides of one or two feet.

        Each foot's strides cover the whole route, so with two feet the run's distance stream is the *average*
        of the two feet's cumulative distances (not their sum). Streams are sampled every ``stream_interval_s``
        from 0 to the last stride's end (plus that end). A pause is any stretch of at least ``min_pause_s``
        that no stride of either foot covers (including before the first stride); moving time is elapsed time
        minus pauses.
        """
        strides = sorted(strides, key=lambda s: (s.t_start_s, s.side))
        if not strides:
            raise RunDataError("a run needs at least one stride")
        if strides[0].t_start_s < 0:
            raise RunDataError(f"stride times are seconds from the run's start, got {strides[0].t_start_s}")
        if stream_interval_s <= 0:
            raise RunDataError(f"stream_interval_s must be > 0, got {stream_interval_s}")
        feet = {side: [s for s in strides if s.side == side] for side in _SIDES}
        feet = {side: ss for side, ss in feet.items() if ss}
        for side, ss in feet.items():
            for a, b in zip(ss, ss[1:], strict=False):
                if b.t_start_s < a.t_end_s - 1e-9:
                    raise RunDataError(
                        f"{side} strides overlap: one ends at {a.t_end_s} s, the next starts at {b.t_start_s} s"
                    )

        elapsed = max(s.t_end_s for s in strides)
        foot_totals = [sum(s.length_m for s in ss) for ss in feet.values()]
        total_m = float(np.mean(foot_totals))

        covered = _merge_intervals((s.t_start_s, s.t_end_s) for s in strides)
        gaps = [(0.0, covered[0][0])] + [(a[1], b[0]) for a, b in zip(covered, covered[1:], strict=False)]
        pauses = [(float(a), float(b)) for a, b in gaps if b - a >= min_pause_s]
        moving = elapsed - sum(b - a for a, b in pauses)
        streams = stride_streams(
            stride_columns(strides), elapsed_s=elapsed, pauses=pauses, interval_s=stream_interval_s
        )
        return cls(
            start_time=start_time,
            time_zone=time_zone,
            distance_m=total_m,
            elapsed_time_s=float(elapsed),
            moving_time_s=float(moving),
            streams=streams,
            strides=list(strides),
            pauses=pauses,
            laps=laps_within(laps, elapsed),
            shoe_serials=tuple(shoe_serials),
            source=source,
            title=title,
            id=id,
            route=route,
        )

    @classmethod
    def from_streams(
        cls,
        streams: Streams,
        *,
        start_time: dt.datetime,
        time_zone: str,
        shoe_serials: Iterable[str] = (),
        source: str = Source.FIT.value,
        title: str = "",
        laps: Iterable[Lap] = (),
        id: str | None = None,
        route: Route | None = None,
        min_pause_s: float = 3.0,
        min_speed_mps: float = MOVING_SPEED_MPS,
        sensor: Sensor | None = None,
    ) -> Run:
        """Build a run without strides (a file from another app) from its streams.

        Distance is the stream's last minus first value, elapsed time runs from t = 0 to the last sample, and
        pauses are stretches of at least ``min_pause_s`` slower than ``min_speed_mps`` (see detect_pauses).
        """
        if len(streams) < 2:
            raise RunDataError("a run from streams needs at least two samples")
        if streams.t_s[0] < 0:
            raise RunDataError(f"stream times are seconds from the run's start, got {streams.t_s[0]}")
        pauses = detect_pauses(
            streams.t_s, streams.distance_m, min_pause_s=min_pause_s, min_speed_mps=min_speed_mps
        )
        if streams.t_s[0] >= min_pause_s:
            pauses.insert(0, (0.0, float(streams.t_s[0])))
        elapsed = float(streams.t_s[-1])
        return cls(
            start_time=start_time,
            time_zone=time_zone,
            distance_m=float(streams.distance_m[-1] - streams.distance_m[0]),
            elapsed_time_s=elapsed,
            moving_time_s=elapsed - sum(b - a for a, b in pauses),
            streams=streams,
            pauses=pauses,
            laps=laps_within(laps, elapsed),
            shoe_serials=tuple(shoe_serials),
            source=source,
            title=title,
            id=id,
            sensor=sensor,
            route=route,
        )

    @classmethod
    def manual(
        cls,
        *,
        start_time: dt.datetime,
        time_zone: str,
        distance_m: float,
        duration_s: float,
        title: str = "",
        shoe_serials: Iterable[str] = (),
        id: str | None = None,
    ) -> Run:
        """A run the runner entered by hand (shoes left at home, a treadmill's reading, a run from another
        app): its distance and moving time, nothing measured.

        Its streams are the two ends of it (for the pace and the weekly totals); it has no best efforts and no
        splits, which a straight line between them would invent, and it calibrates nothing.
        """
        if not (math.isfinite(distance_m) and 0 < distance_m <= MANUAL_MAX_DISTANCE_M):
            raise RunDataError(
                f"a run's distance must be more than 0 and at most 1000 km, got {distance_m} m"
            )
        if not (math.isfinite(duration_s) and 0 < duration_s <= MANUAL_MAX_DURATION_S):
            raise RunDataError(f"a run's time must be more than 0 and at most 7 days, got {duration_s} s")
        if distance_m / duration_s > MANUAL_MAX_SPEED_MPS:
            raise RunDataError(
                f"{distance_m:.0f} m in {duration_s:.0f} s is {distance_m / duration_s:.1f} m/s, faster than anyone "
                f"runs (at most {MANUAL_MAX_SPEED_MPS:.0f} m/s): check the distance's unit and the time"
            )
        speed = distance_m / duration_s
        return cls(
            start_time=start_time,
            time_zone=time_zone,
            distance_m=float(distance_m),
            elapsed_time_s=float(duration_s),
            moving_time_s=float(duration_s),
            streams=Streams([0.0, duration_s], [0.0, distance_m], speed_mps=[speed, speed]),
            shoe_serials=tuple(shoe_serials),
            source=Source.MANUAL.value,
            title=title,
            id=id,
        )

    @property
    def measured(self) -> bool:
        """Whether its streams were recorded (by shoes, a pod, a watch), not entered by hand."""
        return self.source != Source.MANUAL

    # ------------------------------------------------------------------ identity
    def fingerprint(self) -> str:
        """A stable id of the activity for idempotent ingestion: equal for the same run uploaded twice.

        Built from source-independent content only: the UTC start instant to the whole second, the distance to
        10 m and the elapsed time to the whole second ("v1:" + 32 hex digits of SHA-256). Title, id, source,
        shoes and streams resolution do not enter, so a shoe sync and a FIT export of one run agree as long as
        they agree on those three figures. Scope it per runner in storage.
        """
        start = self.start_time.astimezone(dt.UTC).replace(microsecond=0).isoformat()
        key = f"{start}|{round(self.distance_m / 10.0)}|{round(self.elapsed_time_s)}"
        return "v1:" + hashlib.sha256(key.encode()).hexdigest()[:32]

    @property
    def local_start(self) -> dt.datetime:
        return self.start_time.astimezone(ZoneInfo(self.time_zone))

    @property
    def raw_distance_m(self) -> float:
        """The distance as the shoes measured it, before the runner's calibration."""
        return self.distance_m / self.calibration_factor

    # ------------------------------------------------------------------ derived
    def feet(self) -> list[FootSummary]:
        """Running form per foot (left, then right), for the feet that have strides."""
        return [f for side in _SIDES if (f := FootSummary.of(side, self.strides)) is not None]

    def efforts(self) -> tuple[Effort, ...]:
        """Best efforts of the standard distances this run covers (see soleware.runs.efforts); none for a run
        entered by hand."""
        if len(self.streams) < 2 or not self.measured:
            return ()
        return best_efforts(self.streams.t_s, self.streams.distance_m)

    def summary(self, run_id: str | None = None) -> RunSummary:
        """The compact per-run summary (needs an id: ``run_id`` or ``self.id``)."""
        rid = run_id if run_id is not None else self.id
        if rid is None:
            raise RunDataError("summary() needs a run id: pass run_id= or set Run.id")
        running = [s for s in self.strides if s.gait is Gait.RUN]
        cadence: float | None = None
        if running:
            cadence = float(np.mean([s.cadence_spm for s in running]))
        else:
            c = self.streams.cadence_spm[self.streams.speed_mps > MOVING_SPEED_MPS]
            c = c[np.isfinite(c)]
            cadence = float(np.mean(c)) if len(c) else None
        strikes = [s.strike_type for s in self.strides if s.strike_type is not None]
        fore_mid = sum(1 for x in strikes if x is not StrikeType.REARFOOT) / len(strikes) if strikes else None
        return RunSummary(
            run_id=str(rid),
            start_time=self.start_time,
            time_zone=self.time_zone,
            distance_m=self.distance_m,
            elapsed_time_s=self.elapsed_time_s,
            moving_time_s=self.moving_time_s,
            shoe_serials=self.shoe_serials,
            source=self.source,
            avg_cadence_spm=cadence,
            fore_mid_strike_fraction=fore_mid,
            efforts=self.efforts(),
            speed_time_s=self._speed_time_s(),
            form=_form_fits(running),
            sensor=self.sensor,
        )

    def _speed_time_s(self) -> tuple[float, ...]:
        t, d = self.streams.t_s, self.streams.distance_m
        if len(t) < 2:
            return ()
        dt_s = np.diff(t)
        v = np.diff(d) / dt_s
        moving = v >= MOVING_SPEED_MPS
        bins = np.minimum((v[moving] / SPEED_BIN_MPS).astype(int), SPEED_BIN_COUNT - 1)
        hist = np.bincount(bins, weights=dt_s[moving], minlength=SPEED_BIN_COUNT)
        return tuple(float(x) for x in hist)


def _form_fits(running: Sequence[Stride], *, min_strides: int = 20) -> dict[str, FormFit]:
    out: dict[str, FormFit] = {}
    if len(running) < min_strides:
        return out
    speed = np.array([s.speed_mps for s in running], dtype=np.float64)
    lo, hi = (float(x) for x in np.percentile(speed, [10, 90]))
    for attr in FORM_METRICS:
        y = np.array([np.nan if getattr(s, attr) is None else getattr(s, attr) for s in running], np.float64)
        ok = np.isfinite(y)
        if ok.sum() < min_strides:
            continue
        x, y = speed[ok], y[ok]
        if np.ptp(x) >= 0.3:
            slope, intercept = np.polyfit(x, y, 1)
        else:
            slope, intercept = 0.0, float(np.mean(y))
        out[attr] = FormFit(float(intercept), float(slope), int(ok.sum()), lo, hi)
    return out
