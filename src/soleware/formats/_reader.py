"""Reading one activity file of any supported format: choose the reader by name or content, unwrap gzip."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from soleware.formats._safety import (
    DEFAULT_MAX_BYTES,
    FormatError,
    FormatNote,
    gunzip_bounded,
    read_path,
    sniff,
)
from soleware.formats.fit import read_fit
from soleware.formats.gpx import read_gpx
from soleware.formats.tcx import read_tcx
from soleware.runs.model import Run

__all__ = ["ACTIVITY_SUFFIXES", "activity_format", "import_file", "read_activity"]

_READERS = {"fit": read_fit, "tcx": read_tcx, "gpx": read_gpx}
#: file name endings the importers read (compare lower-cased)
ACTIVITY_SUFFIXES = (".fit", ".tcx", ".gpx", ".fit.gz", ".tcx.gz", ".gpx.gz")


def activity_format(name: str) -> tuple[str | None, bool]:
    """(format, gzipped) from a file name such as "x.fit.gz"; format None when the name does not tell."""
    lower = PurePosixPath(name).name.lower()
    gz = lower.endswith(".gz")
    if gz:
        lower = lower[:-3]
    for fmt in _READERS:
        if lower.endswith("." + fmt):
            return fmt, gz
    return None, gz


def read_activity(
    data: bytes,
    *,
    name: str,
    fmt: str | None = None,
    time_zone: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    notes: list[FormatNote] | None = None,
) -> Run:
    """A Run from one file's bytes (FIT, TCX or GPX, optionally gzipped); FormatError for anything else. What
    could not be read of a file read all the same (one cut short) is appended to ``notes``."""
    if len(data) > max_bytes:
        limit = f"{max_bytes / 2**20:.3g} MB"
        raise FormatError(name, f"file is larger than the limit of {limit}", code="too_large", limit=limit)
    by_name, gz = activity_format(name)
    if fmt is not None:
        fmt = fmt.lower().removeprefix(".")
        if fmt not in _READERS:
            raise FormatError(name, f"unknown format {fmt!r}; expected one of {sorted(_READERS)}")
    if gz or sniff(data) == "gzip":
        if sniff(data) != "gzip":
            raise FormatError(
                name,
                f"not gzip data (the data looks like {sniff(data)})",
                code="unknown_format",
                looks_like=sniff(data),
            )
        data = gunzip_bounded(data, name=name, max_bytes=max_bytes)
    fmt = fmt or by_name
    if fmt is None:
        kind = sniff(data)
        if kind not in _READERS:
            if kind == "empty":
                raise FormatError(name, "not a FIT, TCX or GPX activity (the file is empty)", code="empty")
            raise FormatError(
                name,
                f"not a FIT, TCX or GPX activity (the data looks like {kind})",
                code="unknown_format",
                looks_like=kind,
            )
        fmt = kind
    try:
        return _READERS[fmt](data, name=name, time_zone=time_zone, notes=notes)
    except (FormatError, MemoryError):
        raise
    except Exception as exc:  # a third-party parser tripping over hostile input is still a bad file
        raise FormatError(
            name, f"could not be read as {fmt.upper()} ({type(exc).__name__}: {exc})", code="damaged"
        ) from exc


def import_file(
    source: str | os.PathLike[str] | bytes,
    *,
    name: str | None = None,
    fmt: str | None = None,
    time_zone: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    notes: list[FormatNote] | None = None,
) -> Run:
    """A Run from a FIT, TCX or GPX file (a path, or the bytes with ``name`` or ``fmt`` telling the format;
    ".gz" files are unzipped). The format comes from ``fmt``, else the name's extension, else the content.

    ``time_zone`` is the IANA zone to give the run; None takes it from the file where it says (FIT's local
    time offset, Soleware's TCX extension) and UTC otherwise. Files larger than ``max_bytes`` (also after
    decompression) are refused. Raises FormatError naming the file and the problem. A file cut short (a watch
    whose battery died while it wrote it, a copy broken off) gives the run up to where it stops, and a
    :class:`FormatNote` saying so in ``notes``.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        label = name or "<bytes>"
    else:
        data = read_path(source, max_bytes=max_bytes)
        label = name or Path(source).name
    return read_activity(data, name=label, fmt=fmt, time_zone=time_zone, max_bytes=max_bytes, notes=notes)
