"""The web app's session: an HttpOnly, SameSite=Strict cookie, with a CSRF token for requests that change things.

Programs (the CLI, the gateway, scripts) send ``Authorization: Bearer <token>``; the web app never holds a token
in script-readable storage. Signing in through ``POST /api/auth/session`` sets

* ``soleware_session``: the access token, ``HttpOnly`` (no script can read it), ``SameSite=Strict`` (no other
  site's page makes the browser send it), ``Secure`` when ``Settings.cookie_secure``, path ``/``;
* ``soleware_csrf``: a value derived from that token, readable by our scripts.

A request authenticated by the cookie that is not GET/HEAD/OPTIONS must carry ``X-CSRF-Token`` equal to the value
derived from its session token (double submit, bound to the session: a page elsewhere can neither read our
cookies nor add that header without a CORS grant we never give), and when the browser names the requesting page
(``Origin``, and ``Sec-Fetch-Site``), it must be this site. The live WebSocket takes the cookie only from our own
origin. Signing out (or deleting the account) deletes the token and both cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse

from fastapi import HTTPException, Request, Response, status
from starlette.requests import HTTPConnection

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "check_csrf",
    "csrf_token",
    "end_session",
    "same_origin",
    "start_session",
]

SESSION_COOKIE = "soleware_session"
CSRF_COOKIE = "soleware_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session (derived from it, so it needs no storage and dies with the session)."""
    return hashlib.sha256(b"soleware-csrf\0" + session_token.encode()).hexdigest()


def start_session(response: Response, token: str, *, max_age_s: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age_s, path="/", secure=secure, httponly=True, samesite="strict"
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_token(token), max_age=max_age_s, path="/", secure=secure, samesite="strict"
    )


def end_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="strict")


def same_origin(conn: HTTPConnection) -> bool:
    """False when the browser says the request comes from a page of another site."""
    if conn.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    return urllib.parse.urlsplit(origin).netloc.lower() == conn.headers.get("host", "").lower()


def check_csrf(request: Request, session_token: str) -> None:
    """403 unless a cookie-authenticated request that changes something proves it comes from our own pages."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not (same_origin(request) and hmac.compare_digest(sent, csrf_token(session_token))):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "cross-site request refused (CSRF token missing or wrong)"
        )
