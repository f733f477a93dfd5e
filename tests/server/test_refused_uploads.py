"""Refused uploads on the API: kept as sent, listed, sent again (validated anew), discarded; per runner."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


def sign_up(client: TestClient, email: str) -> dict[str, str]:
    assert client.post("/api/auth/signup", json={"email": email, "password": PASSWORD}).status_code == 201
    token = client.post("/api/auth/signin", json={"email": email, "password": PASSWORD}).json()[
        "access_token"
    ]
    return {"Authorization": f"Bearer {token}"}


def run_body(*, bad_stride: int | None = None, strides: int = 60) -> dict:
    """A run of the left foot as the gateway uploads it; ``bad_stride`` is 7.5 m long (more than anyone's)."""
    return {
        "start_time": "2026-11-01T07:00:00+00:00",
        "time_zone": "UTC",
        "shoe_serials": ["SW-L-0001"],
        "strides": [
            {
                "side": "left",
                "t_start_s": 0.7 * i,
                "t_end_s": 0.7 * (i + 1),
                "length_m": 7.5 if i == bad_stride else 2.1,
                "gait": "run",
            }
            for i in range(strides)
        ],
    }


def test_a_refused_run_is_kept_listed_and_stored_when_sent_again(client):
    ada = sign_up(client, "ada@example.com")
    bad = run_body(bad_stride=31)
    refused = client.post("/api/runs", json=bad, headers=ada)
    assert refused.status_code == 422
    reason = "422 strides.31.length_m: Input should be less than or equal to 6 (got 7.5)"

    r = client.post(
        "/api/refused-uploads", json={"key": "SW-L-0001:3", "body": bad, "reason": reason}, headers=ada
    )
    assert r.status_code == 201, r.text
    kept = r.json()
    assert kept["reason"] == reason and kept["run_id"] is None
    assert kept["strides"] == 60 and kept["shoe_serials"] == ["SW-L-0001"]
    assert kept["start_time"] == "2026-11-01T07:00:00+00:00"
    assert kept["distance_m"] == pytest.approx(59 * 2.1 + 7.5)
    again = client.post(
        "/api/refused-uploads", json={"key": "SW-L-0001:3", "body": bad, "reason": "x"}, headers=ada
    )
    assert again.status_code == 200 and again.json()["id"] == kept["id"] and again.json()["reason"] == reason

    # Sent again while the cause stands: refused again, with today's reason, and still listed.
    r = client.post(f"/api/refused-uploads/{kept['id']}/resend", headers=ada)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "strides", 31, "length_m"]
    listed = client.get("/api/refused-uploads", headers=ada).json()["refused"]
    assert [u["id"] for u in listed] == [kept["id"]]
    assert listed[0]["reason"] == reason and listed[0]["refused_at"] >= kept["refused_at"]
    assert client.get("/api/runs", headers=ada).json()["runs"] == []

    # A refusal of a body today's service accepts (the check was relaxed, the bug fixed): stored when sent again.
    good = run_body()
    older = client.post(
        "/api/refused-uploads",
        json={"key": "SW-L-0001:4", "body": good, "reason": "422 an older check"},
        headers=ada,
    ).json()
    r = client.post(f"/api/refused-uploads/{older['id']}/resend", headers=ada)
    assert r.status_code == 201, r.text
    run_id = r.json()["run_id"]
    assert [x["id"] for x in client.get("/api/runs", headers=ada).json()["runs"]] == [run_id]
    assert [u["id"] for u in client.get("/api/refused-uploads", headers=ada).json()["refused"]] == [
        kept["id"]
    ]
    everything = client.get("/api/refused-uploads?include_stored=true", headers=ada).json()["refused"]
    assert {u["id"]: u["run_id"] for u in everything} == {kept["id"]: None, older["id"]: run_id}
    r = client.post(f"/api/refused-uploads/{older['id']}/resend", headers=ada)
    assert r.status_code == 200 and r.json()["run_id"] == run_id and not r.json()["created"]

    assert client.delete(f"/api/refused-uploads/{kept['id']}", headers=ada).status_code == 204
    assert client.get("/api/refused-uploads", headers=ada).json()["refused"] == []


def test_a_run_that_replaces_another_is_refused_without_taking_it(client):
    """The shoes' log of an outing is sent in place of the phone's live upload of it (``?replaces=``): refused,
    the live run stays (before, the phone deleted it first); kept as refused with what it replaces and sent
    again, it takes the live run's place."""
    ada = sign_up(client, "ada@example.com")
    live = client.post("/api/runs", json=run_body(strides=50), headers=ada)
    assert live.status_code == 201 and not live.json()["replaced"]
    live_id = live.json()["run_id"]
    bad = run_body(bad_stride=31)
    r = client.post(f"/api/runs?replaces={live_id}", json=bad, headers=ada)
    assert r.status_code == 422
    assert [x["id"] for x in client.get("/api/runs", headers=ada).json()["runs"]] == [live_id]

    # kept as refused by an older check, with what it was to replace: sent again, it takes that run's place
    logged = run_body()
    kept = client.post(
        "/api/refused-uploads",
        json={"key": "log|SW-L-0001:3", "body": logged, "reason": "422 an older check", "replaces": live_id},
        headers=ada,
    ).json()
    assert kept["replaces"] == live_id
    r = client.post(f"/api/refused-uploads/{kept['id']}/resend", headers=ada)
    assert r.status_code == 201, r.text
    assert r.json()["replaced"]
    assert [x["id"] for x in client.get("/api/runs", headers=ada).json()["runs"]] == [r.json()["run_id"]]
    assert client.get(f"/api/runs/{live_id}", headers=ada).status_code == 404

    # a replacement sent again after its answer was lost: the same run, nothing else replaced
    again = client.post(f"/api/runs?replaces={live_id}", json=logged, headers=ada)
    assert again.status_code == 200 and again.json()["run_id"] == r.json()["run_id"]
    assert not again.json()["replaced"]


def test_refused_uploads_are_the_runners_own(client):
    ada, bob = sign_up(client, "ada@example.com"), sign_up(client, "bob@example.com")
    kept = client.post(
        "/api/refused-uploads",
        json={"key": "k", "body": run_body(bad_stride=0), "reason": "422 …"},
        headers=ada,
    ).json()
    assert client.get("/api/refused-uploads", headers=bob).json()["refused"] == []
    assert client.post(f"/api/refused-uploads/{kept['id']}/resend", headers=bob).status_code == 404
    assert client.delete(f"/api/refused-uploads/{kept['id']}", headers=bob).status_code == 404
    assert client.get("/api/refused-uploads").status_code == 401
    # The same key from another runner is theirs, not Ada's.
    r = client.post("/api/refused-uploads", json={"key": "k", "body": {}, "reason": "422 …"}, headers=bob)
    assert r.status_code == 201 and r.json()["id"] != kept["id"] and r.json()["strides"] == 0


def test_a_body_that_is_no_run_at_all_is_refused_again_not_an_error(client):
    ada = sign_up(client, "ada@example.com")
    kept = client.post(
        "/api/refused-uploads",
        json={"key": "k", "body": {"strides": "nonsense"}, "reason": "422 …"},
        headers=ada,
    ).json()
    r = client.post(f"/api/refused-uploads/{kept['id']}/resend", headers=ada)
    assert r.status_code == 422
    assert client.get("/api/refused-uploads", headers=ada).json()["refused"][0]["reason"].startswith("422 ")


def test_a_refused_pod_run_is_listed_with_its_sensor_and_samples(client):
    ada = sign_up(client, "ada@example.com")
    n = 40
    body = {
        "start_time": "2026-11-01T07:00:00+00:00",
        "time_zone": "UTC",
        "sensor": {"name": "Stryd", "manufacturer": None, "model": None, "serial": None},
        "samples": {"t_s": [float(i) for i in range(n)], "speed_mps": [-1.0] * n},
    }
    assert client.post("/api/runs", json=body, headers=ada).status_code == 422
    r = client.post(
        "/api/refused-uploads",
        json={"key": "pod:Stryd:1", "body": body, "reason": "422 negative speed"},
        headers=ada,
    )
    assert r.status_code == 201, r.text
    kept = r.json()
    assert (kept["sensor"], kept["samples"], kept["strides"], kept["distance_m"]) == ("Stryd", n, 0, None)
