"""Accounts: sign-up, sign-in (rate limited), sign-out, profile and goals."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from soleware.runs.storage.accounts import AccountError, AccountExists, AuthError
from soleware.server.deps import AppSettings, CurrentRunner, Store, bearer_token
from soleware.server.errors import Message, unprocessable
from soleware.server.schemas import Me, MeUpdate, SignIn, SignUp, Token

router = APIRouter(prefix="/api", tags=["accounts"])


class SignInLimiter:
    """Failed sign-ins per (e-mail, client address) in a sliding window, in this process."""

    def __init__(self) -> None:
        self._fails: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def check(self, key: tuple[str, str], limit: int, window_s: float) -> float | None:
        """Seconds to wait when the key is over its limit, else None."""
        q = self._fails[key]
        now = time.monotonic()
        while q and q[0] < now - window_s:
            q.popleft()
        return q[0] + window_s - now if len(q) >= limit else None

    def fail(self, key: tuple[str, str]) -> None:
        self._fails[key].append(time.monotonic())

    def clear(self, key: tuple[str, str]) -> None:
        self._fails.pop(key, None)


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=Me,
    responses={409: {"model": Message}},
)
def sign_up(body: SignUp, store: Store) -> Me:
    try:
        info = store.create_runner(
            body.email,
            body.password,
            display_name=body.display_name,
            locale=body.locale,
            time_zone=body.time_zone,
        )
    except AccountExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except AccountError as exc:
        raise unprocessable(str(exc)) from None
    return Me.model_validate(info, from_attributes=True)


@router.post(
    "/auth/signin", response_model=Token, responses={401: {"model": Message}, 429: {"model": Message}}
)
def sign_in(body: SignIn, request: Request, store: Store, settings: AppSettings) -> Token:
    limiter: SignInLimiter = request.app.state.sign_in_limiter
    key = (body.email.strip().lower(), request.client.host if request.client else "")
    wait = limiter.check(key, settings.sign_in_attempts, settings.sign_in_window_s)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed sign-ins; try again in {wait:.0f} s",
            {"Retry-After": str(max(1, round(wait)))},
        )
    try:
        token = store.sign_in(body.email, body.password)
    except AuthError as exc:
        limiter.fail(key)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    limiter.clear(key)
    return Token(access_token=token)


@router.post("/auth/signout", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(
    runner: CurrentRunner, store: Store, token: Annotated[str | None, Depends(bearer_token)]
) -> Response:
    if token:
        store.sign_out(token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=Me)
def me(runner: CurrentRunner) -> Me:
    return Me.model_validate(runner, from_attributes=True)


@router.patch("/me", response_model=Me)
def update_me(body: MeUpdate, runner: CurrentRunner, store: Store) -> Me:
    try:
        info = store.update_runner(runner.id, **body.model_dump(exclude_unset=True))
    except AccountError as exc:
        raise unprocessable(str(exc)) from None
    return Me.model_validate(info, from_attributes=True)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
def delete_me(runner: CurrentRunner, store: Store) -> Response:
    """Delete the account and every run, record, achievement and shoe of it. There is no undo."""
    store.delete_runner(runner.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
