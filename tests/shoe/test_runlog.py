"""Run log behaviour: runs, restarts, sync (read/ack), garbage collection, overflow, check."""

from __future__ import annotations

import pytest

from soleware.gait import Gait, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.shoe.runlog import (
    HEADER_SIZE,
    FileFlash,
    MemoryFlash,
    Overflow,
    RunEnd,
    RunLog,
    RunLogError,
    RunStart,
    Stride,
)

PAGE = 256


def stride(i: int) -> GaitStride:
    return GaitStride(
        t_start_s=0.72 * i,
        t_end_s=0.72 * (i + 1),
        length_m=2.2,
        speed_mps=3.05,
        cadence_spm=168.0 + i % 5,
        contact_time_s=0.22,
        flight_time_s=0.1,
        strike_angle_deg=8.0,
        strike_type=StrikeType.REARFOOT,
        impact_mps2=90.0 + i,
        gait=Gait.RUN,
    )


def small(pages: int = 8) -> MemoryFlash:
    return MemoryFlash(PAGE * pages, page_size=PAGE)


def run(log: RunLog, strides: int, *, t0: int = 0) -> tuple[int, list[bool]]:
    rid = log.start_run(start_unix_ms=1_700_000_000_000 + t0, side="left", firmware="0.1")
    ok = [log.append_stride(stride(i)) for i in range(strides)]
    log.end_run(distance_m=2.2 * strides, moving_s=0.72 * strides, elapsed_s=0.8 * strides)
    return rid, ok


def test_a_run_is_logged_and_reads_back_after_restart() -> None:
    flash = small()
    log = RunLog.open(flash)
    rid, ok = run(log, 10)
    assert all(ok)
    recs = log.read_from(1, 100)
    assert [type(r) for r in recs] == [RunStart] + [Stride] * 10 + [RunEnd]
    assert [r.seq for r in recs] == list(range(1, 13))
    assert rid == 1 and all(r.run_id == rid for r in recs)  # type: ignore[attr-defined]
    assert recs[3].length_m == pytest.approx(2.2)  # type: ignore[attr-defined]
    end = recs[-1]
    assert isinstance(end, RunEnd) and end.stride_count == 10 and end.distance_m == pytest.approx(22.0)
    again = RunLog.open(flash)
    assert again.read_from(1, 100) == recs
    assert again.next_seq == 13 and again.check() == []
    (info,) = again.runs()
    assert (info.run_id, info.first_seq, info.last_seq, info.stride_count) == (1, 1, 12, 10)
    assert info.complete and not info.acknowledged and not info.overflowed


def test_read_from_pages_through_with_flow_control() -> None:
    log = RunLog.open(small())
    run(log, 30)
    got, seq = [], 1
    while batch := log.read_from(seq, 7):
        assert len(batch) <= 7
        got += batch
        seq = batch[-1].seq + 1
    assert [r.seq for r in got] == list(range(1, 33))
    assert log.read_from(5, 3)[0].seq == 5


def test_ack_persists_and_seq_keeps_increasing_across_restarts_and_ring_wrap() -> None:
    flash = small(6)
    last = 0
    for k in range(12):  # many times the ring's capacity
        log = RunLog.open(flash)
        assert log.next_seq == last + 1 and log.acked_seq == last
        assert log.check() == []
        _, ok = run(log, 8, t0=k)
        assert all(ok)
        last = log.next_seq - 1
        log.ack(last)
    final = RunLog.open(flash)
    assert final.acked_seq == last and final.next_seq == last + 1
    assert final.stats.unsynced_records == 0


def test_resume_run_after_a_reboot() -> None:
    flash = small()
    log = RunLog.open(flash)
    rid = log.start_run(start_unix_ms=5, side="right")
    log.append_stride(stride(0))
    log = RunLog.open(flash)
    assert log.current_run is None and not log.runs()[0].complete
    assert log.resume_run() == rid
    log.append_stride(stride(1))
    end = log.end_run(distance_m=4.4, moving_s=1.4, elapsed_s=1.5)
    assert end is not None and end.stride_count == 2 and end.run_id == rid
    assert RunLog.open(flash).resume_run() is None


def test_only_acknowledged_pages_are_reused_and_unsynced_data_is_never_overwritten() -> None:
    flash = small(6)
    log = RunLog.open(flash)
    _, ok = run(log, 200)
    assert ok.count(False) > 0  # log full
    recs = log.read_from(1, 1000)
    seqs = [r.seq for r in recs]
    assert seqs == list(range(1, len(seqs) + 1))  # nothing from the start was overwritten
    kinds = [type(r) for r in recs]
    assert kinds.count(Overflow) == 1 and kinds[-1] is RunEnd and kinds[-2] is Overflow
    end = recs[-1]
    assert isinstance(end, RunEnd) and end.dropped_strides == ok.count(False) and end.stride_count == 200
    assert log.runs()[0].overflowed and log.stats.dropped_strides == ok.count(False)
    # a new run can start but gets no stride detail until the phone syncs
    log.start_run(start_unix_ms=2, side="left")
    assert not log.append_stride(stride(0))
    log.end_run(distance_m=0, moving_s=0, elapsed_s=0)
    # the phone takes half and acknowledges it: only those pages come back
    half = recs[len(recs) // 2].seq
    log.ack(half)
    _, ok2 = run(log, 100)
    assert any(ok2) and not all(ok2)
    after = RunLog.open(flash).read_from(0, 10_000)
    assert after[0].seq <= half + 1
    assert [r.seq for r in after] == list(range(after[0].seq, after[-1].seq + 1))
    assert [r for r in after if r.seq <= recs[-1].seq] == [r for r in recs if r.seq >= after[0].seq]


def test_stats_account_for_space_and_sync() -> None:
    log = RunLog.open(small(8))
    st = log.stats
    assert (st.capacity_bytes, st.used_bytes, st.records, st.next_seq) == (8 * PAGE, 0, 0, 1)
    run(log, 12)
    st = log.stats
    frames = RunStart.frame_size() + 12 * Stride.frame_size() + RunEnd.frame_size()
    assert st.unsynced_bytes == frames and st.unsynced_records == 14
    assert st.used_bytes >= frames + HEADER_SIZE and st.free_bytes == st.capacity_bytes - st.used_bytes
    log.ack(10)
    st = log.stats
    assert st.unsynced_records == 4 and st.acked_seq == 10 and st.records == 15  # + the ACK record


def test_gc_erases_acknowledged_pages_oldest_first() -> None:
    flash = small(8)
    log = RunLog.open(flash)
    run(log, 30)
    assert log.gc() == 0
    log.ack(20)
    n = log.gc()
    assert n >= 2
    recs = log.read_from(0, 100)
    assert recs[0].seq > 1 and recs[0].seq <= 21 and recs[-1].seq == 32
    assert RunLog.open(flash).read_from(0, 100) == recs
    assert RunLog.open(flash).acked_seq == 20


def test_ack_rules() -> None:
    log = RunLog.open(small())
    run(log, 3)
    with pytest.raises(RunLogError):
        log.ack(99)
    log.ack(3)
    log.ack(2)  # going backwards is a no-op
    assert log.acked_seq == 3
    with pytest.raises(RunLogError):
        log.append_stride(stride(0))  # no run


def test_check_reports_corruption() -> None:
    flash = small()
    log = RunLog.open(flash)
    run(log, 12)
    assert log.check() == []
    data = bytearray(flash.snapshot())
    data[HEADER_SIZE + 40] ^= 0x10  # bit rot in the middle of page 0 (not a torn tail)
    bad = RunLog.open(MemoryFlash(page_size=PAGE, data=bytes(data)), repair=False)
    problems = bad.check()
    assert any("unreadable" in p for p in problems)
    assert any("seq" in p for p in problems)  # the records after the damage are lost: a seq gap


def test_check_tells_data_without_a_live_page_from_a_first_header_cut_short() -> None:
    """Before the first page is live, only its header can have been written (and cut short); data past a
    header without any live page is no run log. An erased or partly headed flash is a clean empty log."""
    flash = small()
    assert RunLog.open(flash, repair=False).check() == []
    partial = bytearray(flash.snapshot())
    partial[:6] = b"SWL1\x01\xff"
    assert RunLog.open(MemoryFlash(page_size=PAGE, data=bytes(partial)), repair=False).check() == []
    partial[HEADER_SIZE + 7] = 0x00
    partial[3 * PAGE + 100] = 0x5A
    problems = RunLog.open(MemoryFlash(page_size=PAGE, data=bytes(partial)), repair=False).check()
    assert problems == [
        "no run log: 2 of 8 pages hold data, none under a valid page header "
        "(not a run log image, or one of another page size)"
    ]


def test_new_image_file_round_trip(tmp_path) -> None:
    path = tmp_path / "shoe.img"
    with FileFlash.create(path, 64 * 1024) as flash:
        log = RunLog.open(flash)
        run(log, 50)
        log.ack(10)
        recs = log.read_from(0, 1000)
    with FileFlash(path) as flash:
        log = RunLog.open(flash)
        assert log.read_from(0, 1000) == recs and log.acked_seq == 10 and log.next_seq == 53


def test_too_small_flash_is_refused() -> None:
    with pytest.raises(RunLogError):
        RunLog.open(MemoryFlash(2 * PAGE, page_size=PAGE))
