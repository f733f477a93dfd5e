"""The streaming engine agrees with the offline one, stays bounded, and emits strides soon after they end."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from soleware.gait import GaitAnalysis, StreamingGaitAnalysis, load_recording, sample_recording_path
from soleware.gait.recording import Recording, RecordingError
from soleware.gait.stance import NEIGHBOURS


def test_streaming_distance_agrees_with_offline(agreement_recordings: list[Path]) -> None:
    """Every recording within 0.5 % (issue 3), fed in 37-sample chunks; tests/shoe holds every walk and run to it."""
    diffs = []
    for path in agreement_recordings or [sample_recording_path()]:
        rec = load_recording(path)
        offline = GaitAnalysis().analyze(rec).summary_.distance_m
        stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz).feed(
            rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=37
        )
        diffs.append(abs(sum(s.length_m for s in stream.strides_) - offline) / offline)
    assert max(diffs) <= 0.005


def test_sample_by_sample_is_bounded_and_prompt() -> None:
    rec = load_recording(sample_recording_path())
    eng = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
    most = 0
    delays = []
    for i in range(len(rec)):
        for s in eng.push(rec.t_s[i : i + 1], rec.acc_mps2[i : i + 1], rec.gyr_rps[i : i + 1]):
            delays.append(rec.t_s[i] - s.t_end_s)
        most = max(most, eng.buffered_samples_)
    eng.finish()
    assert most <= (eng.window_s + eng.step_s + 1) * rec.sample_rate_hz
    assert len(delays) > 0.9 * len(eng.strides_)
    # Most strides within a step and the guard of their end; one ending on a doubted stance waits for the stances
    # after it (walking strides of at most 1.3 s here).
    assert np.mean(np.array(delays) <= eng.step_s + eng.guard_s + 0.5) >= 0.9
    assert max(delays) <= eng.step_s + eng.guard_s + NEIGHBOURS * 1.3
    starts = np.array([s.t_start_s for s in eng.strides_])
    assert np.all(np.diff(starts) > 0)


def test_samples_with_nan_are_left_out_as_missing() -> None:
    """A driver's read failures pushed as NaN (a whole sample, one axis, or its time): counted and left out, and
    the strides come out as the offline analysis of the same samples gives them."""
    rec = load_recording(sample_recording_path())
    t, acc, gyr = rec.t_s.copy(), rec.acc_mps2.copy(), rec.gyr_rps.copy()
    rng = np.random.default_rng(3)
    bad = rng.choice(len(t), size=40, replace=False)
    acc[bad[:20]] = np.nan
    gyr[bad[20:30], 1] = np.inf
    t[bad[30:]] = np.nan
    eng = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz).feed(t, acc, gyr, chunk=25)
    assert eng.missing_samples_ == 40
    offline = GaitAnalysis().analyze(dataclasses.replace(rec, acc_mps2=acc, gyr_rps=gyr, t_s=t))
    assert len(eng.strides_) == len(offline.strides_) > 0
    streamed = sum(s.length_m for s in eng.strides_)
    assert streamed == pytest.approx(offline.summary_.distance_m, rel=0.005)


@pytest.mark.parametrize("stated_hz", [20.0, 1000.0])
def test_a_stream_told_another_rate_than_its_samples_come_at_sizes_by_the_timestamps(
    stated_hz: float,
) -> None:
    """A driver that states 20 or 1000 Hz for a chip sampling at 200 Hz: the windows are sized by the rate the
    timestamps show, and the run comes out as offline (stated 20 Hz it streamed 45 of its 100 m)."""
    rec = load_recording(sample_recording_path())
    eng = StreamingGaitAnalysis(sample_rate_hz=stated_hz).feed(rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=50)
    offline = GaitAnalysis().analyze(rec)
    assert len(eng.strides_) == len(offline.strides_)
    assert sum(s.length_m for s in eng.strides_) == pytest.approx(offline.summary_.distance_m, rel=0.005)


def test_a_stream_in_deg_s_is_refused_before_a_stride_is_emitted() -> None:
    """A driver that pushes the gyroscope in deg/s: the first analysis refuses it by name, and no stride of the
    wrong units reaches the runner."""
    rec = load_recording(sample_recording_path())
    eng = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
    with pytest.raises(RecordingError, match="gyroscope looks like deg/s"):
        eng.feed(rec.t_s, rec.acc_mps2, np.degrees(rec.gyr_rps), chunk=50)
    assert eng.strides_ == []


def test_samples_pushed_in_another_shape_are_refused_not_reordered() -> None:
    """Axes pushed transposed ((3, n)) would reshape into rows of the wrong values without a word; one sample
    may come as its three values. A rate of 0 is refused by name (it divided by zero)."""
    rec = load_recording(sample_recording_path())
    eng = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
    with pytest.raises(ValueError, match=r"acc_mps2 has shape \(3, 100\)"):
        eng.push(rec.t_s[:100], rec.acc_mps2[:100].T, rec.gyr_rps[:100])
    with pytest.raises(ValueError, match=r"gyr_rps has shape \(100, 2\)"):
        eng.push(rec.t_s[:100], rec.acc_mps2[:100], rec.gyr_rps[:100, :2])
    eng.push(rec.t_s[0], rec.acc_mps2[0], rec.gyr_rps[0])
    assert eng.buffered_samples_ == 1
    with pytest.raises(ValueError, match="sample_rate_hz must be a positive number"):
        StreamingGaitAnalysis(sample_rate_hz=0.0).push(rec.t_s[:10], rec.acc_mps2[:10], rec.gyr_rps[:10])


def test_a_stream_stamped_in_milliseconds_is_refused_by_name() -> None:
    """Timestamps in ms pushed as seconds: windows sized for 0.2 Hz found no stride; refused as offline."""
    rec = load_recording(sample_recording_path())
    eng = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
    with pytest.raises(RecordingError, match="they look like milliseconds"):
        eng.feed(rec.t_s * 1000.0, rec.acc_mps2, rec.gyr_rps, chunk=50)


def test_a_gap_too_long_to_bridge_ends_a_segment_as_offline() -> None:
    """Samples that stop for seconds and come back (a sensor's hiccup, a firmware stall): the stream finishes what
    came before as the offline analysis of the split recording does, and no stride spans the gap."""
    rec = load_recording(sample_recording_path())
    cut = len(rec) // 2
    t = rec.t_s.copy()
    t[cut:] += 5.0
    eng = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz).feed(
        t, rec.acc_mps2, rec.gyr_rps, chunk=37
    )
    offline = GaitAnalysis().analyze(dataclasses.replace(rec, t_s=t))
    assert not any(s.t_start_s < t[cut - 1] < t[cut] < s.t_end_s for s in eng.strides_)
    assert len(eng.strides_) == len(offline.strides_)
    streamed = sum(s.length_m for s in eng.strides_)
    assert streamed == pytest.approx(offline.summary_.distance_m, rel=0.005)


def test_samples_lost_for_half_a_second_are_bridged_as_offline(
    with_gaps: list[tuple[Recording, Recording]],
) -> None:
    """Half a second lost every 20 s: the stream holds the strides next to each gap until it knows what the gap
    hid, and bridges it as the offline analysis does (within 0.5 %, the same strides estimated)."""
    for _, cut in with_gaps:
        offline = GaitAnalysis().analyze(cut)
        stream = StreamingGaitAnalysis(sample_rate_hz=cut.sample_rate_hz).feed(
            cut.t_s, cut.acc_mps2, cut.gyr_rps, chunk=37
        )
        streamed = sum(s.length_m for s in stream.strides_)
        assert streamed == pytest.approx(offline.summary_.distance_m, rel=0.005)
        assert [s.t_start_s for s in stream.strides_ if s.bridged] == pytest.approx(
            [s.t_start_s for s in offline.strides_ if s.bridged], abs=0.05
        )
        starts = np.array([s.t_start_s for s in stream.strides_])
        assert np.all(np.diff(starts) > 0)


def test_a_few_strides_begun_on_the_move_and_a_long_stop_are_all_given(
    agreement_recordings: list[Path],
) -> None:
    """Data that begins on the move waits for the stances its first 'up' is drawn from; six strides and then a
    stop longer than the window hold fewer, and the stream gives them before it forgets where they began."""
    if not agreement_recordings:
        pytest.skip("../shared/datasets not present")
    rec = load_recording(agreement_recordings[1])
    part = rec.kept((rec.t_s >= 20.0) & (rec.t_s < 26.0))
    n = int(70 * rec.sample_rate_hz)
    rng = np.random.default_rng(1)
    standing = rec.acc_mps2[rec.t_s < 1.0].mean(axis=0)  # the foot as it stood at the recording's start
    t = np.r_[part.t_s, part.t_s[-1] + (1 + np.arange(n)) / rec.sample_rate_hz]
    acc = np.vstack([part.acc_mps2, standing + rng.normal(0.0, 0.02, (n, 3))])
    gyr = np.vstack([part.gyr_rps, rng.normal(0.0, 0.002, (n, 3))])
    stop = Recording(
        t_s=t - t[0], acc_mps2=acc, gyr_rps=gyr, sample_rate_hz=rec.sample_rate_hz, units_stated=True
    )
    offline = GaitAnalysis().analyze(stop).strides_
    stream = (
        StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz).feed(t - t[0], acc, gyr, chunk=37).strides_
    )
    assert len(stream) == len(offline) >= 5
    assert sum(s.length_m for s in stream) == pytest.approx(sum(s.length_m for s in offline), rel=0.005)


def test_time_going_backwards_within_a_chunk_is_rejected() -> None:
    eng = StreamingGaitAnalysis(sample_rate_hz=100.0)
    with pytest.raises(ValueError, match="backwards"):
        eng.push([0.0, 0.02, 0.01], np.zeros((3, 3)), np.zeros((3, 3)))


def test_time_going_backwards_is_rejected() -> None:
    eng = StreamingGaitAnalysis(sample_rate_hz=100.0)
    eng.push([0.0, 0.01], np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="backwards"):
        eng.push([0.005], np.zeros((1, 3)), np.zeros((1, 3)))


@pytest.mark.parametrize("placement", ["instep", "sole"])
def test_a_50_hz_sprint_streams_the_stances_kept_for_where_they_lie(placement: str) -> None:
    """A 50 Hz sprint's stances caught a sample off are kept where they tile a stride of two periods
    (:class:`~soleware.gait.stance.AdaptiveStanceDetector`): a window of a stream must find them as the whole
    recording does, or it emits two strides as one."""
    from soleware.shoe.sim import Runner, ShoeSimulator

    sim = ShoeSimulator(
        runner=Runner(strike="midfoot", run_impact_s=0.01),
        sample_rate_hz=50.0,
        mounting_deg=(5.0, -8.0, 3.0),
        placement=placement,
        seed=2,
    )
    rec = sim.simulate("3s stand, 60s run@8.0m/s, 3s stand", sides=("right",)).recordings_["right"]
    offline = GaitAnalysis().analyze(rec).strides_
    stream = (
        StreamingGaitAnalysis(sample_rate_hz=50.0).feed(rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=7).strides_
    )
    assert len(offline) == len(rec.ground_truth.strides)
    assert [round(s.t_end_s, 3) for s in stream] == [round(s.t_end_s, 3) for s in offline]
    assert sum(s.length_m for s in stream) == pytest.approx(sum(s.length_m for s in offline), rel=0.005)


def test_a_stride_whose_stance_the_detector_finds_late_waits_for_it(
    monkeypatch: pytest.MonkeyPatch, agreement_recordings: list[Path]
) -> None:
    """At a sprint's start the detector may find a stance only once it sees the seconds after (it weighs the stride
    period over 10 s): a window ending soon after it shows two strides as one. Played here by an analysis that
    merges the strides at one stance in every window ending less than 4.5 s after it: a stride much longer than
    those before it waits, and the stream emits the strides the whole recording gives; without the wait it emits
    the merged one."""
    rec = load_recording(agreement_recordings[-1] if agreement_recordings else sample_recording_path())
    offline = GaitAnalysis().analyze(rec).strides_
    late = offline[len(offline) // 2].t_end_s
    segment = GaitAnalysis._segment

    def finds_late(self: GaitAnalysis, t: np.ndarray, *args: object, **kwargs: object) -> tuple:
        strides, traj = segment(self, t, *args, **kwargs)
        ends = [s.t_end_s for s in strides]
        if t[-1] < late + 4.5 and late in ends and ends.index(late) + 1 < len(strides):
            i = ends.index(late)
            a, b = strides[i], strides[i + 1]
            merged = dataclasses.replace(a, t_end_s=b.t_end_s, length_m=a.length_m + b.length_m)
            strides = [*strides[:i], merged, *strides[i + 2 :]]
        return strides, traj

    monkeypatch.setattr(GaitAnalysis, "_segment", finds_late)

    def streamed(**params: float) -> list[float]:
        stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz, **params)
        return [s.t_end_s for s in stream.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=37).strides_]

    assert streamed() == [s.t_end_s for s in offline]
    assert late not in streamed(long_stride=np.inf)
