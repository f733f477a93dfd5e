"""Error responses: every 422 has FastAPI's shape (a list of {loc, msg, type}); other errors a message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel

__all__ = ["COMMON_RESPONSES", "Message", "summary", "unprocessable"]


class Message(BaseModel):
    detail: str


def unprocessable(message: str, loc: Sequence[str | int] = ("body",)) -> HTTPException:
    """A 422 in the same shape as request validation errors, so clients read one format."""
    detail: list[dict[str, Any]] = [{"loc": list(loc), "msg": message, "type": "value_error"}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def summary(detail: Sequence[dict[str, Any]], *, most: int = 5) -> str:
    """A 422's problems in a line: each as ``where: what (got value)``, ``where`` without the leading "body"."""
    parts = []
    for d in detail[:most]:
        where = ".".join(str(x) for x in d.get("loc", [])[1:])
        got = f" (got {d['input']})" if "input" in d and not isinstance(d["input"], dict | list) else ""
        parts.append(f"{where}: {d.get('msg', '')}{got}")
    return "; ".join(parts) + (f"; and {len(detail) - most} more" if len(detail) > most else "")


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Message, "description": "the body is not valid JSON or form data"},
    401: {"model": Message, "description": "not signed in, or the token expired"},
    413: {"model": Message, "description": "request body too large"},
}
