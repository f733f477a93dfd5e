"""Gait events (initial contact, toe-off) and what follows from them: contact, swing, flight, strike angle."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from soleware.gait.events import ContactEventDetection, sagittal_axis
from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import load_recording
from soleware.shoe.sim import Runner, SensorModel, ShoeSimulator

DATASETS = Path(__file__).parents[2].parent / "shared" / "datasets"
needs_data = pytest.mark.skipif(not DATASETS.exists(), reason="../shared/datasets not present")

#: Motion-capture events of the gaitmap example walk (mad-lab-fau/gaitmap @ 05ad971,
#: example_data/stride_events_sample.csv, MIT): (initial contact, terminal contact) sample of each stance at
#: 204.8 Hz on the IMU clock.
MOCAP_STANCES = {
    "left": [
        (438, 586), (657, 803), (877, 1024), (1096, 1243), (1315, 1458), (1530, 1673), (1745, 1888),
        (1960, 2105), (2179, 2329), (2400, 2548), (2621, 2775), (2847, 2998), (3072, 3232), (3308, 3467),
        (3774, 3934), (4012, 4164), (4237, 4383), (4456, 4604), (4678, 4823), (4895, 5044), (5116, 5267),
        (5339, 5491), (5562, 5714), (5788, 5937), (6015, 6169), (6242, 6396), (6472, 6629), (6703, 6859),
    ],
    "right": [
        (311, 475), (549, 692), (764, 913), (985, 1135), (1206, 1350), (1421, 1565), (1636, 1780),
        (1849, 1995), (2068, 2216), (2288, 2437), (2511, 2660), (2732, 2888), (2959, 3115), (3191, 3353),
        (3424, 3576), (3656, 3817), (3895, 4049), (4123, 4274), (4346, 4491), (4565, 4712), (4784, 4934),
        (5005, 5153), (5226, 5382), (5452, 5601), (5673, 5827), (5898, 6052), (6126, 6281), (6355, 6513),
        (6584, 6742),
    ],
}  # fmt: skip


@functools.cache
def _simulated(
    mode: str, speed: float, strike: str, mounting_deg: tuple[float, float, float]
) -> ShoeSimulator:
    sim = ShoeSimulator(
        runner=Runner(strike=strike), sensor=SensorModel.perfect(), mounting_deg=mounting_deg, seed=3
    )
    return sim.simulate(f"15s {mode}@{speed}m/s", sides=("left",))


def _paired(mode: str, speed: float, strike: str) -> list[tuple[object, dict]]:
    """Engine strides paired with the simulator's truth (strides next to standing left out)."""
    rec = _simulated(mode, speed, strike, (8.0, -12.0, 25.0)).recordings_["left"]
    ga = GaitAnalysis().analyze(rec)
    t_end = np.array([s.t_end_s for s in ga.strides_])
    out = []
    for d in rec.ground_truth.stride_details or []:
        j = int(np.argmin(np.abs(t_end - d["t_end_s"])))
        if not (d["standing_start"] or d["standing_end"]) and abs(t_end[j] - d["t_end_s"]) < 0.1:
            out.append((ga.strides_[j], d))
    return out


def test_sagittal_axis_is_the_foot_lateral_axis_whatever_the_mounting() -> None:
    sim = _simulated("run", 4.0, "rearfoot", (20.0, -15.0, 40.0))
    rec = sim.recordings_["left"]
    up = rec.acc_mps2[: int(rec.sample_rate_hz)].mean(axis=0)  # standing still at the start
    axis = sagittal_axis(rec.gyr_rps, up)
    foot_left_in_sensor = sim.mounting_["left"].T @ np.array([0.0, 1.0, 0.0])
    assert abs(axis @ foot_left_in_sensor) > 0.995


@pytest.mark.parametrize(
    ("mode", "speed", "strike"),
    [("walk", 1.2, "rearfoot"), ("run", 3.0, "forefoot"), ("run", 6.0, "rearfoot")],
)
def test_events_on_simulated_strides(mode: str, speed: float, strike: str) -> None:
    """Touchdown within 6 ms, contact and swing within 10 ms, strike angle within 3 deg of the truth, for a tilted chip."""
    pairs = _paired(mode, speed, strike)
    assert len(pairs) > 8
    ic = np.array([s.t_initial_contact_s - d["t_contact_s"] for s, d in pairs])
    contact = np.array([s.contact_time_s - d["contact_time_s"] for s, d in pairs])
    swing = np.array([s.swing_time_s - d["swing_time_s"] for s, d in pairs])
    strike_err = np.array([s.strike_angle_deg - d["strike_angle_deg"] for s, d in pairs])
    assert np.max(np.abs(ic)) < 0.006
    assert np.max(np.abs(contact)) < 0.010
    assert np.max(np.abs(swing)) < 0.010
    assert np.sqrt(np.mean(strike_err**2)) < 3.0
    assert all(s.gait == mode for s, _ in pairs)


def test_flight_time_is_the_step_without_contact() -> None:
    """Running flight per step, (gait cycle − 2 × contact) / 2 with the cycle from initial contact to the next,
    against the simulator's toe-off to other touchdown (6 ms RMS; from stance anchor to anchor it was 7.6 ms)."""
    pairs = _paired("run", 4.5, "midfoot")
    for s, _ in pairs:
        cycle = s.contact_time_s + s.swing_time_s
        assert s.flight_time_s == pytest.approx(max(0.0, cycle / 2 - s.contact_time_s))
    err = np.array([s.flight_time_s - d["flight_time_s"] for s, d in pairs])
    assert np.sqrt(np.mean(err**2)) < 0.007
    assert all(s.flight_time_s == 0.0 for s, _ in _paired("walk", 1.2, "rearfoot"))


def test_a_stride_into_a_stop_flies_no_longer_than_it_did() -> None:
    """The last stride of a run ends on an anchor in the closing rest, seconds after its footfall: half of that
    duration less the contact is no flight (it gave 0.47 s), the gait cycle to the footfall is."""
    sim = ShoeSimulator(seed=3).simulate("20s run@4m/s", sides=("left",))
    rec = sim.recordings_["left"]
    last = GaitAnalysis().analyze(rec).strides_[-1]
    truth = rec.ground_truth.stride_details[-1]
    assert last.duration_s > 1.5 and np.isfinite(last.swing_time_s)
    assert abs(last.flight_time_s - truth["flight_time_s"]) < 0.03


def test_rejects_fraction_out_of_range() -> None:
    with pytest.raises(ValueError, match="impact_fraction"):
        ContactEventDetection(impact_fraction=1.5).detect(
            np.zeros((10, 3)),
            np.zeros((10, 3)),
            sample_rate_hz=100.0,
            stance_index=[2, 7],
            lateral_axis=[0, 1, 0],
        )


@needs_data
@pytest.mark.parametrize("side", ["left", "right"])
def test_contact_time_against_motion_capture(side: str) -> None:
    """Real walk (gaitmap example): contact within 25 ms of the marker events, walking duty factor ~0.65."""
    rec = load_recording(DATASETS / "gaitmap_example" / f"walk_2x20m_{side}.csv")
    ga = GaitAnalysis().analyze(rec)
    fs = rec.sample_rate_hz
    t_start = np.array([s.t_start_s for s in ga.strides_])
    contact_err, ic_err, duty = [], [], []
    for ic, tc in MOCAP_STANCES[side]:
        j = np.flatnonzero((t_start > ic / fs) & (t_start < tc / fs))
        if len(j) != 1 or j[0] == 0:
            continue
        s = ga.strides_[j[0]]
        contact_err.append(s.contact_time_s - (tc - ic) / fs)
        ic_err.append(ga.strides_[j[0] - 1].t_initial_contact_s - ic / fs)
        duty.append(s.contact_time_s / s.duration_s)
    assert len(contact_err) >= 20
    # The impact the sensor feels comes just after the markers' heel strike: IC is late, never early.
    assert 0.0 <= np.nanmedian(ic_err) <= 0.025
    assert abs(np.nanmedian(contact_err)) <= 0.025
    assert 0.6 <= np.nanmedian(duty) <= 0.7
