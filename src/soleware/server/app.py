"""The run service: a FastAPI app over ``soleware.runs`` (stateless; any number of processes per database)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import soleware
from soleware.runs.storage import NotFound, RunStore
from soleware.runs.storage.db import make_engine
from soleware.runs.storage.migrate import upgrade
from soleware.runs.storage.throttle import SignInThrottle, ThrottlePolicy
from soleware.server.config import Settings
from soleware.server.errors import COMMON_RESPONSES, unprocessable, validation_failed
from soleware.server.live import LiveHub
from soleware.server.routers import auth, calibration, files, live, progress, refused, runs

__all__ = ["BodyLimit", "BodyTooLarge", "create_app"]


class BodyTooLarge(StarletteHTTPException):
    """The request body is over its route's limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"request body larger than {limit} bytes, the most this request may send",
        )


class BodyLimit:
    """Refuse a body over its route's limit with 413: by Content-Length before the route runs, and by counting
    the bytes as they arrive (chunked bodies have no length), so no route ever reads more than its limit."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(BodyTooLarge(limit), scope, receive, send)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)  # a route turns it into the 413 (see the handler in create_app)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge as exc:  # read outside a route's exception handling
            if started:
                raise
            await self._refuse(exc, scope, receive, send)

    @staticmethod
    async def _refuse(exc: BodyTooLarge, scope: Scope, receive: Receive, send: Send) -> None:
        resp = JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers={"Connection": "close"}
        )
        await resp(scope, receive, send)


#: routes (by endpoint name) allowed a bigger body than ``Settings.max_body_bytes``, and the setting that says how big
_BIG_BODIES = {
    "upload_run": "max_run_upload_bytes",
    "keep_refused": "max_run_upload_bytes",  # it carries the refused run's upload body
    "upload_recording": "max_recording_upload_bytes",
    "import_files": "max_import_bytes",
}


def _body_limits(routers: Sequence[APIRouter], settings: Settings) -> Callable[[Scope], int]:
    """The body limit of a request: its route's (``routers`` are included without a further prefix), or the
    small default."""
    routes: list[tuple[APIRoute, int]] = [
        (r, getattr(settings, _BIG_BODIES[r.name]))
        for router in routers
        for r in router.routes
        if isinstance(r, APIRoute) and r.name in _BIG_BODIES
    ]
    assert len(routes) == len(_BIG_BODIES), routes

    def limit_for(scope: Scope) -> int:
        for route, limit in routes:
            if route.matches(scope)[0] == Match.FULL:
                return limit
        return settings.max_body_bytes

    return limit_for


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    url = settings.database_url or None
    # a pooled connection to a database server may have died since its last use; a SQLite file's cannot
    engine = make_engine(url, pool_pre_ping=not (url or "sqlite").startswith("sqlite"))
    if settings.auto_migrate:
        upgrade(engine)
    store = RunStore(engine)
    pg_url = None
    if engine.dialect.name == "postgresql":
        pg_url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.hub.start()
        yield
        await app.state.hub.stop()
        engine.dispose()

    app = FastAPI(
        title="Soleware run service",
        version=soleware.__version__,
        summary="Runs, records, achievements and progress from Soleware smart shoes.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.hub = LiveHub(pg_url, states=None if pg_url else store.live_states)
    app.state.throttle = SignInThrottle(
        engine,
        ThrottlePolicy(
            free_attempts=settings.sign_in_free_attempts,
            base_delay_s=settings.sign_in_base_delay_s,
            max_delay_s=settings.sign_in_max_delay_s,
            window_s=settings.sign_in_window_s,
        ),
    )
    routers = (
        auth.router,
        files.router,
        runs.router,
        refused.router,
        progress.router,
        live.router,
        calibration.router,
    )
    app.add_middleware(BodyLimit, limit_for=_body_limits(routers, settings))
    app.add_exception_handler(RequestValidationError, validation_failed)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        # another runner's object looks exactly like a missing one
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(ValueError)
    async def value_error(_: Request, exc: ValueError) -> JSONResponse:
        e = unprocessable(str(exc))
        return JSONResponse({"detail": e.detail}, status_code=e.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            # Starlette names only the first route's methods; a path served by several routes allows them all
            methods = {
                m
                for r in app.router.routes
                if isinstance(r, APIRoute) and r.matches(request.scope)[0] != Match.NONE
                for m in r.methods or ()  # Starlette's Route hints None; an APIRoute always has methods
            }
            if "GET" in methods:
                methods.add("HEAD")
            headers = {"Allow": ", ".join(sorted(methods))}
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
        return await http_exception_handler(request, exc)

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok", "database": engine.dialect.name, "version": soleware.__version__}

    for r in routers:
        app.include_router(r, responses=COMMON_RESPONSES)
    from soleware import web

    web.mount(app)
    return app
