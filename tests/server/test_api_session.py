"""The web app's cookie session: HttpOnly and SameSite cookies, CSRF checks, sign-out; bearer tokens unchanged."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from soleware.server.app import create_app
from soleware.server.config import Settings
from soleware.server.session import csrf_token

PASSWORD = "correct horse battery"
ADA = {"email": "ada@example.com", "password": PASSWORD}


@pytest.fixture
def app(tmp_path):
    return create_app(Settings(database_url=f"sqlite:///{tmp_path / 'session.db'}"))


@pytest.fixture
def web(app):
    """A browser: signed in through the cookie session."""
    with TestClient(app, base_url="https://testserver") as c:
        assert c.post("/api/auth/signup", json=ADA).status_code == 201
        r = c.post("/api/auth/session", json=ADA)
        assert r.status_code == 200 and r.json()["email"] == "ada@example.com"
        c.set_cookies = r.headers.get_list("set-cookie")  # type: ignore[attr-defined]
        yield c


def test_session_cookie_is_httponly_strict_secure_and_no_token_is_returned(web):
    session, csrf = web.set_cookies
    assert session.startswith("soleware_session=")
    for flag in ("HttpOnly", "SameSite=strict", "Secure", "Path=/"):
        assert flag.lower() in session.lower()
    assert csrf.startswith("soleware_csrf=") and "httponly" not in csrf.lower()
    token = web.cookies["soleware_session"]
    assert web.cookies["soleware_csrf"] == csrf_token(token) != token
    assert web.get("/api/me").json()["email"] == "ada@example.com"


def test_changes_by_cookie_need_the_csrf_token_from_our_own_origin(web):
    ok = {"X-CSRF-Token": web.cookies["soleware_csrf"]}
    assert web.patch("/api/me", json={"display_name": "A"}).status_code == 403
    assert (
        web.patch("/api/me", json={"display_name": "A"}, headers={"X-CSRF-Token": "0" * 64}).status_code
        == 403
    )
    evil = {**ok, "Origin": "https://evil.example"}
    assert web.patch("/api/me", json={"display_name": "A"}, headers=evil).status_code == 403
    cross = {**ok, "Sec-Fetch-Site": "cross-site"}
    assert web.patch("/api/me", json={"display_name": "A"}, headers=cross).status_code == 403
    # a multipart form is what another site's page could post: refused without the token
    files = [("files", ("a.gpx", b"<gpx/>"))]
    assert web.post("/api/runs/import", files=files).status_code == 403
    assert web.post("/api/runs/import", files=files, headers=ok).status_code == 200
    same = {**ok, "Origin": "https://testserver", "Sec-Fetch-Site": "same-origin"}
    r = web.patch("/api/me", json={"display_name": "Ada L."}, headers=same)
    assert r.status_code == 200 and r.json()["display_name"] == "Ada L."


def test_another_site_cannot_sign_a_browser_in(app):
    with TestClient(app) as c:
        c.post("/api/auth/signup", json=ADA)
        r = c.post("/api/auth/session", json=ADA, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and "soleware_session" not in c.cookies


def test_sign_out_ends_the_session_and_clears_both_cookies(web):
    token = web.cookies["soleware_session"]
    r = web.post("/api/auth/signout", headers={"X-CSRF-Token": web.cookies["soleware_csrf"]})
    assert r.status_code == 204
    cleared = r.headers.get_list("set-cookie")
    assert len(cleared) == 2 and all("max-age=0" in c.lower() for c in cleared)
    assert not web.cookies.get("soleware_session")
    assert web.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_bearer_tokens_work_as_before_without_csrf(app):
    with TestClient(app) as c:
        c.post("/api/auth/signup", json=ADA)
        token = c.post("/api/auth/signin", json=ADA).json()["access_token"]
        assert not c.cookies
        r = c.patch("/api/me", json={"display_name": "Gateway"}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200


def test_live_socket_takes_the_cookie_only_from_our_origin(web):
    cookie = {
        "Cookie": f"soleware_session={web.cookies['soleware_session']}"
    }  # the test client's ws:// drops Secure
    with web.websocket_connect("/api/live/ws", headers={**cookie, "Origin": "https://testserver"}) as ws:
        ws.send_json({})
        assert ws.receive_json()["type"] == "idle"
    with web.websocket_connect("/api/live/ws", headers={**cookie, "Origin": "https://evil.example"}) as ws:
        ws.send_json({})
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == 4401
