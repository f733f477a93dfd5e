"""The hand-written signal helpers against the library functions they replace."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from soleware.gait._signal import (
    find_peaks,
    first_crossing,
    median,
    percentile,
    range_argmax,
    range_argmin,
    range_max,
    spatial_median,
)


def _signals() -> list[np.ndarray]:
    """Smooth, noisy, quantised (plateaus and ties), constant, short and NaN-holed signals."""
    rng = np.random.default_rng(7)
    out: list[np.ndarray] = []
    for n in (0, 1, 2, 3, 4, 5, 17, 200, 3000):
        out.append(rng.normal(size=n))
        out.append(np.round(rng.normal(size=n) * 2.0))  # few distinct values: plateaus and equal peaks
        out.append(np.zeros(n))
    t = np.linspace(0.0, 60.0, 12_000)
    out.append(np.sin(2 * np.pi * 1.4 * t) + 0.2 * rng.normal(size=t.size))
    out.append(np.round(4 * np.sin(2 * np.pi * 0.7 * t)))  # wide flat tops
    out.append(np.abs(np.sin(t)) + (t > 30))  # a step and a plateau at the end
    holed = rng.normal(size=500)
    holed[rng.integers(0, 500, size=40)] = np.nan
    out.append(holed)
    out.append(np.r_[np.ones(5), 0.0, np.ones(5)])  # plateaus touching both ends are no peaks
    out.append(np.r_[0.0, 2.0, 2.0, 1.0, 2.0, 2.0, 2.0, 0.0, 3.0, 3.0])  # even/odd plateaus, one at the end
    return out


@pytest.mark.parametrize("distance", [None, 1, 1.5, 2, 7, 80, 10_000])
def test_find_peaks_is_scipys(distance: float | None) -> None:
    for k, x in enumerate(_signals()):
        ours, props = find_peaks(x, distance=distance)
        theirs, _ = scipy.signal.find_peaks(x, distance=distance)
        assert props == {}
        assert ours.dtype == theirs.dtype, k
        np.testing.assert_array_equal(ours, theirs, err_msg=f"signal {k}, distance {distance}")


def test_find_peaks_on_many_random_walks() -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        n = int(rng.integers(3, 400))
        x = np.cumsum(rng.integers(-2, 3, size=n)).astype(float)  # integer walks: many ties between peaks
        d = float(rng.uniform(1, 30))
        np.testing.assert_array_equal(find_peaks(x, distance=d)[0], scipy.signal.find_peaks(x, distance=d)[0])


def test_find_peaks_refuses_what_scipy_refuses() -> None:
    with pytest.raises(ValueError, match="distance"):
        find_peaks(np.arange(10.0), distance=0.5)
    with pytest.raises(ValueError, match="1-D"):
        find_peaks(np.zeros((3, 3)))


def _random_ranges(rng: np.random.Generator, n: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    lo = rng.integers(0, n - 1, size=count)
    hi = lo + 1 + rng.integers(0, n - lo)
    return lo, np.minimum(hi, n)


@pytest.mark.parametrize("quantised", [False, True])
def test_range_reductions_match_a_loop_over_the_ranges(quantised: bool) -> None:
    """Overlapping and one-sample ranges, ties (quantised values) included: the first extreme, as numpy."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=400)
    if quantised:
        x = np.round(2 * x)
    lo, hi = _random_ranges(rng, len(x), 300)
    np.testing.assert_array_equal(range_max(x, lo, hi), [x[a:b].max() for a, b in zip(lo, hi, strict=True)])
    np.testing.assert_array_equal(
        range_argmax(x, lo, hi), [np.argmax(x[a:b]) for a, b in zip(lo, hi, strict=True)]
    )
    np.testing.assert_array_equal(
        range_argmin(x, lo, hi), [np.argmin(x[a:b]) for a, b in zip(lo, hi, strict=True)]
    )
    assert len(range_argmax(x, lo[:0], hi[:0])) == 0


def test_range_reductions_refuse_an_empty_range() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        range_max(np.arange(5.0), np.array([2]), np.array([2]))


def _first_crossing_loop(y: np.ndarray, lo: int, hi: int, level: float) -> float:
    hit = np.flatnonzero(y[lo:hi] - level >= 0)
    if len(hit) == 0:
        return float("nan")
    m = lo + int(hit[0])
    if m == lo:
        return float(m)
    y0, y1 = y[m - 1] - level, y[m] - level
    return float(m - 1 + (y0 / (y0 - y1) if y0 != y1 else 1.0))


def test_first_crossing_interpolates_between_the_samples_around_the_level() -> None:
    rng = np.random.default_rng(5)
    y = np.round(rng.normal(size=300), 1)
    lo, hi = _random_ranges(rng, len(y), 200)
    level = rng.normal(size=len(lo)) + 0.8
    level[:20] = np.round(level[:20], 1)  # the level exactly on sample values
    got = first_crossing(y, lo, hi, level)
    want = [_first_crossing_loop(y, a, b, c) for a, b, c in zip(lo, hi, level, strict=True)]
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got).any() and (got == lo).any()  # both edge cases met
    np.testing.assert_array_equal(
        first_crossing(np.array([0.0, 1.0, 3.0]), np.array([0]), np.array([3]), np.array([2.0])), [1.5]
    )


@pytest.mark.parametrize("n", [1, 2, 3, 4, 17, 100, 101, 5000])
def test_median_and_percentile_are_numpys_to_the_bit(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 3)) * 10.0 ** rng.integers(-3, 4)
    x[: n // 3] = np.round(x[: n // 3], 1)  # ties
    np.testing.assert_array_equal(median(x, axis=0), np.median(x, axis=0))
    assert median(x) == np.median(x)
    for q in (0, 1, 25, 33.3, 50, 99, 99.9, 100):
        assert percentile(x, q) == np.percentile(x, q)


def test_median_and_percentile_of_data_with_nan_are_nan() -> None:
    x = np.array([[1.0, 2.0], [np.nan, 3.0], [4.0, 5.0]])
    np.testing.assert_array_equal(median(x, axis=0), np.median(x, axis=0))
    assert np.isnan(median(x)) and np.isnan(percentile(x, 99))


def test_the_gait_engine_leaves_numpy_ma_unimported() -> None:
    """np.median's and np.percentile's masked-array checks import numpy.ma; loading and analysing need neither."""
    import subprocess
    import sys

    code = (
        "import sys; from soleware.gait.pipeline import GaitAnalysis; "
        "from soleware.gait.recording import load_recording, sample_recording_path; "
        "GaitAnalysis().analyze(load_recording(sample_recording_path())); print('numpy.ma' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_spatial_median_turns_with_the_vectors_and_ignores_a_minority_far_away() -> None:
    """The gyroscope bias of a rest must not depend on how the chip's axes sit in the shoe: the median of each
    column does, this one does not. A third of the rows moving (the foot shifting in a rest) barely moves it."""
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(5)
    rest = rng.standard_t(3, size=(600, 3)) * 0.002 + np.array([0.004, -0.002, 0.001])
    m = spatial_median(rest)
    for seed in range(4):
        rot = Rotation.random(random_state=seed).as_matrix()
        np.testing.assert_allclose(spatial_median(rest @ rot.T), rot @ m, atol=1e-9)
        per_axis = rot.T @ median(rest @ rot.T, axis=0)
        if seed == 0:
            assert np.linalg.norm(per_axis - median(rest, axis=0)) > 1e-5  # the column median does not
    moving = rest.copy()
    moving[:200] += np.array([0.3, 0.1, -0.2])
    assert np.linalg.norm(spatial_median(moving) - m) < 0.004
    assert np.linalg.norm(moving.mean(axis=0) - m) > 0.1
    np.testing.assert_allclose(spatial_median(np.array([[1.0, 2.0, 3.0]])), [1.0, 2.0, 3.0])
