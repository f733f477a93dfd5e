"""The phone's route on the HTTP API: uploaded with a run, given back with it, bad fixes refused with a 422."""

from __future__ import annotations

import json
import math

import pytest


def _body(run, route=None) -> dict:
    body = {
        "start_time": run.start_time.isoformat(),
        "time_zone": run.time_zone,
        "shoe_serials": list(run.shoe_serials),
        "strides": [
            {"side": s.side, "t_start_s": s.t_start_s, "t_end_s": s.t_end_s, "length_m": s.length_m}
            for s in run.strides
        ],
    }
    if route is not None:
        body["route"] = route.to_dict()
    return body


def test_a_run_uploaded_with_its_route_gives_it_back(client, ada, make_run, make_route):
    run = make_run(distance_m=1500.0)
    route = make_route(run.elapsed_time_s)
    r = client.post("/api/runs", json=_body(run, route), headers=ada)
    assert r.status_code == 201, r.text
    run_id = r.json()["run_id"]
    again = client.post("/api/runs", json=_body(run, route), headers=ada)
    assert again.status_code == 200 and again.json()["run_id"] == run_id  # idempotent, route and all
    got = client.get(f"/api/runs/{run_id}", headers=ada).json()["route"]
    assert len(got["t_s"]) == len(route)
    for name, res in (
        ("t_s", 1e-3),
        ("lat_deg", 1e-7),
        ("lon_deg", 1e-7),
        ("accuracy_m", 0.1),
        ("altitude_m", 0.1),
    ):
        sent = getattr(route, name)
        assert max(abs(a - b) for a, b in zip(got[name], sent, strict=True)) <= 0.5 * res + 1e-9, name


def test_a_run_without_a_route_has_none_and_altitude_may_be_left_out(client, ada, make_run, make_route):
    plain = client.post("/api/runs", json=_body(make_run()), headers=ada).json()["run_id"]
    assert client.get(f"/api/runs/{plain}", headers=ada).json()["route"] is None
    run = make_run(start="2026-03-03T07:00:00+00:00")
    body = _body(run, make_route(run.elapsed_time_s, altitude=False))
    del body["route"]["altitude_m"]
    rid = client.post("/api/runs", json=body, headers=ada).json()["run_id"]
    got = client.get(f"/api/runs/{rid}", headers=ada).json()["route"]
    assert got["altitude_m"] is None and len(got["accuracy_m"]) == len(got["t_s"]) > 100
    # the runner allowed positions but the phone never had a fix: a run without a route
    run = make_run(start="2026-03-04T07:00:00+00:00")
    body = _body(run)
    body["route"] = {"t_s": [], "lat_deg": [], "lon_deg": [], "accuracy_m": []}
    rid = client.post("/api/runs", json=body, headers=ada).json()["run_id"]
    assert client.get(f"/api/runs/{rid}", headers=ada).json()["route"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["lat_deg"].__setitem__(7, 91.0), "lat_deg must lie in [-90, 90]"),
        (lambda r: r["lon_deg"].__setitem__(3, -180.5), "lon_deg must lie in [-180, 180]"),
        (lambda r: r["t_s"].__setitem__(5, 1.0), "t_s must never decrease: fix 5"),
        (lambda r: r["accuracy_m"].__setitem__(0, -3.0), "accuracy_m must be >= 0"),
        (lambda r: r["accuracy_m"].pop(), "route accuracy_m has shape"),
    ],
)
def test_bad_route_data_is_a_422_at_the_route(client, ada, make_run, make_route, change, message):
    run = make_run(distance_m=500.0)
    body = _body(run, make_route(run.elapsed_time_s))
    change(body["route"])
    r = client.post("/api/runs", json=body, headers=ada)
    assert r.status_code == 422, r.text
    (err,) = r.json()["detail"]
    assert err["loc"] == ["body", "route"] and message in err["msg"]
    assert client.get("/api/runs", headers=ada).json()["runs"] == []


def test_a_route_missing_a_column_or_with_nan_is_refused(client, ada, make_run, make_route):
    run = make_run(distance_m=500.0)
    body = _body(run, make_route(run.elapsed_time_s))
    del body["route"]["accuracy_m"]
    r = client.post("/api/runs", json=body, headers=ada)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "route", "accuracy_m"]
    body = _body(run, make_route(run.elapsed_time_s))
    body["route"]["lat_deg"][2] = math.nan  # NaN is not JSON: the body is refused as such
    text = json.dumps(body)
    r = client.post("/api/runs", content=text, headers={**ada, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"


def test_gpx_export_is_the_route_and_a_run_without_one_has_none(client, ada, make_run, make_route):
    run = make_run(distance_m=1500.0)
    rid = client.post("/api/runs", json=_body(run, make_route(run.elapsed_time_s)), headers=ada).json()[
        "run_id"
    ]
    r = client.get(f"/api/runs/{rid}/export?format=gpx", headers=ada)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/gpx+xml")
    assert r.content.count(b"<trkpt ") == len(make_route(run.elapsed_time_s))
    plain = client.post("/api/runs", json=_body(make_run(start="2026-03-04T07:00:00+00:00")), headers=ada)
    r = client.get(f"/api/runs/{plain.json()['run_id']}/export?format=gpx", headers=ada)
    assert r.status_code == 422 and "run has no route" in r.json()["detail"][0]["msg"]
