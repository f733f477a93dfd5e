"""What the runner sees and exports of a stored run equals what the uploaded run gave, within the resolution of
the page and of each export format (storage keeps strides at the shoe's resolution, streams from them)."""

from __future__ import annotations

import numpy as np
import pytest

from soleware.formats import read_fit, read_strides_csv, read_tcx, write_fit, write_strides_csv, write_tcx
from soleware.runs.model import STRIDE_RESOLUTION
from soleware.runs.splits import splits


def _close(a: np.ndarray, b: np.ndarray, step: float, name: str) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape and np.array_equal(np.isnan(a), np.isnan(b)), name
    # both sides are rounded to the format's step: values a hair either side of a rounding edge differ by one
    assert np.nanmax(np.abs(a - b), initial=0.0) <= step * (1 + 1e-6), name


def test_exports_and_page_of_a_stored_run_equal_those_of_the_upload(store, noisy_run):
    runner = store.create_runner("exports@example.com", "long enough password")
    run = noisy_run(5)  # unrounded floats: the hardest case for storage at the shoe's resolution
    rid = store.add_run(runner.id, run).run_id
    back = store.get_run(runner.id, rid)
    view = store.run_view(runner.id, rid)

    fit_a, fit_b = read_fit(write_fit(run)), read_fit(write_fit(back))
    assert (fit_a.start_time, fit_a.elapsed_time_s) == (fit_b.start_time, fit_b.elapsed_time_s)
    for name, step in (("t_s", 1.0), ("distance_m", 0.01), ("speed_mps", 0.001), ("cadence_spm", 2 / 128)):
        _close(getattr(fit_a.streams, name), getattr(fit_b.streams, name), step, f"fit {name}")

    tcx_a, tcx_b = read_tcx(write_tcx(run)), read_tcx(write_tcx(back))
    for name, step in (
        ("t_s", 0.001),
        ("distance_m", 0.001),
        ("speed_mps", 0.001),
        ("cadence_spm", 2.0),
    ):  # TCX: whole strides per minute
        _close(getattr(tcx_a.streams, name), getattr(tcx_b.streams, name), step, f"tcx {name}")

    csv_a, csv_b = (
        read_strides_csv(write_strides_csv(run.strides)),
        read_strides_csv(write_strides_csv(back.strides)),
    )
    assert len(csv_a) == len(csv_b)
    for name, res in STRIDE_RESOLUTION.items():
        tol = res if name == "length_m" else 0.5 * res  # each foot's summed length to 0.5 mm
        a = np.array([np.nan if (v := getattr(s, name)) is None else v for s in csv_a])
        b = np.array([np.nan if (v := getattr(s, name)) is None else v for s in csv_b])
        _close(a, b, tol, f"csv {name}")

    # the run's page: figures per foot as uploaded; splits to the second, metre and step per minute shown
    assert view.feet == run.feet()
    for unit_m in (1000.0, 1609.344):
        for a, b in zip(splits(run, unit_m=unit_m), splits(view.run, unit_m=unit_m), strict=True):
            assert a.index == b.index
            assert a.distance_m == pytest.approx(b.distance_m, abs=0.01)
            assert a.moving_time_s == pytest.approx(b.moving_time_s, abs=0.01)
            assert a.avg_cadence_spm == pytest.approx(b.avg_cadence_spm, abs=0.05)
