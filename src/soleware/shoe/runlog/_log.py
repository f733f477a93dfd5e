"""The append-only run log over NOR flash pages: recovery, appends, sync (read/ack), garbage collection.

Page layout (page size = the flash's erase unit, 4 KiB by default)::

    offset  size  field
    0       4     magic b"SWL1"            (programmed to zeros before the page is erased for reuse)
    4       4     page_seq (u32)           +1 for every page opened; orders the ring
    8       4     first_seq (u32)          seq the first data record written to this page gets
    12      4     acked_seq (u32)          acknowledged seq when the page was opened (survives GC of acks)
    16      1     page_shift               log2(page size), to catch images read with the wrong geometry
    17      3     zero
    20      4     CRC-32 of bytes 0..20
    24      ...   record frames back to back (see ``_records``), then 0xFF up to the page end

Pages form a ring: the live pages (valid header) are a contiguous arc ordered by ``page_seq``; the newest is the
active page that takes appends. A new page is the next one in the ring; if it holds data, that data must all be
acknowledged, or the log is full. Reusing a page first zeros its magic, then erases it, then programs a new header,
so a power cut at any byte leaves either the old live page or a non-live page, never a half-valid one.

Power cuts: a torn record is always the last thing in the active page (writes are sequential). On open, recovery
keeps every complete record and programs zeros from the torn record to the end of the page ("seal"); the next
record goes to a fresh page, so leftover torn bytes can never be mistaken for data. Sealing is idempotent.
Data records get consecutive seqs 1, 2, 3, ... that keep increasing across restarts and page reuse (each page
header carries the next seq, and the active page is never erased).

The log keeps a reserve of one page: stride detail (and run starts) may not open the last free page, run ends,
overflow markers and acks may. When stride detail cannot be written, an OVERFLOW marker is logged once and the
run end counts the dropped strides; unacknowledged data is never overwritten.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, ParamSpec, Self, TypeVar

from soleware.gait.vocabulary import Side, quantize
from soleware.shoe.runlog._flash import Flash, PowerCut
from soleware.shoe.runlog._records import (
    MAX_FRAME_SIZE,
    U32,
    Ack,
    LogRecord,
    Overflow,
    RecordError,
    RunEnd,
    RunStart,
    Stride,
)

if TYPE_CHECKING:
    from soleware.gait.pipeline import Stride as GaitStride

__all__ = ["HEADER_SIZE", "LogStats", "RunInfo", "RunLog", "RunLogError", "detect_page_size"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

PAGE_MAGIC = b"SWL1"
_PAGE_HEAD = struct.Struct("<4sIIIB3x")
_CRC = struct.Struct("<I")
HEADER_SIZE = _PAGE_HEAD.size + _CRC.size
RESERVE_PAGES = 1
MIN_PAGES = 3


class RunLogError(RuntimeError):
    """Misuse of the log (no run started, read-only log, log broken by a power cut, bad ack)."""


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """One run as far as the log still holds it."""

    run_id: int
    first_seq: int
    last_seq: int
    start_unix_ms: int | None
    side: Side | None
    stride_count: int
    dropped_strides: int
    acknowledged: bool
    complete: bool
    overflowed: bool


@dataclasses.dataclass(frozen=True)
class LogStats:
    """Space and sync state. ``used_bytes`` counts whole live pages except the active page's free tail;
    ``torn_records`` the torn writes found at mount; ``dropped_since_open`` records not logged (log full)."""

    capacity_bytes: int
    used_bytes: int
    free_bytes: int
    unsynced_bytes: int
    reclaimable_bytes: int
    records: int
    unsynced_records: int
    next_seq: int
    acked_seq: int
    live_pages: int
    overflow_count: int
    dropped_strides: int
    torn_records: int
    dirty_pages: int
    dropped_since_open: int


@dataclasses.dataclass
class _Page:
    index: int
    page_seq: int
    first_seq: int
    acked_seq: int
    write_pos: int
    last_seq: int
    records: int = 0
    data_bytes: int = 0
    state: str = "clean"  # clean | sealed | torn | corrupt
    end_pos: int = 0  # where the valid records end (torn/seal start)
    seal_complete: bool = True


@dataclasses.dataclass
class _Current:
    run_id: int
    side: Side
    logged: bool
    strides: int = 0
    dropped: int = 0
    overflowing: bool = False


def _page_header(page_seq: int, first_seq: int, acked_seq: int, page_size: int) -> bytes:
    head = _PAGE_HEAD.pack(PAGE_MAGIC, page_seq, first_seq, acked_seq, page_size.bit_length() - 1)
    return head + _CRC.pack(zlib.crc32(head))


def _parse_header(data: bytes) -> tuple[int, int, int, int] | None:
    magic, page_seq, first_seq, acked, shift = _PAGE_HEAD.unpack_from(data)
    if (
        magic != PAGE_MAGIC
        or zlib.crc32(data[: _PAGE_HEAD.size]) != _CRC.unpack_from(data, _PAGE_HEAD.size)[0]
    ):
        return None
    return page_seq, first_seq, acked, shift


def detect_page_size(image: bytes, *, min_page_size: int = 256) -> int | None:
    """Page size recorded in the first valid page header of an image, None if it has none."""
    for off in range(0, len(image) - HEADER_SIZE + 1, min_page_size):
        if image[off : off + 4] == PAGE_MAGIC and (hdr := _parse_header(image[off : off + HEADER_SIZE])):
            return 1 << hdr[3]
    return None


def _parse_records(data: bytes, page: _Page, start: int = HEADER_SIZE) -> Iterator[tuple[int, LogRecord]]:
    """Yield ``(offset, record)`` for the valid records of a page from offset ``start`` (a record's, or the first
    one's) and set its end state."""
    ps = len(data)
    pos = start
    page.state = "clean"
    while pos < ps:
        t = data[pos]
        if t == 0xFF:
            if data.count(0xFF, pos) != ps - pos:
                page.state = "corrupt"
            break
        if t == 0x00:
            page.state = "sealed"
            page.seal_complete = data.count(0, pos) == ps - pos
            break
        try:
            rec = LogRecord.from_bytes(data, pos)
        except RecordError:
            tail = data[pos:].rstrip(b"\xff")
            page.state = (
                "torn" if len(tail) <= MAX_FRAME_SIZE else "corrupt"
            )  # a torn frame: all of it but a bit
            break
        yield pos, rec
        pos += rec.frame_size()
    page.end_pos = pos
    page.write_pos = pos if page.state == "clean" else ps


class RunLog:
    """Append-only log of runs in NOR flash, kept until the phone has acknowledged them.

    Open with `RunLog.open` (recovers from power cuts). A run is ``start_run`` → ``append_stride`` ... →
    ``end_run``; the phone syncs with ``read_from(seq, max_records)`` and ``ack(seq)``. Every call that returns
    has made its record durable; a `PowerCut` from the flash leaves this object unusable (reopen the flash).
    """

    def __init__(self, flash: Flash, *, repair: bool = True) -> None:
        if flash.page_count < MIN_PAGES:
            raise RunLogError(f"a run log needs at least {MIN_PAGES} pages, flash has {flash.page_count}")
        if flash.page_size < HEADER_SIZE + 2 * MAX_FRAME_SIZE:
            raise RunLogError(f"page size {flash.page_size} is too small for the run log")
        self.flash = flash
        self.writable = repair
        self._ps = flash.page_size
        self._n = flash.page_count
        self._broken = False
        self._current: _Current | None = None
        self._dropped_since_open = 0
        self._spare: int | None = None
        #: where the last ``read_from`` stopped: (page index, page seq, offset of the next record, next seq), so a
        #: sync reading the log window by window parses each record once, as firmware keeps a read pointer
        self._read_cursor: tuple[int, int, int, int] | None = None
        self.problems_: list[str] = []
        self._mount()
        if repair:
            self._guard(self._repair)

    @classmethod
    def open(cls, flash: Flash, *, repair: bool = True) -> Self:
        """Mount the log on ``flash``, recovering from an interrupted write unless ``repair`` is False
        (read-only: inspect an image without changing it)."""
        return cls(flash, repair=repair)

    # ----------------------------------------------------------------------------------------------- mount

    def _mount(self) -> None:
        live: list[_Page] = []
        self._dirty_pages = 0
        self._torn = 0
        unheaded = 0  # pages holding data beyond a header, without a valid one
        shift = self._ps.bit_length() - 1
        max_seq, max_ack = 0, 0
        for i in range(self._n):
            data = self.flash.read(i * self._ps, self._ps)
            hdr = _parse_header(data)
            if hdr is None:
                if data.count(0xFF) != self._ps:
                    self._dirty_pages += 1
                    if data.count(0xFF, HEADER_SIZE) != self._ps - HEADER_SIZE:
                        unheaded += 1
                continue
            page_seq, first_seq, acked, pshift = hdr
            if pshift != shift:
                self.problems_.append(f"page {i}: written with page size {1 << pshift}, read as {self._ps}")
                continue
            p = _Page(i, page_seq, first_seq, acked, write_pos=HEADER_SIZE, last_seq=first_seq - 1)
            for _, rec in _parse_records(data, p):
                p.records += 1
                if rec.is_data:
                    p.last_seq = max(p.last_seq, rec.seq)
                    p.data_bytes += rec.frame_size()
                else:
                    max_ack = max(max_ack, rec.seq)
            live.append(p)
        if unheaded and not live:
            # Once a page is live one always stays so (the active page is never erased); before that only the
            # first header can have been cut short. Data elsewhere without any live page is no run log.
            self.problems_.append(
                f"no run log: {unheaded} of {self._n} pages hold data, none under a valid page header "
                f"(not a run log image, or one of another page size)"
            )
        live.sort(key=lambda p: p.page_seq)
        for p in live:
            max_seq = max(max_seq, p.last_seq, p.first_seq - 1)
            max_ack = max(max_ack, p.acked_seq)
            if p.state in ("torn", "sealed"):
                self._torn += 1
            if p.state == "corrupt":
                self.problems_.append(
                    f"page {p.index}: unreadable data at offset {p.end_pos} (not a torn write)"
                )
            elif p.state == "torn" and p is not live[-1]:
                self.problems_.append(f"page {p.index}: torn record at offset {p.end_pos} in a closed page")
        for a, b in zip(live, live[1:], strict=False):
            if b.page_seq == a.page_seq:
                self.problems_.append(f"pages {a.index} and {b.index}: same page_seq {a.page_seq}")
            if b.index != (a.index + 1) % self._n:
                self.problems_.append(
                    f"pages {a.index} → {b.index}: live pages are not contiguous in the ring"
                )
        self._live = live
        self._next_seq = max_seq + 1
        self._next_page_seq = (live[-1].page_seq + 1) if live else 1
        if live:
            max_ack = max(max_ack, live[0].first_seq - 1)
        if max_ack > max_seq:
            self.problems_.append(f"acknowledged seq {max_ack} is beyond the last record {max_seq}")
            max_ack = max_seq
        self._acked = max_ack

    def _repair(self) -> None:
        for p in self._live:
            if p.state in ("torn", "corrupt") or (p.state == "sealed" and not p.seal_complete):
                base = p.index * self._ps
                self.flash.program(base + p.end_pos, bytes(self._ps - p.end_pos))
                p.state, p.seal_complete, p.write_pos = "sealed", True, self._ps

    # ----------------------------------------------------------------------------------------------- writing

    def _guard(self, fn: Callable[_P, _T], *args: _P.args, **kw: _P.kwargs) -> _T:
        if self._broken:
            raise RunLogError("the flash lost power during a write: reopen it with RunLog.open")
        try:
            return fn(*args, **kw)
        except PowerCut:
            self._broken = True
            raise

    def _writable(self) -> None:
        if not self.writable:
            raise RunLogError("the log was opened read-only (repair=False)")
        if self._broken:
            raise RunLogError("the flash lost power during a write: reopen it with RunLog.open")

    @property
    def _active(self) -> _Page | None:
        return self._live[-1] if self._live else None

    def _spare_pages(self) -> int:
        """Pages a new page could still come from: never-used ones plus the oldest fully acknowledged ones."""
        if self._spare is None:
            spare = self._n - len(self._live)
            for p in self._live[:-1]:
                if p.last_seq > self._acked:
                    break
                spare += 1
            self._spare = spare
        return self._spare

    def _next_index(self) -> int:
        return (self._active.index + 1) % self._n if self._active else 0

    def _page_by_index(self, index: int) -> _Page | None:
        return next((p for p in self._live if p.index == index), None)

    def _retire(self, p: _Page) -> None:
        """Make an acknowledged live page non-live: zero its magic so a cut erase can never look valid."""
        self.flash.program(p.index * self._ps, bytes(len(PAGE_MAGIC)))
        self._live.remove(p)
        self._spare = None

    def _open_page(self, *, reserve: bool) -> bool:
        if self._spare_pages() <= (0 if reserve else RESERVE_PAGES):
            return False
        idx = self._next_index()
        old = self._page_by_index(idx)
        if old is not None:
            if old.last_seq > self._acked or old is self._active:
                return False
            self._retire(old)
        if not self.flash.is_erased(idx):
            self.flash.erase(idx)
        self.flash.program(
            idx * self._ps, _page_header(self._next_page_seq, self._next_seq, self._acked, self._ps)
        )
        self._live.append(
            _Page(idx, self._next_page_seq, self._next_seq, self._acked, HEADER_SIZE, self._next_seq - 1)
        )
        self._next_page_seq += 1
        self._spare = None
        return True

    def _append(self, rec: LogRecord, *, reserve: bool) -> bool:
        """Write ``rec``; without ``reserve`` only while the reserve page is untouched."""
        if not reserve and self._spare_pages() < RESERVE_PAGES:
            return False
        frame = bytes(rec)
        a = self._active
        if (a is None or a.write_pos + len(frame) > self._ps) and not self._open_page(reserve=reserve):
            return False
        a = self._live[-1]
        self.flash.program(a.index * self._ps + a.write_pos, frame)
        a.write_pos += len(frame)
        a.end_pos = a.write_pos
        a.records += 1
        if rec.is_data:
            a.last_seq = rec.seq
            a.data_bytes += len(frame)
            self._next_seq = rec.seq + 1
        return True

    def start_run(
        self,
        *,
        start_unix_ms: int,
        side: Side | str = Side.LEFT,
        firmware: str = "",
        calibration: float = 1.0,
        run_id: int | None = None,
    ) -> int:
        """Begin a run and return its id (the RUN_START record's seq unless ``run_id`` is given).

        An unfinished previous run is ended first with zero totals.
        """
        self._writable()
        if self._current is not None:
            self.end_run(distance_m=0.0, moving_s=0.0, elapsed_s=0.0)
        side = Side(side.lower())
        rid = self._next_seq if run_id is None else run_id
        rec = RunStart(
            seq=self._next_seq,
            run_id=rid,
            start_unix_ms=int(start_unix_ms),
            side=side,
            firmware=firmware,
            calibration_ppm=quantize(calibration, 1e6, 0, U32),
        )
        logged = self._guard(self._append, rec, reserve=True)
        if not logged:
            self._dropped_since_open += 1
        self._current = _Current(rid, side, logged)
        return rid

    def append_stride(self, stride: GaitStride, *, t0_s: float = 0.0) -> bool:
        """Log one stride of the current run; ``t0_s`` is the run's start on the stride's clock.

        Returns False if the log is full of unsynced data: the stride is dropped and counted, and an OVERFLOW
        marker is logged once per overflow episode.
        """
        self._writable()
        cur = self._current
        if cur is None:
            raise RunLogError("append_stride without start_run")
        rec = Stride.from_stride(stride, seq=self._next_seq, run_id=cur.run_id, side=cur.side, t0_s=t0_s)
        if cur.logged and self._guard(self._append, rec, reserve=False):
            cur.strides += 1
            cur.overflowing = False
            return True
        cur.dropped += 1
        self._dropped_since_open += 1
        if cur.logged and not cur.overflowing:
            marker = Overflow(seq=self._next_seq, run_id=cur.run_id, t_end_ms=rec.t_end_ms)
            cur.overflowing = bool(self._guard(self._append, marker, reserve=True))
        return False

    def end_run(self, *, distance_m: float, moving_s: float, elapsed_s: float) -> RunEnd | None:
        """Close the current run; returns the RUN_END record, or None if even the reserve was used up."""
        self._writable()
        cur = self._current
        if cur is None:
            raise RunLogError("end_run without start_run")
        self._current = None

        rec = RunEnd(
            seq=self._next_seq,
            run_id=cur.run_id,
            distance_mm=quantize(distance_m, 1e3, 0, U32),
            moving_ms=quantize(moving_s, 1e3, 0, U32),
            elapsed_ms=quantize(elapsed_s, 1e3, 0, U32),
            stride_count=cur.strides + cur.dropped,
            dropped_strides=cur.dropped,
        )
        if cur.logged and self._guard(self._append, rec, reserve=True):
            return rec
        self._dropped_since_open += 1
        return None

    def resume_run(self) -> int | None:
        """Continue the newest run if it has no end (a reboot mid-run); returns its id, or None if there is none."""
        self._writable()
        if self._current is not None:
            return self._current.run_id
        runs = self.runs()
        if not runs or runs[-1].complete:
            return None
        r = runs[-1]
        self._current = _Current(
            r.run_id, r.side if r.side is not None else Side.LEFT, True, strides=r.stride_count
        )
        return r.run_id

    @property
    def current_run(self) -> int | None:
        """Id of the run being logged, None between runs (a restart ends any run)."""
        return self._current.run_id if self._current else None

    def ack(self, seq: int) -> None:
        """The phone has every data record up to and including ``seq``; persists it (ACK record or, if the
        log is completely full, the next page header) and lets those pages be reused."""
        self._writable()
        if seq <= self._acked:
            return
        if seq >= self._next_seq:
            raise RunLogError(f"cannot acknowledge seq {seq}: the last record is {self._next_seq - 1}")
        self._acked = seq
        self._spare = None
        self._guard(self._append, Ack(seq), reserve=True)

    def gc(self) -> int:
        """Erase every fully acknowledged page but the active one now (e.g. while idle); returns the count.

        Appends reuse such pages anyway when they need a new page, so calling this is optional.
        """
        self._writable()
        done = 0
        for p in list(self._live[:-1]):
            if p.last_seq > self._acked:
                break
            self._guard(self._retire, p)
            self._guard(self.flash.erase, p.index)
            done += 1
        return done

    # ----------------------------------------------------------------------------------------------- reading

    def _page_records(self, p: _Page) -> Iterator[LogRecord]:
        data = self.flash.read(p.index * self._ps, self._ps)
        probe = dataclasses.replace(p)
        for _, rec in _parse_records(data, probe):
            yield rec

    def records(self) -> Iterator[LogRecord]:
        """Every record the log holds, oldest first, ACKs included."""
        for p in list(self._live):
            yield from self._page_records(p)

    def read_from(self, seq: int, max_records: int = 64) -> list[LogRecord]:
        """Up to ``max_records`` data records with seq >= ``seq``, in order (the sync window for the phone)."""
        out: list[LogRecord] = []
        live = list(self._live)
        resume = self._read_cursor
        if resume is not None and (
            resume[3] != seq or not any(p.index == resume[0] and p.page_seq == resume[1] for p in live)
        ):
            resume = None
        self._read_cursor = None
        for p in live:
            if resume is not None and (p.index, p.page_seq) != resume[:2]:
                continue  # a page before the one the last read stopped in
            start = HEADER_SIZE if resume is None else resume[2]
            resume = None
            if p.last_seq < seq:
                continue
            data = self.flash.read(p.index * self._ps, self._ps)
            for pos, rec in _parse_records(data, dataclasses.replace(p), start):
                if rec.is_data and rec.seq >= seq:
                    out.append(rec)
                    if len(out) >= max_records:
                        self._read_cursor = (p.index, p.page_seq, pos + rec.frame_size(), rec.seq + 1)
                        return out
        return out

    @property
    def next_seq(self) -> int:
        """Seq the next data record will get."""
        return self._next_seq

    @property
    def acked_seq(self) -> int:
        """Highest acknowledged seq (0 if none)."""
        return self._acked

    def runs(self) -> list[RunInfo]:
        """The runs the log still holds (a run's start may already be reclaimed if it was acknowledged)."""
        acc: dict[int, dict] = {}
        for rec in self.records():
            if not rec.is_data:
                continue
            rid = rec.run_id  # type: ignore[attr-defined]
            r = acc.setdefault(
                rid,
                {
                    "first": rec.seq,
                    "last": rec.seq,
                    "start": None,
                    "side": None,
                    "strides": 0,
                    "end": None,
                    "ovf": 0,
                },
            )
            r["last"] = rec.seq
            if isinstance(rec, RunStart):
                r["start"], r["side"] = rec.start_unix_ms, rec.side
            elif isinstance(rec, Stride):
                r["strides"] += 1
                r["side"] = rec.side
            elif isinstance(rec, Overflow):
                r["ovf"] += 1
            elif isinstance(rec, RunEnd):
                r["end"] = rec
        cur = self._current
        out = []
        for rid, r in acc.items():
            end: RunEnd | None = r["end"]
            dropped = end.dropped_strides if end else (cur.dropped if cur and cur.run_id == rid else 0)
            out.append(
                RunInfo(
                    run_id=rid,
                    first_seq=r["first"],
                    last_seq=r["last"],
                    start_unix_ms=r["start"],
                    side=r["side"],
                    stride_count=r["strides"],
                    dropped_strides=dropped,
                    acknowledged=r["last"] <= self._acked,
                    complete=end is not None,
                    overflowed=r["ovf"] > 0 or dropped > 0,
                )
            )
        return out

    @property
    def stats(self) -> LogStats:
        """Capacity, use and sync state (reads the unsynced pages)."""
        records = unsynced = unsynced_bytes = overflows = dropped = 0
        for rec in self.records():
            records += 1
            if not rec.is_data:
                continue
            if rec.seq > self._acked:
                unsynced += 1
                unsynced_bytes += rec.frame_size()
            if isinstance(rec, Overflow):
                overflows += 1
            elif isinstance(rec, RunEnd):
                dropped += rec.dropped_strides
        if self._current:
            dropped += self._current.dropped
        cap = self._n * self._ps
        a = self._active
        used = len(self._live) * self._ps - (self._ps - a.write_pos if a else 0)
        reclaim = 0
        for p in self._live[:-1]:
            if p.last_seq > self._acked:
                break
            reclaim += self._ps
        return LogStats(
            capacity_bytes=cap,
            used_bytes=used,
            free_bytes=cap - used,
            unsynced_bytes=unsynced_bytes,
            reclaimable_bytes=reclaim,
            records=records,
            unsynced_records=unsynced,
            next_seq=self._next_seq,
            acked_seq=self._acked,
            live_pages=len(self._live),
            overflow_count=overflows,
            dropped_strides=dropped,
            torn_records=self._torn,
            dirty_pages=self._dirty_pages,
            dropped_since_open=self._dropped_since_open,
        )

    def check(self) -> list[str]:
        """Problems that power cuts cannot explain: corrupt data, broken ring, seq gaps, orphan strides."""
        problems = list(self.problems_)
        prev: int | None = None
        open_run: int | None = None
        ended: set[int] = set()
        for p in self._live:
            first_in_page = True
            for rec in self._page_records(p):
                if not rec.is_data:
                    continue
                if first_in_page and rec.seq != p.first_seq:
                    problems.append(f"page {p.index}: first record seq {rec.seq}, header says {p.first_seq}")
                first_in_page = False
                if prev is not None and rec.seq != prev + 1:
                    problems.append(f"seq {rec.seq} follows {prev} (expected {prev + 1})")
                prev = rec.seq
                rid = rec.run_id  # type: ignore[attr-defined]
                if isinstance(rec, RunStart):
                    open_run = rid
                elif rid in ended:
                    problems.append(f"seq {rec.seq}: {rec.TYPE.name} for run {rid} after its end")
                elif open_run is not None and rid != open_run:
                    problems.append(
                        f"seq {rec.seq}: {rec.TYPE.name} for run {rid} while run {open_run} is open"
                    )
                if isinstance(rec, RunEnd):
                    ended.add(rid)
                    open_run = None
        return problems
