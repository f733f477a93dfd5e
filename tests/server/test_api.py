"""The HTTP API on SQLite and PostgreSQL: accounts, uploads, isolation between runners, bad input, live."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from fastapi.testclient import TestClient

from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import load_recording, sample_recording_path
from soleware.server.app import create_app
from soleware.server.config import Settings

PASSWORD = "correct horse battery"


@pytest.fixture
def client(database_url):
    app = create_app(Settings(database_url=database_url, max_run_upload_bytes=2_000_000))
    with TestClient(app) as c:
        yield c


def sign_up(client: TestClient, email: str, **extra) -> dict[str, str]:
    r = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD, **extra})
    assert r.status_code == 201, r.text
    r = client.post("/api/auth/signin", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def upload_body(run) -> dict:
    return {
        "start_time": run.start_time.isoformat(),
        "time_zone": run.time_zone,
        "shoe_serials": list(run.shoe_serials),
        "strides": [
            {
                "side": s.side,
                "t_start_s": s.t_start_s,
                "t_end_s": s.t_end_s,
                "length_m": s.length_m,
                "contact_time_s": s.contact_time_s,
                "strike_type": s.strike_type.value if s.strike_type else None,
            }
            for s in run.strides
        ],
    }


@pytest.fixture
def ada(client):
    return sign_up(client, "ada@example.com", display_name="Ada", time_zone="Europe/London")


def test_the_laps_a_runner_marked_come_back_as_splits_cut_to_the_run(client, ada, make_run):
    """Laps go up with the run (the phone's last one ends at Finish, after the last stride) and the run's page
    gives each one's distance, moving time, pace and cadence, the last cut where the run ends."""
    run = make_run(distance_m=3000, speed_mps=3.0)  # 1000 s
    end = run.elapsed_time_s
    laps = [
        {"t_start_s": 0.0, "t_end_s": 400.0, "name": ""},
        {"t_start_s": 400.0, "t_end_s": 700.0, "name": "tempo"},
        {"t_start_s": 700.0, "t_end_s": end + 25.0, "name": ""},
    ]
    r = client.post("/api/runs", json={**upload_body(run), "laps": laps}, headers=ada)
    assert r.status_code == 201, r.text
    detail = client.get(f"/api/runs/{r.json()['run_id']}", headers=ada).json()
    assert detail["laps"][-1]["t_end_s"] == pytest.approx(end)
    got = detail["lap_splits"]
    assert [lap["name"] for lap in got] == ["", "tempo", ""] and [lap["index"] for lap in got] == [0, 1, 2]
    for lap, (a, b) in zip(got, ((0.0, 400.0), (400.0, 700.0), (700.0, end)), strict=True):
        assert lap["time_s"] == pytest.approx(b - a, abs=1.0)
        assert lap["distance_m"] == pytest.approx(3.0 * (b - a), rel=0.01)
        assert lap["pace_s_per_km"] == pytest.approx(1000.0 / 3.0, rel=0.01)
        assert lap["avg_cadence_spm"] > 0
    assert sum(lap["distance_m"] for lap in got) == pytest.approx(detail["distance_m"], rel=1e-3)
    bare = client.post("/api/runs", json=upload_body(make_run(distance_m=2000, speed_mps=3.0)), headers=ada)
    assert client.get(f"/api/runs/{bare.json()['run_id']}", headers=ada).json()["lap_splits"] == []


def test_sign_up_in_out(client, ada):
    me = client.get("/api/me", headers=ada).json()
    assert me["email"] == "ada@example.com" and me["display_name"] == "Ada"
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    dup = client.post("/api/auth/signup", json={"email": "ADA@example.com", "password": PASSWORD})
    assert dup.status_code == 409 and "already exists" in dup.json()["detail"]
    assert client.post("/api/auth/signout", headers=ada).status_code == 204
    assert client.get("/api/me", headers=ada).status_code == 401


def test_sign_in_is_rate_limited(client, ada):
    for _ in range(5):
        assert (
            client.post(
                "/api/auth/signin", json={"email": "ada@example.com", "password": "nope!"}
            ).status_code
            == 401
        )
    r = client.post("/api/auth/signin", json={"email": "ada@example.com", "password": PASSWORD})
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_upload_list_detail_delete(client, ada, make_run):
    run = make_run(distance_m=5200, speed_mps=3.2)
    r = client.post("/api/runs", json=upload_body(run), headers=ada)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["created"] and "first_run" in {a["achievement_id"] for a in body["awards"]}
    assert {x["distance_m"] for x in body["records"]} >= {1000.0, 5000.0}
    again = client.post("/api/runs", json=upload_body(run), headers=ada)
    assert (
        again.status_code == 200 and again.json()["run_id"] == body["run_id"] and not again.json()["created"]
    )

    runs = client.get("/api/runs", headers=ada).json()
    assert [x["id"] for x in runs["runs"]] == [body["run_id"]] and runs["next_cursor"] is None
    detail = client.get(f"/api/runs/{body['run_id']}", headers=ada).json()
    assert detail["distance_m"] == pytest.approx(run.distance_m, rel=1e-6)
    assert len(detail["splits_km"]) == 6 and detail["splits_km"][0]["pace_s_per_km"] == pytest.approx(
        1000 / 3.2, rel=0.01
    )
    assert len(detail["streams"]["t_s"]) == len(run.streams)
    assert {f["side"] for f in detail["feet"]} == {"left", "right"}
    assert detail["feet"][0]["strike_types"] == {"midfoot": detail["feet"][0]["strides"]}
    # streams are sent at their stored resolution, not as float32 noise (1 mm, not 0.0010000000474974513)
    assert all(round(x, 3) == x for x in detail["streams"]["stride_length_m"] if x is not None)

    cols = client.get(f"/api/runs/{body['run_id']}/strides", headers=ada).json()
    ordered = sorted(run.strides, key=lambda x: (x.t_start_s, x.side))
    assert len(cols["t_end_s"]) == len(run.strides) == len(cols["contact_time_s"]) == len(cols["side"])
    by_stride = sorted(
        zip(cols["t_start_s"], [cols["side_names"][k] for k in cols["side"]], cols["length_m"], strict=True)
    )
    assert [(round(x.t_start_s, 3), str(x.side)) for x in ordered] == [(t, side) for t, side, _ in by_stride]
    assert [length for *_, length in by_stride] == pytest.approx([x.length_m for x in ordered], abs=1e-3)
    assert {cols["strike_names"][k] for k in cols["strike"]} == {"midfoot"}
    assert client.get(f"/api/runs/{body['run_id']}/strides").status_code == 401

    assert (
        client.patch(f"/api/runs/{body['run_id']}", json={"title": "Tempo"}, headers=ada).status_code == 204
    )
    assert client.get(f"/api/runs/{body['run_id']}", headers=ada).json()["title"] == "Tempo"
    assert client.delete(f"/api/runs/{body['run_id']}", headers=ada).status_code == 204
    assert client.get(f"/api/runs/{body['run_id']}", headers=ada).status_code == 404
    assert client.get("/api/records", headers=ada).json() == []


def test_runners_see_and_change_only_their_own_data(client, ada, make_run):
    eve = sign_up(client, "eve@example.com")
    rid = client.post("/api/runs", json=upload_body(make_run()), headers=ada).json()["run_id"]
    assert (
        client.post("/api/shoes", json={"serial": "SW-L-0001", "side": "left"}, headers=ada).status_code
        == 201
    )
    assert client.get(f"/api/runs/{rid}", headers=eve).status_code == 404
    assert client.get(f"/api/runs/{rid}/strides", headers=eve).status_code == 404
    assert client.patch(f"/api/runs/{rid}", json={"title": "mine"}, headers=eve).status_code == 404
    assert client.delete(f"/api/runs/{rid}", headers=eve).status_code == 404
    assert client.delete("/api/shoes/SW-L-0001", headers=eve).status_code == 404
    assert client.patch("/api/shoes/SW-L-0001", json={"name": "x"}, headers=eve).status_code == 404
    assert client.get("/api/runs", headers=eve).json()["runs"] == []
    assert client.get("/api/records", headers=eve).json() == []
    assert client.get("/api/shoes", headers=eve).json() == []
    assert all(not a["earned"] for a in client.get("/api/achievements", headers=eve).json())
    # and Ada's data is untouched
    assert client.get(f"/api/runs/{rid}", headers=ada).json()["title"] == ""
    assert [s["serial"] for s in client.get("/api/shoes", headers=ada).json()] == ["SW-L-0001"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.update(start_time="2026-03-01T07:00:00"), "time zone offset"),
        (lambda b: b["strides"][0].update(t_end_s=-1), "greater than or equal to 0"),
        (lambda b: b["strides"][0].update(t_end_s=b["strides"][0]["t_start_s"]), "must end after it starts"),
        (lambda b: b["strides"][0].update(side="middle"), "'left' or 'right'"),
        (lambda b: b.update(strides=[]), "at least 1 item"),
        (lambda b: b.update(colour="red"), "Extra inputs are not permitted"),
        (lambda b: b.update(time_zone="Mars/Olympus"), "unknown time zone"),
        # a clock that was never set: the day and week sums about it overflowed the calendar (a 500)
        (lambda b: b.update(start_time="0001-01-01T00:00:00+00:00", time_zone="America/New_York"), "year 1"),
        (lambda b: b.update(start_time="9999-12-31T20:00:00+00:00"), "year 9999"),
    ],
)
def test_bad_uploads_get_a_clear_4xx_and_store_nothing(client, ada, make_run, mutate, message):
    body = upload_body(make_run(distance_m=800))
    mutate(body)
    r = client.post("/api/runs", json=body, headers=ada)
    assert r.status_code == 422
    assert message in r.text
    assert client.get("/api/runs", headers=ada).json()["runs"] == []


def test_request_size_is_limited(client, ada, make_run):
    body = upload_body(make_run(distance_m=60_000, stride_m=1.0))
    r = client.post("/api/runs", json=body, headers=ada)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]
    assert client.get("/api/runs", headers=ada).json()["runs"] == []


def post_recording(client, headers, csv):
    """``POST /api/runs/recording`` of one foot's CSV with the JSON sidecar beside it."""
    with csv.open("rb") as f, csv.with_suffix(".json").open("rb") as j:
        return client.post(
            "/api/runs/recording",
            files=[("files", ("left.csv", f, "text/csv")), ("files", ("left.json", j, "application/json"))],
            data={"start_time": "2026-05-01T07:00:00+08:00", "time_zone": "Asia/Shanghai"},
            headers=headers,
        )


def test_raw_recording_is_analysed_by_the_gait_engine(client, ada, tmp_path):
    src = sample_recording_path()
    csv = tmp_path / "left.csv"
    shutil.copy(src, csv)
    shutil.copy(src.with_suffix(".json"), tmp_path / "left.json")
    expected = GaitAnalysis().analyze(load_recording(csv)).summary_.distance_m
    r = post_recording(client, ada, csv)
    assert r.status_code == 201, r.text
    detail = client.get(f"/api/runs/{r.json()['run_id']}", headers=ada).json()
    assert detail["distance_m"] == pytest.approx(expected, rel=1e-6)
    assert detail["source"] == "recording"


def test_strides_a_recording_lost_to_gaps_are_stored_and_shown_as_estimated(client, ada, tmp_path):
    """A recording whose samples stop for half a second every 20 s (a radio dropping out): the strides the gait
    engine estimated across the gaps reach the run as estimated, without form figures, and each foot's summary
    and the stride columns say which and how far."""
    src = sample_recording_path()
    lines = src.read_text().splitlines()
    kept = [lines[0]] + [ln for ln in lines[1:] if not (float(ln.split(",", 1)[0]) % 20.0 >= 19.5)]
    csv = tmp_path / "left.csv"
    csv.write_text("\n".join(kept) + "\n")
    shutil.copy(src.with_suffix(".json"), tmp_path / "left.json")
    engine = [s for s in GaitAnalysis().analyze(load_recording(csv)).strides_ if s.bridged]
    assert len(engine) >= 3
    r = post_recording(client, ada, csv)
    assert r.status_code == 201, r.text
    run_id = r.json()["run_id"]
    (foot,) = client.get(f"/api/runs/{run_id}", headers=ada).json()["feet"]
    assert foot["estimated_strides"] == len(engine)
    assert foot["estimated_m"] == pytest.approx(sum(s.length_m for s in engine), abs=0.002 * len(engine))
    cols = client.get(f"/api/runs/{run_id}/strides", headers=ada).json()
    marked = [k for k, e in enumerate(cols["estimated"]) if e]
    assert len(marked) == len(engine) and set(cols["estimated"]) == {0, 1}
    for k in marked:
        assert cols["contact_time_s"][k] is None and cols["impact_g"][k] is None and cols["strike"][k] == -1


def test_an_upload_says_which_strides_are_estimated(client, ada, make_run):
    """The phone and the gateway send the mark the shoe logged with each stride; the run's feet count them."""
    body = upload_body(make_run(distance_m=1200))
    for s in body["strides"][10:14]:
        s.update(estimated=True, contact_time_s=None)
    r = client.post("/api/runs", json=body, headers=ada)
    assert r.status_code == 201, r.text
    feet = client.get(f"/api/runs/{r.json()['run_id']}", headers=ada).json()["feet"]
    assert sum(f["estimated_strides"] for f in feet) == 4
    assert sum(f["estimated_m"] for f in feet) == pytest.approx(
        sum(s["length_m"] for s in body["strides"][10:14])
    )
    body["strides"][0]["estimated"] = "maybe"
    assert client.post("/api/runs", json=body, headers=ada).status_code == 422


def test_broken_recording_is_rejected_with_the_reason(client, ada):
    r = client.post(
        "/api/runs/recording",
        files=[("files", ("left.csv", b"t,ax,ay,az,gx,gy,gz\n0,0,0,9.8,0,0,0\n", "text/csv"))],
        data={"start_time": "2026-05-01T07:00:00+08:00"},
        headers=ada,
    )
    assert r.status_code == 422 and "too short" in r.json()["detail"][0]["msg"]
    assert "/tmp" not in r.text


def test_progress_goals_and_shoes(client, ada, make_run):
    assert (
        client.patch("/api/me", json={"weekly_goal_m": 20000, "race_goal_m": 10000}, headers=ada).status_code
        == 200
    )
    client.post("/api/shoes", json={"serial": "SW-L-0001", "side": "left", "retire_at_m": 8000}, headers=ada)
    # an hour ago, but inside this week (the runner's, in UTC): in a week's first hour, at its start
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    week_start = (now - dt.timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0)
    now = max(now - dt.timedelta(hours=1), week_start)
    client.post("/api/runs", json=upload_body(make_run(start=now, distance_m=6000)), headers=ada)
    client.post(
        "/api/runs",
        json=upload_body(make_run(start=now - dt.timedelta(days=1), distance_m=3000)),
        headers=ada,
    )
    p = client.get("/api/progress?period=week", headers=ada).json()
    assert sum(t["distance_m"] for t in p["totals"]) == pytest.approx(9000, rel=0.01)
    assert p["weekly_goal"]["goal_m"] == 20000 and p["weekly_goal"]["distance_m"] >= 6000 - 1e-6
    assert p["race_prediction"]["predicted_time_s"] > 10000 / 3.0
    assert p["load"]["acute"] > 0
    shoe = client.get("/api/shoes", headers=ada).json()[0]
    assert shoe["runs"] == 2 and shoe["retire_reminder"]
    zh = client.get("/api/achievements?locale=zh", headers=ada).json()
    first = next(a for a in zh if a["id"] == "first_run")
    assert first["earned"] and any("\u4e00" <= ch <= "\u9fff" for ch in first["name"])


def test_live_updates_reach_an_open_page(client, ada):
    sample = {"t_s": 60.0, "distance_m": 180.0, "speed_mps": 3.1, "cadence_spm": 172.0, "running": True}
    with client.websocket_connect("/api/live/ws") as ws:
        ws.send_json({"token": ada["Authorization"].split()[1]})
        assert ws.receive_json() == {"type": "idle"}
        assert client.post("/api/live", json=sample, headers=ada).status_code == 202
        got = ws.receive_json()
        assert got["type"] == "update" and got["distance_m"] == 180.0
        assert client.delete("/api/live", headers=ada).status_code == 204
        assert ws.receive_json()["type"] == "end"
    # a page opened mid-run sees the latest values at once
    client.post("/api/live", json=sample, headers=ada)
    with client.websocket_connect("/api/live/ws") as ws:
        ws.send_json({"token": ada["Authorization"].split()[1]})
        assert ws.receive_json()["distance_m"] == 180.0


def test_live_socket_refuses_without_a_token(client):
    from starlette.websockets import WebSocketDisconnect

    with client.websocket_connect("/api/live/ws") as ws:
        ws.send_json({"token": "forged"})
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 4401


def test_units_preference_and_account_deletion(client, ada, make_run):
    assert client.patch("/api/me", json={"units": "imperial"}, headers=ada).json()["units"] == "imperial"
    assert client.patch("/api/me", json={"units": "furlongs"}, headers=ada).status_code == 422
    client.post("/api/runs", json=upload_body(make_run()), headers=ada)
    assert client.delete("/api/me", headers=ada).status_code == 204
    assert client.get("/api/me", headers=ada).status_code == 401
    r = client.post("/api/auth/signin", json={"email": "ada@example.com", "password": PASSWORD})
    assert r.status_code == 401


def test_export_and_import_round_trip_through_the_api(client, ada, make_run, tmp_path):
    import fitdecode

    rid = client.post("/api/runs", json=upload_body(make_run(distance_m=3000)), headers=ada).json()["run_id"]
    fit = client.get(f"/api/runs/{rid}/export?format=fit", headers=ada)
    assert fit.status_code == 200 and fit.headers["content-type"] == "application/vnd.ant.fit"
    with fitdecode.FitReader(fit.content) as reader:
        assert any(isinstance(f, fitdecode.FitDataMessage) and f.name == "session" for f in reader)
    tcx = client.get(f"/api/runs/{rid}/export?format=tcx", headers=ada)
    assert tcx.status_code == 200 and b"TrainingCenterDatabase" in tcx.content
    csv = client.get(f"/api/runs/{rid}/export?format=csv", headers=ada)
    assert csv.text.count("\n") == len(make_run(distance_m=3000).strides) + 1
    assert client.get(f"/api/runs/{rid}/export?format=docx", headers=ada).status_code == 422

    eve = sign_up(client, "eve@example.com")
    assert client.get(f"/api/runs/{rid}/export?format=fit", headers=eve).status_code == 404
    files = [
        ("files", ("mine.fit", fit.content, "application/octet-stream")),
        ("files", ("broken.fit", fit.content[:100], "application/octet-stream")),
        ("files", ("again.tcx", tcx.content, "application/xml")),
    ]
    r = client.post("/api/runs/import", files=files, headers=eve)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["imported"], body["duplicates"], body["rejected"]) == (1, 1, 1)
    by_name = {f["name"]: f for f in body["files"]}
    assert by_name["broken.fit"]["status"] == "rejected" and by_name["broken.fit"]["reason"]
    imported = client.get(f"/api/runs/{by_name['mine.fit']['run_id']}", headers=eve).json()
    assert imported["distance_m"] == pytest.approx(3000, rel=0.01) and imported["source"] == "fit"
    # Ada already has this run: importing her own export is recognised
    again = client.post("/api/runs/import", files=files[:1], headers=ada).json()
    assert again["duplicates"] == 1 and again["files"][0]["run_id"] == rid


def test_an_imported_file_cut_short_is_stored_up_to_its_cut_and_said_so(client, ada, make_run):
    """A watch that died while it wrote the file: the run up to the cut is stored, and the answer says where the
    file stops (code and values for the runner's language)."""
    rid = client.post("/api/runs", json=upload_body(make_run(distance_m=3000)), headers=ada).json()["run_id"]
    fit = client.get(f"/api/runs/{rid}/export?format=fit", headers=ada).content
    eve = sign_up(client, "eve@example.com")
    files = [("files", ("dead-battery.fit", fit[: len(fit) // 2], "application/octet-stream"))]
    body = client.post("/api/runs/import", files=files, headers=eve).json()
    (f,) = body["files"]
    assert (body["imported"], f["status"], f["code"]) == (1, "imported", "cut_short")
    assert "cut short" in f["reason"] and set(f["params"]) == {"ends"}
    run = client.get(f"/api/runs/{f['run_id']}", headers=eve).json()
    assert 500 < run["distance_m"] < 2500 and run["cut_short"]
    assert not client.get(f"/api/runs/{rid}", headers=ada).json()["cut_short"]
    end = dt.datetime.fromisoformat(run["start_time"]) + dt.timedelta(seconds=run["elapsed_time_s"])
    assert dt.datetime.fromisoformat(f["params"]["ends"]) == end
