"""The run service: a FastAPI app over ``soleware.runs`` (stateless; any number of processes per database)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

import soleware
from soleware.runs.storage import NotFound, RunStore
from soleware.runs.storage.db import make_engine
from soleware.runs.storage.migrate import upgrade
from soleware.server.config import Settings
from soleware.server.errors import COMMON_RESPONSES, unprocessable
from soleware.server.live import LiveHub
from soleware.server.routers import auth, files, live, progress, refused, runs

__all__ = ["create_app"]


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        resp = JSONResponse(
            {"detail": f"request body larger than {self.max_bytes} bytes"},
            status_code=status.HTTP_413_CONTENT_TOO_LARGE,
        )
        await resp(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url or None, pool_pre_ping=True)
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
    app.state.hub = LiveHub(pg_url)
    app.state.sign_in_limiter = auth.SignInLimiter()
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)

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
                for m in r.methods
            }
            if "GET" in methods:
                methods.add("HEAD")
            headers = {"Allow": ", ".join(sorted(methods))}
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
        return await http_exception_handler(request, exc)

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok", "database": engine.dialect.name, "version": soleware.__version__}

    for r in (auth.router, files.router, runs.router, refused.router, progress.router, live.router):
        app.include_router(r, responses=COMMON_RESPONSES)
    from soleware import web

    web.mount(app)
    return app
