"""Request dependencies: the store, the signed-in runner, the live hub.

Those that never wait (they read the app's state or the request's headers) are ``async``: FastAPI runs a plain
function dependency in a worker thread, a hop that costs more than the dependency itself. Only the runner's
lookup, which queries the database, runs in a thread.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from soleware.runs.storage import RunnerInfo, RunStore
from soleware.runs.storage.accounts import AuthError
from soleware.runs.storage.throttle import SignInThrottle
from soleware.server.config import Settings
from soleware.server.live import LiveHub
from soleware.server.session import SESSION_COOKIE, check_csrf

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/auth/signin")


async def get_store(request: Request) -> RunStore:
    store: RunStore = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_throttle(request: Request) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.throttle
    return throttle


async def get_hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.hub
    return hub


async def session_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    """The access token of the request: ``Authorization: Bearer`` (programs) or the session cookie (the web app,
    which must then pass the CSRF check); 401 without either."""
    if credentials is not None:
        return credentials.credentials
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in first (Authorization: Bearer …)",
            {"WWW-Authenticate": "Bearer"},
        )
    check_csrf(request, token)
    return token


def current_runner(
    store: Annotated[RunStore, Depends(get_store)], token: Annotated[str, Depends(session_token)]
) -> RunnerInfo:
    try:
        return store.runner_for_token(token)
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), {"WWW-Authenticate": "Bearer"}) from None


Store = Annotated[RunStore, Depends(get_store)]
CurrentRunner = Annotated[RunnerInfo, Depends(current_runner)]
Hub = Annotated[LiveHub, Depends(get_hub)]
SessionToken = Annotated[str, Depends(session_token)]
AppSettings = Annotated[Settings, Depends(get_settings)]
SignInLimits = Annotated[SignInThrottle, Depends(get_throttle)]
