"""Property-based: random runs, strides, acks, GC, restarts and power cuts against a model of what is durable."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from soleware.gait import Gait, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.shoe.runlog import LogRecord, MemoryFlash, Overflow, PowerCut, RunEnd, RunLog, RunStart, Stride

PAGE = 256
PAGES = 6

stride_values = st.builds(
    GaitStride,
    t_start_s=st.floats(0, 1e5),
    t_end_s=st.floats(0, 1e5),
    length_m=st.floats(0, 80),
    speed_mps=st.floats(0, 70),
    cadence_spm=st.floats(0, 400),
    contact_time_s=st.floats(0, 2),
    flight_time_s=st.floats(0, 2),
    strike_angle_deg=st.floats(-90, 90),
    strike_type=st.sampled_from([None, *StrikeType]),
    impact_mps2=st.floats(0, 2000),
    gait=st.sampled_from(list(Gait)),
)


class RunLogMachine(RuleBasedStateMachine):
    """``model`` holds every data record a returned call made durable; the flash must keep all unacked ones."""

    def __init__(self) -> None:
        super().__init__()
        self.flash = MemoryFlash(PAGE * PAGES, page_size=PAGE)
        self.log = RunLog.open(self.flash)
        self.model: dict[int, LogRecord] = {}
        self.acked = 0
        self.read_seq = 0

    def _sync_new(self) -> list[LogRecord]:
        """Data records the log has that the model does not (at most those of one interrupted call)."""
        last = max(self.model, default=0)
        return [r for r in self.log.records() if r.is_data and r.seq > last][:10]

    def _do(self, fn: Any, cut: tuple[int, bool] | None) -> bool:
        """Run ``fn`` (maybe with a power cut armed); afterwards the model holds what became durable."""
        if cut is not None:
            self.flash.cut_power_after(cut[0], torn=cut[1], seed=cut[0])
        try:
            fn()
            ok = True
        except PowerCut:
            self.log = RunLog.open(self.flash)
            ok = False
        self.flash.restore_power()
        new = self._sync_new()
        assert len(new) <= 1
        for r in new:
            self.model[r.seq] = r
        return ok

    cuts = st.none() | st.tuples(st.integers(0, 300), st.booleans())

    @precondition(lambda self: self.log.current_run is None)
    @rule(t=st.integers(0, 2**40), cut=cuts)
    def start_run(self, t: int, cut: tuple[int, bool] | None) -> None:
        before = max(self.model, default=0)
        if self._do(lambda: self.log.start_run(start_unix_ms=t, side="right", firmware="hyp"), cut):
            got = [r for r in self.model.values() if r.seq > before]
            assert all(isinstance(r, RunStart) and r.start_unix_ms == t for r in got)

    @precondition(lambda self: self.log.current_run is not None)
    @rule(v=stride_values, cut=cuts)
    def stride(self, v: GaitStride, cut: tuple[int, bool] | None) -> None:
        before = max(self.model, default=0)
        result: list[bool] = []
        self._do(lambda: result.append(self.log.append_stride(v)), cut)
        got = [r for r in self.model.values() if r.seq > before]
        for r in got:
            assert isinstance(r, Stride | Overflow)
            if isinstance(r, Stride):
                assert r.stride_length_mm == min(0xFFFF, round(v.length_m * 1e3))
        if result == [True]:
            assert got and isinstance(got[-1], Stride)

    @precondition(lambda self: self.log.current_run is not None)
    @rule(d=st.floats(0, 50_000), cut=cuts)
    def end_run(self, d: float, cut: tuple[int, bool] | None) -> None:
        before = max(self.model, default=0)
        self._do(lambda: self.log.end_run(distance_m=d, moving_s=1.0, elapsed_s=2.0), cut)
        assert all(isinstance(r, RunEnd) for r in self.model.values() if r.seq > before)

    @precondition(lambda self: self.log.current_run is None)
    @rule()
    def resume(self) -> None:
        self.log.resume_run()

    @rule(frac=st.floats(0, 1), cut=cuts)
    def ack(self, frac: float, cut: tuple[int, bool] | None) -> None:
        last = self.log.next_seq - 1
        target = self.acked + round(frac * (last - self.acked))
        if self._do(lambda: self.log.ack(target), cut):
            self.acked = max(self.acked, target)
        else:
            assert self.acked <= self.log.acked_seq <= max(self.acked, target)  # reclaimed pages imply acks
            self.acked = self.log.acked_seq

    @rule(cut=cuts)
    def gc(self, cut: tuple[int, bool] | None) -> None:
        self._do(self.log.gc, cut)

    @rule()
    def restart(self) -> None:
        self.log = RunLog.open(self.flash)

    @rule(n=st.integers(1, 12), windows=st.integers(1, 6), jump=st.none() | st.integers(0, 200))
    def read_windows(self, n: int, windows: int, jump: int | None) -> None:
        """A phone syncing window by window (from where it stopped, or any seq): the log's read pointer must give
        exactly what a scan of every record from the start gives, whatever was written, acknowledged or
        reclaimed in between."""
        seq = self.read_seq if jump is None else jump
        for _ in range(windows):
            want = [r for r in self.log.records() if r.is_data and r.seq >= seq][:n]
            got = self.log.read_from(seq, n)
            assert got == want
            seq = got[-1].seq + 1 if got else seq
        self.read_seq = seq

    @invariant()
    def log_matches_model(self) -> None:
        log = self.log
        assert log.acked_seq == self.acked
        recs = [r for r in log.records() if r.is_data]  # read_from is checked against this in read_windows
        last = max(self.model, default=0)
        assert log.next_seq == last + 1
        if recs:
            assert recs[0].seq <= self.acked + 1  # unacknowledged data is never reclaimed
            assert recs == [self.model[s] for s in range(recs[0].seq, last + 1)]
        else:
            assert last <= self.acked
        assert log.check() == []
        st_ = log.stats
        assert st_.unsynced_records == sum(1 for s in self.model if s > self.acked)
        assert 0 <= st_.used_bytes <= st_.capacity_bytes


RunLogMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestRunLogMachine = RunLogMachine.TestCase
