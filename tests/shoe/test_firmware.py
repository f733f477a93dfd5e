"""The firmware on real recordings: same distance as the offline engine, runs started and ended by themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import Recording, load_recording, sample_recording_path
from soleware.gait.streaming import StreamingGaitAnalysis
from soleware.shoe.firmware import Firmware, FirmwareEvent, RunState, StrideEvent
from soleware.shoe.runlog import MemoryFlash, RunEnd, RunLog, RunStart, Stride
from soleware.shoe.sim import simulate

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
REAL = sorted(
    p
    for folder in ("gaitdriven_footprints", "gaitdriven_loops", "pyshoe_vicon")
    for p in (DATASETS / folder).glob("*.csv")
    if not p.name.endswith(".gt.csv")
)


def replay(rec: Recording, **kwargs) -> tuple[Firmware, list]:
    fw = Firmware(side="left", sample_rate_hz=rec.sample_rate_hz, boot_unix_ms=1_750_000_000_000, **kwargs)
    events = list(fw.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps))
    events += fw.finish()
    return fw, events


def with_rest(rec: Recording, rest_s: float) -> Recording:
    """The recording, then standing still for ``rest_s``, then the recording again."""
    dt_s = 1.0 / rec.sample_rate_hz
    n = int(rest_s * rec.sample_rate_hz)
    still_acc = np.tile(rec.acc_mps2[-20:].mean(axis=0), (n, 1))  # the pose the recording ends in
    rng = np.random.default_rng(0)
    still_acc += rng.normal(0, 0.02, still_acc.shape)
    still_gyr = rng.normal(0, 0.003, (n, 3))
    t1 = rec.t_s[-1] + dt_s * np.arange(1, n + 1)
    t2 = t1[-1] + dt_s + rec.t_s
    return Recording(
        t_s=np.concatenate([rec.t_s, t1, t2]),
        acc_mps2=np.vstack([rec.acc_mps2, still_acc, rec.acc_mps2]),
        gyr_rps=np.vstack([rec.gyr_rps, still_gyr, rec.gyr_rps]),
        sample_rate_hz=rec.sample_rate_hz,
    )


@pytest.mark.slow
@pytest.mark.skipif(not DATASETS.is_dir(), reason="../shared/datasets not present")
def test_firmware_distance_agrees_with_the_offline_engine_on_real_recordings():
    """The firmware is the streaming engine plus bookkeeping: equal to it exactly, and within 0.5 % of offline.

    Issue 3 asks streaming and offline to agree within 0.5 % on every recording; issue 4 asks the firmware to
    be within 1 % of offline on the real recordings. Walking, running and mixed trials are held to it (the
    "other" trials crawl, shuffle and turn on the spot: no strides to agree on).
    """
    errors = {}
    for path in REAL:
        rec = load_recording(path)
        if rec.activity not in ("walk", "run", "mixed"):
            continue
        offline = GaitAnalysis().analyze(rec).summary_.distance_m
        fw, events = replay(rec, auto_end_s=600)
        firmware = sum(e.stride.length_m for e in events if isinstance(e, StrideEvent))
        stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
        stream.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=fw._fifo.shape[0])
        assert firmware == pytest.approx(sum(s.length_m for s in stream.strides_), rel=1e-9)
        errors[path.name] = abs(firmware / offline - 1)
    assert len(errors) >= 30
    assert max(errors.values()) <= 0.005, {k: round(100 * v, 2) for k, v in errors.items() if v > 0.005}


def test_runs_start_pause_resume_and_end_by_themselves():
    rec = with_rest(load_recording(sample_recording_path()), rest_s=20.0)
    fw, events = replay(rec, pause_s=4.0, auto_end_s=60.0)
    kinds = [e.kind for e in events if isinstance(e, FirmwareEvent)]
    assert kinds == ["run_started", "paused", "resumed", "run_ended"]
    assert fw.state_ is RunState.IDLE and fw.rsc_.speed_mps == 0

    rec = with_rest(load_recording(sample_recording_path()), rest_s=90.0)
    _, events = replay(rec, pause_s=4.0, auto_end_s=60.0)
    kinds = [e.kind for e in events if isinstance(e, FirmwareEvent)]
    assert kinds == ["run_started", "paused", "run_ended", "run_started", "run_ended"]


def test_a_stop_is_a_gap_between_the_logged_strides():
    """Standing 20 s mid-run: the strides into and out of the stop end at the landing and start at the lift, so
    what the shoe logs (and the phone, the gateway and the service read) leaves the stop out, a pause. Before, the
    stride into the stop was logged 17.6 s long at 7 steps/min, and the service counted the stop as moving time."""
    rec = with_rest(load_recording(sample_recording_path()), rest_s=20.0)
    log = RunLog.open(MemoryFlash(size=256 * 1024))
    _, events = replay(rec, run_log=log, pause_s=4.0, auto_end_s=60.0)
    records = log.read_from(0, max_records=10_000)
    logged = [r for r in records if isinstance(r, Stride)]
    assert all(r.t_start_s is not None for r in logged)
    durations = [r.t_end_s - (r.t_start_s or 0.0) for r in logged]
    gaps = [b.t_start_s - a.t_end_s for a, b in zip(logged, logged[1:], strict=False)]  # type: ignore[operator]
    assert max(durations) < 2.0
    assert 20.0 < max(gaps) < 25.0  # the 20 s and the sample's own standing at its end and start
    assert sum(g > 4.0 for g in gaps) == 1
    assert min(r.cadence_spm for r in logged) > 60.0
    assert min(e.rsc.cadence_spm for e in events if isinstance(e, StrideEvent)) > 60.0
    end = records[-1]
    assert isinstance(end, RunEnd)
    assert end.moving_ms / 1000 == pytest.approx(
        logged[-1].t_end_s - (logged[0].t_start_s or 0.0) - max(gaps), abs=2.0
    )


def test_rsc_values_follow_the_strides():
    rec = load_recording(sample_recording_path())
    fw, events = replay(rec)
    strides = [e for e in events if isinstance(e, StrideEvent)]
    last = strides[-1]
    assert last.rsc.total_distance_m == pytest.approx(sum(e.stride.length_m for e in strides))
    assert last.rsc.speed_mps == last.stride.speed_mps
    # cadence in steps/min of both feet: about 2 × 60 / stride duration
    assert last.rsc.cadence_spm == pytest.approx(120.0 / last.stride.duration_s, rel=0.02)
    assert {e.rsc.is_running for e in strides} == {True, False}  # the sample walks, then runs


def test_calibration_and_cumulative_distance():
    rec = load_recording(sample_recording_path())
    _, plain = replay(rec)
    fw = Firmware(side="right", sample_rate_hz=rec.sample_rate_hz, calibration=1.05)
    fw.set_cumulative_distance(1000.0)
    events = list(fw.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps)) + fw.finish()
    d_plain = sum(e.stride.length_m for e in plain if isinstance(e, StrideEvent))
    d_cal = sum(e.stride.length_m for e in events if isinstance(e, StrideEvent))
    assert d_cal == pytest.approx(1.05 * d_plain, rel=1e-9)
    assert fw.rsc_.total_distance_m == pytest.approx(1000.0 + d_cal)
    with pytest.raises(ValueError, match="calibration"):
        fw.set_calibration(3.0)
    with pytest.raises(ValueError, match="cumulative"):
        fw.set_cumulative_distance(-1)


def test_every_stride_is_logged_and_the_run_closed():
    rec = load_recording(sample_recording_path())
    log = RunLog.open(MemoryFlash(size=256 * 1024))
    fw, events = replay(rec, run_log=log)
    strides = [e for e in events if isinstance(e, StrideEvent)]
    records = log.read_from(0, max_records=10_000)
    assert isinstance(records[0], RunStart) and records[0].start_unix_ms > 1_750_000_000_000
    logged = [r for r in records if isinstance(r, Stride)]
    assert len(logged) == len(strides)
    assert [r.seq for r in logged] == [e.seq for e in strides]
    assert [r.length_m for r in logged] == pytest.approx([e.stride.length_m for e in strides], abs=1e-3)
    end = records[-1]
    assert isinstance(end, RunEnd) and end.distance_m == pytest.approx(fw.rsc_.total_distance_m, abs=0.01)
    assert log.runs()[0].complete


def test_strides_bridged_across_lost_samples_are_logged_and_uploaded_as_estimated():
    """Half a second of samples lost every 20 s (a stalled sensor bus): the strides the engine estimated across
    the gaps are logged with their mark, and the upload the phone builds from the log says so and leaves their
    form figures unknown; the measured strides keep theirs."""
    from soleware.gait.vocabulary import Side
    from soleware.link.gateway import run_upload_body, runs_in
    from soleware.runs.model import Run
    from soleware.runs.model import Stride as RunStride

    rec = load_recording(sample_recording_path())
    t = rec.t_s - rec.t_s[0]
    cut = rec.kept(((t % 20.0) < 19.5) | (t < 2.0))
    log = RunLog.open(MemoryFlash(size=256 * 1024))
    fw, events = replay(cut, run_log=log)
    engine = [e.stride for e in events if isinstance(e, StrideEvent)]
    logged = [r for r in log.read_from(0, max_records=10_000) if isinstance(r, Stride)]
    assert [r.estimated for r in logged] == [s.bridged for s in engine]
    assert sum(r.estimated for r in logged) >= 3
    (run,) = runs_in({r.seq: bytes(r) for r in log.records()}).values()
    body = run_upload_body({Side.LEFT: ("SW-L-1", run)}, time_zone="UTC").to_json()
    sent = body["strides"]
    assert [s["estimated"] for s in sent] == [r.estimated for r in logged]
    for s in sent:
        form = (s["contact_time_s"], s["flight_time_s"], s["strike_angle_deg"], s["impact_g"])
        assert all(v is None for v in form) if s["estimated"] else s["impact_g"] > 0
    stored = Run.from_strides(
        [RunStride(**s) for s in sent],
        start_time=fw.wall_time(0.0),
        time_zone="UTC",
    )
    (foot,) = stored.feet()
    assert foot.estimated_strides == sum(r.estimated for r in logged)


def test_power_loss_mid_run_keeps_what_was_logged():
    rec = load_recording(sample_recording_path())
    flash = MemoryFlash(size=256 * 1024)
    fw = Firmware(side="left", sample_rate_hz=rec.sample_rate_hz, run_log=RunLog.open(flash))
    half = len(rec.t_s) // 2
    before = [
        e
        for e in fw.feed(rec.t_s[:half], rec.acc_mps2[:half], rec.gyr_rps[:half])
        if isinstance(e, StrideEvent)
    ]
    assert before
    # power fails: the Firmware object is gone; the flash is all that is left. On reboot the open run is closed.
    log = RunLog.open(flash.copy())
    Firmware(side="left", sample_rate_hz=rec.sample_rate_hz, run_log=log)
    runs = log.runs()
    assert len(runs) == 1 and runs[0].complete and runs[0].stride_count == len(before)


def test_repeated_samples_are_dropped_and_battery_drains():
    rec = load_recording(sample_recording_path())
    fw = Firmware(side="left", sample_rate_hz=rec.sample_rate_hz)
    fw.connected = True
    t = np.repeat(rec.t_s, 2)
    events = (
        list(fw.feed(t, np.repeat(rec.acc_mps2, 2, axis=0), np.repeat(rec.gyr_rps, 2, axis=0))) + fw.finish()
    )
    _, once = replay(rec)
    assert len([e for e in events if isinstance(e, StrideEvent)]) == len(
        [e for e in once if isinstance(e, StrideEvent)]
    )
    assert fw.battery.charge_mah < fw.battery.capacity_mah
    assert fw.state_bytes() < 400_000


def test_streaming_strides_match_offline_across_a_walk_to_run_change():
    """Starting to run after a walk: each window's stride-period estimate lags the change, and no window may
    merge running strides into one (a merged 7.9 m "stride" once made the run service refuse a demo run)."""
    for side, rec in simulate("30s walk, 600m@4:30/km", seed=2).items():
        offline = GaitAnalysis().analyze(rec).strides_
        stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz).feed(
            rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=20
        )
        assert len(stream.strides_) == len(offline), side
        ends = np.array([[a.t_end_s, b.t_end_s] for a, b in zip(stream.strides_, offline, strict=True)])
        lengths = np.array([[a.length_m, b.length_m] for a, b in zip(stream.strides_, offline, strict=True)])
        assert np.abs(ends[:, 0] - ends[:, 1]).max() < 0.01, side
        assert np.abs(lengths[:, 0] - lengths[:, 1]).max() < 0.02, side


@pytest.mark.parametrize("rest_s", [20.0, 90.0])
def test_streaming_keeps_the_stride_into_a_long_stop(rest_s):
    """Standing still for longer than the stream's window: the stride into the stop is not forgotten."""
    rec = with_rest(load_recording(sample_recording_path()), rest_s=rest_s)
    offline = GaitAnalysis().analyze(rec).summary_.distance_m
    stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz).feed(
        rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=16
    )
    assert sum(s.length_m for s in stream.strides_) == pytest.approx(offline, rel=0.005)
