"""Accounts: sign-up, sign-in (throttled; a bearer token for programs, a cookie session for the web app),
sign-out, profile and goals."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from soleware.runs.storage.accounts import TOKEN_LIFETIME, AccountError, AccountExists, AuthError
from soleware.runs.storage.throttle import Throttled
from soleware.server.deps import AppSettings, CurrentRunner, SessionToken, SignInLimits, Store
from soleware.server.errors import Message, unprocessable
from soleware.server.schemas import Me, MeUpdate, SignIn, SignUp, Token
from soleware.server.session import end_session, same_origin, start_session

router = APIRouter(prefix="/api", tags=["accounts"])


def authenticate(body: SignIn, request: Request, store: Store, throttle: SignInLimits) -> str:
    """A new access token for ``body``'s credentials, within the sign-in budgets (401 wrong, 429 wait)."""
    address = request.client.host if request.client else ""
    try:
        return throttle.attempt(body.email, address, lambda: store.sign_in(body.email, body.password))
    except Throttled as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(exc),
            {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))},
        ) from None
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None


def from_our_pages(request: Request) -> None:
    """403 for a request a page of another site made (no other site may sign a browser in: login CSRF)."""
    if not same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site sign-in refused")


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
def sign_in(token: Annotated[str, Depends(authenticate)]) -> Token:
    """A bearer token for the CLI, the gateway and other programs (the web app uses a cookie session)."""
    return Token(access_token=token)


@router.post(
    "/auth/session",
    response_model=Me,
    responses={401: {"model": Message}, 403: {"model": Message}, 429: {"model": Message}},
)
def start_web_session(
    request: Request,
    response: Response,
    store: Store,
    settings: AppSettings,
    _: Annotated[None, Depends(from_our_pages)],  # before the password is checked
    token: Annotated[str, Depends(authenticate)],
) -> Me:
    """Sign the web app in: the session goes into an HttpOnly cookie (see ``soleware.server.session``), never to
    scripts; the answer is the runner's profile."""
    start_session(
        response,
        token,
        max_age_s=int(TOKEN_LIFETIME.total_seconds()),
        secure=settings.cookie_secure or request.url.scheme == "https",
    )
    return Me.model_validate(store.runner_for_token(token), from_attributes=True)


@router.post("/auth/signout", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(
    request: Request, runner: CurrentRunner, store: Store, token: SessionToken, settings: AppSettings
) -> Response:
    """End this session (bearer token or cookie) and delete the web app's cookies."""
    store.sign_out(token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    end_session(response, secure=settings.cookie_secure or request.url.scheme == "https")
    return response


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
def delete_me(request: Request, runner: CurrentRunner, store: Store, settings: AppSettings) -> Response:
    """Delete the account and every run, record, achievement and shoe of it. There is no undo."""
    store.delete_runner(runner.id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    end_session(response, secure=settings.cookie_secure or request.url.scheme == "https")
    return response
