"""A run's page and its strides are written byte for byte as their response models serialise the stored run.

The routes write their number columns with ``server.columns`` instead of building the models; here the models are
built the way the routes used to (every value validated, columns rounded to their resolution as Python floats,
NaN as None) and serialised by pydantic, for runs that exercise every part: a route, a pause, laps, a reference,
one foot with unknown values and walking strides, a pod run without strides.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import zlib
from typing import Any

import numpy as np
import sqlalchemy as sa
from fastapi.testclient import TestClient

from soleware.runs.model import (
    _STRIDE_DTYPE,
    STREAM_RESOLUTION,
    STRIDE_CODES,
    STRIDE_RESOLUTION,
    unpack_stride_columns,
)
from soleware.runs.splits import MILE_M, lap_stats, splits
from soleware.runs.storage.db import RunRow
from soleware.server.routers.calibration import reference_out
from soleware.server.routers.runs import _split
from soleware.server.schemas import (
    EffortOut,
    FootOut,
    LapOut,
    RouteOut,
    RunDetail,
    RunItem,
    StreamsOut,
    StrideColumnsOut,
)

PASSWORD = "correct horse battery"


def _rounded(a: np.ndarray, resolution: float) -> list[float | None]:
    values = np.round(np.asarray(a, np.float64), round(-math.log10(resolution)))
    return [float(x) if np.isfinite(x) else None for x in values]


def expected_page(store: Any, runner_id: str, run_id: str) -> bytes:
    view, ref = store.run_view(runner_id, run_id), store.reference_of(runner_id, run_id)
    run, summary = view.run, view.summary
    page = RunDetail(
        **RunItem.of(summary, view.title).model_dump(),
        raw_distance_m=run.raw_distance_m,
        calibration_factor=run.calibration_factor,
        reference=None if ref is None else reference_out(ref),
        pauses=run.pauses,
        laps=[lap.to_dict() for lap in run.laps],
        lap_splits=[LapOut(**_split(s).model_dump(), name=s.name) for s in lap_stats(run)],
        splits_km=[_split(s) for s in splits(run, unit_m=1000.0)],
        splits_mile=[_split(s) for s in splits(run, unit_m=MILE_M)],
        efforts=[EffortOut(**e.to_dict()) for e in summary.efforts],
        feet=[FootOut(**dataclasses.asdict(f)) for f in view.feet],
        streams=StreamsOut(**{k: _rounded(getattr(run.streams, k), r) for k, r in STREAM_RESOLUTION.items()}),
        route=None if run.route is None else RouteOut.of(run.route),
    )
    return page.model_dump_json().encode()


def expected_strides(store: Any, runner_id: str, run_id: str) -> bytes:
    cols = store.stride_columns(runner_id, run_id)
    return (
        StrideColumnsOut(
            **{f"{k}_names": [str(x) for x in names] for k, names in STRIDE_CODES.items()},
            **{k: np.asarray(cols[k]).tolist() for k in (*STRIDE_CODES, "estimated")},
            **{k: _rounded(cols[k], r) for k, r in STRIDE_RESOLUTION.items()},
        )
        .model_dump_json()
        .encode()
    )


def _stride(side: str, t0: float, t1: float, k: int, *, one_foot: bool) -> dict[str, Any]:
    s: dict[str, Any] = {"side": side, "t_start_s": t0, "t_end_s": t1, "length_m": 1.1 + 0.013 * (k % 7)}
    if one_foot:  # unknown contact now and then, walking strides, strikes behind the heel
        s["gait"] = "walk" if k % 5 == 0 else "run"
        s["contact_time_s"] = None if k % 3 == 0 else 0.21 + 0.001 * (k % 11)
        s["strike_angle_deg"] = -4.5 + (k % 9)
        s["impact_g"] = 2.25 + 0.1 * (k % 4)
        s["strike_type"] = "rearfoot" if k % 2 else None
    else:
        s.update(
            contact_time_s=0.2, flight_time_s=0.11, strike_type="midfoot", speed_mps=3.1, cadence_spm=170.4
        )
    return s


def _upload(client: TestClient, headers: dict[str, str], *, one_foot: bool, route: Any = None) -> str:
    strides, t, k = [], 0.0, 0
    while t < 1500.0:
        if 600.0 <= t < 660.0:  # standing still for a minute: a pause
            t = 660.0
        d = 0.701 + 0.003 * (k % 5)
        for side in ("left",) if one_foot else ("left", "right"):
            off = 0.0 if side == "left" else 0.35
            strides.append(_stride(side, round(t + off, 3), round(t + off + d, 3), k, one_foot=one_foot))
        t, k = t + d, k + 1
    body = {
        "start_time": "2026-05-01T18:00:00+08:00" if one_foot else "2026-05-01T07:00:00+08:00",
        "time_zone": "Asia/Shanghai",
        "shoe_serials": ["SW-L-1"] if one_foot else ["SW-L-1", "SW-R-1"],
        "strides": strides,
        "laps": [
            {"t_start_s": 0.0, "t_end_s": 400.0, "name": "warm-up"},
            {"t_start_s": 400.0, "t_end_s": 1400.0},
        ],
    }
    if route is not None:
        body["route"] = route.to_dict()
    r = client.post("/api/runs", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["run_id"])


def _pod(client: TestClient, headers: dict[str, str]) -> str:
    n = 900
    body = {
        "start_time": "2026-05-02T07:00:00+08:00",
        "time_zone": "Asia/Shanghai",
        "sensor": {"name": "Stryd", "manufacturer": "Stryd Inc.", "model": "NG", "serial": "A1B2"},
        "samples": {
            "t_s": [float(i) for i in range(n)],
            "speed_mps": [3.0 + 0.01 * (i % 13) for i in range(n)],
            "cadence_spm": [None if i % 17 == 0 else 172.0 for i in range(n)],
            "stride_length_m": [1.05] * n,
        },
    }
    r = client.post("/api/runs", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["run_id"])


def test_pages_and_strides_are_what_their_models_serialise_to(client, ada, make_route):
    both = _upload(client, ada, one_foot=False, route=make_route(1500.0))
    one = _upload(client, ada, one_foot=True)
    pod = _pod(client, ada)
    r = client.put(f"/api/runs/{both}/reference", json={"kind": "track", "laps": 12.5}, headers=ada)
    assert r.status_code == 204, r.text
    store, runner_id = client.app.state.store, client.get("/api/me", headers=ada).json()["id"]
    for run_id in (both, one, pod):
        page = client.get(f"/api/runs/{run_id}", headers=ada)
        assert page.status_code == 200 and page.headers["content-type"] == "application/json"
        assert page.content == expected_page(store, runner_id, run_id)
        strides = client.get(f"/api/runs/{run_id}/strides", headers=ada)
        assert strides.status_code == 200 and strides.headers["content-type"] == "application/json"
        assert strides.content == expected_strides(store, runner_id, run_id)
    # what the runs exercise is there (else the comparison above proves less than it says)
    both_page, one_page = (client.get(f"/api/runs/{i}", headers=ada).json() for i in (both, one))
    assert both_page["route"] is not None and both_page["reference"]["kind"] == "track"
    assert both_page["pauses"] and len(both_page["laps"]) == 2 and len(both_page["feet"]) == 2
    assert None in one_page["streams"]["contact_time_s"] and len(one_page["feet"]) == 1
    assert min(client.get(f"/api/runs/{one}/strides", headers=ada).json()["strike_angle_deg"]) < 0
    pod_page = client.get(f"/api/runs/{pod}", headers=ada).json()
    assert pod_page["sensor"]["name"] == "Stryd" and None in pod_page["streams"]["cadence_spm"]
    assert client.get(f"/api/runs/{pod}/strides", headers=ada).json()["t_start_s"] == []


def test_another_runners_run_is_not_found(client, ada):
    run_id = _upload(client, ada, one_foot=True)
    client.post("/api/auth/signup", json={"email": "bob@example.com", "password": PASSWORD})
    token = client.post("/api/auth/signin", json={"email": "bob@example.com", "password": PASSWORD})
    bob = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for path in (f"/api/runs/{run_id}", f"/api/runs/{run_id}/strides", "/api/runs/nope"):
        assert client.get(path, headers=bob).status_code == 404


def test_strides_stored_as_floats_are_written_as_before(client, ada):
    """A run stored before strides were integers (a version 1 blob of float32s) goes through float_column."""
    run_id = _upload(client, ada, one_foot=True)
    store, runner_id = client.app.state.store, client.get("/api/me", headers=ada).json()["id"]
    with store.engine.begin() as conn:
        cols = unpack_stride_columns(
            conn.execute(sa.select(RunRow.strides).where(RunRow.id == run_id)).scalar_one()
        )
        rec = np.zeros(len(cols["side"]), _STRIDE_DTYPE)
        rec["strike"] = cols["strike"]
        for name in _STRIDE_DTYPE.names or ():
            if name != "strike":
                rec[name] = cols[name] + (0.0 if name in STRIDE_CODES else 1e-4 / 3)  # off the resolution
        v1 = b"SWSR" + struct.pack("<I", len(rec)) + zlib.compress(rec.tobytes())
        conn.execute(sa.update(RunRow).where(RunRow.id == run_id).values(strides=v1))
    assert store.stride_units(runner_id, run_id) is None
    strides = client.get(f"/api/runs/{run_id}/strides", headers=ada)
    assert strides.status_code == 200
    assert strides.content == expected_strides(store, runner_id, run_id)
