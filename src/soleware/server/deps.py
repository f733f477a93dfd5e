"""Request dependencies: the store, the signed-in runner, the live hub."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from soleware.runs.storage import RunnerInfo, RunStore
from soleware.runs.storage.accounts import AuthError
from soleware.server.config import Settings
from soleware.server.live import LiveHub

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/auth/signin")


def get_store(request: Request) -> RunStore:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_hub(request: Request) -> LiveHub:
    return request.app.state.hub


def current_runner(
    store: Annotated[RunStore, Depends(get_store)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> RunnerInfo:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in first (Authorization: Bearer …)",
            {"WWW-Authenticate": "Bearer"},
        )
    try:
        return store.runner_for_token(credentials.credentials)
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), {"WWW-Authenticate": "Bearer"}) from None


def bearer_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str | None:
    return None if credentials is None else credentials.credentials


Store = Annotated[RunStore, Depends(get_store)]
CurrentRunner = Annotated[RunnerInfo, Depends(current_runner)]
Hub = Annotated[LiveHub, Depends(get_hub)]
AppSettings = Annotated[Settings, Depends(get_settings)]
