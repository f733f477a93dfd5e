"""Export and import of runs: FIT, TCX, GPX (the route) and stride CSV out; FIT, TCX and GPX (also gzipped, in folders and zip
archives) in. Pure functions over ``soleware.runs.model.Run``; every reader treats its input as hostile.
"""

from __future__ import annotations

from collections.abc import Callable

from soleware.formats._reader import ACTIVITY_SUFFIXES, import_file
from soleware.formats._safety import DEFAULT_MAX_BYTES, PROBLEM_CODES, FormatError, FormatNote
from soleware.formats.bulk import ImportReport, ImportResult, import_paths
from soleware.formats.fit import read_fit, write_fit
from soleware.formats.gpx import read_gpx, write_gpx
from soleware.formats.stride_csv import STRIDE_COLUMNS, read_strides_csv, write_strides_csv
from soleware.formats.tcx import read_tcx, write_tcx
from soleware.runs.model import Run

__all__ = [
    "ACTIVITY_SUFFIXES",
    "DEFAULT_MAX_BYTES",
    "EXPORT_FORMATS",
    "PROBLEM_CODES",
    "STRIDE_COLUMNS",
    "FormatError",
    "FormatNote",
    "ImportReport",
    "ImportResult",
    "export_run",
    "import_file",
    "import_paths",
    "read_fit",
    "read_gpx",
    "read_strides_csv",
    "read_tcx",
    "write_fit",
    "write_gpx",
    "write_strides_csv",
    "write_tcx",
]

_WRITERS: dict[str, Callable[[Run], bytes]] = {
    "fit": write_fit,
    "tcx": write_tcx,
    "gpx": write_gpx,
    "csv": lambda run: write_strides_csv(run.strides),
}
#: formats export_run writes, with their media types
EXPORT_FORMATS = {
    "fit": "application/vnd.ant.fit",
    "tcx": "application/vnd.garmin.tcx+xml",
    "gpx": "application/gpx+xml",
    "csv": "text/csv",
}


def export_run(run: Run, fmt: str) -> bytes:
    """The run as a file: "fit" (FIT activity), "tcx" (TCX v2), "gpx" (its route: GPX 1.1, FormatError for a run
    without one) or "csv" (one row per stride)."""
    key = fmt.lower().removeprefix(".")
    writer = _WRITERS.get(key)
    if writer is None:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {sorted(_WRITERS)}")
    try:
        return writer(run)
    except FormatError:
        raise
    except (ValueError, OverflowError) as exc:
        raise FormatError(f"run {run.id or run.fingerprint()}.{key}", f"cannot be written ({exc})") from exc
