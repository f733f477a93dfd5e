"""``POST /api/runs`` with a third-party pod's samples: stored, labelled, idempotent; bad bodies are 422."""

from __future__ import annotations

import json

import pytest

from soleware.server.schemas import MAX_POD_SAMPLES

N = 1801  # 30 min at 1 Hz


def pod_body(*, with_total: bool = True) -> dict:
    t = [float(i) for i in range(N)]
    return {
        "start_time": "2026-11-01T07:00:00+01:00",
        "time_zone": "Europe/Paris",
        "title": "treadmill",
        "sensor": {"name": "Stryd", "manufacturer": "Stryd Inc.", "model": "NG", "serial": "A1B2"},
        "samples": {
            "t_s": t,
            "speed_mps": [3.0] * N,
            "cadence_spm": [172.0] * N,
            "stride_length_m": [1.05] * N,
            # 3.2 m/s by the sensor's own distance counter, which wraps at 2**32 dm after 100 s
            "total_distance_m": [round((2**32 - 3200 + 32 * i) % 2**32) / 10 for i in range(N)]
            if with_total
            else None,
        },
    }


def test_a_pod_run_is_stored_with_its_sensor_and_no_form(client, ada):
    r = client.post("/api/runs", json=pod_body(), headers=ada)
    assert r.status_code == 201, r.text
    rid = r.json()["run_id"]
    run = client.get(f"/api/runs/{rid}", headers=ada).json()
    assert run["source"] == "pod" and run["feet"] == [] and run["shoe_serials"] == []
    assert run["distance_m"] == pytest.approx(3.2 * (N - 1), abs=0.2)
    assert run["elapsed_time_s"] == N - 1 and run["avg_cadence_spm"] == pytest.approx(172)
    assert run["sensor"] == {
        "name": "Stryd",
        "manufacturer": "Stryd Inc.",
        "model": "NG",
        "serial": "A1B2",
        "label": "Stryd Stryd Inc. NG #A1B2",
    }
    assert run["streams"]["stride_length_m"] == [pytest.approx(1.05, abs=1e-3)] * N
    assert run["streams"]["contact_time_s"] == [None] * N
    listed = client.get("/api/runs?source=pod", headers=ada).json()["runs"]
    assert [x["id"] for x in listed] == [rid] and listed[0]["sensor"]["name"] == "Stryd"
    assert client.get("/api/runs?source=shoe", headers=ada).json()["runs"] == []


def test_without_the_total_the_distance_is_integrated_speed(client, ada):
    r = client.post("/api/runs", json=pod_body(with_total=False), headers=ada)
    run = client.get(f"/api/runs/{r.json()['run_id']}", headers=ada).json()
    assert run["distance_m"] == pytest.approx(3.0 * (N - 1))


def test_the_same_pod_upload_twice_is_one_run(client, ada):
    first = client.post("/api/runs", json=pod_body(), headers=ada)
    again = client.post("/api/runs", json=pod_body(), headers=ada)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["run_id"] == first.json()["run_id"] and not again.json()["created"]
    assert len(client.get("/api/runs", headers=ada).json()["runs"]) == 1


def _stride() -> dict:
    return {"side": "left", "t_start_s": 0.0, "t_end_s": 0.7, "length_m": 2.2}


def _set(path: str, value: object):
    def mutate(body: dict) -> None:
        *parents, last = path.split(".")
        target = body
        for p in parents:
            target = target[p]
        target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.update(strides=[_stride()]), "exactly one of them"),
        (lambda b: (b.pop("samples"), b.pop("sensor")), "exactly one of them"),
        (lambda b: b.pop("sensor"), "sensor goes with, and only with, samples"),
        (lambda b: b.pop("samples"), "exactly one of them"),
        (lambda b: b["samples"]["speed_mps"].pop(), "speed_mps has 1800 values, t_s has 1801"),
        (lambda b: b["samples"]["total_distance_m"].append(1.0), "total_distance_m has 1802 values"),
        (_set("samples.speed_mps", [-1.0] * N), "greater than or equal to 0"),
        (_set("samples.cadence_spm", [-3.0] * N), "greater than or equal to 0"),
        (lambda b: b["samples"]["t_s"].__setitem__(5, 4.0), "t_s must increase: t_s[5] = 4.0 after 4.0"),
        (lambda b: b["samples"]["t_s"].__setitem__(5, 3.0), "t_s must increase: t_s[5] = 3.0 after 4.0"),
        (_set("samples.t_s", [0.0]), "at least 2 items"),
        (_set("samples.t_s", [float(i) for i in range(MAX_POD_SAMPLES + 1)]), "at most 100000 items"),
        (_set("samples.speed_mps", [None] * N), "valid number"),
        (_set("sensor.name", ""), "at least 1 character"),
        (_set("samples.colour", []), "Extra inputs are not permitted"),
    ],
)
def test_bad_pod_bodies_get_a_422_saying_why_and_store_nothing(client, ada, mutate, message):
    body = pod_body()
    mutate(body)
    r = client.post("/api/runs", json=body, headers=ada)
    assert r.status_code == 422, r.text
    assert message in r.text
    assert client.get("/api/runs", headers=ada).json()["runs"] == []


def test_nan_in_a_column_is_not_json_and_is_refused(client, ada):
    text = json.dumps(pod_body()).replace('"speed_mps": [3.0,', '"speed_mps": [NaN,', 1)
    r = client.post("/api/runs", content=text, headers={**ada, "Content-Type": "application/json"})
    assert r.status_code == 422 and "json_invalid" in r.text


def test_a_pod_run_exports_to_fit_and_tcx_and_its_export_is_recognised(client, ada):
    rid = client.post("/api/runs", json=pod_body(), headers=ada).json()["run_id"]
    files = []
    for fmt in ("fit", "tcx"):
        r = client.get(f"/api/runs/{rid}/export?format={fmt}", headers=ada)
        assert r.status_code == 200, r.text
        files.append(("files", (f"pod.{fmt}", r.content, "application/octet-stream")))
    again = client.post("/api/runs/import", files=files, headers=ada).json()
    assert (again["imported"], again["duplicates"]) == (0, 2), "the same run, not a new one"


def test_a_pod_run_keeps_the_phones_route(client, ada):
    body = pod_body()
    fixes = 31
    body["route"] = {
        "t_s": [60.0 * k for k in range(fixes)],
        "lat_deg": [48.85 + 0.0001 * k for k in range(fixes)],
        "lon_deg": [2.35] * fixes,
        "accuracy_m": [5.0] * fixes,
    }
    rid = client.post("/api/runs", json=body, headers=ada).json()["run_id"]
    run = client.get(f"/api/runs/{rid}", headers=ada).json()
    assert run["source"] == "pod" and run["sensor"]["name"] == "Stryd"
    assert run["route"]["lat_deg"] == pytest.approx(body["route"]["lat_deg"], abs=1e-6)
    assert run["route"]["t_s"] == pytest.approx(body["route"]["t_s"])
