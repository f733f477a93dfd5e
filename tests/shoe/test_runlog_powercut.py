"""Power cut at every byte of every flash operation: recovery keeps all complete records, drops only the torn
one, and the log keeps appending correctly afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from soleware.gait import Gait, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.shoe.runlog import (
    HEADER_SIZE,
    LogRecord,
    MemoryFlash,
    PowerCut,
    RunLog,
    RunStart,
    Stride,
)

PAGE = 256
PAGES = 8

Op = tuple[str, Any]


def stride(i: int) -> GaitStride:
    return GaitStride(
        t_start_s=0.7 * i - 0.7,
        t_end_s=0.7 * i,
        length_m=2.0 + 0.01 * i,
        speed_mps=3.0 + 0.001 * i,
        cadence_spm=170.0,
        contact_time_s=0.21,
        flight_time_s=0.12,
        strike_angle_deg=-4.5,
        strike_type=StrikeType.FOREFOOT,
        impact_mps2=150.0,
        gait=Gait.RUN,
    )


def apply(log: RunLog, op: Op) -> None:
    kind, arg = op
    if kind in ("stride", "end") and log.current_run is None:
        assert log.resume_run() is not None
    if kind == "start":
        log.start_run(start_unix_ms=1_700_000_000_000 + arg, side="right", firmware="fw-1.0")
    elif kind == "stride":
        log.append_stride(stride(arg))
    elif kind == "end":
        log.end_run(distance_m=arg, moving_s=60.0, elapsed_s=65.0)
    elif kind == "ack":
        log.ack(log.next_seq - 1 - arg)
    elif kind == "gc":
        log.gc()
    else:
        raise AssertionError(kind)


def data(log: RunLog) -> list[LogRecord]:
    return [r for r in log.records() if r.is_data]


def build(ops: list[Op]) -> MemoryFlash:
    flash = MemoryFlash(PAGE * PAGES, page_size=PAGE)
    log = RunLog.open(flash)
    for op in ops:
        apply(log, op)
    return flash


def reference(base: MemoryFlash, ops: list[Op]) -> tuple[list[LogRecord], list[int], list[int], int]:
    """Uncut run: every data record before or after (GC may drop old ones), the last seq and acked seq after
    each op, and the total work bytes of the ops."""
    flash = base.copy()
    log = RunLog.open(flash)
    start = flash.work_bytes
    cum = [log.next_seq - 1]
    acked = [log.acked_seq]
    for op in ops:
        apply(log, op)
        cum.append(log.next_seq - 1)
        acked.append(log.acked_seq)
    by_seq = {r.seq: r for r in data(RunLog.open(base.copy(), repair=False))}
    by_seq.update({r.seq: r for r in data(RunLog.open(flash.copy()))})
    return [by_seq[s] for s in sorted(by_seq)], cum, acked, flash.work_bytes - start


def continue_and_verify(flash: MemoryFlash, recovered: list[LogRecord]) -> None:
    """After recovery, a new run appends cleanly and survives another restart."""
    log = RunLog.open(flash)
    assert log.check() == []
    rid = log.start_run(start_unix_ms=1, side="left")
    for i in range(3):
        assert log.append_stride(stride(100 + i))
    log.end_run(distance_m=10.0, moving_s=3.0, elapsed_s=3.0)
    again = RunLog.open(flash)
    assert again.check() == []
    recs = data(again)
    seqs = [r.seq for r in recs]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    kept = [r for r in recovered if r.seq >= seqs[0]]
    assert recs[: len(kept)] == kept
    tail = recs[len(kept) :]
    assert [type(r).__name__ for r in tail] == ["RunStart", "Stride", "Stride", "Stride", "RunEnd"]
    assert all(r.run_id == rid for r in tail)  # type: ignore[attr-defined]
    assert tail[0].seq == (recovered[-1].seq + 1 if recovered else 1)


def cut_everywhere(setup: list[Op], ops: list[Op], torn: bool) -> int:
    """Cut the power at every byte of the work ``ops`` do on the image ``setup`` builds; check each recovery."""
    base = build(setup)
    ref, cum, acked, total = reference(base, ops)
    assert total > 0
    for n in range(total):
        flash = base.copy()
        log = RunLog.open(flash)
        flash.cut_power_after(n, torn=torn, seed=n)
        done = 0
        with pytest.raises(PowerCut):
            for op in ops:
                apply(log, op)
                done += 1
        rec_log = RunLog.open(flash)
        assert rec_log.check() == [], f"cut at {n}: a torn write must not look like corruption"
        recs = data(rec_log)
        last = recs[-1].seq if recs else 0
        assert cum[done] <= last <= cum[done + 1], f"cut at {n}: last seq {last}, ops done {done}"
        first = recs[0].seq if recs else last + 1
        assert recs == [r for r in ref if first <= r.seq <= last], f"cut at {n}"
        assert rec_log.acked_seq in (acked[done], acked[done + 1]), f"cut at {n}"
        assert first <= rec_log.acked_seq + 1
        assert rec_log.next_seq == last + 1
        continue_and_verify(flash, recs)
    return total


RUN3: list[Op] = [("start", 0), ("stride", 0), ("stride", 1), ("stride", 2)]


def fill_page_ops(strides: int) -> list[Op]:
    return [("start", 0)] + [("stride", i) for i in range(strides)]


@pytest.mark.parametrize("torn", [False, True], ids=["clean-cut", "torn-byte"])
class TestCutAtEveryByte:
    def test_stride_write_mid_page(self, torn: bool) -> None:
        assert cut_everywhere(RUN3, [("stride", 3)], torn) == Stride.frame_size()

    def test_run_start_and_end_writes(self, torn: bool) -> None:
        cut_everywhere(RUN3, [("end", 123.4), ("start", 9)], torn)

    def test_ack_write(self, torn: bool) -> None:
        cut_everywhere(RUN3, [("ack", 1)], torn)

    def test_new_page_header_write(self, torn: bool) -> None:
        per_page = (PAGE - HEADER_SIZE - RunStart.frame_size()) // Stride.frame_size()
        setup = fill_page_ops(per_page)  # run start + strides fill page 0: the next stride opens page 1
        flash = build(setup)
        assert len(RunLog.open(flash)._live) == 1
        total = cut_everywhere(setup, [("stride", 50), ("stride", 51)], torn)
        assert total >= HEADER_SIZE + 2 * Stride.frame_size()

    def test_page_reuse_with_erase(self, torn: bool) -> None:
        """The ring is full of acknowledged data: the next page is retired, erased, and reopened."""
        setup: list[Op] = [("start", 0)]
        flash = build(setup)
        log = RunLog.open(flash)
        i = 0

        while len(log._live) < PAGES or log._live[-1].write_pos + Stride.frame_size() <= PAGE:
            for op in [("stride", i), ("ack", 0)]:
                apply(log, op)
                setup.append(op)
            i += 1
        total = cut_everywhere(setup, [("stride", 999)], torn)
        assert total >= PAGE + HEADER_SIZE + Stride.frame_size()

    def test_gc_erase(self, torn: bool) -> None:
        cut_everywhere(fill_page_ops(20) + [("ack", 0)], [("gc", None), ("stride", 77)], torn)

    def test_mixed_sequence_across_pages(self, torn: bool) -> None:
        ops: list[Op] = [("stride", i) for i in range(3, 9)] + [("ack", 2), ("end", 5.0), ("start", 1)]
        cut_everywhere(RUN3, ops, torn)


@pytest.mark.parametrize("torn", [False, True], ids=["clean-cut", "torn-byte"])
def test_cut_during_recovery_seal(torn: bool) -> None:
    """Recovery itself (sealing a torn record) can be cut at any byte and recovery still converges."""
    base = build(RUN3)
    base.cut_power_after(Stride.frame_size() // 2, torn=torn)
    with pytest.raises(PowerCut):
        apply(RunLog.open(base), ("stride", 3))
    expected = data(RunLog.open(base.copy(), repair=False))
    assert len(expected) == 4
    probe = base.copy()
    RunLog.open(probe)
    total = probe.work_bytes
    assert total == PAGE - (HEADER_SIZE + sum(len(bytes(r)) for r in expected))
    for n in range(total):
        flash = base.copy()
        flash.cut_power_after(n, torn=torn, seed=n)
        with pytest.raises(PowerCut):
            RunLog.open(flash)
        log = RunLog.open(flash)
        assert data(log) == expected
        assert log.stats.torn_records == 1
        continue_and_verify(flash, expected)


def test_read_only_open_does_not_write() -> None:
    base = build(RUN3)
    base.cut_power_after(7)
    with pytest.raises(PowerCut):
        apply(RunLog.open(base), ("stride", 3))
    before = base.snapshot()
    log = RunLog.open(base, repair=False)
    assert log.stats.torn_records == 1
    assert log.check() == []
    assert base.snapshot() == before
    with pytest.raises(Exception, match="read-only"):
        log.append_stride(stride(0))


def test_log_object_is_unusable_after_a_cut() -> None:
    flash = build(RUN3)
    log = RunLog.open(flash)
    flash.cut_power_after(3)
    with pytest.raises(PowerCut):
        apply(log, ("stride", 5))
    with pytest.raises(Exception, match="reopen"):
        apply(log, ("stride", 6))
