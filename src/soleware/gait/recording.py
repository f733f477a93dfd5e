"""Recordings of a foot-mounted IMU: the CSV + JSON sidecar format of ``../shared/datasets``.

A recording is ``<stem>.csv`` (header ``t,ax,ay,az,gx,gy,gz`` in any column order; seconds, m/s² with gravity,
rad/s, all in the sensor's own frame) and an optional ``<stem>.json`` (sample rate, placement, side, activity,
ground truth, source).

Loading is the edge where bad input is caught: a file that cannot be used raises :class:`RecordingError` naming
the file, the problem and (where it applies) the line and time; what can be repaired (dropped duplicate rows,
missing samples interpolated, a truncated last line, clipped samples) is repaired and said in
``Recording.warnings``. The checks, in order:

* header: the seven known columns, each exactly once, in any order; other columns are read past (warned);
* rows: a field for every column, the seven numeric; a malformed last line is taken for a write cut short
  (dropped, warned), a malformed line elsewhere is an error;
* NaN/inf and impossible values (:data:`IMPOSSIBLE_ACC`, :data:`IMPOSSIBLE_GYR`): rows with them are missing
  samples; a column that is mostly such is an error;
* time: strictly increasing; exact duplicate rows are dropped, the same time with other values drops both rows
  where it is rare (:data:`MAX_CLASHING_TIMES`) and is an error where it is not;
  in seconds (a rate in :data:`SAMPLE_RATE_RANGE_HZ`; milliseconds and the like are named);
* length: at least :data:`MIN_SAMPLES` samples and :data:`MIN_DURATION_S` seconds;
* units: accelerometer in g or gyroscope in deg/s is recognised and refused (or converted when stated);
* gaps: missing time is measured against the nominal sample period in seconds, robustly against timestamp
  jitter; gaps up to :data:`MAX_INTERPOLATED_GAP_S` are filled linearly, longer ones split the recording into
  ``segments``;
* saturation: samples stuck at an axis's extreme (clipped) are flagged in ``saturated``.

A :class:`Recording` built in code (a logger's own reader, a shoe's driver) meets the same checks where the engine
takes it: its arrays' shapes when it is built, then (in :meth:`~soleware.gait.pipeline.GaitAnalysis.analyze`,
:func:`with_missing_samples_repaired`) NaN and impossible values, time order and unit, long gaps, the units of
its samples (:func:`check_units`, unless stated) and its stated rate (:func:`timestamps_rate_hz`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.resources
import io
import json
import math
import os
from pathlib import Path
from typing import Any, NamedTuple
from warnings import catch_warnings, simplefilter

import numpy as np

from soleware.gait._signal import median, near_tops, percentile, range_argmax, soft_clipped_runs
from soleware.gait.vocabulary import ACC_RANGE_MPS2, FULL_SCALE_TOL, GRAVITY_MPS2, GYR_RANGE_RPS

__all__ = [
    "ACC_UNITS",
    "CSV_COLUMNS",
    "GYR_UNITS",
    "GroundTruth",
    "Recording",
    "RecordingError",
    "TIME_UNITS",
    "check_time_unit",
    "check_units",
    "load_recording",
    "sample_recording_path",
    "save_recording",
    "timestamps_rate_hz",
    "usable_samples",
    "with_missing_samples_repaired",
]

CSV_COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")

#: a recording shorter than this (in samples or seconds) cannot hold a stride
MIN_SAMPLES = 20
MIN_DURATION_S = 2.0
#: the share of rows whose time repeats with other values that is taken as the odd clash of a counter (both samples
#: dropped as missing; an Xsens MTw stream repeated one packet number in 2,425); more is two streams in one file or
#: a clock that stutters, and is refused
MAX_CLASHING_TIMES = 0.001
#: missing time up to this is filled by linear interpolation; longer gaps split the recording (the analysis estimates
#: the strides they hide from those either side: ``GaitAnalysis(bridge_max_s=...)``). A wireless module
#: drops packets for up to 170 ms (an Xsens MTw Awinda walking, 5-6_rf of Voisard's IPOL set: 117 gaps, 16 of them
#: 50-170 ms, in 14 s), and a recording split at each lost the strides of every piece under 2 s (there 7 of 17
#: strides were left); a quarter of a second is
#: shorter than any walking stance, so a walk keeps its stances, and the strides through a gap are integrated
#: through the filled samples (the stance velocity corrects what the line misses)
MAX_INTERPOLATED_GAP_S = 0.25
#: no accelerometer (m/s² or g) or gyroscope (rad/s or °/s) reads beyond these: such a field is corrupted
IMPOSSIBLE_ACC = 1e4
IMPOSSIBLE_GYR = 1e5
#: a column with more than this fraction of NaN/inf (or impossible values) is refused
MAX_BAD_FRACTION = 0.5
#: above this 99th percentile of |ω| the gyroscope cannot be in rad/s (no foot turns that fast)
GYR_DEG_S_P99_RPS = 35.0
#: the sample rates (Hz) a foot sensor's timestamps in seconds can give
SAMPLE_RATE_RANGE_HZ = (10.0, 5000.0)
#: sidecar rate and timestamps may disagree by this fraction before a warning
RATE_TOLERANCE = 0.05
#: the median |a| (m/s²) of a foot's accelerometer: about 9.81 at rest, 6 g through a sprint at the toe cap (the
#: simulator's at 8 m/s); in g it is 0.5-2.5, in milli-g 500-2500
ACC_MEDIAN_RANGE_MPS2 = (3.0, 150.0)
#: a stated sample rate is checked against the timestamps of at most this many samples (20 s at 200 Hz)
RATE_CHECK_SAMPLES = 4096

#: the units ``load_recording`` reads the columns in ("auto": SI, refused where the values look like g or °/s)
ACC_UNITS = ("auto", "m/s^2", "g")
GYR_UNITS = ("auto", "rad/s", "deg/s")
#: the units of the timestamps, in seconds each
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


class RecordingError(ValueError):
    """A recording cannot be used; the message names the file and the problem."""


@dataclasses.dataclass
class GroundTruth:
    """What a recording's sidecar says really happened (any field may be unknown)."""

    distance_m: float | None = None
    distance_source: str | None = None
    steps: int | None = None
    #: per-stride reference as an (n, 3) array of t_start_s, t_end_s, length_m
    strides: np.ndarray | None = None
    #: reference trajectory as an (n, 4) array of t_s, x_m, y_m, z_m
    trajectory: np.ndarray | None = None
    #: anything else the sidecar carries under ground_truth (kept for round trips)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: the sidecar's stride entries as written, with every key (e.g. contact_time_s a simulator adds)
    stride_details: list[dict[str, Any]] | None = None


@dataclasses.dataclass
class Recording:
    """IMU samples of one foot.

    ``acc_mps2`` is specific force (gravity included) and ``gyr_rps`` angular rate, both (n, 3) in the sensor
    frame; ``t_s`` is (n,) seconds since the first sample.
    """

    t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_rps: np.ndarray
    sample_rate_hz: float
    placement: str = "unknown"
    side: str = "unknown"
    activity: str = "unknown"
    ground_truth: GroundTruth = dataclasses.field(default_factory=GroundTruth)
    source: dict[str, Any] = dataclasses.field(default_factory=dict)
    notes: str = ""
    name: str = ""
    #: what loading found and repaired (gaps interpolated, ...), in words
    warnings: list[str] = dataclasses.field(default_factory=list)
    #: half-open sample index ranges [start, end) of continuous data; split where a long gap was found
    segments: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    #: (n,) True where any accelerometer or gyroscope axis is clipped at its range
    saturated: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: the chip's full-scale ranges (± m/s², ± rad/s) where the sidecar states them
    acc_range_mps2: float | None = None
    gyr_range_rps: float | None = None
    #: whoever built it stated the units (:func:`load_recording` with ``acc_unit`` or ``gyr_unit`` other than
    #: "auto"): the engine takes them as given even where the samples look like g or deg/s (:func:`check_units`)
    units_stated: bool = False

    def __post_init__(self) -> None:
        self.t_s = np.asarray(self.t_s, dtype=float)
        self.acc_mps2 = np.asarray(self.acc_mps2, dtype=float)
        self.gyr_rps = np.asarray(self.gyr_rps, dtype=float)
        n = len(self.t_s)
        for field, x in (("acc_mps2", self.acc_mps2), ("gyr_rps", self.gyr_rps)):
            if x.shape != (n, 3):
                raise ValueError(
                    f"{field} has shape {x.shape}, expected ({n}, 3): one row of x, y, z per sample of t_s"
                )
        if self.t_s.ndim != 1:
            raise ValueError(f"t_s has shape {self.t_s.shape}, expected ({n},)")
        if not self.segments and n:
            self.segments = [(0, n)]
        if len(self.saturated) == 0 and n:
            self.saturated = np.zeros(n, dtype=bool)
        if self.saturated.shape != (n,):
            raise ValueError(f"saturated has shape {self.saturated.shape}, expected ({n},)")

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self.t_s) else 0.0

    def kept(self, keep: np.ndarray) -> Recording:
        """The samples where ``keep`` is True, as a recording of its own: where the gaps left lie, the analysis
        finds them again (its segments start as one)."""
        return dataclasses.replace(
            self,
            t_s=self.t_s[keep],
            acc_mps2=self.acc_mps2[keep],
            gyr_rps=self.gyr_rps[keep],
            segments=[],
            saturated=self.saturated[keep],
        )

    def __len__(self) -> int:
        return len(self.t_s)


def usable_samples(t_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray) -> np.ndarray | None:
    """Per sample, whether its time and every axis are finite and each reading within what a sensor can read
    (:data:`IMPOSSIBLE_ACC` m/s², :data:`IMPOSSIBLE_GYR` rad/s); None where all are (the common case, found
    from the extremes without a pass that allocates)."""
    if not len(acc_mps2):
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if (
            math.isfinite(float(t_s.sum()))
            and -IMPOSSIBLE_ACC <= float(acc_mps2.min()) <= float(acc_mps2.max()) <= IMPOSSIBLE_ACC
            and -IMPOSSIBLE_GYR <= float(gyr_rps.min()) <= float(gyr_rps.max()) <= IMPOSSIBLE_GYR
        ):
            return None
        good = (
            np.isfinite(t_s)
            & (np.abs(acc_mps2) <= IMPOSSIBLE_ACC).all(axis=1)
            & (np.abs(gyr_rps) <= IMPOSSIBLE_GYR).all(axis=1)
        )
    return None if good.all() else good


def with_missing_samples_repaired(recording: Recording) -> Recording:
    """``recording`` with its samples that hold a NaN, an inf or a value no sensor reads (in the time or on any
    axis) treated as :func:`load_recording` treats such rows: missing samples, short gaps interpolated and long
    ones split into segments, said in ``warnings``; mostly such samples are refused. Where every sample is
    usable, only a gap in the time longer than :data:`MAX_INTERPOLATED_GAP_S` inside a segment splits it; a
    recording with none comes back as it is.

    A recording built in code (a logger's own reader, a shoe's driver) can carry a sensor's read failures as NaN;
    integrated, one NaN would spread over every stride after it, and a stride through seconds without samples
    would be integrated over them as one step.
    """
    t, acc, gyr = recording.t_s, recording.acc_mps2, recording.gyr_rps
    good = usable_samples(t, acc, gyr)
    name = recording.name or "recording"
    if good is None:
        return _split_at_long_gaps(recording, _time_steps_s(name, t))
    bad = int(np.count_nonzero(~good))
    if bad > MAX_BAD_FRACTION * len(good) or len(good) - bad < 2:
        raise RecordingError(
            f"{name}: {bad / len(good):.0%} of the samples hold NaN, inf or a value no sensor reads (|a| > "
            f"{IMPOSSIBLE_ACC:g} m/s², |ω| > {IMPOSSIBLE_GYR:g} rad/s): a dead sensor, or raw counts or another "
            "unit than m/s² and rad/s?"
        )
    first = int(np.flatnonzero(~good)[0])
    warnings = [
        *recording.warnings,
        f"{bad} samples with NaN, inf or an impossible value treated as missing samples (first: sample {first})",
    ]
    kept_t = t[good]
    _time_steps_s(name, kept_t)
    period_s = _nominal_period_s(kept_t)
    flags = recording.saturated[good].astype(float)[:, None]
    t_new, (acc_new, gyr_new, flags_new), segments = _repair_gaps(
        kept_t, (acc[good], gyr[good], flags), period_s, warnings
    )
    return dataclasses.replace(
        recording,
        t_s=t_new,
        acc_mps2=acc_new,
        gyr_rps=gyr_new,
        warnings=warnings,
        segments=segments,
        saturated=flags_new[:, 0] > 0.0,
    )


def _time_steps_s(name: str, t_s: np.ndarray) -> np.ndarray:
    """The steps (s) between samples at times ``t_s`` (a recording built in code), refused where time goes
    backwards or stands still, or where the steps cannot be seconds (:func:`check_time_unit`), as
    :func:`load_recording` refuses such a file: reversed, the sample recording ran 197 million km; in
    milliseconds it found no stride."""
    dt = np.diff(t_s)
    if len(dt) and not float(dt.min()) > 0.0:
        i = int(np.argmin(dt > 0.0)) + 1
        raise RecordingError(
            f"{name}: sample {i}: time goes backwards or stands still (t = {t_s[i]:g} s after t = {t_s[i - 1]:g} "
            "s); timestamps must be strictly increasing"
        )
    if len(dt) >= 2:
        check_time_unit(name, _nominal_period_s(t_s[:RATE_CHECK_SAMPLES]))
    return dt


def _split_at_long_gaps(recording: Recording, dt: np.ndarray) -> Recording:
    """``recording`` with its segments split where the time jumps (``dt``: its steps, s) by more than
    :data:`MAX_INTERPOLATED_GAP_S`."""
    t = recording.t_s
    if len(t) < 2:
        return recording
    breaks = np.flatnonzero(dt > MAX_INTERPOLATED_GAP_S) + 1
    if not len(breaks):
        return recording
    segments = []
    for a, b in recording.segments or [(0, len(t))]:
        inside = breaks[(breaks > a) & (breaks < b)].tolist()
        segments += list(zip([a, *inside], [*inside, b], strict=True))
    if len(segments) == len(recording.segments):
        return recording
    gaps = ", ".join(f"{t[i] - t[i - 1]:.3f} s after t = {t[i - 1]:.3f} s" for i in breaks[:5])
    more = f" and {len(breaks) - 5} more" if len(breaks) > 5 else ""
    warning = f"gaps too long to fill ({gaps}{more}): recording split into segments there"
    return dataclasses.replace(recording, segments=segments, warnings=[*recording.warnings, warning])


def sample_recording_path() -> Path:
    """Path of the bundled sample recording (walking and running strides, MIT; see ``data/NOTICE.md``)."""
    data_dir = importlib.resources.files("soleware.gait").joinpath("data")
    if isinstance(data_dir, Path):
        return data_dir / "sample_run.csv"
    # installed inside a zip: unpack the folder once (CSV and sidecar together) for this process
    return _EXTRACTED.enter_context(importlib.resources.as_file(data_dir)) / "sample_run.csv"


_EXTRACTED = contextlib.ExitStack()


def _sidecar_path(csv_path: Path) -> Path:
    return csv_path.with_suffix(".json")


# --------------------------------------------------------------------------------------------------------------
# loading


def load_recording(
    path: str | Path,
    *,
    acc_unit: str = "auto",
    gyr_unit: str = "auto",
    time_unit: str = "s",
    with_trajectory: bool = True,
) -> Recording:
    """Read ``<stem>.csv`` and its ``<stem>.json`` sidecar (optional), validate and repair what can be repaired.

    ``acc_unit`` / ``gyr_unit`` / ``time_unit`` state the units of the file's columns; they are converted to
    m/s², rad/s and s here. ``"auto"`` expects SI units and raises when the values look like g or deg/s; seconds
    that cannot be (a sample rate no foot sensor has) raise whatever the unit was. ``with_trajectory=False``
    skips reading the reference trajectory a sidecar names (``ground_truth.trajectory`` stays None): it is as
    large as the recording and only evaluation needs it.
    """
    if acc_unit not in ACC_UNITS:
        raise ValueError(f"acc_unit must be one of {', '.join(ACC_UNITS)}, not {acc_unit!r}")
    if gyr_unit not in GYR_UNITS:
        raise ValueError(f"gyr_unit must be one of {', '.join(GYR_UNITS)}, not {gyr_unit!r}")
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}")
    csv_path = Path(path)
    if csv_path.suffix != ".csv":
        csv_path = csv_path.with_suffix(".csv")
    if not csv_path.is_file():
        raise RecordingError(f"{csv_path}: no such file")
    meta = _read_sidecar(_sidecar_path(csv_path))
    warnings: list[str] = []

    data, line_no = _read_table(csv_path, warnings)
    data, line_no = _drop_bad_rows(csv_path, data, line_no, warnings)
    data = _check_time_order(csv_path, data, line_no, warnings, time_unit=time_unit)
    t = data[:, 0] - data[:, 0][0]
    if time_unit != "s":
        t *= TIME_UNITS[time_unit]
    period_s = _period_s(csv_path, t)
    acc = _acc_to_mps2(csv_path, data[:, 1:4], acc_unit, warnings)
    gyr = _gyr_to_rps(csv_path, data[:, 4:7], gyr_unit, warnings)

    rate_hz = _sidecar_rate_hz(csv_path, meta)
    if rate_hz is not None and not _rate_agrees(rate_hz, period_s):
        warnings.append(
            f"sidecar sample_rate_hz = {rate_hz:g} but the timestamps say {1.0 / period_s:.2f} Hz "
            f"(off by more than {RATE_TOLERANCE:.0%}); the timestamps are used"
        )
    t, (acc, gyr), segments = _repair_gaps(t, (acc, gyr), period_s, warnings)

    acc_range = _sidecar_range(csv_path, meta, "acc_range_mps2", ACC_RANGE_MPS2, "m/s² (16 g = 156.9)")
    gyr_range = _sidecar_range(csv_path, meta, "gyr_range_rps", GYR_RANGE_RPS, "rad/s (2000 °/s = 34.9)")
    saturated = np.zeros(len(t), dtype=bool)
    clipped_axes = []
    for name, col in zip(CSV_COLUMNS[1:], [*acc.T, *gyr.T], strict=True):
        full_scale = acc_range if name[0] == "a" else gyr_range
        mask = _clipped(col, min_level=_ACC_CLIP_MIN_MPS2 if name[0] == "a" else _GYR_CLIP_MIN_RPS)
        if full_scale is not None:
            mask |= np.abs(col) >= (1.0 - FULL_SCALE_TOL) * full_scale
        if mask.any():
            clipped_axes.append(f"{name} {int(mask.sum())}")
            saturated |= mask
    if saturated.any():
        warnings.append(
            f"{int(saturated.sum())} samples ({saturated.mean():.1%}) look clipped at the sensor's range "
            f"(per axis: {', '.join(clipped_axes)}); flagged in `saturated`"
        )

    return Recording(
        t_s=t,
        acc_mps2=acc,
        gyr_rps=gyr,
        sample_rate_hz=float(rate_hz if rate_hz is not None else 1.0 / period_s),
        placement=str(meta.get("placement") or "unknown"),
        side=str(meta.get("side") or "unknown"),
        activity=str(meta.get("activity") or "unknown"),
        ground_truth=_ground_truth(csv_path, meta, with_trajectory=with_trajectory),
        source=meta.get("source") or {},
        notes=meta.get("notes") or "",
        name=csv_path.stem,
        warnings=warnings,
        segments=segments,
        saturated=saturated,
        acc_range_mps2=acc_range,
        gyr_range_rps=gyr_range,
        units_stated=acc_unit != "auto" or gyr_unit != "auto",
    )


def _fast_json(data: bytes) -> Any:
    """``json.loads`` by orjson where it is installed (the service's dependency; the engine needs numpy alone): a
    simulator's sidecar lists thousands of strides, which it parses several times faster. Raises ValueError where
    orjson refuses the text, and without orjson always."""
    try:
        import orjson
    except ImportError:
        raise ValueError("orjson is not installed") from None
    return orjson.loads(data)


def _read_sidecar(side_path: Path) -> dict[str, Any]:
    if not side_path.exists():
        return {}
    try:
        meta = _fast_json(side_path.read_bytes())
    except ValueError:
        # orjson is stricter than json (NaN, 1e400, lone surrogates): json decides, and explains what it refuses
        try:
            meta = json.loads(side_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RecordingError(f"{side_path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise RecordingError(f"{side_path}: expected a JSON object, found {type(meta).__name__}")
    return meta


def _sidecar_range(
    csv_path: Path, meta: dict[str, Any], key: str, plausible: tuple[float, float], unit: str
) -> float | None:
    """A chip range the sidecar states, in SI units; a value no chip has (a range given in g or °/s) is refused."""
    value = meta.get(key)
    if value is None:
        return None
    lo, hi = plausible
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise RecordingError(
            f"{_sidecar_path(csv_path)}: {key} must be the chip's full-scale range in {unit}, between {lo:g} and "
            f"{hi:g}, not {value!r}"
        )
    return float(value)


def _sidecar_rate_hz(csv_path: Path, meta: dict[str, Any]) -> float | None:
    rate = meta.get("sample_rate_hz")
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= 0:
        raise RecordingError(
            f"{_sidecar_path(csv_path)}: sample_rate_hz must be a positive number, not {rate!r}"
        )
    return float(rate)


def _read_table(csv_path: Path, warnings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse the CSV into an (n, 7) array in CSV_COLUMNS order, with each row's line number in the file."""
    plain = _read_plain(csv_path)
    if plain is not None:
        table, line_no, header = plain
    else:
        raw = csv_path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RecordingError(f"{csv_path}: not a UTF-8 text file ({exc})") from None
        # power loss while writing often leaves NUL padding after the last complete byte
        lines = text.rstrip("\x00 \t\r\n").splitlines()
        header = _read_header(csv_path, lines[0] if lines else "")
        table, line_no = _read_body(csv_path, lines[1:], header, warnings)
    ignored = [name for name in header if name not in CSV_COLUMNS]
    if ignored:
        warnings.append(
            f"column(s) {', '.join(repr(n) for n in ignored)} ignored: the engine reads {','.join(CSV_COLUMNS)}"
        )
    return table, line_no


def _usecols(header: list[str]) -> list[int] | None:
    """The file's columns to read, in CSV_COLUMNS order (None: the file has exactly those, in that order)."""
    if tuple(header) == CSV_COLUMNS:
        return None
    return [header.index(name) for name in CSV_COLUMNS]


def _read_plain(csv_path: Path) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """A plain file (ASCII, every row complete and numeric) parsed in one pass, by Arrow's CSV reader where
    pyarrow is installed (a dependency of the package; the engine needs numpy alone), else by ``np.loadtxt``.

    Arrow parses an hour at 200 Hz in a third of the time ``np.loadtxt`` takes, to the same bits
    (benchmarks/analyze_speed.py). None for anything else, which the line-by-line reader then parses, repairs
    or names the line of: both readers fail on non-ASCII bytes, NUL, an incomplete or non-numeric row and a line
    of blanks, and here on an empty line too, which ``np.loadtxt`` would otherwise skip and so shift the line
    numbers. Whitespace after the last row is no row: a file that has more of it than one line break is read
    whole and parsed up to its last row.
    """
    with csv_path.open("rb") as f:
        first = f.readline()
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - 256))
        tail = f.read()
    if not first.isascii() or b"\x00" in first or not first.endswith(b"\n"):
        return None
    header = _read_header(csv_path, first.decode("ascii"))
    cols = _usecols(header) or list(range(len(CSV_COLUMNS)))
    body: Path | bytes = csv_path
    if tail[len(tail.rstrip(b" \t\r\n")) :] not in (b"", b"\n", b"\r\n"):
        raw = csv_path.read_bytes()
        end = len(raw)
        while end and raw[end - 1] in b" \t\r\n":  # the rows end there (found without a copy of the file)
            end -= 1
        body = raw[:end] + b"\n"  # one copy, ending as a plain file does
    try:
        table = _parse_arrow(body, len(header), cols)
    except ImportError:
        table = _parse_loadtxt(body, cols)
    if table is None or not len(table):
        return None
    return table, np.arange(2, len(table) + 2), header


def _parse_arrow(body: Path | bytes, n_fields: int, cols: list[int]) -> np.ndarray | None:
    """The rows after the header as an (n, len(cols)) array, or None where a row is not plain numbers; raises
    ImportError without pyarrow. No quoting, no null values, no skipped lines: what it takes, ``np.loadtxt``
    takes as the same numbers (nan, inf, 1e5, .5, blanks around a number)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = [str(i) for i in range(n_fields)]
    pool = pa.system_memory_pool()  # malloc's: what the table held is the analysis's again (Arrow's keeps it)
    try:
        table = pa_csv.read_csv(
            str(body) if isinstance(body, Path) else pa.py_buffer(body),
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names, use_threads=False),
            parse_options=pa_csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={names[i]: pa.float64() for i in cols},
                include_columns=[names[i] for i in cols],
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
            memory_pool=pool,
        )
    except (pa.ArrowException, ValueError):
        return None
    out = np.empty((table.num_rows, len(cols)))
    for j, name in enumerate(table.column_names):
        out[:, j] = table.column(name).to_numpy()
    del table
    pool.release_unused()
    return out


def _parse_loadtxt(body: Path | bytes, cols: list[int]) -> np.ndarray | None:
    """``_parse_arrow`` by ``np.loadtxt``: its warning on an empty line (which it would skip) is an error."""
    if isinstance(body, bytes):
        source: Path | io.BytesIO = io.BytesIO(body)
        rows = max_rows = body.count(b"\n") - 1
    else:
        source, rows, max_rows = body, None, os.path.getsize(body)  # the size: more rows than the file holds
    try:
        with catch_warnings():
            simplefilter("error", UserWarning)
            table = np.loadtxt(
                source,
                delimiter=",",
                comments=None,
                dtype=float,
                ndmin=2,
                skiprows=1,
                max_rows=max_rows,
                encoding="ascii",
                usecols=cols,
            )
    except (ValueError, UnicodeDecodeError, UserWarning):
        return None
    if rows is not None and len(table) != rows:
        return None
    return table


def _read_header(csv_path: Path, line: str) -> list[str]:
    if not line.strip():
        raise RecordingError(f"{csv_path}: empty file")
    header = [name.strip().strip('"').strip() for name in line.split(",")]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    missing = [name for name in CSV_COLUMNS if name not in header]
    doubled = sorted({name for name in CSV_COLUMNS if header.count(name) > 1})
    if missing or doubled:  # other columns (a temperature, a magnetometer) are read past
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(repr(n) for n in unknown)}")
        if doubled:
            problems.append(f"repeated column(s) {', '.join(doubled)}")
        raise RecordingError(
            f"{csv_path}: line 1: bad header ({'; '.join(problems)}); expected the columns "
            f"{','.join(CSV_COLUMNS)} (any order)"
        )
    return header


def _read_body(
    csv_path: Path, body: list[str], header: list[str], warnings: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The data lines one by one: blank lines skipped, a cut-off last line dropped, a malformed one named."""
    line_no = np.arange(2, len(body) + 2)
    if any(not line.strip() for line in body):
        keep = [i for i, line in enumerate(body) if line.strip()]
        body = [body[i] for i in keep]
        line_no = line_no[keep]
    if not body:
        raise RecordingError(f"{csv_path}: no samples (header only)")
    problem = _row_problem(body[-1], header)
    if problem:
        if len(body) == 1:
            raise RecordingError(f"{csv_path}: no complete samples (line {line_no[-1]}: {problem})")
        warnings.append(
            f"last line {line_no[-1]} is incomplete ({problem}), as if writing stopped mid-row; dropped it "
            f"and kept the {len(body) - 1} complete rows"
        )
        body, line_no = body[:-1], line_no[:-1]
    cols = _usecols(header)
    try:
        table = np.loadtxt(body, delimiter=",", comments=None, dtype=float, ndmin=2, usecols=cols)
    except ValueError as exc:
        for line, no in zip(body, line_no, strict=True):
            problem = _row_problem(line, header)
            if problem:
                raise RecordingError(f"{csv_path}: line {no}: malformed row ({problem})") from None
        # only empty fields left: those are missing values, the NaN rules below apply to them
        body = [",".join(f if f.strip() else "nan" for f in line.split(",")) for line in body]
        try:
            table = np.loadtxt(body, delimiter=",", comments=None, dtype=float, ndmin=2, usecols=cols)
        except ValueError:
            raise RecordingError(f"{csv_path}: cannot parse ({exc})") from None
    return table, line_no


def _row_problem(line: str, header: list[str]) -> str:
    """What is wrong with one data line, or '' when it parses."""
    fields = line.split(",")
    if len(fields) != len(header):
        return f"{len(fields)} fields instead of {len(header)}"
    for name, field in zip(header, fields, strict=True):
        if name not in CSV_COLUMNS:
            continue
        try:
            float(field)
        except ValueError:
            if field.strip():  # an empty field is a missing value, not a malformed row
                return f"non-numeric {name} value {field.strip()!r}"
    return ""


def _drop_bad_rows(
    csv_path: Path, data: np.ndarray, line_no: np.ndarray, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Refuse columns mostly NaN/inf or mostly beyond any reading (another unit); treat the rows that have
    NaN/inf or an impossible value as missing samples.

    An impossible value (``IMPOSSIBLE_ACC``, ``IMPOSSIBLE_GYR``) is a corrupted field, not a reading.
    """
    # The quick check, two passes over the whole table: a NaN makes its extremes NaN, an inf or an impossible
    # value puts them out of bounds. It also holds the timestamps to the bound, so a recording whose clock
    # starts far from 0 takes the full check below.
    if len(data) and data.min() >= -IMPOSSIBLE_ACC and data.max() <= IMPOSSIBLE_ACC:
        return data, line_no
    limit = np.array([np.inf, *[IMPOSSIBLE_ACC] * 3, *[IMPOSSIBLE_GYR] * 3])
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(data) & (np.abs(data) <= limit)
    if len(data) and finite.all():  # the quick check's bound held a timestamp only
        return data, line_no
    bad_fraction = 1.0 - finite.mean(axis=0)
    # finite but beyond any reading: a unit the reader does not know (mg, mdps) or raw counts, not a dead sensor
    mostly_finite = np.isfinite(data).mean(axis=0) >= 1.0 - MAX_BAD_FRACTION
    refused = [
        (f"{name} ({frac:.0%})", finite_col)
        for name, frac, finite_col in zip(CSV_COLUMNS, bad_fraction, mostly_finite, strict=True)
        if frac > MAX_BAD_FRACTION
    ]
    if refused:
        dead = [named for named, finite_col in refused if not finite_col]
        large = [named for named, finite_col in refused if finite_col]
        problems = []
        if dead:
            problems.append(
                f"column(s) mostly NaN/inf: {', '.join(dead)}; the sensor delivered no usable values"
            )
        if large:
            problems.append(
                f"column(s) mostly beyond {IMPOSSIBLE_ACC:g} (accelerometer) or {IMPOSSIBLE_GYR:g} (gyroscope): "
                f"{', '.join(large)}; no foot reads that much in m/s², g, rad/s or deg/s: a unit such as mg or "
                "mdps, or raw counts? Convert them to one of those units"
            )
        raise RecordingError(f"{csv_path}: {'; '.join(problems)}")
    good = finite.all(axis=1)
    if not good.all():
        first = int(np.flatnonzero(~good)[0])
        warnings.append(
            f"{int((~good).sum())} rows with NaN, inf, empty or impossible values (|a| > {IMPOSSIBLE_ACC:g}, "
            f"|ω| > {IMPOSSIBLE_GYR:g} in the file's units) treated as missing samples "
            f"(first at line {line_no[first]})"
        )
        data, line_no = data[good], line_no[good]
    if len(data) == 0:
        raise RecordingError(f"{csv_path}: no usable samples (every row has NaN/inf)")
    return data, line_no


def _check_time_order(
    csv_path: Path, data: np.ndarray, line_no: np.ndarray, warnings: list[str], *, time_unit: str = "s"
) -> np.ndarray:
    """Refuse time going backwards, or repeated with other values in more than :data:`MAX_CLASHING_TIMES` of the
    rows (a rarer clash drops both rows: missing samples); drop exact duplicate rows. Samples stamped in
    batches (:func:`_batch_spread_s`) are spread over their batches' intervals instead."""
    dt = np.diff(data[:, 0])
    back = np.flatnonzero(dt < 0)
    if back.size:
        i = int(back[0]) + 1
        raise RecordingError(
            f"{csv_path}: line {line_no[i]}: time goes backwards (t = {data[i, 0]:g} s after "
            f"t = {data[i - 1, 0]:g} s on line {line_no[i - 1]}); timestamps must be strictly increasing"
        )
    same = np.flatnonzero(dt == 0) + 1
    if same.size:
        differs = same[np.any(data[same] != data[same - 1], axis=1)]
        batched = _batch_spread_s(data) if differs.size else None
        if batched is not None:
            t, m, step = batched
            warnings.append(
                f"timestamps repeat in batches of {m} samples (a logger stamping each packet as it arrives): each "
                f"batch spread evenly over the interval to the next ({step * TIME_UNITS[time_unit] * 1e3:.3g} ms a "
                "sample)"
            )
            return np.column_stack((t, data[:, 1:]))
        if differs.size > MAX_CLASHING_TIMES * len(data):
            i = int(differs[0])
            raise RecordingError(
                f"{csv_path}: line {line_no[i]}: repeated time t = {data[i, 0]:g} s with values different from "
                f"line {line_no[i - 1]} ({differs.size} of {len(data)} rows so); cannot tell which sample is right"
            )
        if differs.size:
            shown = ", ".join(f"{line_no[i - 1]}-{line_no[i]}" for i in differs[:5].tolist())
            warnings.append(
                f"timestamps repeated with other values: {differs.size} (lines {shown}"
                f"{' ...' if differs.size > 5 else ''}); neither sample can be trusted, both taken as missing"
            )
        exact = np.setdiff1d(same, differs)
        if exact.size:
            warnings.append(f"{exact.size} exact duplicate rows dropped (first at line {line_no[exact[0]]})")
        data = np.delete(data, np.concatenate((exact, differs, differs - 1)), axis=0)
    return data


def _batch_spread_s(data: np.ndarray) -> tuple[np.ndarray, int, float] | None:
    """Timestamps for samples stamped in batches, else None.

    A logger that stamps each Bluetooth packet as it arrives gives every sample of the packet the same time: runs
    of equal stamps, mostly of one length ``m`` (at least 2), each run's stamp the next run's less ``m`` sample
    periods. Such a file is one stream in order, and each run is spread evenly over the interval to the next
    stamp (the last at the median spacing). Two sensors interleaved at shared stamps (a left and a right shoe in
    one file) look alike by their times, but their consecutive rows jump between the sensors: read as one stream,
    rows next to each other would differ more than rows ``m`` apart, and the file is left to be refused. Returns
    the times, ``m`` and the median spacing (s).
    """
    t = data[:, 0]
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    lengths = np.diff(np.r_[starts, len(t)])
    inner = lengths[1:-1]
    if len(inner) < 3:
        return None
    m = int(np.bincount(inner).argmax())
    if m < 2 or np.mean(inner == m) < 0.5:
        return None
    step = np.diff(t[starts]) / lengths[:-1]
    spacing = median(step)
    if spacing <= 0 or np.mean(np.abs(step - spacing) <= 0.25 * spacing) < 0.9:
        return None
    values = data[:, 1:]
    if median(np.abs(np.diff(values, axis=0)).sum(axis=1)) >= 0.8 * median(
        np.abs(values[m:] - values[:-m]).sum(axis=1)
    ):
        return None
    offset = np.arange(len(t)) - np.repeat(starts, lengths)
    return t + offset * np.repeat(np.r_[step, spacing], lengths), m, float(spacing)


def _acc_to_mps2(csv_path: Path, acc: np.ndarray, unit: str, warnings: list[str]) -> np.ndarray:
    if unit == "g":
        acc = acc * GRAVITY_MPS2
    _refuse_or_warn(csv_path, _acc_unit_problem(acc), "acc", unit, warnings)
    return acc


class _UnitProblem(NamedTuple):
    """Samples that cannot be in SI units: what they look like, how to convert them, and the unit
    ``load_recording`` converts them from where they look like one it knows ("g", "deg/s"; else None)."""

    looks: str
    fix: str
    unit: str | None = None


#: the sensors' names in messages, by their column prefix
_SENSOR_NAMES = {"acc": "accelerometer", "gyr": "gyroscope"}


def _refuse_or_warn(
    csv_path: Path, problem: _UnitProblem | None, sensor: str, unit: str, warnings: list[str]
) -> None:
    """A file's samples of ``sensor`` ("acc", "gyr") read in ``unit`` with a unit ``problem``: refused where the
    unit was "auto" (with how to ask for the conversion where :func:`load_recording` knows the unit they look
    like), said in ``warnings`` where it was stated."""
    if problem is None:
        return
    name = _SENSOR_NAMES[sensor]
    if unit != "auto":
        warnings.append(f"{name} stated as {unit} but it {problem.looks}")
        return
    fix = problem.fix
    if problem.unit is not None:
        u = problem.unit
        fix = f"load it with {sensor}_unit='{u}' (soleware analyze --{sensor}-unit {u}) to convert, or {fix}"
    raise RecordingError(f"{csv_path}: the {name} {problem.looks}; {fix}")


def _acc_unit_problem(acc: np.ndarray) -> _UnitProblem | None:
    """None where the accelerometer's median magnitude is plausible for m/s² (:data:`ACC_MEDIAN_RANGE_MPS2`), else
    what it looks like and how to convert it."""
    ax, ay, az = acc.T  # |a|² as np.linalg.norm sums it, (x² + y²) + z², on the columns: several times faster
    squared = (ax * ax + ay * ay) + az * az
    lo, hi = ACC_MEDIAN_RANGE_MPS2
    if _median_within(squared, lo * lo, hi * hi):  # plausible for m/s²: the median itself is not needed
        return None
    median_mps2 = float(median(np.sqrt(squared)))
    if 0.5 <= median_mps2 <= 2.5:
        looks = f"looks like g, not m/s² (median |a| = {median_mps2:.2f}, at rest it is about 9.81 m/s²)"
        return _UnitProblem(looks, f"multiply ax, ay, az by {GRAVITY_MPS2:g}", "g")
    if not lo <= median_mps2 <= hi:
        looks = f"is implausible for m/s² (median |a| = {median_mps2:.3g}; at rest it is about 9.81 m/s²)"
        fix = "convert ax, ay, az to m/s² (gravity included)"
        if 500.0 <= median_mps2 <= 2500.0:
            fix += "; in milli-g divide them by 1,000 and load them as g"
        return _UnitProblem(looks, fix)
    return None


def _median_within(squared: np.ndarray, lo: float, hi: float) -> bool:
    """Whether the median of ``sqrt(squared)`` (finite samples) surely lies in ``[sqrt(lo), sqrt(hi)]``, by counting.

    Both middle order statistics lie in the range when few enough samples fall outside it on either side, and
    then so does their mean. Comparing the squares errs only towards False (a square just below ``lo`` may have
    its rounded root at the bound): False sends the caller to the median itself.
    """
    n = len(squared)
    return bool(
        np.count_nonzero(squared < lo) <= (n - 1) // 2 and np.count_nonzero(squared > hi) <= n - 1 - n // 2
    )


def _gyr_to_rps(csv_path: Path, gyr: np.ndarray, unit: str, warnings: list[str]) -> np.ndarray:
    if unit == "deg/s":
        gyr = np.deg2rad(gyr)
    _refuse_or_warn(csv_path, _gyr_unit_problem(gyr, in_deg_s=unit == "deg/s"), "gyr", unit, warnings)
    return gyr


def _gyr_unit_problem(gyr_rps: np.ndarray, *, in_deg_s: bool = False) -> _UnitProblem | None:
    """None where the gyroscope's 99th percentile |ω| is plausible for rad/s (a foot stays below
    :data:`GYR_DEG_S_P99_RPS`), else what it looks like and how to convert it (its figures in deg/s where the
    samples were converted from them: ``in_deg_s``)."""
    # no percentile lies above the largest |ω|: within the bound, no partial sort is needed
    if gyr_rps.max() <= GYR_DEG_S_P99_RPS and gyr_rps.min() >= -GYR_DEG_S_P99_RPS:
        return None
    p99_rps = percentile(np.abs(gyr_rps), 99)
    if p99_rps <= GYR_DEG_S_P99_RPS:
        return None
    limit_dps = math.degrees(GYR_DEG_S_P99_RPS)
    p99 = math.degrees(p99_rps) if in_deg_s else p99_rps  # in the samples' unit
    if p99 <= limit_dps:
        looks = (
            f"looks like deg/s, not rad/s (99th percentile |ω| = {p99:.0f}; a foot stays below "
            f"{GYR_DEG_S_P99_RPS:g} rad/s)"
        )
        return _UnitProblem(looks, "multiply gx, gy, gz by pi/180", "deg/s")
    looks = (
        f"is implausible for rad/s and for deg/s (99th percentile |ω| = {p99:.0f} in the unit given; a foot "
        f"stays below {GYR_DEG_S_P99_RPS:g} rad/s, {limit_dps:.0f} deg/s)"
    )
    fix = (
        "in millidegrees per second divide gx, gy, gz by 1,000 and load them as deg/s; raw counts need the "
        "chip's sensitivity"
    )
    return _UnitProblem(looks, fix)


#: the unit check of a recording built in code looks at no more than about this many samples (spread evenly)
UNIT_CHECK_SAMPLES = 65536
#: nor judges samples spanning less than this (s): the shortest stretch the engine analyses
UNIT_CHECK_MIN_S = 2.0


def check_units(
    t_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray, *, name: str = "recording"
) -> None:
    """Refuse samples built in code (a recording, a stream's window) whose accelerometer reads g (or milli-g, raw
    counts) instead of m/s², or whose gyroscope reads deg/s instead of rad/s, as :func:`load_recording` refuses
    such a file.

    The engine takes SI units as documented and cannot tell them from the samples' shape: a run given in g and
    deg/s was analysed as 5.7 m of its 100 m, one in deg/s alone as 65 m. Evenly spread samples stand for the
    whole (the checks are a median and a 99th percentile), so a long recording costs no more than about
    :data:`UNIT_CHECK_SAMPLES` of them. Samples over less than :data:`UNIT_CHECK_MIN_S` are not judged: a foot's
    swing alone may read 2 m/s².
    """
    if len(t_s) < 2 or t_s[-1] - t_s[0] < UNIT_CHECK_MIN_S:
        return
    step = max(1, len(acc_mps2) // UNIT_CHECK_SAMPLES)
    acc, gyr = acc_mps2[::step], gyr_rps[::step]
    for sensor, problem in (("accelerometer", _acc_unit_problem(acc)), ("gyroscope", _gyr_unit_problem(gyr))):
        if problem is not None:
            raise RecordingError(f"{name}: the {sensor} {problem.looks}; {problem.fix}")


# --------------------------------------------------------------------------------------------------------------
# gaps


def _nominal_period_s(t: np.ndarray) -> float:
    """Sample period from the timestamps, robust to jitter and bunching (host clocks) and to a few gaps.

    The median of single intervals is biased when timestamps arrive in bunches (a few near-zero intervals and
    many long ones); the median over spans of several intervals averages the bunching out while a gap still
    only spoils the minority of spans that contain it.
    """
    k = max(1, min(50, (len(t) - 1) // 10))
    return float(median((t[k:] - t[:-k]) / k))


def _rate_agrees(rate_hz: float, period_s: float) -> bool:
    """Whether a stated sample rate is the timestamps' (nominal ``period_s``) within :data:`RATE_TOLERANCE`."""
    return abs(1.0 / period_s - rate_hz) <= RATE_TOLERANCE * rate_hz


def timestamps_rate_hz(t_s: np.ndarray, stated_hz: float) -> float:
    """The sample rate (Hz) of continuous samples at strictly increasing times ``t_s`` in seconds (the callers
    check both): ``stated_hz`` where their timestamps agree with it within :data:`RATE_TOLERANCE` (a chip's
    nominal 200 Hz for its 204.8 Hz), else the timestamps' own, from at most the first
    :data:`RATE_CHECK_SAMPLES`.

    The engine sizes its windows by the rate while the timestamps drive the integration: a recording built in
    code or a stream told another rate than its samples come at would be analysed with every window off by that
    factor (10 Hz samples said to be 100 Hz streamed 71 m of a 102 m run).
    """
    t = np.asarray(t_s[:RATE_CHECK_SAMPLES], dtype=float)
    if len(t) < 2:
        return stated_hz
    period_s = _nominal_period_s(t)
    if period_s > 0.0 and not (stated_hz > 0.0 and _rate_agrees(stated_hz, period_s)):
        return 1.0 / period_s
    return stated_hz


def _period_s(csv_path: Path, t: np.ndarray) -> float:
    """The nominal sample period of ``t``, once ``t`` is known to be seconds (see :func:`check_time_unit`: in
    milliseconds a recording would pass for a long one, in minutes for a short one) and long enough."""
    if len(t) >= MIN_SAMPLES:
        period_s = _nominal_period_s(t)
        check_time_unit(csv_path, period_s)
        if t[-1] >= MIN_DURATION_S:
            return period_s
    raise RecordingError(
        f"{csv_path}: too short ({len(t)} usable samples over {t[-1]:.3f} s); "
        f"at least {MIN_SAMPLES} samples and {MIN_DURATION_S:g} s are needed"
    )


#: what the hint for timestamps that cannot be seconds calls each unit of ``TIME_UNITS``
_TIME_UNIT_NAMES = {"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def check_time_unit(csv_path: Path | str, period_s: float) -> None:
    """Refuse timestamps that cannot be seconds: no foot sensor samples outside ``SAMPLE_RATE_RANGE_HZ``
    (``period_s``: their nominal step; ``csv_path``: the file or samples the message names)."""
    lo_hz, hi_hz = SAMPLE_RATE_RANGE_HZ
    if lo_hz <= 1.0 / period_s <= hi_hz:
        return
    likely = [unit for unit in _TIME_UNIT_NAMES if lo_hz <= 1.0 / (TIME_UNITS[unit] * period_s) <= hi_hz]
    hint = (
        f"they look like {_TIME_UNIT_NAMES[likely[0]]}: load it with time_unit='{likely[0]}' (soleware analyze "
        f"--time-unit {likely[0]}), or divide t by {1.0 / TIME_UNITS[likely[0]]:,.0f}"
        if likely
        else f"t must be in seconds, at {lo_hz:g}-{hi_hz:g} samples per second"
    )
    raise RecordingError(
        f"{csv_path}: the timestamps advance by {period_s:.4g} per sample, which in seconds is "
        f"{1.0 / period_s:.3g} Hz; {hint}"
    )


def _find_gaps(t: np.ndarray, period_s: float, dt: np.ndarray | None = None) -> list[tuple[int, float]]:
    """Where samples are missing: (index of the last sample before the gap, missing time in s).

    Jitter moves single timestamps but a real gap shifts *all later* timestamps against the nominal grid. So
    each suspicious interval (> 1.5 periods) is judged by the median lag of the samples after it against the
    median lag of the samples before it (windows of up to 0.25 s, not crossing neighbouring suspects). ``dt`` is
    ``np.diff(t)`` where the caller has it.
    """
    if dt is None:
        dt = np.diff(t)
    suspects = np.flatnonzero(dt > 1.5 * period_s)
    if not suspects.size:
        return []
    lag = t - period_s * np.arange(len(t))
    # neighbouring suspects (one gap whose time jitter spread over two intervals) are judged together
    split = np.flatnonzero(np.diff(suspects) > 2) + 1
    first, last = suspects[np.r_[0, split]], suspects[np.r_[split - 1, len(suspects) - 1]]
    window = max(3, round(0.25 / period_s))
    lo = np.maximum(first - window + 1, np.r_[0, last[:-1] + 1])
    hi = np.minimum(last + 1 + window, np.r_[first[1:] + 1, len(t)])
    missing_s = _range_median(lag, last + 1, hi) - _range_median(lag, lo, first + 1)
    where = first + range_argmax(dt, first, last + 1)
    gap = missing_s > 0.5 * period_s
    return list(zip(where[gap].tolist(), missing_s[gap].tolist(), strict=True))


def _range_median(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``np.median(x[lo[i]:hi[i]])`` for every (non-empty) range: each range sorted in a row of its own (one by one
    where those rows would take much memory)."""
    lens = hi - lo
    if int(lens.max()) * len(lo) > 4_000_000:
        return np.array([median(x[a:b]) for a, b in zip(lo, hi, strict=True)])
    cols = np.arange(int(lens.max()))
    rows = np.where(cols < lens[:, None], x[np.minimum(lo[:, None] + cols, len(x) - 1)], np.inf)
    rows.sort(axis=1)
    at = np.arange(len(lo))
    # np.median's mean of the middle one or two values
    return (rows[at, (lens - 1) // 2] + rows[at, lens // 2]) / 2


def _repair_gaps(
    t: np.ndarray, columns: tuple[np.ndarray, ...], period_s: float, warnings: list[str]
) -> tuple[np.ndarray, list[np.ndarray], list[tuple[int, int]]]:
    """Interpolate short gaps, split at long ones; report both, and heavy timestamp jitter.

    ``columns`` are (n, k) arrays of samples at the times ``t``; each comes back repaired and C-contiguous.
    """
    dt = np.diff(t)
    gaps = _find_gaps(t, period_s, dt)
    # the share of off-grid intervals among those that are no gap
    off_grid = np.abs(dt - period_s) > 0.2 * period_s
    off_grid[np.array([i for i, _ in gaps], dtype=int)] = False
    n_regular = len(dt) - len(gaps)
    irregular = np.count_nonzero(off_grid) / n_regular if n_regular else 0.0
    if irregular > 0.05:
        warnings.append(
            f"timestamp jitter: {irregular:.0%} of intervals differ from the nominal {period_s * 1e3:.2f} ms by "
            f"more than 20% (no samples missing there; kept as recorded)"
        )
    short = [(i, g) for i, g in gaps if g <= MAX_INTERPOLATED_GAP_S]
    long = [(i, g) for i, g in gaps if g > MAX_INTERPOLATED_GAP_S]
    if short:
        shown = ", ".join(f"{g * 1e3:.0f} ms at t = {t[i]:.3f} s" for i, g in short[:5])
        more = f" and {len(short) - 5} more" if len(short) > 5 else ""
        total = sum(max(1, round(g / period_s)) for _, g in short)
        warnings.append(
            f"{len(short)} short gaps (<= {MAX_INTERPOLATED_GAP_S * 1e3:.0f} ms) filled with {total} linearly "
            f"interpolated samples: {shown}{more}"
        )
    for i, g in long[:5]:
        warnings.append(
            f"gap: {g:.3f} s of samples missing after t = {t[i]:.3f} s (none for {t[i + 1] - t[i]:.3f} s), too "
            f"long to interpolate; recording split into segments there"
        )
    if len(long) > 5:
        warnings.append(f"{len(long) - 5} more gaps too long to interpolate; {len(long) + 1} segments in all")
    if not gaps:
        return t, [np.ascontiguousarray(x) for x in columns], [(0, len(t))]
    # each short gap inserts evenly spaced samples between its neighbours: every sample goes to its new row, then
    # the inserted rows are filled in. The runs of samples between gaps are copied as blocks where they are long
    # (a gather of every sample costs several times more), gathered where gaps are many.
    at = np.array(sorted(i for i, _ in gaps))
    inserted = np.array(
        [0 if g > MAX_INTERPOLATED_GAP_S else max(1, round(g / period_s)) for _, g in sorted(gaps)]
    )
    repeats = np.ones(len(t), dtype=int)
    repeats[at] += inserted
    row = np.cumsum(repeats) - repeats  # the new row of each sample
    total = int(row[-1] + repeats[-1])
    block_starts = np.r_[0, at + 1]
    blocks: list[tuple[int, int, int]] = []  # (first sample, its new row, samples) of each run between gaps
    source = None
    if len(block_starts) * 256 < len(t):
        lengths = np.diff(np.r_[block_starts, len(t)])
        blocks = list(zip(block_starts.tolist(), row[block_starts].tolist(), lengths.tolist(), strict=True))
    else:
        source = np.repeat(np.arange(len(t)), repeats)
    # the gap of each inserted sample, and its number 1..m there
    gap_of = np.repeat(np.arange(len(at)), inserted)
    k = np.arange(len(gap_of)) - np.repeat(np.cumsum(inserted) - inserted, inserted) + 1
    frac = k / (inserted[gap_of] + 1)
    before = at[gap_of]
    new_rows = row[before] + k

    def filled(x: np.ndarray) -> np.ndarray:
        if source is not None:
            out = x[source]
        else:
            out = np.empty((total, *x.shape[1:]), dtype=x.dtype)
            for a, to, m in blocks:
                out[to : to + m] = x[a : a + m]
        f = frac.reshape((-1,) + (1,) * (x.ndim - 1))
        out[new_rows] = x[before] + f * (x[before + 1] - x[before])
        return out

    ends = row[at[inserted == 0]] + 1
    edges = [0, *ends.tolist(), total]
    segments = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return filled(t), [filled(x) for x in columns], segments


# --------------------------------------------------------------------------------------------------------------
# saturation

#: below these extremes an axis is not looked at for clipping (no real sensor range is that small)
_ACC_CLIP_MIN_MPS2 = 15.0
_GYR_CLIP_MIN_RPS = 2.0


def _clipped(
    x: np.ndarray, *, min_level: float, band: float = 0.05, flat: float = 0.015, overshoot: float = 0.05
) -> np.ndarray:
    """Samples of one axis stuck at the axis's extreme (clipped at the sensor range).

    Two signatures, judged per sign of the axis against its largest value ``top``:

    * hard clip: the top value repeats exactly in consecutive samples, reached by a step that does not slow
      down (a smooth peak always decelerates into its top) -- then every sample at exactly that value is clipped;
    * soft clip (calibration and on-board filtering make the plateau wobble): the plateaus
      :func:`~soleware.gait._signal.soft_clipped_runs` finds with ``band``, ``flat`` and ``overshoot``.
    """
    x = np.ascontiguousarray(x)  # a column of the samples: its passes below run several times faster
    n = len(x)
    out = np.zeros(n, dtype=bool)
    near = near_tops(x, min_level=min_level, band=band)
    for sign, top, inside in near:
        at_top = inside[sign * x[inside] == top]
        on_top = set(at_top.tolist())
        for i in at_top[:-1][np.diff(at_top) == 1].tolist():
            s = i
            while s - 1 in on_top:
                s -= 1
            e = i + 2
            while e in on_top:
                e += 1
            into = s >= 2 and top - sign * x[s - 1] >= sign * x[s - 1] - sign * x[s - 2] > 0
            out_of = e + 1 < n and top - sign * x[e] >= sign * x[e] - sign * x[e + 1] > 0
            if into or out_of:
                out[at_top] = True
                break
    for clip in soft_clipped_runs(
        x, min_level=min_level, band=band, flat=flat, overshoot=overshoot, near=near
    ):
        out[clip.start : clip.stop] = True
    return out


# --------------------------------------------------------------------------------------------------------------
# ground truth


def _ground_truth(csv_path: Path, meta: dict[str, Any], *, with_trajectory: bool) -> GroundTruth:
    side_path = _sidecar_path(csv_path)
    gt = meta.get("ground_truth") or {}
    if not isinstance(gt, dict):
        raise RecordingError(f"{side_path}: ground_truth must be an object, not {type(gt).__name__}")
    raw_strides = gt.get("strides")
    strides = details = None
    if raw_strides:
        if not isinstance(raw_strides, list) or not all(isinstance(s, dict) for s in raw_strides):
            raise RecordingError(f"{side_path}: ground_truth.strides must be a list of objects")
        rows = []
        for k, stride in enumerate(raw_strides):
            try:
                rows.append([float(stride["t_start_s"]), float(stride["t_end_s"]), float(stride["length_m"])])
            except (KeyError, TypeError, ValueError) as exc:
                raise RecordingError(
                    f"{side_path}: ground_truth.strides[{k}] needs numeric t_start_s, t_end_s, length_m ({exc!r})"
                ) from None
        strides = np.array(rows, dtype=float)
        details = raw_strides  # this load's own parse of the sidecar: nothing else holds these dicts
    traj = None
    if gt.get("trajectory") and with_trajectory:
        traj_path = csv_path.parent / str(gt["trajectory"])
        if traj_path.exists():
            try:
                traj = np.loadtxt(traj_path, delimiter=",", skiprows=1, ndmin=2)
            except ValueError as exc:
                raise RecordingError(f"{traj_path}: cannot parse the trajectory ({exc})") from None
    distance_m = _optional_number(side_path, gt, "distance_m", "a distance in metres")
    steps = _optional_number(side_path, gt, "steps", "a whole number of steps", whole=True)
    source = gt.get("distance_source")
    if source is not None and not isinstance(source, str):
        raise RecordingError(f"{side_path}: ground_truth.distance_source must be text, not {source!r}")
    known = {"distance_m", "distance_source", "steps", "strides", "trajectory"}
    return GroundTruth(
        distance_m=distance_m,
        distance_source=source,
        steps=None if steps is None else int(steps),
        strides=strides,
        trajectory=traj,
        extra={k: v for k, v in gt.items() if k not in known},
        stride_details=details,
    )


def _optional_number(
    side_path: Path, gt: dict[str, Any], key: str, what: str, *, whole: bool = False
) -> float | None:
    """``gt[key]`` as a non-negative number; None where it is absent or NaN (unknown); anything else an error."""
    x = gt.get(key)
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    if (
        isinstance(x, bool)
        or not isinstance(x, int | float)
        or not math.isfinite(x)
        or x < 0
        or (whole and x != int(x))
    ):
        raise RecordingError(f"{side_path}: ground_truth.{key} must be {what}, not {x!r}")
    return float(x)


def _stride_dicts(gt: GroundTruth) -> list[dict[str, Any]] | None:
    """The strides to write: the detailed dicts (every key kept), with the array's values where both exist."""
    if gt.strides is None:
        return [dict(d) for d in gt.stride_details] if gt.stride_details else None
    details = gt.stride_details if gt.stride_details and len(gt.stride_details) == len(gt.strides) else None
    out = []
    for k, (a, b, c) in enumerate(gt.strides):
        stride = dict(details[k]) if details else {}
        stride.update(t_start_s=float(a), t_end_s=float(b), length_m=float(c))
        out.append(stride)
    return out


# --------------------------------------------------------------------------------------------------------------
# saving


def save_recording(recording: Recording, path: str | Path) -> Path:
    """Write ``<stem>.csv`` and ``<stem>.json`` (and ``<stem>.gt.csv`` when a trajectory is known).

    Each file is written to a temporary name first and renamed, so a failed save leaves no half-written file.
    """
    csv_path = Path(path).with_suffix(".csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    table = np.column_stack([recording.t_s, recording.acc_mps2, recording.gyr_rps])
    gt = recording.ground_truth
    traj_name = csv_path.stem + ".gt.csv" if gt.trajectory is not None else None
    meta = {
        "sample_rate_hz": recording.sample_rate_hz,
        "placement": recording.placement,
        "side": recording.side,
        "activity": recording.activity,
        "ground_truth": {
            "distance_m": gt.distance_m,
            "distance_source": gt.distance_source,
            "steps": gt.steps,
            "strides": _stride_dicts(gt),
            "trajectory": traj_name,
            **gt.extra,
        },
        "source": recording.source,
        "notes": recording.notes,
    }
    for key in ("acc_range_mps2", "gyr_range_rps"):
        if getattr(recording, key) is not None:
            meta[key] = getattr(recording, key)
    meta_text = json.dumps(meta, indent=1, allow_nan=False)
    written: list[tuple[Path, Path]] = []
    try:
        written.append(_write_table(csv_path, table, ",".join(CSV_COLUMNS)))
        if traj_name is not None and gt.trajectory is not None:
            written.append(_write_table(csv_path.parent / traj_name, gt.trajectory, "t,x,y,z"))
        side_tmp = _sidecar_path(csv_path).with_name(_sidecar_path(csv_path).name + ".part")
        written.append((side_tmp, _sidecar_path(csv_path)))
        side_tmp.write_text(meta_text, encoding="utf-8")
    except BaseException:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in written:
        os.replace(tmp, final)
    return csv_path


def _write_table(final: Path, table: np.ndarray, header: str) -> tuple[Path, Path]:
    tmp = final.with_name(final.name + ".part")
    try:
        np.savetxt(tmp, table, delimiter=",", header=header, comments="", fmt="%.6f")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, final
