"""Loading recordings: every kind of bad input fails clearly or is repaired and reported."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from soleware.gait import GaitAnalysis
from soleware.gait.recording import (
    CSV_COLUMNS,
    MAX_INTERPOLATED_GAP_S,
    GroundTruth,
    Recording,
    RecordingError,
    load_recording,
    sample_recording_path,
    save_recording,
    timestamps_rate_hz,
    with_missing_samples_repaired,
)

DATASETS = Path(__file__).parents[2].parent / "shared" / "datasets"
G = 9.80665


def _signals(n: int = 500, rate_hz: float = 100.0, seed: int = 0) -> np.ndarray:
    """(n, 7) rows of a plausible foot IMU: gravity plus gait-like oscillation (m/s², rad/s), a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate_hz
    phase = 2 * np.pi * 1.1 * t
    acc = np.column_stack([2.0 * np.sin(phase), 1.0 * np.cos(phase), 9.81 + 3.0 * np.sin(2 * phase)])
    gyr = np.column_stack([0.5 * np.sin(phase + 1), 4.0 * np.sin(phase), 0.3 * np.cos(phase)])
    data = np.column_stack([t, acc, gyr])
    data[:, 1:] += rng.normal(scale=0.01, size=(n, 6))
    return data


def _write(
    path: Path, data: np.ndarray, *, header: str = ",".join(CSV_COLUMNS), meta: dict | None = None
) -> Path:
    lines = [header] + [",".join(f"{v:.6f}" for v in row) for row in data]
    path.write_text("\n".join(lines) + "\n")
    if meta is not None:
        path.with_suffix(".json").write_text(json.dumps(meta))
    return path


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(params=["arrow", "loadtxt"])
def plain_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The plain-file fast path by Arrow's CSV reader and, as where pyarrow is not installed, by np.loadtxt."""
    if request.param == "loadtxt":
        monkeypatch.setitem(sys.modules, "pyarrow", None)  # its import fails
    return str(request.param)


def _error(path: Path, **kwargs: str) -> str:
    with pytest.raises(RecordingError) as info:
        load_recording(path, **kwargs)
    message = str(info.value)
    assert str(path) in message, message
    return message


def test_clean_file_loads_as_one_segment_without_warnings(tmp_path: Path) -> None:
    data = _signals()
    rec = load_recording(
        _write(tmp_path / "ok.csv", data, meta={"sample_rate_hz": 100.0, "activity": "walk"})
    )
    assert len(rec) == len(data)
    assert rec.segments == [(0, len(data))]
    assert rec.warnings == []
    assert rec.saturated.shape == (len(data),) and not rec.saturated.any()
    np.testing.assert_allclose(rec.acc_mps2, data[:, 1:4], atol=1e-6)
    assert rec.activity == "walk" and rec.sample_rate_hz == 100.0


# ---------------------------------------------------------------------------------------------------- header


def test_columns_in_any_order_are_reordered(tmp_path: Path) -> None:
    data = _signals()
    order = [6, 0, 3, 1, 5, 2, 4]
    header = ",".join(CSV_COLUMNS[i] for i in order)
    rec = load_recording(_write(tmp_path / "r.csv", data[:, order], header=header))
    np.testing.assert_allclose(rec.gyr_rps, data[:, 4:7], atol=1e-6)
    np.testing.assert_allclose(rec.t_s, data[:, 0], atol=1e-6)


def test_unknown_and_missing_columns_are_named(tmp_path: Path) -> None:
    data = _signals()
    message = _error(_write(tmp_path / "r.csv", data, header="t,ax,ay,az,gx,gy,temp"))
    assert "missing column(s) gz" in message
    assert "unknown column(s) 'temp'" in message
    assert "line 1" in message


@pytest.mark.usefixtures("plain_reader")
@pytest.mark.parametrize("cut_last_row", [False, True])
def test_other_columns_are_read_past_with_a_warning(tmp_path: Path, cut_last_row: bool) -> None:
    """A logger that also writes a temperature and a status word: the motion columns are read as if alone,
    by the quick reader and by the line-by-line one (a last row cut off by power loss sends the file there)."""
    data = _signals()
    plain = load_recording(_write(tmp_path / "plain.csv", data))
    lines = ["status,t,ax,ay,az,temp,gx,gy,gz"] + [
        f"ok,{r[0]:.6f},{r[1]:.6f},{r[2]:.6f},{r[3]:.6f},{21.5 + i / 100:.2f},{r[4]:.6f},{r[5]:.6f},{r[6]:.6f}"
        for i, r in enumerate(data)
    ]
    text = "\n".join(lines) + ("\nok,9.9,1.0" if cut_last_row else "\n")
    (tmp_path / "more.csv").write_text(text)
    rec = load_recording(tmp_path / "more.csv")
    np.testing.assert_array_equal(rec.acc_mps2, plain.acc_mps2)
    np.testing.assert_array_equal(rec.gyr_rps, plain.gyr_rps)
    assert any("'status', 'temp' ignored" in w for w in rec.warnings)
    assert any("incomplete" in w for w in rec.warnings) == cut_last_row


def test_missing_column_with_fewer_fields(tmp_path: Path) -> None:
    data = _signals()[:, :6]
    message = _error(_write(tmp_path / "r.csv", data, header="t,ax,ay,az,gx,gy"))
    assert "missing column(s) gz" in message


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty file" in _error(empty)
    header_only = _write_lines(tmp_path / "header.csv", [",".join(CSV_COLUMNS)])
    assert "header only" in _error(header_only)


# ---------------------------------------------------------------------------------------------------- rows


def test_truncated_last_line_is_dropped_with_a_warning(tmp_path: Path) -> None:
    data = _signals()
    path = _write(tmp_path / "r.csv", data)
    path.write_text(path.read_text() + "5.000000,0.1,0.2,9.8")  # power lost mid-row, no newline
    rec = load_recording(path)
    assert len(rec) == len(data)
    assert any("incomplete" in w and "line 502" in w for w in rec.warnings)


def test_truncated_mid_number_with_nul_padding(tmp_path: Path) -> None:
    data = _signals()
    path = _write(tmp_path / "r.csv", data)
    path.write_bytes(path.read_bytes() + b"5.000000,0.1,0.2,9.8,0.1,0.\x00\x00\x00\x00")
    rec = load_recording(path)
    assert len(rec) == len(data)
    assert any("incomplete" in w for w in rec.warnings)


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [("0.5,1,2,3,4,5", "6 fields instead of 7"), ("0.5,1,2,3,abc,5,6", "non-numeric gx value 'abc'")],
)
def test_malformed_row_in_the_middle_names_the_line(tmp_path: Path, bad_line: str, problem: str) -> None:
    data = _signals()
    path = _write(tmp_path / "r.csv", data)
    lines = path.read_text().splitlines()
    lines[100] = bad_line  # file line 101
    message = _error(_write_lines(path, lines))
    assert "line 101" in message and problem in message


# ---------------------------------------------------------------------------------------------------- time


def test_time_going_backwards_names_first_offending_row(tmp_path: Path) -> None:
    data = _signals()
    data[200, 0] = data[198, 0] - 0.001
    message = _error(_write(tmp_path / "r.csv", data))
    assert "line 202" in message and "backwards" in message
    assert f"t = {data[200, 0]:g} s" in message


def test_exact_duplicate_rows_are_dropped(tmp_path: Path) -> None:
    data = _signals()
    doubled = np.insert(data, [50, 300, 300], data[[49, 299, 299]], axis=0)
    rec = load_recording(_write(tmp_path / "r.csv", doubled))
    assert len(rec) == len(data)
    assert any("3 exact duplicate rows dropped" in w for w in rec.warnings)
    np.testing.assert_allclose(rec.gyr_rps, data[:, 4:7], atol=1e-6)


def test_same_time_with_different_values_now_and_then_drops_both_samples(tmp_path: Path) -> None:
    """An Xsens MTw stream repeated one packet number, with other values, in 2,425 rows: neither sample can be
    trusted, so both are missing samples (filled like any short gap) and the recording is kept; warned by line."""
    data = _signals(n=3000, rate_hz=100.0)
    clash = data[999].copy()
    clash[3] += 1.0
    rec = load_recording(_write(tmp_path / "r.csv", np.insert(data, 1000, clash, axis=0)))
    assert len(rec) == len(data) and rec.segments == [(0, len(data))]
    np.testing.assert_allclose(rec.acc_mps2[999, 2], (data[998, 3] + data[1000, 3]) / 2, atol=1e-6)
    assert [w for w in rec.warnings if "timestamps repeated with other values: 1 (lines 1001-1002)" in w]
    assert any("short gaps" in w for w in rec.warnings)


def test_same_time_with_different_values_often_is_an_error(tmp_path: Path) -> None:
    data = _signals()
    clash = data[99].copy()
    clash[3] += 1.0
    message = _error(_write(tmp_path / "r.csv", np.insert(data, 100, clash, axis=0)))
    assert "line 102" in message and "repeated time" in message and "1 of 501 rows so" in message


def test_samples_stamped_in_batches_are_spread_over_their_intervals(tmp_path: Path) -> None:
    """A logger that stamps each packet of 8 samples as it arrives: one stream in order, its times rebuilt."""
    data = _signals(n=1200, rate_hz=200.0)
    batched = data.copy()
    batched[:, 0] = np.repeat(data[::8, 0], 8)
    rec = load_recording(_write(tmp_path / "r.csv", batched))
    np.testing.assert_allclose(rec.t_s, data[:, 0], atol=1e-6)
    np.testing.assert_allclose(rec.gyr_rps, data[:, 4:7], atol=1e-6)
    assert [w for w in rec.warnings if "batches of 8 samples" in w and "5 ms a sample" in w]
    batched[:, 0] *= 1e3  # the logger's clock in milliseconds, as stated
    rec = load_recording(_write(tmp_path / "ms.csv", batched), time_unit="ms")
    np.testing.assert_allclose(rec.t_s, data[:, 0], atol=1e-6)
    assert [w for w in rec.warnings if "batches of 8 samples" in w and "5 ms a sample" in w]


def test_two_sensors_interleaved_at_shared_times_are_refused(tmp_path: Path) -> None:
    """Two shoes written into one file, each row's time shared with the other shoe's: no single stream, however
    regular the stamps look; and a file whose stamps repeat now and then is no batched one either."""
    left = _signals(n=1200, rate_hz=200.0)
    right = _signals(n=1200, rate_hz=200.0, seed=1)
    right[:, 1:] = np.roll(right[:, 1:], 100, axis=0)  # half a stride later
    both = np.empty((2 * len(left), 7))
    both[0::2], both[1::2] = left, right
    assert "repeated time" in _error(_write(tmp_path / "both.csv", both))
    stuttering = left.copy()
    stuttering[1::5, 0] = stuttering[0::5, 0]
    assert "repeated time" in _error(_write(tmp_path / "stutter.csv", stuttering))


def test_jittery_timestamps_without_missing_samples_stay_one_segment(tmp_path: Path) -> None:
    """Host-side bunching (like gaitdriven_footprints exp 40): every 6th interval ~0, the others 1.2 periods."""
    data = _signals(n=1200, rate_hz=200.0)
    dt = np.tile([0.006, 0.006, 0.006, 0.006, 0.006, 0.00005], 200)[: len(data) - 1]
    dt *= 0.005 * len(dt) / dt.sum()
    rng = np.random.default_rng(1)
    late = rng.choice(np.flatnonzero(dt[1:] > 0.005), 30, replace=False)
    dt[late] += 0.0059  # a sample arrives a whole period late, the next one right behind it:
    dt[late + 1] -= 0.0059  # a 12 ms interval then a ~0 one, no time missing
    dt *= 1 + rng.normal(scale=0.02, size=len(dt))
    data[:, 0] = np.concatenate([[0.0], np.cumsum(dt)])
    rec = load_recording(_write(tmp_path / "r.csv", data, meta={"sample_rate_hz": 200.0}))
    assert rec.segments == [(0, len(data))]
    assert len(rec) == len(data)  # nothing interpolated
    assert len(rec.warnings) <= 1
    assert all("jitter" in w for w in rec.warnings)


def test_short_gap_is_interpolated(tmp_path: Path) -> None:
    data = _signals(n=600, rate_hz=200.0)
    kept = np.delete(data, np.arange(300, 306), axis=0)  # 6 samples = 30 ms missing
    rec = load_recording(_write(tmp_path / "r.csv", kept))
    assert rec.segments == [(0, len(data))]
    assert len(rec) == len(data)
    np.testing.assert_allclose(rec.t_s, data[:, 0], atol=1e-6)
    # linear fill between the neighbours
    expected = np.linspace(data[299, 5], data[306, 5], 8)[1:-1]
    np.testing.assert_allclose(rec.gyr_rps[300:306, 1], expected, atol=1e-6)
    assert any("1 short gaps" in w and "6 linearly interpolated" in w for w in rec.warnings)


def test_long_gap_splits_into_segments(tmp_path: Path) -> None:
    data = _signals(n=1000, rate_hz=200.0)
    kept = np.delete(data, np.arange(400, 480), axis=0)  # 0.4 s missing
    rec = load_recording(_write(tmp_path / "r.csv", kept))
    assert rec.segments == [(0, 400), (400, len(kept))]
    assert len(rec) == len(kept)
    assert any("0.400 s of samples missing after t = 1.995 s" in w and "split" in w for w in rec.warnings)


def test_a_wireless_module_dropping_packets_keeps_its_strides(tmp_path: Path) -> None:
    """An Xsens MTw Awinda walking (Voisard's IPOL set, trial 5-6, right foot: 10 m, a U-turn, 10 m back; 17
    steps annotated) dropped packets for 50-170 ms sixteen times in 14 s. Split at each, the pieces under 2 s gave
    no stride: 7 strides, 8.5 m. Filled, every piece of the walk is kept. A VICON walk with samples dropped in a
    like pattern (120, 170, 50, 50 and 50 ms within 3 s, every 4 s) must keep its stride count and distance."""
    src = DATASETS / "pyshoe_vicon" / "2017-11-22-11-30-14.csv"
    if not src.exists():
        pytest.skip("../shared/datasets not beside the checkout")
    rec = load_recording(src)
    whole = GaitAnalysis().analyze(rec)
    data = np.column_stack([rec.t_s, rec.acc_mps2, rec.gyr_rps])
    fs = rec.sample_rate_hz
    drop: list[int] = []
    for start_s in np.arange(4.0, rec.duration_s - 4.0, 4.0):
        for offset_s, gap_s in ((0.0, 0.12), (0.8, 0.17), (1.2, 0.05), (2.2, 0.05), (2.8, 0.05)):
            first = int((start_s + offset_s) * fs)
            drop += range(first, first + round(gap_s * fs))
    gappy = load_recording(_write(tmp_path / "gappy.csv", np.delete(data, drop, axis=0)))
    assert gappy.segments == [(0, len(gappy))]
    bridged = GaitAnalysis().analyze(gappy)
    assert len(bridged.strides_) == len(whole.strides_)
    assert bridged.summary_.distance_m == pytest.approx(whole.summary_.distance_m, rel=0.02)


def test_isolated_nan_rows_become_interpolated_samples(tmp_path: Path) -> None:
    data = _signals()
    data[120, 4] = np.nan
    data[300, 2] = np.inf
    rec = load_recording(_write(tmp_path / "r.csv", data))
    assert len(rec) == len(data)
    assert rec.segments == [(0, len(data))]
    assert np.isfinite(rec.gyr_rps).all() and np.isfinite(rec.acc_mps2).all()
    assert abs(rec.gyr_rps[120, 0] - (data[119, 4] + data[121, 4]) / 2) < 1e-6
    assert any(
        "2 rows with NaN, inf, empty or impossible values" in w and "line 122" in w for w in rec.warnings
    )


def test_a_recording_built_in_code_has_its_nan_samples_repaired_as_the_loader_would(tmp_path: Path) -> None:
    """NaN or inf in a Recording made without the loader: the same interpolated samples and segments as the file
    read with ``load_recording``, and a warning; a finite recording is handed back untouched."""
    data = _signals(n=2000)
    data[120, 4] = np.nan
    data[300, 2] = np.inf
    data[1000 : 1000 + round(MAX_INTERPOLATED_GAP_S * 100) + 5, 5] = np.nan  # too long to fill
    loaded = load_recording(_write(tmp_path / "r.csv", data))
    built = Recording(t_s=data[:, 0], acc_mps2=data[:, 1:4], gyr_rps=data[:, 4:7], sample_rate_hz=100.0)
    repaired = with_missing_samples_repaired(built)
    assert len(repaired.segments) == 2
    assert repaired.segments == loaded.segments
    # the file holds six decimals
    np.testing.assert_allclose(repaired.t_s, loaded.t_s, rtol=0, atol=1e-6)
    np.testing.assert_allclose(repaired.gyr_rps, loaded.gyr_rps, rtol=0, atol=1e-6)
    np.testing.assert_allclose(repaired.acc_mps2, loaded.acc_mps2, rtol=0, atol=1e-6)
    assert any(
        "samples with NaN, inf or an impossible value treated as missing samples (first: sample 120)" in w
        for w in repaired.warnings
    )
    clean = Recording(
        t_s=data[:100, 0], acc_mps2=data[:100, 1:4], gyr_rps=data[:100, 4:7], sample_rate_hz=100.0
    )
    assert with_missing_samples_repaired(clean) is clean


def test_a_recording_of_mostly_unusable_samples_is_refused_by_name() -> None:
    """NaN everywhere (a dead sensor) or raw counts (a value no sensor reads in m/s²): refused, naming the
    recording and the likely cause, where the loader refuses such columns too."""
    n = 300
    rec = Recording(
        t_s=np.arange(n) / 100.0,
        acc_mps2=np.full((n, 3), np.nan),
        gyr_rps=np.zeros((n, 3)),
        sample_rate_hz=100.0,
        name="left_shoe",
    )
    with pytest.raises(RecordingError, match="left_shoe: 100% of the samples hold NaN"):
        with_missing_samples_repaired(rec)
    counts = dataclasses.replace(rec, acc_mps2=np.tile([120.0, -80.0, 16384.0], (n, 1)))
    with pytest.raises(RecordingError, match="raw counts or another unit"):
        with_missing_samples_repaired(counts)


def test_a_recording_built_in_code_is_split_where_its_time_jumps() -> None:
    """Seconds without samples inside a segment (a logger paused): split there, said in a warning, and no stride
    spans the gap; a recording without such a gap is handed back untouched."""
    rec = load_recording(sample_recording_path())
    cut = len(rec) // 2
    t = rec.t_s.copy()
    t[cut:] += 30.0
    paused = Recording(t_s=t, acc_mps2=rec.acc_mps2, gyr_rps=rec.gyr_rps, sample_rate_hz=rec.sample_rate_hz)
    split = with_missing_samples_repaired(paused)
    assert split.segments == [(0, cut), (cut, len(rec))]
    assert any("gaps too long to fill" in w and "30.0" in w for w in split.warnings)
    strides = GaitAnalysis().analyze(paused).strides_
    assert not any(s.t_start_s < t[cut - 1] < t[cut] < s.t_end_s for s in strides)
    assert with_missing_samples_repaired(rec) is rec


def test_a_stated_rate_the_timestamps_do_not_bear_out_gives_way_to_theirs() -> None:
    """A nominal rate within 5 % of the timestamps' (200 Hz for a 204.8 Hz chip) stands; one further off gives
    way to the timestamps' (a recording built in code at 200 Hz but said to be 20 or 1000 Hz), and its analysis
    is the analysis of the rate stated right (stated 20 Hz it found 45 of the 100 m)."""
    t = np.arange(4000) / 204.8
    assert timestamps_rate_hz(t, 200.0) == 200.0
    assert timestamps_rate_hz(t, 100.0) == pytest.approx(204.8)
    assert timestamps_rate_hz(t[:1], 100.0) == 100.0
    rec = load_recording(sample_recording_path())
    right = GaitAnalysis().analyze(rec).summary_.distance_m
    for stated_hz in (20.0, 1000.0):
        told = GaitAnalysis().analyze(dataclasses.replace(rec, sample_rate_hz=stated_hz))
        assert told.summary_.distance_m == pytest.approx(right, rel=1e-9)


@pytest.mark.parametrize(
    ("acc_scale", "gyr_scale", "says"),
    [
        (1.0 / G, 1.0, "accelerometer looks like g"),
        (1000.0 / G, 1.0, "in milli-g"),
        (1.0, 180.0 / math.pi, "gyroscope looks like deg/s"),
        (1.0 / G, 180.0 / math.pi, "accelerometer looks like g"),
    ],
)
def test_a_recording_built_in_code_in_g_or_deg_s_is_refused_by_name(
    acc_scale: float, gyr_scale: float, says: str
) -> None:
    """The engine cannot tell units from the samples' shape: a run built in code in g and deg/s was analysed as
    5.7 m of its 100 m. It is refused as the loader refuses such a file, naming the unit it looks like."""
    rec = load_recording(sample_recording_path())
    wrong = dataclasses.replace(rec, acc_mps2=rec.acc_mps2 * acc_scale, gyr_rps=rec.gyr_rps * gyr_scale)
    with pytest.raises(RecordingError, match=says):
        GaitAnalysis().analyze(wrong)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda r: {"acc_mps2": r.acc_mps2[:-5]}, r"acc_mps2 has shape \(11995, 3\), expected \(12000, 3\)"),
        (lambda r: {"gyr_rps": r.gyr_rps.T}, r"gyr_rps has shape \(3, 12000\)"),
        (lambda r: {"acc_mps2": r.acc_mps2[:, :2]}, r"acc_mps2 has shape \(12000, 2\)"),
    ],
)
def test_a_recording_built_in_code_with_misshapen_samples_is_refused_by_name(
    change: Callable, says: str
) -> None:
    """Axes missing, transposed or a few samples short: said where the recording is built, not as a broadcast
    error deep in the stance detector."""
    rec = load_recording(sample_recording_path())
    with pytest.raises(ValueError, match=says):
        dataclasses.replace(rec, **change(rec))


@pytest.mark.parametrize(
    ("times", "says"),
    [
        (lambda t: t[::-1].copy(), "time goes backwards or stands still"),
        (lambda t: np.r_[t[:100], t[101], t[100], t[102:]], "sample 101: time goes backwards"),
        (lambda t: np.zeros_like(t), "time goes backwards or stands still"),
        (lambda t: t * 1000.0, "they look like milliseconds"),
    ],
)
def test_a_recording_built_in_code_with_impossible_times_is_refused_by_name(
    times: Callable, says: str
) -> None:
    """Time reversed (the sample run was integrated to 197 million km), two samples swapped, standing still, or in
    milliseconds (no stride found): refused as the loader refuses such a file."""
    rec = load_recording(sample_recording_path())
    with pytest.raises(RecordingError, match=says):
        GaitAnalysis().analyze(dataclasses.replace(rec, t_s=times(rec.t_s)))


def test_a_recording_built_in_code_from_lists_is_analysed_as_from_arrays() -> None:
    rec = load_recording(sample_recording_path())
    listed = dataclasses.replace(
        rec, t_s=rec.t_s.tolist(), acc_mps2=rec.acc_mps2.tolist(), gyr_rps=rec.gyr_rps.tolist()
    )
    assert (
        GaitAnalysis().analyze(listed).summary_.distance_m == GaitAnalysis().analyze(rec).summary_.distance_m
    )


def test_analysis_of_samples_with_nan_takes_them_as_missing() -> None:
    """GaitAnalysis fed NaN directly (a driver's read failures around three stances): the strides of the clean
    recording, not an IndexError or NaN lengths."""
    rec = load_recording(sample_recording_path())
    clean = GaitAnalysis().analyze(rec)
    acc = rec.acc_mps2.copy()
    for s in clean.strides_[3:6]:
        i = int(np.searchsorted(rec.t_s, s.t_start_s))
        acc[i - 3 : i + 4] = np.nan
    gappy = GaitAnalysis().analyze(dataclasses.replace(rec, acc_mps2=acc))
    assert len(gappy.strides_) == len(clean.strides_)
    assert np.isfinite([s.length_m for s in gappy.strides_]).all()
    assert gappy.summary_.distance_m == pytest.approx(clean.summary_.distance_m, rel=0.01)


def test_empty_fields_are_missing_values(tmp_path: Path) -> None:
    data = _signals()
    path = _write(tmp_path / "r.csv", data)
    lines = path.read_text().splitlines()
    fields = lines[51].split(",")
    fields[5] = ""  # gy of file line 52 left blank by the writer
    lines[51] = ",".join(fields)
    rec = load_recording(_write_lines(path, lines))
    assert len(rec) == len(data)
    assert any(
        "1 rows with NaN, inf, empty or impossible values" in w and "line 52" in w for w in rec.warnings
    )
    assert abs(rec.gyr_rps[50, 1] - (data[49, 5] + data[51, 5]) / 2) < 1e-6


def test_mostly_nan_column_is_an_error(tmp_path: Path) -> None:
    data = _signals()
    data[::3, 5] = 1.0
    data[np.arange(len(data)) % 3 != 0, 5] = np.nan
    message = _error(_write(tmp_path / "r.csv", data))
    assert "gy (67%)" in message and "NaN" in message


@pytest.mark.parametrize(("n", "rate_hz"), [(15, 5.0), (150, 100.0)])
def test_too_short_is_an_error(tmp_path: Path, n: int, rate_hz: float) -> None:
    """Fewer than 20 samples (over 2.8 s), and 1.49 s of 150 samples."""
    message = _error(_write(tmp_path / "r.csv", _signals(n=n, rate_hz=rate_hz)))
    assert "too short" in message


# ---------------------------------------------------------------------------------------------------- units


def test_acc_in_g_is_detected_and_explained(tmp_path: Path) -> None:
    data = _signals()
    data[:, 1:4] /= G
    path = _write(tmp_path / "r.csv", data)
    message = _error(path)
    assert "looks like g" in message and "acc_unit='g'" in message and "--acc-unit g" in message
    assert "by 9.80665" in message and "{" not in message
    rec = load_recording(path, acc_unit="g")
    np.testing.assert_allclose(rec.acc_mps2, data[:, 1:4] * G, rtol=1e-5, atol=1e-5)
    assert rec.warnings == []


@pytest.mark.parametrize(
    ("scale", "says"),
    [
        (
            1e3,
            "look like milliseconds: load it with time_unit='ms' (soleware analyze --time-unit ms), or divide t by 1,000",
        ),
        (
            1e6,
            "look like microseconds: load it with time_unit='us' (soleware analyze --time-unit us), or divide t by 1,000,000",
        ),
        (1 / 60, "t must be in seconds"),
    ],
)
def test_timestamps_that_cannot_be_seconds_are_explained(tmp_path: Path, scale: float, says: str) -> None:
    """In milliseconds a recording would pass for a day-long one with no stride; in minutes for a short one."""
    data = _signals()
    data[:, 0] *= scale
    message = _error(_write(tmp_path / "r.csv", data))
    assert says in message and "timestamps advance by" in message


def test_timestamps_read_in_the_unit_stated() -> None:
    """``time_unit`` converts what the file says; a unit the reader does not know is refused, and seconds that no
    foot sensor samples at still are, whatever unit made them."""
    path = sample_recording_path()
    with pytest.raises(ValueError, match="time_unit must be one of s, ms, us, ns"):
        load_recording(path, time_unit="min")
    with pytest.raises(RecordingError, match="timestamps advance by 5e-06 per sample"):
        load_recording(path, time_unit="ms")


def test_gyr_in_deg_per_s_is_detected_and_explained(tmp_path: Path) -> None:
    data = _signals()
    data[:, 4:7] = np.rad2deg(data[:, 4:7]) * 2.5  # a fast run: ~570 deg/s peaks
    path = _write(tmp_path / "r.csv", data)
    message = _error(path)
    assert "looks like deg/s" in message and "gyr_unit='deg/s'" in message and "--gyr-unit deg/s" in message
    rec = load_recording(path, gyr_unit="deg/s")
    np.testing.assert_allclose(rec.gyr_rps, np.deg2rad(data[:, 4:7]), atol=1e-6)


@pytest.mark.parametrize(
    ("scale", "says"),
    [
        (1000.0, "mostly beyond 10000 (accelerometer) or 100000 (gyroscope): gy (7"),
        (16.4, "implausible for rad/s and for deg/s"),
    ],
)
def test_gyr_in_neither_rad_nor_deg_per_s_is_named_as_a_unit(tmp_path: Path, scale: float, says: str) -> None:
    """Millidegrees per second (an ST chip's unit) and raw counts (16.4 per deg/s at ±2000 deg/s) are no dead
    sensor and no deg/s: the message names them as a unit (and, where most readings are within bounds, says how
    millidegrees convert)."""
    data = _signals()
    data[:, 4:7] = np.rad2deg(data[:, 4:7]) * scale
    message = _error(_write(tmp_path / "r.csv", data))
    assert says in message and "NaN" not in message and "looks like deg/s" not in message
    converts = "divide gx, gy, gz by 1,000 and load them as deg/s" if scale == 16.4 else "mdps"
    assert converts in message


def test_a_stated_gyroscope_unit_the_readings_contradict_is_warned_in_the_file_s_terms(
    tmp_path: Path,
) -> None:
    """Stated, the unit is taken, with a warning that says what the readings look like (their 99th percentile in
    the file's own unit)."""
    data = _signals()
    data[:, 4:7] = np.rad2deg(data[:, 4:7]) * 2.5
    rec = load_recording(_write(tmp_path / "dps.csv", data), gyr_unit="rad/s")
    assert any(w.startswith("gyroscope stated as rad/s but it looks like deg/s") for w in rec.warnings)
    data[:, 4:7] *= 16.4  # raw counts of a ±2000 deg/s chip
    rec = load_recording(_write(tmp_path / "counts.csv", data), gyr_unit="deg/s")
    said = [w for w in rec.warnings if w.startswith("gyroscope stated as deg/s but it is implausible")]
    p99 = float(re.search(r"\|ω\| = (\d+) in the unit given", said[0]).group(1))
    assert p99 == pytest.approx(np.percentile(np.abs(data[:, 4:7]), 99), rel=0.01)


def test_acc_in_milli_g_is_named(tmp_path: Path) -> None:
    data = _signals()
    data[:, 1:4] *= 1000.0 / G
    message = _error(_write(tmp_path / "r.csv", data))
    assert (
        "implausible for m/s²" in message and "in milli-g divide them by 1,000 and load them as g" in message
    )


def test_stated_si_units_are_taken_as_they_are(tmp_path: Path) -> None:
    data = _signals()
    rec = load_recording(_write(tmp_path / "r.csv", data), acc_unit="m/s^2", gyr_unit="rad/s")
    np.testing.assert_allclose(rec.acc_mps2, data[:, 1:4], atol=1e-6)
    with pytest.raises(ValueError, match="acc_unit"):
        load_recording(tmp_path / "r.csv", acc_unit="mg")


# ---------------------------------------------------------------------------------------------------- saturation


def _swing(n: int = 2000, rate_hz: float = 200.0, amp_rps: float = 10.0) -> np.ndarray:
    data = _signals(n=n, rate_hz=rate_hz)
    t = data[:, 0]
    # a running-like swing: 1.4 Hz, slowly varying amplitude, so peaks differ from stride to stride
    data[:, 5] = amp_rps * (1 + 0.05 * np.sin(2 * np.pi * 0.13 * t)) * np.sin(2 * np.pi * 1.4 * t + 0.3)
    return data


def test_clipped_sinusoid_is_flagged(tmp_path: Path) -> None:
    data = _swing()
    clip = 8.7
    data[:, 5] = np.clip(data[:, 5], -clip, clip)
    rec = load_recording(_write(tmp_path / "r.csv", data))
    truly = np.abs(data[:, 5]) >= clip
    assert truly.sum() > 100
    assert rec.saturated[truly].mean() > 0.95
    assert not rec.saturated[np.abs(data[:, 5]) < 0.97 * clip].any()
    assert any("look clipped" in w and "gy" in w for w in rec.warnings)


def test_clipped_impact_spikes_are_flagged(tmp_path: Path) -> None:
    """x-IMU-like: heel-strike spikes of the accelerometer cut at exactly 8 g, often only 1-2 samples long."""
    data = _signals(n=2000, rate_hz=200.0)
    ceiling = 8 * G
    strikes = np.arange(100, 1900, 180)
    for k, i in enumerate(strikes):
        height = 95.0 + 10.0 * (k % 3)
        data[i - 3 : i + 4, 3] += height * np.array([0.05, 0.3, 0.8, 1.0, 0.75, 0.3, 0.05])
    cut = data[:, 3] >= ceiling
    data[cut, 3] = ceiling
    rec = load_recording(_write(tmp_path / "r.csv", data))
    assert rec.saturated[cut].all()
    assert rec.saturated.sum() == cut.sum()


def test_clipped_plateau_that_wobbles_is_flagged(tmp_path: Path) -> None:
    """MicroStrain-like: the clipped plateau drifts by ~0.5% through calibration, not an exact constant."""
    data = _swing()
    clip = 8.7
    over = np.abs(data[:, 5]) >= clip
    data[over, 5] = np.sign(data[over, 5]) * (clip + 0.04 * np.sin(np.arange(over.sum())))
    rec = load_recording(_write(tmp_path / "r.csv", data))
    assert rec.saturated[over].mean() > 0.9
    assert not rec.saturated[np.abs(data[:, 5]) < 0.95 * clip].any()


@pytest.mark.parametrize("freq_hz", [0.7, 1.4, 3.0, 10.0])
def test_unclipped_sinusoid_is_not_flagged(tmp_path: Path, freq_hz: float) -> None:
    data = _signals(n=2000, rate_hz=200.0)
    data[:, 5] = 9.0 * np.sin(2 * np.pi * freq_hz * data[:, 0])  # every peak at the same height
    rec = load_recording(_write(tmp_path / "r.csv", data))
    assert not rec.saturated.any()
    assert not any("clipped" in w for w in rec.warnings)


@pytest.mark.parametrize(("freq_hz", "skew"), [(0.9, 0.5), (1.4, 0.9), (2.2, 0.9)])
def test_sharp_lopsided_peaks_are_not_flagged(tmp_path: Path, freq_hz: float, skew: float) -> None:
    """Gait-like swings: fast rise, slow fall, a harmonic on top; their tops are not parabolic."""
    data = _signals(n=4000, rate_hz=200.0)
    t = data[:, 0]
    phase = 2 * np.pi * freq_hz * t
    data[:, 5] = 9.0 * (1 + 0.04 * np.sin(2 * np.pi * 0.17 * t)) * np.sin(phase + skew * np.sin(phase))
    data[:, 5] += 3.0 * np.sin(2 * phase + 0.4)
    rec = load_recording(_write(tmp_path / "r.csv", data))
    assert not rec.saturated.any()


@pytest.mark.parametrize(
    "name",
    [
        "gaitmap_example/walk_2x20m_left",
        "gaitmap_example/walk_2x20m_right",
        "xio_gait_tracking/ngimu_long_walk",
        "pyshoe_vicon/2018-02-22-10-08-52",
    ],
)
def test_real_recordings_without_clipping_are_not_flagged(name: str) -> None:
    """Sensors with a range well above these walks: their peaks (some sharp, up to 12.6 rad/s) are real."""
    path = DATASETS / f"{name}.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    assert not load_recording(path).saturated.any()


# ---------------------------------------------------------------------------------------------------- sidecar


def test_missing_sidecar_uses_the_timestamps(tmp_path: Path) -> None:
    rec = load_recording(_write(tmp_path / "r.csv", _signals(rate_hz=100.0)))
    assert rec.sample_rate_hz == pytest.approx(100.0, rel=1e-3)
    assert rec.placement == "unknown" and rec.ground_truth.distance_m is None


def test_invalid_sidecar_json_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", _signals())
    path.with_suffix(".json").write_text('{"sample_rate_hz": 100.0,')
    message = str(pytest.raises(RecordingError, load_recording, path).value)
    assert "r.json" in message and "not valid JSON" in message


@pytest.mark.parametrize("with_orjson", [True, False])
def test_sidecar_reads_as_json_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_orjson: bool
) -> None:
    """What orjson refuses and json takes (NaN, 1e400) still loads, and without orjson the same comes out."""
    if not with_orjson:
        monkeypatch.setitem(sys.modules, "orjson", None)  # its import fails
    path = _write(tmp_path / "r.csv", _signals())
    text = (
        '{"sample_rate_hz": 100.0, "notes": "caf\\u00e9", "ground_truth": {"noise": NaN, "samples": 1e400}}'
    )
    path.with_suffix(".json").write_text(text)
    rec = load_recording(path)
    assert rec.notes == "café" and math.isnan(rec.ground_truth.extra["noise"])
    assert rec.ground_truth.extra["samples"] == math.inf
    meta = {"sample_rate_hz": 100.0, "placement": "instep", "ground_truth": {"distance_m": 12.5, "steps": 7}}
    rec = load_recording(_write(tmp_path / "s.csv", _signals(), meta=meta))
    assert (rec.placement, rec.ground_truth.distance_m, rec.ground_truth.steps) == ("instep", 12.5, 7)


@pytest.mark.parametrize(
    ("truth", "says"),
    [
        ({"distance_m": "far"}, "distance_m must be a distance in metres, not 'far'"),
        ({"distance_m": -3}, "not -3"),
        ({"distance_m": True}, "not True"),
        ({"steps": 2.5}, "steps must be a whole number of steps, not 2.5"),
        ({"distance_source": 7}, "distance_source must be text"),
    ],
)
def test_a_ground_truth_of_the_wrong_kind_is_named(tmp_path: Path, truth: dict, says: str) -> None:
    """A sidecar's reference is checked where it is read, not where a report first formats it."""
    with pytest.raises(RecordingError) as info:
        load_recording(_write(tmp_path / "r.csv", _signals(), meta={"ground_truth": truth}))
    assert str(info.value).startswith(str(tmp_path / "r.json")) and says in str(info.value)


def test_an_unknown_ground_truth_distance_may_be_nan(tmp_path: Path) -> None:
    rec = load_recording(
        _write(tmp_path / "r.csv", _signals(), meta={"ground_truth": {"distance_m": math.nan}})
    )
    assert rec.ground_truth.distance_m is None
    rec = load_recording(_write(tmp_path / "s.csv", _signals(), meta={"ground_truth": {"steps": 40.0}}))
    assert rec.ground_truth.steps == 40 and isinstance(rec.ground_truth.steps, int)


def test_sidecar_rate_disagreeing_with_timestamps_warns(tmp_path: Path) -> None:
    rec = load_recording(_write(tmp_path / "r.csv", _signals(rate_hz=100.0), meta={"sample_rate_hz": 120.0}))
    assert any("sample_rate_hz = 120" in w and "100.00 Hz" in w for w in rec.warnings)
    assert rec.sample_rate_hz == 120.0  # metadata kept as stated; the engine works on t_s
    rec = load_recording(_write(tmp_path / "s.csv", _signals(rate_hz=100.0), meta={"sample_rate_hz": 103.0}))
    assert rec.warnings == []


def test_stride_without_required_keys_is_an_error(tmp_path: Path) -> None:
    meta = {"ground_truth": {"strides": [{"t_start_s": 1.0, "length_m": 1.2}]}}
    path = _write(tmp_path / "r.csv", _signals(), meta=meta)
    with pytest.raises(RecordingError, match=re.escape("strides[0]")):
        load_recording(path)


# ---------------------------------------------------------------------------------------------------- round trip


def test_save_load_round_trip_keeps_everything(tmp_path: Path) -> None:
    data = _signals()
    details = [
        {"t_start_s": 0.5, "t_end_s": 1.4, "length_m": 1.3, "contact_time_s": 0.21, "strike_angle_deg": 12.0},
        {"t_start_s": 1.4, "t_end_s": 2.3, "length_m": 1.35, "contact_time_s": 0.2, "strike_angle_deg": 9.5},
    ]
    rec = Recording(
        t_s=data[:, 0],
        acc_mps2=data[:, 1:4],
        gyr_rps=data[:, 4:7],
        sample_rate_hz=100.0,
        placement="sole",
        side="left",
        activity="run",
        ground_truth=GroundTruth(
            distance_m=2.65,
            distance_source="simulator",
            strides=np.array([[d["t_start_s"], d["t_end_s"], d["length_m"]] for d in details]),
            trajectory=np.column_stack([data[:, 0], data[:, 0] * 1.3, np.zeros((len(data), 2))]),
            extra={"surface": "track"},
            stride_details=details,
        ),
        source={"dataset": "soleware simulator"},
        notes="round trip",
    )
    path = save_recording(rec, tmp_path / "out" / "sim")
    assert sorted(p.name for p in path.parent.iterdir()) == ["sim.csv", "sim.gt.csv", "sim.json"]
    back = load_recording(path)
    np.testing.assert_allclose(back.t_s, rec.t_s, atol=1e-6)
    np.testing.assert_allclose(back.gyr_rps, rec.gyr_rps, atol=1e-6)
    np.testing.assert_allclose(back.ground_truth.strides, rec.ground_truth.strides)
    np.testing.assert_allclose(back.ground_truth.trajectory, rec.ground_truth.trajectory, atol=1e-6)
    assert back.ground_truth.stride_details == details
    assert back.ground_truth.extra == {"surface": "track"}
    assert (back.placement, back.side, back.activity, back.notes) == ("sole", "left", "run", "round trip")
    assert back.warnings == [] and back.segments == [(0, len(data))]


def test_recording_defaults_cover_the_whole_recording() -> None:
    data = _signals(n=50)
    rec = Recording(t_s=data[:, 0], acc_mps2=data[:, 1:4], gyr_rps=data[:, 4:7], sample_rate_hz=100.0)
    assert rec.segments == [(0, 50)]
    assert rec.saturated.shape == (50,) and not rec.saturated.any()


# ---------------------------------------------------------------------------------------------------- real data


def test_bundled_sample_loads() -> None:
    path = sample_recording_path()
    assert path.is_file() and path.with_suffix(".json").is_file()
    assert (path.parent / "NOTICE.md").is_file()
    rec = load_recording(path)
    assert rec.duration_s > 50 and rec.segments == [(0, len(rec))]
    assert "MIT" in rec.source["license"]
    assert rec.ground_truth.strides is not None and len(rec.ground_truth.strides) == 60
    # the running strides clip the gyroscope; the walk does not
    assert 0 < rec.saturated.sum() < 0.02 * len(rec)


def _dataset_recordings() -> list[Path]:
    if not DATASETS.is_dir():
        return []
    return sorted(p for p in DATASETS.glob("*/*.csv") if not p.name.endswith(".gt.csv"))


@pytest.mark.slow
@pytest.mark.skipif(not DATASETS.is_dir(), reason=f"{DATASETS} is not present")
@pytest.mark.parametrize("path", _dataset_recordings(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_dataset_recording_loads(path: Path) -> None:
    rec = load_recording(path)
    assert len(rec) >= 20 and rec.duration_s >= 2.0
    # none of the real recordings has a gap long enough to split it (their gaps are at most ~18 ms)
    assert rec.segments == [(0, len(rec))]
    assert math.isfinite(rec.sample_rate_hz) and rec.saturated.mean() < 0.05
    assert np.isfinite(rec.acc_mps2).all() and np.isfinite(rec.gyr_rps).all()
    assert np.all(np.diff(rec.t_s) > 0)


def test_exp40_bunched_timestamps_load_as_one_segment() -> None:
    path = DATASETS / "gaitdriven_footprints" / "SensorConnectData_40.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    rec = load_recording(path)
    assert rec.segments == [(0, len(rec))]
    assert len(rec) == 21201  # nothing interpolated
    assert len(rec.warnings) <= 2 and not any("gap" in w for w in rec.warnings)


@pytest.mark.usefixtures("plain_reader")
def test_plain_files_and_line_by_line_files_read_the_same(tmp_path: Path) -> None:
    """A plain file (LF or CRLF line ends) is parsed in one piece; blank lines, tabs or a BOM take the
    line-by-line reader. All must give the same samples and the same (no) warnings.
    """
    data = _signals(400)
    lines = [",".join(CSV_COLUMNS)] + [",".join(f"{v:.6f}" for v in row) for row in data]
    plain = load_recording(_write_lines(tmp_path / "plain.csv", lines))
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    blank = _write_lines(tmp_path / "blank.csv", [*lines[:50], "", " \t", *lines[50:]])
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode())
    for path in (crlf, blank, bom):
        other = load_recording(path)
        np.testing.assert_array_equal(other.t_s, plain.t_s)
        np.testing.assert_array_equal(other.acc_mps2, plain.acc_mps2)
        np.testing.assert_array_equal(other.gyr_rps, plain.gyr_rps)
        assert other.warnings == plain.warnings == []
    exact = np.loadtxt(lines[1:], delimiter=",")
    np.testing.assert_array_equal(np.column_stack([plain.t_s, plain.acc_mps2, plain.gyr_rps]), exact)


@pytest.mark.parametrize(
    "spelling",
    [
        lambda v: f"{v:+.6e}",  # signs and exponents
        lambda v: f" {v:.4f} ",  # blanks around a number
        lambda v: f"{v:.6f}".replace("0.", ".") if 0 < v < 1 else f"{v:.6f}",  # no leading zero
        lambda v: "nan" if round(v * 1e6) % 97 == 0 else f"{v:.6f}",  # missing values the logger wrote as nan
        lambda v: f'"{v:.6f}"',  # quoted: no plain number, the line-by-line reader's
        lambda v: "" if round(v * 1e6) % 89 == 0 else f"{v:.6f}",  # empty fields: the line-by-line reader's
    ],
)
def test_both_plain_readers_take_a_spelling_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: Callable[[float], str]
) -> None:
    """Arrow's reader and np.loadtxt give the same samples and warnings for every way a logger writes its
    numbers, and hand what is not plain to the line-by-line reader alike."""
    data = _signals(400)
    lines = [",".join(CSV_COLUMNS)] + [",".join([f"{r[0]:.6f}", *map(spelling, r[1:])]) for r in data]
    path = _write_lines(tmp_path / "r.csv", lines)
    outcomes = []
    for without_arrow in (False, True):
        if without_arrow:
            monkeypatch.setitem(sys.modules, "pyarrow", None)
        try:
            rec = load_recording(path)
            outcomes.append((rec.t_s.tolist(), rec.acc_mps2.tolist(), rec.gyr_rps.tolist(), rec.warnings))
        except RecordingError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]


@pytest.mark.usefixtures("plain_reader")
@pytest.mark.parametrize("crlf", [False, True])
def test_malformed_row_is_named_by_either_reader(tmp_path: Path, crlf: bool) -> None:
    data = _signals(300)
    lines = [",".join(CSV_COLUMNS)] + [",".join(f"{v:.6f}" for v in row) for row in data]
    lines[120] = lines[120].replace(",", ",x", 1)
    path = tmp_path / "bad.csv"
    path.write_bytes(("\r\n" if crlf else "\n").join(lines).encode())
    assert "line 121: malformed row (non-numeric ax value 'x" in _error(path)


def test_trajectory_is_read_only_when_asked(tmp_path: Path) -> None:
    data = _signals(300)
    traj = np.column_stack([data[:, 0], np.linspace(0, 3, 300), np.zeros(300), np.zeros(300)])
    rec = Recording(
        t_s=data[:, 0],
        acc_mps2=data[:, 1:4],
        gyr_rps=data[:, 4:7],
        sample_rate_hz=100.0,
        ground_truth=GroundTruth(distance_m=3.0, trajectory=traj),
    )
    path = save_recording(rec, tmp_path / "with_traj.csv")
    np.testing.assert_allclose(load_recording(path).ground_truth.trajectory, traj, atol=1e-6)
    lean = load_recording(path, with_trajectory=False)
    assert lean.ground_truth.trajectory is None
    assert lean.ground_truth.distance_m == 3.0


@pytest.mark.usefixtures("plain_reader")
def test_a_plain_file_never_takes_the_line_by_line_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What this package writes is read in one pass (the fast path a one-hour file needs)."""
    import soleware.gait.recording as recording

    def line_by_line(*args: object) -> None:
        raise AssertionError("line-by-line reader used")

    rec = Recording(
        t_s=_signals()[:, 0], acc_mps2=_signals()[:, 1:4], gyr_rps=_signals()[:, 4:7], sample_rate_hz=100
    )
    path = save_recording(rec, tmp_path / "plain.csv")
    path.write_bytes(path.read_bytes() + b"  \n\n")  # trailing blank lines are no rows
    monkeypatch.setattr(recording, "_read_body", line_by_line)
    np.testing.assert_allclose(load_recording(path).acc_mps2, rec.acc_mps2, atol=1e-6)


def test_chip_ranges_in_the_sidecar_round_trip_and_flag_what_reaches_them(tmp_path: Path) -> None:
    data = _signals(n=2000, rate_hz=200.0)
    ceiling = 8 * G
    data[[300, 900, 1500], 3] = ceiling * (1 - 2**-15)  # one-sample impacts, too few for the flat-top rule
    rec = load_recording(
        _write(
            tmp_path / "r.csv", data, meta={"acc_range_mps2": ceiling, "gyr_range_rps": math.radians(2000)}
        )
    )
    assert rec.acc_range_mps2 == ceiling and rec.gyr_range_rps == pytest.approx(math.radians(2000))
    assert np.flatnonzero(rec.saturated).tolist() == [300, 900, 1500]
    again = load_recording(save_recording(rec, tmp_path / "copy"))
    assert (again.acc_range_mps2, again.gyr_range_rps) == (rec.acc_range_mps2, rec.gyr_range_rps)
    assert load_recording(_write(tmp_path / "none.csv", data, meta={})).acc_range_mps2 is None


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("acc_range_mps2", 8, "16 g = 156.9"),
        ("gyr_range_rps", 2000, "2000 °/s = 34.9"),
        ("acc_range_mps2", "8g", ""),
    ],
)
def test_a_chip_range_in_other_units_is_refused_with_the_unit_named(
    tmp_path: Path, key: str, value: object, hint: str
) -> None:
    with pytest.raises(RecordingError) as info:
        load_recording(_write(tmp_path / "r.csv", _signals(), meta={key: value}))
    message = str(info.value)
    assert (
        str(tmp_path / "r.json") in message and key in message and hint in message and repr(value) in message
    )


@pytest.mark.parametrize("width", [60, 30_000])  # rows sorted at once; one by one past the memory bound
def test_range_median_is_numpys_median_of_each_range(width: int) -> None:
    from soleware.gait.recording import _range_median

    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=60_000), 2)  # ties
    lo = rng.integers(0, len(x) - width, size=200)
    hi = lo + rng.integers(1, width, size=200)  # odd and even lengths, single samples
    want = [np.median(x[a:b]) for a, b in zip(lo, hi, strict=True)]
    np.testing.assert_array_equal(_range_median(x, lo, hi), want)


def _find_gaps_one_by_one(t: np.ndarray, period_s: float) -> list[tuple[int, float]]:
    """The gap finder as first written, one suspect group at a time (the reference for the vectorised one)."""
    dt = np.diff(t)
    suspects = np.flatnonzero(dt > 1.5 * period_s)
    if not suspects.size:
        return []
    lag = t - period_s * np.arange(len(t))
    groups = np.split(suspects, np.flatnonzero(np.diff(suspects) > 2) + 1)
    window = max(3, round(0.25 / period_s))
    gaps = []
    for k, group in enumerate(groups):
        first, last = int(group[0]), int(group[-1])
        lo = max(first - window + 1, int(groups[k - 1][-1]) + 1 if k else 0)
        hi = min(last + 1 + window, int(groups[k + 1][0]) + 1 if k + 1 < len(groups) else len(t))
        missing_s = float(np.median(lag[last + 1 : hi]) - np.median(lag[lo : first + 1]))
        if missing_s > 0.5 * period_s:
            gaps.append((first + int(np.argmax(dt[first : last + 1])), missing_s))
    return gaps


def test_gaps_are_found_as_one_suspect_at_a_time_would() -> None:
    """Jitter, gaps next to each other, at the ends and a tenth of a second apart, in exactly the same figures."""
    from soleware.gait.recording import _find_gaps

    rng = np.random.default_rng(9)
    grid = np.arange(20_000) * 0.005
    t = np.delete(grid, np.r_[1, 2, rng.choice(np.arange(5, 19_990), size=400, replace=False), 19_998])
    t = t + rng.normal(scale=0.0008, size=len(t))
    t[rng.integers(0, len(t), size=300)] += 0.004  # late samples: suspects that are no gaps
    t = np.sort(t)
    found = _find_gaps(t, 0.005)
    assert len(found) > 300
    assert found == _find_gaps_one_by_one(t, 0.005)


def test_the_acceleration_magnitude_is_numpys_norm_to_the_bit() -> None:
    """The unit check's median |a| (in its message) is the one np.linalg.norm gives, on any column layout."""
    rng = np.random.default_rng(12)
    table = rng.normal(size=(5000, 7)) * [1, 3, 3, 9.81, 1, 1, 1]
    ax, ay, az = table[:, 1:4].T
    np.testing.assert_array_equal(
        np.sqrt((ax * ax + ay * ay) + az * az), np.linalg.norm(table[:, 1:4], axis=1)
    )


def _repair_gaps_piece_by_piece(
    t: np.ndarray, columns: tuple[np.ndarray, ...], gaps: list[tuple[int, float]], period_s: float
) -> tuple[np.ndarray, list[np.ndarray], list[tuple[int, int]]]:
    """The gap filler as first written, one gap at a time (the reference for the vectorised one)."""
    pieces_t, pieces, boundaries = [], [[] for _ in columns], []
    start = offset = 0
    for i, g in gaps:
        pieces_t.append(t[start : i + 1])
        for piece, x in zip(pieces, columns, strict=True):
            piece.append(x[start : i + 1])
        offset += i + 1 - start
        if g > MAX_INTERPOLATED_GAP_S:
            boundaries.append(offset)
        else:
            m = max(1, round(g / period_s))
            frac = np.arange(1, m + 1) / (m + 1)
            pieces_t.append(t[i] + frac * (t[i + 1] - t[i]))
            for piece, x in zip(pieces, columns, strict=True):
                piece.append(x[i] + frac[:, None] * (x[i + 1] - x[i]))
            offset += m
        start = i + 1
    pieces_t.append(t[start:])
    for piece, x in zip(pieces, columns, strict=True):
        piece.append(x[start:])
    edges = [0, *boundaries, offset + len(t) - start]
    return (
        np.concatenate(pieces_t),
        [np.concatenate(p) for p in pieces],
        list(zip(edges[:-1], edges[1:], strict=True)),
    )


@pytest.mark.parametrize("scattered", [20, 300])
def test_gaps_are_filled_as_one_gap_at_a_time_would(scattered: int) -> None:
    """Short and long gaps, neighbours and at the ends: the same samples to the bit, the same segments, whether
    the samples between gaps are copied as blocks (few gaps) or gathered one by one (many)."""
    from soleware.gait.recording import _find_gaps, _repair_gaps

    rng = np.random.default_rng(4)
    grid = np.arange(30_000) * 0.005
    dropped = [1, 2, 3, 40, 42, *range(500, 560), *range(900, 905), *range(906, 990), 29_998]
    dropped += rng.choice(np.arange(1000, 29_900), size=scattered, replace=False).tolist()
    keep = np.setdiff1d(np.arange(len(grid)), dropped)
    t = grid[keep] + rng.normal(scale=0.0005, size=len(keep))
    table = rng.normal(size=(len(t), 7))  # strided columns, like the parsed file's
    acc, gyr = table[:, 1:4], table[:, 4:7]
    gaps = _find_gaps(t, 0.005)
    assert {g > MAX_INTERPOLATED_GAP_S for _, g in gaps} == {True, False}
    t_out, (acc_out, gyr_out), segments = _repair_gaps(t, (acc, gyr), 0.005, [])
    t_ref, (acc_ref, gyr_ref), segments_ref = _repair_gaps_piece_by_piece(t, (acc, gyr), gaps, 0.005)
    np.testing.assert_array_equal(t_out, t_ref)
    np.testing.assert_array_equal(acc_out, acc_ref)
    np.testing.assert_array_equal(gyr_out, gyr_ref)
    assert segments == segments_ref and len(segments) > 1
    assert acc_out.flags.c_contiguous and gyr_out.flags.c_contiguous


def test_columns_in_another_order_come_back_c_contiguous(tmp_path: Path) -> None:
    """Reordering the columns copies them; the samples still come as (n, 3) rows, whether a gap was filled or not."""
    data = _signals()
    order = [6, 0, 3, 1, 5, 2, 4]
    header = ",".join(CSV_COLUMNS[i] for i in order)
    for rows in (data, np.delete(data, [200], axis=0)):
        rec = load_recording(_write(tmp_path / "r.csv", rows[:, order], header=header))
        assert rec.acc_mps2.flags.c_contiguous and rec.gyr_rps.flags.c_contiguous
        assert len(rec) == len(data)


@pytest.mark.parametrize("n", [1, 2, 7, 8, 1001])
def test_the_unit_check_counts_only_where_the_median_surely_lies_in_range(n: int) -> None:
    """``_median_within`` says True only when the median |a| lies in [3, 60] m/s², and says it for real data."""
    from soleware.gait.recording import _median_within

    rng = np.random.default_rng(n)
    for _ in range(300):
        # values at, just inside and just outside the bounds, and far away on both sides
        pool = np.array([2.0, np.nextafter(3.0, 0), 3.0, 3.5, 9.81, 59.9, 60.0, np.nextafter(60.0, 99), 80.0])
        mag = rng.choice(pool, size=n)
        median_mps2 = float(np.median(mag))
        if _median_within(mag * mag, 3.0**2, 60.0**2):
            assert 3.0 <= median_mps2 <= 60.0
    walk = np.abs(_signals()[:, 1:4])
    assert _median_within(np.sum(walk * walk, axis=1), 3.0**2, 60.0**2)
    assert not _median_within(np.sum((walk / G) ** 2, axis=1), 3.0**2, 60.0**2)  # in g: the median is needed


def test_a_few_spikes_beyond_the_deg_s_bound_stay_rad_s(tmp_path: Path) -> None:
    """The largest |ω| above 35 rad/s only sends the check to the 99th percentile, which decides."""
    data = _signals()
    data[[50, 51, 300], 5] = [40.0, -45.0, 38.0]  # three knocks on the shoe
    rec = load_recording(_write(tmp_path / "r.csv", data))
    np.testing.assert_allclose(rec.gyr_rps[[50, 51, 300], 1], [40.0, -45.0, 38.0])


@pytest.mark.usefixtures("plain_reader")
def test_a_plain_file_is_not_read_into_memory_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path parses from the file; only whitespace after the last row makes it read the file whole."""
    data = _signals()
    path = _write(tmp_path / "r.csv", data)
    read_whole: list[Path] = []
    real = Path.read_bytes

    def spy(self: Path) -> bytes:
        read_whole.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    np.testing.assert_allclose(load_recording(path).acc_mps2, data[:, 1:4], atol=1e-6)
    assert read_whole == []
    path.write_bytes(real(path) + b"\n \n")
    padded = load_recording(path)
    np.testing.assert_allclose(padded.acc_mps2, data[:, 1:4], atol=1e-6)
    assert read_whole == [path] and padded.warnings == []


@pytest.mark.parametrize(("column", "value"), [(2, 3e4), (3, -1e38), (5, 2e5), (6, -1e300)])
def test_impossible_sensor_values_are_missing_samples(tmp_path: Path, column: int, value: float) -> None:
    """A corrupted field (a flipped bit, a float32 overflow) is no reading: its row is a missing sample, filled
    like a NaN, and the warning says why; the rest of the recording is unchanged."""
    data = _signals()
    clean = load_recording(_write(tmp_path / "clean.csv", data))
    data[150, column] = value
    rec = load_recording(_write(tmp_path / "r.csv", data))
    assert len(rec) == len(data) and np.isfinite(rec.acc_mps2).all() and np.isfinite(rec.gyr_rps).all()
    assert any("impossible" in w and "line 152" in w for w in rec.warnings)
    keep = np.r_[0:149, 152 : len(data)]
    np.testing.assert_allclose(rec.acc_mps2[keep], clean.acc_mps2[keep])
    assert np.abs(rec.acc_mps2).max() < 1e3 and np.abs(rec.gyr_rps).max() < 1e3


def test_huge_finite_values_are_no_missing_samples() -> None:
    """The quick check bounds the whole table; timestamps beyond its bound (a clock far from 0) take the full
    check, which finds every row usable."""
    from soleware.gait.recording import _drop_bad_rows

    data = _signals(50)
    data[:, 0] += 1.7e9  # a Unix clock
    warnings: list[str] = []
    kept, line_no = _drop_bad_rows(Path("r.csv"), data, np.arange(2, 52), warnings)
    assert kept is data and warnings == [] and len(line_no) == 50
    data = _signals(50)
    data[7, 5] = np.nan
    kept, line_no = _drop_bad_rows(Path("r.csv"), data, np.arange(2, 52), warnings)
    assert len(kept) == 49 and 9 not in line_no and "first at line 9" in warnings[0]
    data[9, 1], data[10, 1] = np.inf, -np.inf  # inf - inf: NaN, quietly
    kept, _ = _drop_bad_rows(Path("r.csv"), data, np.arange(2, 52), [])
    assert len(kept) == 47


def test_a_recording_kept_in_part_finds_its_gaps_again() -> None:
    rec = load_recording(sample_recording_path())
    part = rec.kept((rec.t_s < 10.0) | (rec.t_s > 11.0))
    assert len(part) < len(rec) and part.segments == [(0, len(part))]
    assert part.ground_truth == rec.ground_truth and len(part.saturated) == len(part)
    split = with_missing_samples_repaired(part)
    assert len(split.segments) == 2 and split.t_s[split.segments[1][0]] > 11.0
