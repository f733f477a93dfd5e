"""Defences shared by every reader: size limits, bounded decompression, a hardened XML parser, sniffing.

Uploaded files are untrusted: a reader never holds more than ``max_bytes`` of one file in memory (also after
gunzip or unzip), never expands XML entities, never fetches anything over the network and refuses DTDs outright
(the billion-laughs and XXE attacks both need one; TCX and GPX files never have one).
"""

from __future__ import annotations

import dataclasses
import io
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from lxml import etree

__all__ = [
    "ACTIVITY_KINDS",
    "DEFAULT_MAX_BYTES",
    "EXPANSION_FLOOR_BYTES",
    "HEAD_BYTES",
    "MAX_EXPANSION",
    "FormatError",
    "FormatNote",
    "check_expansion",
    "drop_last",
    "gunzip_bounded",
    "parse_xml",
    "read_activity_stream",
    "read_bounded",
    "read_path",
    "sniff",
    "truncated",
]

#: largest single activity file (after decompression) a reader accepts, bytes
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
#: most a compressed activity file may expand (output : input); real TCX/GPX files reach 10-35:1
MAX_EXPANSION = 200
#: expansion is judged only beyond this much output, bytes (small files may compress any way they like)
EXPANSION_FLOOR_BYTES = 4 * 1024 * 1024
#: bytes looked at before a stream that should be an activity file is read further
HEAD_BYTES = 4096
#: what sniff() may call the first bytes of an activity file
ACTIVITY_KINDS = frozenset({"fit", "tcx", "gpx", "xml", "gzip"})
_CHUNK = 1024 * 1024
_GZ_CHUNK = 64 * 1024


class FormatError(ValueError):
    """A file could not be read or written; the message names the file and the problem.

    ``name`` is the file's name (or "<bytes>"), ``problem`` the reason alone, for reports that list files.
    ``code`` names the kind of problem for a translated message (one of :data:`PROBLEM_CODES`, "" for the
    rest), ``params`` the values that message shows.
    """

    def __init__(self, name: str, problem: str, *, code: str = "", **params: str) -> None:
        super().__init__(f"{name}: {problem}")
        assert not code or set(params) == set(PROBLEM_CODES[code]), (code, params)
        self.name = name
        self.problem = problem
        self.code = code
        self.params = params


@dataclasses.dataclass(frozen=True, slots=True)
class FormatNote:
    """What a reader could not read of a file it read all the same (one cut short: the run up to where it
    stops); fields as :class:`FormatError`'s. Readers append these to the ``notes`` list they are given."""

    name: str
    problem: str
    code: str = ""
    params: dict[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        assert not self.code or set(self.params) == set(PROBLEM_CODES[self.code]), (self.code, self.params)

    def __str__(self) -> str:
        return f"{self.name}: {self.problem}"


#: the kinds of problem a reader names (``FormatError.code``, ``FormatNote.code``), with the values each one's
#: message shows
PROBLEM_CODES: dict[str, tuple[str, ...]] = {
    "empty": (),
    "too_large": ("limit",),
    "unknown_format": ("looks_like",),
    "not_a_run": ("sport",),
    "not_an_activity": ("holds",),
    "truncated": (),
    "archive_cut_short": ("read",),
    "cut_short": ("ends",),
    "corrupt": (),
    "damaged": (),
    "no_times": (),
    "no_date": (),
    "too_few": (),
    "no_distance": (),
    "partly_timed": ("timed", "points"),
    "implausible": ("detail", "check", "value", "limit"),
    "encrypted": (),
    "archive_too_large": ("limit",),
    "nested_archive": (),
    "not_activity_file": (),
    "unsafe": ("kind",),
}


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MB"


def _size(n: int) -> str:
    return _mb(n) if n >= 1024 * 1024 else f"{n / 1024:.3g} kB"


def read_bounded(stream: IO[bytes], *, name: str, max_bytes: int, prefix: bytes = b"") -> bytes:
    """Read a stream to its end (after ``prefix``, bytes already read from it), refusing (before holding more
    than max_bytes + 1 chunk) anything larger."""
    buf = io.BytesIO()
    buf.write(prefix)
    while True:
        chunk = stream.read(min(_CHUNK, max_bytes + 1 - buf.tell()) or 1)
        if not chunk:
            return buf.getvalue()
        buf.write(chunk)
        if buf.tell() > max_bytes:
            raise FormatError(
                name,
                f"file is larger than the limit of {_mb(max_bytes)}",
                code="too_large",
                limit=_mb(max_bytes),
            )


def read_activity_stream(stream: IO[bytes], *, name: str, max_bytes: int) -> bytes:
    """Read a stream that should hold one activity file, looking at its first bytes before reading on: what is
    no FIT, TCX, GPX or gzip data is refused after HEAD_BYTES, whatever its size (hostile archives)."""
    head = b""
    while len(head) < HEAD_BYTES:
        chunk = stream.read(HEAD_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    kind = sniff(head)
    if kind == "empty":
        raise FormatError(name, "file is empty", code="empty")
    if kind not in ACTIVITY_KINDS:
        raise FormatError(
            name,
            f"not a FIT, TCX or GPX activity (the data looks like {kind})",
            code="unknown_format",
            looks_like=kind,
        )
    return read_bounded(stream, name=name, max_bytes=max_bytes, prefix=head)


def check_expansion(name: str, *, compressed_bytes: int, expanded_bytes: int) -> None:
    """Refuse data that expands more than MAX_EXPANSION times once it expands beyond EXPANSION_FLOOR_BYTES:
    no activity file compresses like that, bombs do (deflate reaches 1032:1 on repeated bytes)."""
    if expanded_bytes > EXPANSION_FLOOR_BYTES and expanded_bytes > MAX_EXPANSION * max(compressed_bytes, 1):
        raise FormatError(
            name,
            f"compressed data expands {expanded_bytes / max(compressed_bytes, 1):.0f}:1 "
            f"({_size(compressed_bytes)} to {_size(expanded_bytes)}), more than the {MAX_EXPANSION}:1 any activity "
            "file reaches (possible decompression bomb)",
            code="unsafe",
            kind="expansion",
        )


def read_path(path: str | os.PathLike[str], *, max_bytes: int) -> bytes:
    """A file's bytes, refused by its size before reading when it exceeds max_bytes."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise FormatError(
                p.name,
                f"file is {_mb(size)}, larger than the limit of {_mb(max_bytes)}",
                code="too_large",
                limit=_mb(max_bytes),
            )
        with p.open("rb") as f:
            return read_bounded(f, name=p.name, max_bytes=max_bytes)
    except OSError as exc:
        raise FormatError(p.name, f"cannot read file ({exc.strerror or exc})") from exc


def gunzip_bounded(data: bytes, *, name: str, max_bytes: int) -> bytes:
    """Decompress gzip data (all members), refusing output beyond max_bytes and output that expands beyond
    MAX_EXPANSION times the input consumed so far (gzip bombs expand ~1000×): a bomb costs little to refuse.

    Data that ends before its stream does (a download broken off) gives what it holds up to there: the file
    inside is then cut short, which its reader says (or refuses, if nothing of it came out)."""
    out = io.BytesIO()
    rest = data
    consumed = 0
    try:
        while rest:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pos = 0
            while not d.eof:
                if d.unconsumed_tail:
                    piece = d.unconsumed_tail
                else:
                    piece = rest[pos : pos + _GZ_CHUNK]
                    pos += len(piece)
                chunk = d.decompress(piece, _CHUNK)
                if not piece and not chunk:
                    if out.tell():
                        return out.getvalue()
                    raise FormatError(
                        name,
                        "broken gzip data (the data ends before the end of the stream)",
                        code="truncated",
                    )
                out.write(chunk)
                used = pos - len(d.unconsumed_tail) - (len(d.unused_data) if d.eof else 0)
                if out.tell() > max_bytes:
                    raise FormatError(
                        name,
                        f"file is larger than the limit of {_mb(max_bytes)}",
                        code="too_large",
                        limit=_mb(max_bytes),
                    )
                check_expansion(name, compressed_bytes=consumed + used, expanded_bytes=out.tell())
            tail = d.unused_data + rest[pos:]
            consumed += len(rest) - len(tail)
            rest = tail.lstrip(b"\x00")  # another gzip member may follow; zero padding may end the file
    except zlib.error as exc:
        raise FormatError(name, f"broken gzip data ({exc})", code="damaged") from exc
    return out.getvalue()


_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "dtd_validation": False,
    "remove_comments": True,
    "remove_pis": True,
}


def _entities_refused(name: str) -> FormatError:
    return FormatError(
        name,
        "XML with a DOCTYPE or entity declarations is not accepted (possible XXE or entity bomb)",
        code="unsafe",
        kind="entities",
    )


def parse_xml(data: bytes, *, name: str) -> tuple[etree._Element, str | None]:
    """The root element of an XML document, refusing DTDs, entity declarations and malformed XML, and how the
    document is cut short (None: it is whole).

    A document that stops before its end (an app that crashed while it wrote the file, a copy broken off) is
    malformed only where the data runs out: it is read again in libxml2's recovering mode, which closes what
    is open there, so the elements before the cut are kept (the last one may be incomplete). XML malformed
    anywhere else is refused.
    """
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!ENTITY" in data:
        raise _entities_refused(name)
    cut = None
    try:
        tree = etree.parse(io.BytesIO(data), etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        if not _at_end(data, line, column):
            raise FormatError(name, f"malformed XML ({exc.msg or exc})", code="damaged") from exc
        cut = f"the document stops at line {line}, column {column}"
        tree = etree.parse(io.BytesIO(data), etree.XMLParser(recover=True, **_PARSER_OPTIONS))
        if tree.getroot() is None:
            raise FormatError(name, f"malformed XML ({exc.msg or exc})", code="damaged") from exc
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _entities_refused(name)
    return tree.getroot(), cut


def truncated(name: str, cut: str) -> FormatError:
    """The refusal of a file cut short before it holds a run (``cut`` says where it stops)."""
    return FormatError(name, f"file is truncated: {cut}", code="truncated")


def drop_last(root: etree._Element, tag: str) -> None:
    """Remove the last ``tag`` element under ``root``: of a document cut short, the one the cut may lie in."""
    found = root.findall(f".//{tag}")
    if found and (parent := found[-1].getparent()) is not None:
        parent.remove(found[-1])


def _at_end(data: bytes, line: int, column: int) -> bool:
    """Whether a parse error at ``line``, ``column`` (libxml2's, from 1) lies where ``data`` runs out."""
    lines = data.count(b"\n") + 1
    last = data[data.rfind(b"\n") + 1 :].decode("utf-8", "replace")
    return line == lines and column >= len(last)


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
