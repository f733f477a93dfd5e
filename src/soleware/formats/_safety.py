"""Defences shared by every reader: size limits, bounded decompression, a hardened XML parser, sniffing.

Uploaded files are untrusted: a reader never holds more than ``max_bytes`` of one file in memory (also after
gunzip or unzip), never expands XML entities, never fetches anything over the network and refuses DTDs outright
(the billion-laughs and XXE attacks both need one; TCX and GPX files never have one).
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from lxml import etree

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FormatError",
    "gunzip_bounded",
    "parse_xml",
    "read_bounded",
    "read_path",
    "sniff",
]

#: largest single activity file (after decompression) a reader accepts, bytes
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_CHUNK = 1024 * 1024


class FormatError(ValueError):
    """A file could not be read or written; the message names the file and the problem.

    ``name`` is the file's name (or "<bytes>"), ``problem`` the reason alone, for reports that list files.
    """

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MB"


def read_bounded(stream: IO[bytes], *, name: str, max_bytes: int) -> bytes:
    """Read a stream to its end, refusing (before holding more than max_bytes + 1 chunk) anything larger."""
    buf = io.BytesIO()
    while True:
        chunk = stream.read(min(_CHUNK, max_bytes + 1 - buf.tell()) or 1)
        if not chunk:
            return buf.getvalue()
        buf.write(chunk)
        if buf.tell() > max_bytes:
            raise FormatError(name, f"file is larger than the limit of {_mb(max_bytes)}")


def read_path(path: str | os.PathLike[str], *, max_bytes: int) -> bytes:
    """A file's bytes, refused by its size before reading when it exceeds max_bytes."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise FormatError(p.name, f"file is {_mb(size)}, larger than the limit of {_mb(max_bytes)}")
        with p.open("rb") as f:
            return read_bounded(f, name=p.name, max_bytes=max_bytes)
    except OSError as exc:
        raise FormatError(p.name, f"cannot read file ({exc.strerror or exc})") from exc


def gunzip_bounded(data: bytes, *, name: str, max_bytes: int) -> bytes:
    """Decompress gzip data, refusing output beyond max_bytes (gzip bombs expand ~1000×)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            return read_bounded(gz, name=name, max_bytes=max_bytes)
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(name, f"broken gzip data ({exc})") from exc


_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "dtd_validation": False,
    "remove_comments": True,
    "remove_pis": True,
}


def parse_xml(data: bytes, *, name: str) -> etree._Element:
    """The root element of an XML document, refusing DTDs, entity declarations and malformed XML."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!ENTITY" in data:
        raise FormatError(
            name, "XML with a DOCTYPE or entity declarations is not accepted (possible XXE or entity bomb)"
        )
    parser = etree.XMLParser(**_PARSER_OPTIONS)  # type: ignore[arg-type]
    try:
        tree = etree.parse(io.BytesIO(data), parser)
    except etree.XMLSyntaxError as exc:
        raise FormatError(name, f"malformed XML ({exc.msg or exc})") from exc
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise FormatError(
            name, "XML with a DOCTYPE or entity declarations is not accepted (possible XXE or entity bomb)"
        )
    return tree.getroot()


_MAGIC: Iterable[tuple[bytes, str]] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x1f\x8b", "gzip data"),
)


def sniff(data: bytes) -> str:
    """What the bytes look like: "fit", "tcx", "gpx", "gzip", "xml", "empty", or a description such as
    "a PNG image" (used to name the problem when a file's extension lies)."""
    if not data:
        return "empty"
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    head = data[:4096]
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[2 : 2 + (len(head) - 2) // 2 * 2].decode(codec, "replace").encode()
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        if b"<TrainingCenterDatabase" in head:
            return "tcx"
        if b"<gpx" in head:
            return "gpx"
        return "xml"
    return "unknown data"
