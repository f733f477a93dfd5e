"""Calibration over HTTP: references marked on runs, the factor learned per shoe, applied to new runs, reset."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
SHOE = "SW-L-0001+SW-R-0001"


def sign_up(client: TestClient, email: str) -> dict[str, str]:
    assert client.post("/api/auth/signup", json={"email": email, "password": PASSWORD}).status_code == 201
    r = client.post("/api/auth/signin", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def body(run) -> dict:
    return {
        "start_time": run.start_time.isoformat(),
        "time_zone": run.time_zone,
        "shoe_serials": list(run.shoe_serials),
        "strides": [
            {"side": s.side, "t_start_s": s.t_start_s, "t_end_s": s.t_end_s, "length_m": s.length_m}
            for s in run.strides
        ],
    }


def upload(client, who, make_run, day: int, distance_m: float = 4000.0) -> tuple[str, float]:
    start = dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC) + dt.timedelta(days=day)
    run = make_run(start=start, distance_m=distance_m, speed_mps=3.2)
    r = client.post("/api/runs", json=body(run), headers=who)
    assert r.status_code == 201, r.text
    return r.json()["run_id"], run.distance_m


@pytest.fixture
def ada(client):
    return sign_up(client, "ada@example.com")


@pytest.fixture
def bob(client):
    return sign_up(client, "bob@example.com")


def shoe_of(client, who) -> dict:
    shoes = client.get("/api/calibration", headers=who).json()["shoes"]
    assert [s["shoe"] for s in shoes] == [SHOE]
    return shoes[0]


def test_three_agreeing_references_calibrate_new_runs_and_keep_raw(client, ada, bob, make_run):
    # Ada's shoes read 5 % long: a 4000 m run measures ~4200 m; she ran 10 laps of the track
    runs = [upload(client, ada, make_run, day, 4200.0) for day in range(4)]
    assert client.get("/api/calibration", headers=ada).json() == {"shoes": []}
    for k, (run_id, _) in enumerate(runs[:3]):
        r = client.put(
            f"/api/runs/{run_id}/reference", json={"kind": "track", "laps": 10 + 0.02 * k}, headers=ada
        )
        assert r.status_code == 204, r.text
        cal = shoe_of(client, ada)
        assert cal["n_agreeing"] == k + 1 and cal["min_agreeing"] == 3
        assert (cal["factor"] == 1.0) == (k < 2)
    factor = shoe_of(client, ada)["factor"]
    assert factor == pytest.approx(4000.0 / 4200.0, rel=0.004)

    # the run stored before keeps its distance (not recomputed); the next one is calibrated, raw kept beside
    before = client.get(f"/api/runs/{runs[3][0]}", headers=ada).json()
    assert before["calibration_factor"] == 1.0 and before["distance_m"] == pytest.approx(runs[3][1])
    new_id, raw = upload(client, ada, make_run, 10, 4200.0)
    new = client.get(f"/api/runs/{new_id}", headers=ada).json()
    assert new["raw_distance_m"] == pytest.approx(raw)
    assert new["distance_m"] == pytest.approx(raw * factor, rel=1e-6)
    assert new["calibration_factor"] == pytest.approx(factor)
    assert new["splits_km"][0]["time_s"] == pytest.approx(1000.0 / (3.2 * factor), rel=0.01)
    marked = client.get(f"/api/runs/{runs[0][0]}", headers=ada).json()["reference"]
    assert marked["kind"] == "track" and marked["reference_m"] == pytest.approx(4000.0)
    assert new["reference"] is None

    # uploading the same run again stores it once
    start = dt.datetime(2026, 3, 11, 7, tzinfo=dt.UTC)
    again = client.post(
        "/api/runs", json=body(make_run(start=start, distance_m=4200.0, speed_mps=3.2)), headers=ada
    )
    assert again.status_code == 200 and again.json()["run_id"] == new_id

    # Bob sees nothing of it, and cannot mark Ada's runs or reset her shoes
    assert client.get("/api/calibration", headers=bob).json() == {"shoes": []}
    r = client.put(
        f"/api/runs/{runs[3][0]}/reference", json={"kind": "course", "distance_m": 4000}, headers=bob
    )
    assert r.status_code == 404
    assert client.delete(f"/api/runs/{runs[0][0]}/reference", headers=bob).status_code == 404
    assert client.delete("/api/calibration", params={"shoe": SHOE}, headers=bob).status_code == 404
    bobs_id, bobs_raw = upload(client, bob, make_run, 10, 4200.0)
    assert client.get(f"/api/runs/{bobs_id}", headers=bob).json()["distance_m"] == pytest.approx(bobs_raw)


def test_a_wrong_reference_is_shown_rejected_and_does_not_move_the_factor(client, ada, make_run):
    runs = [upload(client, ada, make_run, day, 4200.0) for day in range(4)]
    for k, (run_id, _) in enumerate(runs[:3]):
        client.put(
            f"/api/runs/{run_id}/reference", json={"kind": "course", "distance_m": 4000 + k}, headers=ada
        )
    factor = shoe_of(client, ada)["factor"]
    # a mistyped treadmill reading: 4.8 km for the same 4 km
    r = client.put(
        f"/api/runs/{runs[3][0]}/reference", json={"kind": "treadmill", "distance_m": 4800}, headers=ada
    )
    assert r.status_code == 204
    cal = shoe_of(client, ada)
    assert cal["factor"] == factor
    wrong = next(x for x in cal["references"] if x["run_id"] == runs[3][0])
    assert wrong["accepted"] is False and wrong["reason"] == "disagrees"
    # unmarking one of the good ones leaves two agreeing: back to 1.0
    assert client.delete(f"/api/runs/{runs[0][0]}/reference", headers=ada).status_code == 204
    assert shoe_of(client, ada)["factor"] == 1.0
    assert client.delete(f"/api/runs/{runs[0][0]}/reference", headers=ada).status_code == 404


def test_a_later_reference_far_from_the_factor_is_held_until_another_agrees(client, ada, make_run):
    runs = [upload(client, ada, make_run, day, 4200.0) for day in range(5)]
    for run_id, _ in runs[:3]:
        client.put(f"/api/runs/{run_id}/reference", json={"kind": "course", "distance_m": 4000}, headers=ada)
    factor = shoe_of(client, ada)["factor"]
    # 5 % longer than the courses say: a treadmill could be that far off, but it is far from the learned factor
    for run_id, _ in runs[3:]:
        r = client.put(
            f"/api/runs/{run_id}/reference", json={"kind": "treadmill", "distance_m": 4200}, headers=ada
        )
        assert r.status_code == 204
        cal = shoe_of(client, ada)
        verdict = {x["run_id"]: (x["accepted"], x["reason"]) for x in cal["references"]}
        if run_id == runs[3][0]:
            assert cal["factor"] == factor and verdict[run_id] == (False, "unconfirmed")
    # the second treadmill run agrees with the first: both count now
    assert verdict[runs[3][0]] == verdict[runs[4][0]] == (True, None)
    assert cal["n_agreeing"] == 5 and factor < cal["factor"] < 1.0


def test_reset_returns_to_one_for_future_runs(client, ada, make_run):
    runs = [upload(client, ada, make_run, day, 4200.0) for day in range(3)]
    for run_id, _ in runs:
        client.put(f"/api/runs/{run_id}/reference", json={"kind": "track", "distance_m": 4000}, headers=ada)
    calibrated_id, _ = upload(client, ada, make_run, 5, 4200.0)
    assert client.delete("/api/calibration", params={"shoe": SHOE}, headers=ada).status_code == 204
    cal = shoe_of(client, ada)
    assert cal["factor"] == 1.0 and cal["n_agreeing"] == 0
    assert {(x["accepted"], x["reason"]) for x in cal["references"]} == {(False, "reset")}
    new_id, raw = upload(client, ada, make_run, 6, 4200.0)
    assert client.get(f"/api/runs/{new_id}", headers=ada).json()["distance_m"] == pytest.approx(raw)
    old = client.get(f"/api/runs/{calibrated_id}", headers=ada).json()
    assert old["calibration_factor"] < 0.96 and old["raw_distance_m"] > old["distance_m"]
    # marking a run again after the reset counts from then on
    client.put(f"/api/runs/{runs[0][0]}/reference", json={"kind": "track", "laps": 10}, headers=ada)
    assert shoe_of(client, ada)["n_agreeing"] == 1
    assert client.delete("/api/calibration", params={"shoe": "no-such-shoe"}, headers=ada).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "treadmill", "laps": 12.345},
        {"kind": "track"},
        {"kind": "track", "laps": 10, "distance_m": 4000},
        {"kind": "moon", "distance_m": 4000},
        {"kind": "course", "distance_m": 98765432.1},
        {"kind": "course", "distance_m": 4000, "secret": "hunter2"},
        {"kind": "gps", "distance_m": 4000},
    ],
)
def test_bad_references_are_refused_without_echoing_them(client, ada, make_run, payload):
    run_id, _ = upload(client, ada, make_run, 0)
    r = client.put(f"/api/runs/{run_id}/reference", json=payload, headers=ada)
    assert r.status_code == 422
    for v in payload.values():
        assert str(v) not in r.text
    assert client.get("/api/calibration", headers=ada).json() == {"shoes": []}


def test_reference_of_an_unknown_run_is_404(client, ada):
    r = client.put("/api/runs/nope/reference", json={"kind": "track", "laps": 10}, headers=ada)
    assert r.status_code == 404 and "nope" not in r.text


def test_deleting_a_reference_run_relearns_the_factor(client, ada, make_run):
    runs = [upload(client, ada, make_run, day, 4200.0) for day in range(3)]
    for run_id, _ in runs:
        client.put(f"/api/runs/{run_id}/reference", json={"kind": "track", "laps": 10}, headers=ada)
    assert shoe_of(client, ada)["factor"] < 0.96
    assert client.delete(f"/api/runs/{runs[0][0]}", headers=ada).status_code == 204
    cal = shoe_of(client, ada)
    assert cal["factor"] == 1.0 and len(cal["references"]) == 2


def phone_route(duration_s: float, true_m: float, seed: int, accuracy_m: float = 4.0) -> dict:
    """The phone's fixes, one a second, along two straight legs of ``true_m`` in all (noise of ``accuracy_m``)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0)
    d = true_m * t / duration_s
    half = true_m / 2
    x = np.where(d < half, 0.0, d - half) + rng.normal(0, accuracy_m / 2, len(t))
    y = np.minimum(d, half) + rng.normal(0, accuracy_m / 2, len(t))
    lat = 31.2 + np.degrees(y / 6_371_008.8)
    lon = 121.5 + np.degrees(x / (6_371_008.8 * math.cos(math.radians(31.2))))
    return {
        "t_s": t.tolist(),
        "lat_deg": lat.tolist(),
        "lon_deg": lon.tolist(),
        "accuracy_m": [accuracy_m] * len(t),
        "altitude_m": None,
    }


def test_runs_uploaded_with_the_phones_route_calibrate_the_shoes(client, ada, make_run):
    ids = []
    for day in range(3):
        run = make_run(
            start=dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC) + dt.timedelta(days=day), distance_m=4200.0
        )
        r = client.post(
            "/api/runs",
            json={**body(run), "route": phone_route(run.elapsed_time_s, 4000.0, day)},
            headers=ada,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["run_id"])
    cal = shoe_of(client, ada)
    assert [x["kind"] for x in cal["references"]] == ["gps"] * 3
    assert cal["n_agreeing"] == 3 and cal["factor"] == pytest.approx(4000 / 4200, abs=0.006)
    # what the runner says wins over the GPS
    client.put(f"/api/runs/{ids[0]}/reference", json={"kind": "track", "laps": 10}, headers=ada)
    assert client.get(f"/api/runs/{ids[0]}", headers=ada).json()["reference"]["kind"] == "track"
    # a route with a poor fix teaches nothing
    run = make_run(start=dt.datetime(2026, 3, 9, 7, tzinfo=dt.UTC), distance_m=4200.0)
    route = phone_route(run.elapsed_time_s, 4000.0, 9, accuracy_m=40.0)
    r = client.post("/api/runs", json={**body(run), "route": route}, headers=ada)
    assert client.get(f"/api/runs/{r.json()['run_id']}", headers=ada).json()["reference"] is None


def test_a_run_replacing_a_reference_keeps_what_the_runner_gave_it(client, ada, make_run):
    """The shoes' log of an outing takes the place of the phone's live upload of it (``?replaces=``): the title
    and the distance the runner gave the live run go to the logged one, the GPS stretches are learned anew from
    its route, and the shoe's factor is learned from the runs that are left, never from a deleted one."""
    live, logged = [], []
    for day in range(3):
        start = dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC) + dt.timedelta(days=day)
        run = make_run(start=start, distance_m=4200.0)
        route = phone_route(run.elapsed_time_s, 4000.0, day)
        r = client.post("/api/runs", json={**body(run), "route": route}, headers=ada)
        assert r.status_code == 201, r.text
        live.append(r.json()["run_id"])
        logged.append({**body(make_run(start=start, distance_m=4180.0)), "route": route})
    client.put(f"/api/runs/{live[0]}/reference", json={"kind": "track", "laps": 10}, headers=ada)
    client.patch(f"/api/runs/{live[0]}", json={"title": "Track Tuesday"}, headers=ada)
    before = shoe_of(client, ada)["factor"]  # from the live runs (4200 m by the shoes)

    ids = []
    for old, new in zip(live, logged, strict=True):
        r = client.post(f"/api/runs?replaces={old}", json=new, headers=ada)
        assert r.status_code == 201 and r.json()["replaced"], r.text
        assert client.get(f"/api/runs/{old}", headers=ada).status_code == 404
        ids.append(r.json()["run_id"])
    first = client.get(f"/api/runs/{ids[0]}", headers=ada).json()
    assert first["title"] == "Track Tuesday"
    assert first["reference"]["kind"] == "track" and first["reference"]["reference_m"] == 4000.0
    cal = shoe_of(client, ada)
    assert sorted(x["run_id"] for x in cal["references"]) == sorted(ids)
    assert sorted(x["kind"] for x in cal["references"]) == ["gps", "gps", "track"]
    # learned from the logged runs (4180 m by the shoes, the live ones 4200 m) as if only they had come
    bob = sign_up(client, "bob@example.com")
    for i, x in enumerate(logged):
        r = client.post("/api/runs", json=x, headers=bob)
        if i == 0:
            client.put(
                f"/api/runs/{r.json()['run_id']}/reference", json={"kind": "track", "laps": 10}, headers=bob
            )
    assert cal["factor"] == pytest.approx(shoe_of(client, bob)["factor"], abs=1e-6)
    assert abs(cal["factor"] - before) > 1e-3


def test_the_markers_a_runner_pressed_lap_at_are_a_reference_kept_when_the_logged_run_replaces_it(
    client, ada, make_run
):
    """A 10 km race with km markers, Lap pressed at each of the first nine, Finish after the line: the known
    stretch is 9 km, against what the shoes measured to the ninth press (their km reads 5 % long). Without laps
    there is nothing to measure against. The logged run that replaces the live one keeps the reference."""
    start = dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC)
    run = make_run(start=start, distance_m=10500.0, speed_mps=3.15)  # 1050 m by the shoes every 333.3 s
    marks = [333.3 * k for k in range(1, 10)]
    laps = [
        {"t_start_s": a, "t_end_s": b}
        for a, b in zip([0.0, *marks], [*marks, run.elapsed_time_s + 20.0], strict=True)
    ]
    r = client.post("/api/runs", json={**body(run), "laps": laps}, headers=ada)
    live = r.json()["run_id"]
    put = client.put(f"/api/runs/{live}/reference", json={"kind": "markers", "marker_m": 1000}, headers=ada)
    assert put.status_code == 204, put.text
    ref = client.get(f"/api/runs/{live}", headers=ada).json()["reference"]
    assert ref["kind"] == "markers" and ref["reference_m"] == 9000.0
    assert ref["raw_m"] == pytest.approx(9450.0, rel=2e-3) and ref["speed_mps"] == pytest.approx(
        3.15, rel=2e-3
    )

    bare = client.post("/api/runs", json=body(make_run(start=start + dt.timedelta(days=1))), headers=ada)
    r = client.put(
        f"/api/runs/{bare.json()['run_id']}/reference",
        json={"kind": "markers", "marker_m": 1000},
        headers=ada,
    )
    assert r.status_code == 422 and "press Lap at each marker" in r.text
    for wrong in ({"kind": "markers"}, {"kind": "course", "distance_m": 5000, "marker_m": 1000}):
        assert client.put(f"/api/runs/{live}/reference", json=wrong, headers=ada).status_code == 422

    logged = make_run(start=start, distance_m=10480.0, speed_mps=3.15)
    r = client.post(f"/api/runs?replaces={live}", json={**body(logged), "laps": laps}, headers=ada)
    assert r.status_code == 201 and r.json()["replaced"], r.text
    ref = client.get(f"/api/runs/{r.json()['run_id']}", headers=ada).json()["reference"]
    assert ref["kind"] == "markers" and ref["reference_m"] == 9000.0
    # a run with a press fewer in its place: the markers are as far apart as before, so eight of them count
    fewer = [
        *laps[:7],
        {"t_start_s": marks[6], "t_end_s": marks[7]},
        {"t_start_s": marks[7], "t_end_s": 4000.0},
    ]
    again = client.post(
        f"/api/runs?replaces={r.json()['run_id']}", json={**body(logged), "laps": fewer}, headers=ada
    )
    assert again.status_code == 201 and again.json()["replaced"], again.text
    ref = client.get(f"/api/runs/{again.json()['run_id']}", headers=ada).json()["reference"]
    assert ref["kind"] == "markers" and ref["reference_m"] == 8000.0
    assert ref["raw_m"] == pytest.approx(8.0 * 1050.0, rel=2e-3)


def pod_body(day: int, speed_mps: float = 3.15, duration_s: float = 1333.0) -> dict:
    t = np.arange(0.0, duration_s, 1.0)
    return {
        "start_time": (dt.datetime(2026, 4, 1, 7, tzinfo=dt.UTC) + dt.timedelta(days=day)).isoformat(),
        "time_zone": "UTC",
        "sensor": {"name": "Stryd", "manufacturer": None, "model": None, "serial": "S-9"},
        "samples": {
            "t_s": t.tolist(),
            "speed_mps": [speed_mps] * len(t),
            "cadence_spm": None,
            "stride_length_m": None,
            "total_distance_m": None,
        },
    }


def test_a_pods_runs_are_calibrated_under_the_pod(client, ada):
    ids = []
    for day in range(3):
        r = client.post("/api/runs", json=pod_body(day), headers=ada)
        assert r.status_code == 201, r.text
        ids.append(r.json()["run_id"])
        raw = client.get(f"/api/runs/{ids[-1]}", headers=ada).json()["raw_distance_m"]
        assert (
            client.put(
                f"/api/runs/{ids[-1]}/reference",
                json={"kind": "course", "distance_m": raw / 1.04},
                headers=ada,
            ).status_code
            == 204
        )
    (cal,) = client.get("/api/calibration", headers=ada).json()["shoes"]
    assert cal["shoe"] == "pod:S-9" and cal["factor"] == pytest.approx(1 / 1.04, abs=0.002)
    new = client.post("/api/runs", json=pod_body(5), headers=ada).json()["run_id"]
    run = client.get(f"/api/runs/{new}", headers=ada).json()
    assert run["distance_m"] == pytest.approx(run["raw_distance_m"] * cal["factor"], rel=1e-6)
    assert run["calibration_factor"] == pytest.approx(cal["factor"])
