"""Runs entered by hand: they count where a runner expects (totals, shoe mileage) and invent nothing (best
efforts, splits, calibration); a measured run of the same outing takes their place."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture
def lin(sign_up):
    return sign_up("lin@example.com", time_zone="Asia/Shanghai")


def _yesterday() -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(microsecond=0)


def entry(start: dt.datetime, distance_m: float = 10_000.0, duration_s: float = 3000.0, **extra) -> dict:
    return {
        "start_time": start.isoformat(),
        "time_zone": "Asia/Shanghai",
        "distance_m": distance_m,
        "duration_s": duration_s,
        **extra,
    }


def test_a_run_entered_by_hand_counts_in_the_totals_and_sets_no_records(client, lin):
    start = _yesterday()
    r = client.post("/api/shoes", json={"serial": "SW-L-0001", "name": "Daily"}, headers=lin)
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/runs/manual",
        json=entry(start, title="Treadmill, shoes at home", shoe_serials=["SW-L-0001"]),
        headers=lin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["records"] == []
    run = client.get(f"/api/runs/{r.json()['run_id']}", headers=lin).json()
    assert run["source"] == "manual" and run["title"] == "Treadmill, shoes at home"
    assert dt.datetime.fromisoformat(run["start_time"]) == start
    assert (run["distance_m"], run["moving_time_s"], run["elapsed_time_s"]) == (10_000.0, 3000.0, 3000.0)
    # a straight line between its ends is no measurement: no best efforts, splits or cadence
    assert run["efforts"] == [] and run["splits_km"] == [] and run["splits_mile"] == []
    assert run["avg_cadence_spm"] is None and run["feet"] == []
    assert client.get("/api/records", headers=lin).json() == []
    week = client.get("/api/progress", params={"period": "week", "last": 2}, headers=lin).json()["totals"]
    assert sum(p["distance_m"] for p in week) == pytest.approx(10_000.0)
    assert sum(p["runs"] for p in week) == 1
    (shoe,) = client.get("/api/shoes", headers=lin).json()
    assert (shoe["distance_m"], shoe["runs"]) == (pytest.approx(10_000.0), 1)
    # the same entry sent twice (a double tap) is one run
    again = client.post("/api/runs/manual", json=entry(start, shoe_serials=["SW-L-0001"]), headers=lin)
    assert again.status_code == 200 and again.json()["run_id"] == r.json()["run_id"]
    # it calibrates nothing: the runner typed its distance
    ref = client.put(
        f"/api/runs/{r.json()['run_id']}/reference",
        json={"kind": "treadmill", "distance_m": 10_000.0},
        headers=lin,
    )
    assert ref.status_code == 422 and "measured by the shoes" in ref.text


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"distance_m": 42_195_000.0}, "distance_m"),  # a unit slip: 42,195 km
        ({"distance_m": 50_000.0, "duration_s": 1500.0}, "faster than anyone runs"),
        ({"distance_m": 0.0}, "distance_m"),
        ({"duration_s": -60.0}, "duration_s"),
        ({"duration_s": 8 * 86400.0}, "duration_s"),
        ({"start_time": "2026-12-01T07:00:00"}, "time zone offset"),
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"start_time": "0001-01-01T05:00:00+00:00"}, "year 1"),
        ({"start_time": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()}, "in the future"),
    ],
)
def test_an_entry_no_run_could_be_is_refused_saying_why(client, lin, change, says):
    r = client.post("/api/runs/manual", json={**entry(_yesterday()), **change}, headers=lin)
    assert r.status_code == 422, r.text
    assert says in r.text
    assert client.get("/api/runs", headers=lin).json()["runs"] == []


def test_the_shoes_run_of_an_outing_entered_by_hand_takes_its_place(client, lin, make_run):
    """The runner entered the run by hand, then the shoes synced after all: the measured run replaces the entry
    (keeping its title), and an entry of a run the shoes have is a duplicate."""
    start = _yesterday()
    typed = client.post(
        "/api/runs/manual", json=entry(start, 5000.0, 1500.0, title="Park run"), headers=lin
    ).json()["run_id"]
    shoes = make_run(start=start + dt.timedelta(seconds=40), distance_m=5080.0, speed_mps=3.3)
    body = {
        "start_time": shoes.start_time.isoformat(),
        "time_zone": shoes.time_zone,
        "strides": [
            {"side": x.side, "t_start_s": x.t_start_s, "t_end_s": x.t_end_s, "length_m": x.length_m}
            for x in shoes.strides
        ],
    }
    r = client.post("/api/runs", json=body, headers=lin)
    assert r.status_code == 201, r.text
    assert r.json()["replaced"] and r.json()["records"], r.json()
    (only,) = client.get("/api/runs", headers=lin).json()["runs"]
    assert only["id"] == r.json()["run_id"] != typed
    assert only["source"] == "shoe" and only["title"] == "Park run"
    assert client.get(f"/api/runs/{typed}", headers=lin).status_code == 404
    week = client.get("/api/progress", params={"period": "week", "last": 2}, headers=lin).json()["totals"]
    assert sum(p["runs"] for p in week) == 1

    late = client.post("/api/runs/manual", json=entry(start, 5000.0, 1500.0), headers=lin)
    assert late.status_code == 200 and late.json()["run_id"] == only["id"]
    assert len(client.get("/api/runs", headers=lin).json()["runs"]) == 1


def test_a_run_entered_by_hand_exports_as_what_it_is(client, lin, sign_up):
    run_id = client.post("/api/runs/manual", json=entry(_yesterday()), headers=lin).json()["run_id"]
    for fmt in ("fit", "tcx"):
        r = client.get(f"/api/runs/{run_id}/export", params={"format": fmt}, headers=lin)
        assert r.status_code == 200, (fmt, r.text)
        other = sign_up(f"other-{fmt}@example.com")
        imported = client.post(
            "/api/runs/import",
            files={"files": (f"typed.{fmt}", r.content, "application/octet-stream")},
            headers=other,
        )
        assert imported.status_code == 200 and imported.json()["imported"] == 1, imported.text
        back = client.get(f"/api/runs/{imported.json()['files'][0]['run_id']}", headers=other).json()
        assert back["distance_m"] == pytest.approx(10_000.0, abs=1.0)
        assert back["moving_time_s"] == pytest.approx(3000.0, abs=1.0)
    gpx = client.get(f"/api/runs/{run_id}/export", params={"format": "gpx"}, headers=lin)
    assert gpx.status_code == 422 and "route" in gpx.text


def test_a_run_entered_by_hand_is_corrected_in_place_and_a_measured_one_never(client, lin, make_run):
    start = _yesterday()
    typed = client.post("/api/runs/manual", json=entry(start, 8500.0, 2700.0, title="Gym"), headers=lin)
    fixed = client.post(
        "/api/runs/manual",
        params={"replaces": typed.json()["run_id"]},
        json=entry(start, 5800.0),
        headers=lin,
    )
    assert fixed.status_code == 201 and fixed.json()["replaced"], fixed.text
    (only,) = client.get("/api/runs", headers=lin).json()["runs"]
    assert (only["id"], only["distance_m"], only["title"]) == (fixed.json()["run_id"], 5800.0, "Gym")

    shoes = make_run(start=start - dt.timedelta(days=1), distance_m=3000.0)
    body = {
        "start_time": shoes.start_time.isoformat(),
        "strides": [
            {"side": x.side, "t_start_s": x.t_start_s, "t_end_s": x.t_end_s, "length_m": x.length_m}
            for x in shoes.strides
        ],
    }
    measured = client.post("/api/runs", json=body, headers=lin).json()["run_id"]
    refused = client.post(
        "/api/runs/manual", params={"replaces": measured}, json=entry(start, 4000.0), headers=lin
    )
    assert refused.status_code == 422 and "delete it instead" in refused.text
    assert client.get(f"/api/runs/{measured}", headers=lin).status_code == 200
    gone = client.post(
        "/api/runs/manual",
        params={"replaces": typed.json()["run_id"]},
        json=entry(start, 4000.0),
        headers=lin,
    )
    assert gone.status_code == 201 and not gone.json()["replaced"]
