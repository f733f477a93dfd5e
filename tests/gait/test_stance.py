"""Small pieces of stance detection and quaternion algebra checked against plain references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from soleware.gait import _quat as quat
from soleware.gait.stance import _neighbourhood_quartile


@pytest.mark.parametrize("n", [0, 1, 3, 10, 11, 12, 57])
def test_neighbourhood_quartile_equals_the_per_element_percentile(n):
    x = np.random.default_rng(n).random(n)
    ref = np.array([np.percentile(x[max(0, i - 5) : i + 6], 25) for i in range(n)])
    assert np.allclose(_neighbourhood_quartile(x, 5), ref)


def test_quaternion_product_and_scan_match_scipy():
    rng = np.random.default_rng(3)
    p, q = Rotation.random(50, random_state=1), Rotation.random(50, random_state=2)
    ours = quat.multiply(p.as_quat(), q.as_quat())
    assert np.allclose(np.abs(np.sum(ours * (p * q).as_quat(), axis=1)), 1.0)
    inc = quat.from_rotvec(rng.normal(0, 0.05, (1000, 3)))
    scan = quat.cumulative_product(inc, block=64)
    ref = Rotation.from_quat(inc[0])
    for k in range(1, 1000):
        ref = ref * Rotation.from_quat(inc[k])
    assert abs(abs(np.dot(scan[-1], ref.as_quat())) - 1.0) < 1e-12
