"""Terminal views (rich): the gateway's live view for the runner."""

from __future__ import annotations

from soleware.console._gateway_view import render

__all__ = ["render"]
