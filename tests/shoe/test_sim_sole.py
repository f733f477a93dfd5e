"""What a chip in a real sole sees (issue 17): hard impacts, placements, backward and side steps, turns."""

from __future__ import annotations

import numpy as np
import pytest

from soleware.gait import GRAVITY_MPS2
from soleware.shoe.sim import PLACEMENTS, Runner, SensorModel, ShoeSimulator


def peak_g(run_impact_s: float | None, speed_mps: float, strike: str) -> float:
    sim = ShoeSimulator(
        runner=Runner(strike=strike, run_impact_s=run_impact_s), sensor=SensorModel.perfect(), seed=1
    )
    rec = sim.simulate(f"20s run@{speed_mps}m/s", sides=("right",)).recordings_["right"]
    return float(np.linalg.norm(rec.acc_mps2, axis=1).max() / GRAVITY_MPS2)


@pytest.mark.parametrize(("speed", "strike"), [(4.0, "rearfoot"), (6.5, "forefoot")])
def test_a_firm_sole_lands_with_20_to_40_g(speed: float, strike: str) -> None:
    hard = peak_g(0.01, speed, strike)
    assert 20.0 <= hard <= 40.0
    assert peak_g(None, speed, strike) < hard


def test_impact_duration_is_checked() -> None:
    with pytest.raises(ValueError, match="run_impact_s"):
        Runner(run_impact_s=0.5)


@pytest.mark.parametrize("placement", sorted(PLACEMENTS))
def test_placement_puts_the_chip_where_it_says(placement: str) -> None:
    sim = ShoeSimulator(sensor=SensorModel.perfect(), placement=placement, mounting_deg=(0, 0, 0), seed=3)
    rec = sim.simulate("10s walk", sides=("right",)).recordings_["right"]
    assert rec.placement == placement
    # standing flat before the walk: the chip is at its height above the ground, reading gravity alone
    assert rec.ground_truth.trajectory[0, 3] == pytest.approx(PLACEMENTS[placement][2], abs=1e-6)
    assert np.allclose(rec.acc_mps2[0], [0.0, 0.0, GRAVITY_MPS2], atol=1e-6)


def test_unknown_placement_is_refused() -> None:
    with pytest.raises(ValueError, match="placement"):
        ShoeSimulator(placement="pocket").simulate("10s walk")


def _walk(**kw: float) -> ShoeSimulator:
    return ShoeSimulator(sensor=SensorModel.perfect(), seed=7, **kw).simulate(
        "30s walk@1.2m/s", sides=("left",)
    )


@pytest.mark.parametrize(("travel", "direction"), [(180.0, (-1.0, 0.0)), (90.0, (0.0, 1.0))])
def test_backward_and_side_steps_travel_that_way_with_the_same_steps(
    travel: float, direction: tuple[float, float]
) -> None:
    ahead = _walk().recordings_["left"].ground_truth
    other = _walk(travel_deg=travel).recordings_["left"].ground_truth
    travelled = other.trajectory[-1, 1:3] - other.trajectory[0, 1:3]
    assert np.dot(travelled, direction) > 0.95 * np.linalg.norm(travelled) > 20.0
    assert other.distance_m == pytest.approx(ahead.distance_m, rel=0.01)
    assert other.steps == ahead.steps


def test_a_turning_path_turns_the_feet_with_it() -> None:
    sim = _walk(turn_deg_per_m=4.0)
    st = sim.stances_["left"]
    straight = _walk().stances_["left"]
    assert np.allclose(st.yaw - straight.yaw, np.radians(4.0) * straight.heel_xy[:, 0])
    # steps keep their length along the curve
    steps = np.linalg.norm(np.diff(st.heel_xy, axis=0), axis=1)
    straight_steps = np.linalg.norm(np.diff(straight.heel_xy, axis=0), axis=1)
    assert np.allclose(steps, straight_steps, rtol=0.01, atol=0.005)
