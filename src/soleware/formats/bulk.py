"""Bulk import: folders and zip archives (a Strava or Garmin export) of hundreds of activity files.

Every activity file gets one result: ok, duplicate (the same activity as an earlier file or an existing run)
or rejected with the reason. Other files (photos, CSV, JSON) in a folder or an archive are listed as skipped; a
file named on its own that is no activity file is rejected (the runner meant it). Zip members are judged by
what the archive declares (size, expansion ratio) before they are opened and by their first bytes before they
are read on, then read by streaming with a per-file and a per-archive cap (zip bomb guard); nothing is
extracted to disk. An archive cut short (a download broken off: no central directory at its end) is read from
its members' own headers up to the cut (``stream-unzip``), under the same caps and the archive's expansion
ratio; what it held after the cut is said to be missing.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from soleware.formats._reader import ACTIVITY_SUFFIXES, read_activity
from soleware.formats._safety import (
    DEFAULT_MAX_BYTES,
    FormatError,
    FormatNote,
    _mb,
    check_expansion,
    read_activity_stream,
    read_path,
)
from soleware.runs.model import Run, RunSummary, Source, same_activity

if TYPE_CHECKING:
    from collections.abc import Generator

__all__ = ["SAME_RECORDING_S", "ImportReport", "ImportResult", "import_paths", "same_recording"]

#: most bytes read out of one archive in total, after decompression
DEFAULT_MAX_ARCHIVE_BYTES = 4 * 1024**3
#: most activity files one call looks at
DEFAULT_MAX_FILES = 20_000

Status = Literal["ok", "duplicate", "rejected"]


@dataclasses.dataclass(frozen=True, slots=True)
class ImportResult:
    """The outcome for one file; ``name`` is its path below the given folder or archive ("export.zip/a/b.fit")."""

    name: str
    status: Status
    run: Run | None = None
    #: why it was rejected, which file or run it duplicates, or what of a file read all the same was lost (one
    #: cut short: ``FormatNote``)
    reason: str = ""
    #: the earlier file's name, or the existing run's id, this one duplicates
    duplicate_of: str | None = None
    #: the kind of problem of a rejected file, or of one read all the same, and its values
    #: (``FormatError``/``FormatNote`` ``code`` and ``params``)
    code: str = ""
    params: dict[str, str] = dataclasses.field(default_factory=dict)
    #: the stored run (id) this one takes the place of: the same recording, cut short (see ``same_recording``)
    replaces: str | None = None


@dataclasses.dataclass(slots=True)
class ImportReport:
    """All results in file-name order, plus the names of files that are not activity files."""

    results: list[ImportResult] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)

    def _with(self, status: Status) -> list[ImportResult]:
        return [r for r in self.results if r.status == status]

    @property
    def ok(self) -> list[ImportResult]:
        return self._with("ok")

    @property
    def duplicates(self) -> list[ImportResult]:
        return self._with("duplicate")

    @property
    def rejected(self) -> list[ImportResult]:
        return self._with("rejected")

    @property
    def runs(self) -> list[Run]:
        """The newly imported runs (ok results only)."""
        return [r.run for r in self.ok if r.run is not None]


@dataclasses.dataclass(slots=True)
class _Entry:
    name: str
    load: Callable[[], bytes] | None  # None: refused before reading, see refused
    refused: FormatError | None = None


def _is_activity(name: str) -> bool:
    return name.lower().endswith(ACTIVITY_SUFFIXES)


class _ArchiveBudget:
    """Bytes still allowed out of one archive."""

    def __init__(self, total: int) -> None:
        self.left = total


def _over_archive_cap(name: str, max_archive_bytes: int) -> FormatError:
    limit = _mb(max_archive_bytes)
    return FormatError(
        name, f"archive exceeds the total limit of {limit}", code="archive_too_large", limit=limit
    )


def _nested_archive(name: str) -> _Entry:
    return _Entry(
        name, None, FormatError(name, "archives inside archives are not opened", code="nested_archive")
    )


def _zip_entries(
    path: Path, label: str, *, max_bytes: int, max_archive_bytes: int, skipped: list[str]
) -> Iterator[_Entry]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        salvaged = _cut_zip_entries(
            path, label, max_bytes=max_bytes, max_archive_bytes=max_archive_bytes, skipped=skipped
        )
        if salvaged is None:
            yield _Entry(
                label, None, FormatError(label, f"not a readable zip archive ({exc})", code="damaged")
            )
        else:
            yield from salvaged
        return
    budget = _ArchiveBudget(max_archive_bytes)

    def loader(info: zipfile.ZipInfo, name: str) -> Callable[[], bytes]:
        def load() -> bytes:
            # what the archive declares is checked first (zipfile never reads past a member's declared size),
            # then the first bytes: a hostile member costs a few kB of inflation, not its declared size
            if info.flag_bits & 0x1:
                raise FormatError(name, "zip member is encrypted", code="encrypted")
            if info.file_size > max_bytes:
                raise FormatError(
                    name,
                    f"file is {_mb(info.file_size)}, larger than the limit of {_mb(max_bytes)}",
                    code="too_large",
                    limit=_mb(max_bytes),
                )
            if info.compress_type != zipfile.ZIP_STORED:
                check_expansion(name, compressed_bytes=info.compress_size, expanded_bytes=info.file_size)
            if budget.left <= 0 or info.file_size > budget.left:
                raise _over_archive_cap(name, max_archive_bytes)
            try:
                with archive.open(info) as member:
                    data = read_activity_stream(member, name=name, max_bytes=min(max_bytes, budget.left))
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                raise FormatError(name, f"broken zip member ({exc})", code="damaged") from exc
            budget.left -= len(data)
            return data

        return load

    for info in sorted(archive.infolist(), key=lambda i: i.filename):
        if info.is_dir():
            continue
        name = f"{label}/{info.filename}"
        if info.filename.lower().endswith(".zip"):
            yield _nested_archive(name)
        elif _is_activity(info.filename):
            yield _Entry(name, loader(info, name))
        else:
            skipped.append(name)


class _MemberStream(io.RawIOBase):
    """A zip member's decompressed chunks (as ``stream_unzip`` gives them) as a stream; keeps what it gave
    (``given``: a member cut off by the archive's end is read as far as it goes) and counts every chunk into
    ``produced`` (the archive's output so far, for its expansion ratio)."""

    def __init__(self, chunks: Iterator[bytes], produced: list[int], check: Callable[[], None]) -> None:
        self._chunks, self._rest = chunks, b""
        self._produced, self._check = produced, check
        self.given: list[bytes] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._produced[0] += len(chunk)
            self._check()
            self._rest = chunk
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self.given.append(self._rest[:n])
        self._rest = self._rest[n:]
        return n

    def drain(self) -> None:
        """Read to the member's end, keeping nothing (the next member's header follows it)."""
        for chunk in self._chunks:
            self._produced[0] += len(chunk)
            self._check()


def _member_name(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("cp437")  # the zip format's encoding of names before UTF-8


def _cut_zip_entries(
    path: Path, label: str, *, max_bytes: int, max_archive_bytes: int, skipped: list[str]
) -> list[_Entry] | None:
    """The entries of a zip archive without its central directory (cut short), read from the members' local
    headers as far as the data goes; None if it does not begin as a zip archive.

    Every activity member read whole is kept in one anonymous temporary file until its entry is loaded (an export
    of thousands of files is not held in memory); a member the cut went through is kept as far as it goes (its
    reader says what it lost, as for a file cut short on its own). Without an index a member's end is found only
    by reading it, so one that cannot be read (encrypted, damaged, over the size cap) ends the reading there, with
    its own refusal. The archive itself gets an entry refused with ``archive_cut_short`` (how many members were
    read), or with the archive's cap or expansion ratio where that stopped it; none if only its index was cut."""
    with path.open("rb") as f:
        if f.read(4) != b"PK\x03\x04":
            return None
    # imported here: 50-75 ms (its pycryptodome) that only an archive cut short needs
    import stream_unzip

    consumed, produced = [0], [0]

    def chunks() -> Generator[bytes, None, None]:
        with path.open("rb") as f:
            while chunk := f.read(1 << 16):
                consumed[0] += len(chunk)
                yield chunk

    def check() -> None:
        check_expansion(label, compressed_bytes=consumed[0], expanded_bytes=produced[0])

    spool = tempfile.TemporaryFile()  # noqa: SIM115 - open until the entries are loaded, closed when they go
    entries: list[_Entry] = []
    members = 0

    def keep(name: str, data: bytes) -> None:
        """Hold an activity's bytes for its entry; the archive's total cap counts these (photos and other files
        are read past, counted for the expansion ratio only)."""
        at = spool.seek(0, os.SEEK_END)
        if at + len(data) > max_archive_bytes:
            raise _over_archive_cap(label, max_archive_bytes)
        spool.write(data)
        entries.append(_Entry(name, functools.partial(_spooled, spool, at, len(data))))

    try:
        for raw_name, _size, member_chunks in stream_unzip.stream_unzip(chunks()):
            filename = _member_name(raw_name)
            name = f"{label}/{filename}"
            member = _MemberStream(iter(member_chunks), produced, check)
            try:
                if filename.lower().endswith(".zip"):
                    member.drain()
                    entries.append(_nested_archive(name))
                elif _is_activity(filename):
                    try:
                        data = read_activity_stream(io.BufferedReader(member), name=name, max_bytes=max_bytes)
                    except stream_unzip.TruncatedDataError:
                        if member.given:
                            keep(name, b"".join(member.given))
                        raise
                    except FormatError as exc:
                        if exc.code in ("too_large", "archive_too_large", "unsafe"):
                            raise
                        member.drain()
                        entries.append(_Entry(name, None, exc))
                    else:
                        keep(name, data)
                else:
                    member.drain()
                    if not filename.endswith("/"):
                        skipped.append(name)
            except (stream_unzip.TruncatedDataError, stream_unzip.MissingPasswordError):
                raise
            except (
                stream_unzip.UnzipError
            ) as exc:  # its data (a CRC that does not match, a bad deflate stream)
                raise FormatError(name, f"broken zip member ({type(exc).__name__})", code="damaged") from exc
            members += 1
    except stream_unzip.TruncatedDataError:
        pass
    except stream_unzip.MissingPasswordError:
        # found at the next member's header, before its name is given: the archive names it by its place
        problem = f"zip archive without its index: the file after its first {members} is encrypted, the rest not read"
        entries.append(_Entry(label, None, FormatError(label, problem, code="encrypted")))
        return entries
    except stream_unzip.UnzipError:
        # a header that cannot be read (garbage, or a member whose end cannot be found without the index):
        # before the first member no zip archive after all, after it the rest is lost as to a cut
        if not members:
            spool.close()
            return None
    except FormatError as exc:
        entries.append(_Entry(exc.name, None, exc))
        if exc.name == label:  # the archive's own cap or ratio: nothing more to say of it
            return entries
    else:
        return entries  # cut inside the central directory, after the last member: nothing lost
    cut = FormatError(
        label,
        f"zip archive is cut short (its index is missing): its first {members} files were read, the rest is missing",
        code="archive_cut_short",
        read=str(members),
    )
    entries.append(_Entry(label, None, cut))
    return entries


def _spooled(spool: IO[bytes], at: int, size: int) -> bytes:
    spool.seek(at)
    return spool.read(size)


def _entries(
    paths: Iterable[str | os.PathLike[str]], *, max_bytes: int, max_archive_bytes: int, skipped: list[str]
) -> Iterator[_Entry]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            pairs = [(p, f"{path.name}/{p.relative_to(path).as_posix()}") for p in files]
        elif path.exists():
            pairs = [(path, path.name)]
        else:
            label = path.name or str(path)
            yield _Entry(label, None, FormatError(label, "no such file or folder"))
            continue
        for p, label in pairs:
            if p.suffix.lower() == ".zip":
                yield from _zip_entries(
                    p, label, max_bytes=max_bytes, max_archive_bytes=max_archive_bytes, skipped=skipped
                )
            elif _is_activity(p.name):
                yield _Entry(label, functools.partial(read_path, p, max_bytes=max_bytes))
            elif p is path:  # named itself, not found in a folder: the runner meant it
                problem = "not an activity file (FIT, TCX or GPX, also .gz, or a zip of them)"
                yield _Entry(label, None, FormatError(label, problem, code="not_activity_file"))
            else:
                skipped.append(label)


#: runs read from files whose starts lie this close are one recording (a watch's file and a copy of it)
SAME_RECORDING_S = 2.0
_FILE_SOURCES = frozenset({Source.FIT.value, Source.TCX.value, Source.GPX.value})


def same_recording(a: Run | RunSummary, b: Run | RunSummary) -> bool:
    """Whether two runs read from activity files are one recording: they start within ``SAME_RECORDING_S``, as
    a watch's file and a copy of it cut short do (whatever their distances: the cut one lacks the rest). Of
    two, the one that lasts longer is kept."""
    return (
        a.source in _FILE_SOURCES
        and b.source in _FILE_SOURCES
        and abs((a.start_time - b.start_time).total_seconds()) <= SAME_RECORDING_S
    )


def _label(x: Run | RunSummary) -> str:
    if isinstance(x, RunSummary):
        return x.run_id
    return x.id or x.fingerprint()


def import_paths(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    existing: Iterable[Run | RunSummary] = (),
    progress: Callable[[int, int, str], None] | None = None,
    time_zone: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
) -> ImportReport:
    """Import every FIT/TCX/GPX file (also .gz) in the given files, folders (recursively) and zip archives.

    A file is a duplicate when ``same_activity`` holds for it and a run imported before it in this call or one
    of ``existing`` (runs or summaries the user already has). ``progress(done, total, name)`` is called after
    each file. One file's failure never stops the others; each rejection says why.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    report = ImportReport()
    entries = list(
        _entries(paths, max_bytes=max_bytes, max_archive_bytes=max_archive_bytes, skipped=report.skipped)
    )
    if len(entries) > max_files:
        for e in entries[max_files:]:
            report.results.append(
                ImportResult(e.name, "rejected", reason=f"more than {max_files} files in one import")
            )
        entries = entries[:max_files]
    known: list[tuple[str, Run | RunSummary]] = [(_label(x), x) for x in existing]
    stored = {label for label, _ in known}
    total = len(entries)
    for done, entry in enumerate(entries, start=1):
        result = _import_one(entry, known, time_zone=time_zone, max_bytes=max_bytes)
        if result.replaces is not None and result.replaces not in stored:
            # a file of this import, cut short: this one is kept in its place
            k = next(k for k, r in enumerate(report.results) if r.name == result.replaces)
            cut = report.results[k]
            report.results[k] = ImportResult(
                cut.name, "duplicate", run=cut.run, reason=f"part of {result.name}", duplicate_of=result.name
            )
            known = [(label, x) for label, x in known if label != result.replaces]
            result = dataclasses.replace(result, replaces=cut.replaces)  # and the stored run it replaced
        if result.status == "ok" and result.run is not None:
            known.append((result.name, result.run))
        report.results.append(result)
        if progress is not None:
            progress(done, total, entry.name)
    report.results.sort(key=lambda r: r.name)
    return report


def _rejected(name: str, exc: FormatError) -> ImportResult:
    return ImportResult(name, "rejected", reason=exc.problem, code=exc.code, params=exc.params)


def _import_one(
    entry: _Entry, known: list[tuple[str, Run | RunSummary]], *, time_zone: str | None, max_bytes: int
) -> ImportResult:
    if entry.load is None:
        assert entry.refused is not None
        return _rejected(entry.name, entry.refused)
    notes: list[FormatNote] = []
    try:
        run = read_activity(
            entry.load(), name=entry.name, time_zone=time_zone, max_bytes=max_bytes, notes=notes
        )
    except FormatError as exc:
        return _rejected(entry.name, exc)
    for label, other in known:
        if same_activity(run, other):
            return ImportResult(
                entry.name, "duplicate", run=run, reason=f"same activity as {label}", duplicate_of=label
            )
    replaces = None
    for label, other in known:
        if same_recording(run, other):
            if run.elapsed_time_s <= other.elapsed_time_s:
                return ImportResult(
                    entry.name, "duplicate", run=run, reason=f"part of {label}", duplicate_of=label
                )
            replaces = label
    if not notes:
        return ImportResult(entry.name, "ok", run=run, replaces=replaces)
    note = notes[0]
    return ImportResult(
        entry.name, "ok", run=run, reason=note.problem, code=note.code, params=note.params, replaces=replaces
    )
