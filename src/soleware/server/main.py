"""ASGI entry point for ``uvicorn soleware.server.main:app`` (settings from the environment)."""

from __future__ import annotations

from soleware.server.app import create_app

app = create_app()
