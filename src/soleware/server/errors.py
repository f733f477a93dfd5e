"""Error responses: every 422 has FastAPI's shape (a list of {loc, msg, type}); other errors a message.

No error echoes what was sent: validation errors keep only where (``loc``), what (``msg``) and which rule
(``type``), never the ``input`` nor the ``ctx`` built from it, so a password in a malformed sign-in does not come
back in the answer (nor land in a client's or proxy's log).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

__all__ = ["COMMON_RESPONSES", "Message", "safe_errors", "summary", "unprocessable", "validation_failed"]


class Message(BaseModel):
    detail: str


def unprocessable(message: str, loc: Sequence[str | int] = ("body",)) -> HTTPException:
    """A 422 in the same shape as request validation errors, so clients read one format."""
    detail: list[dict[str, Any]] = [{"loc": list(loc), "msg": message, "type": "value_error"}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def safe_errors(errors: Iterable[Any], names: frozenset[str]) -> list[dict[str, Any]]:
    """``errors`` as {loc, msg, type} only; a ``loc`` part that is not one of our ``names`` (a dict key the
    client chose) becomes ``"*"``."""
    out = []
    for e in errors:
        loc = [p if isinstance(p, int) or p in names else "*" for p in e.get("loc", ())]
        out.append({"loc": loc, "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))})
    return out


def api_names(openapi: dict[str, Any]) -> frozenset[str]:
    """Every name the API itself defines: locations, parameters, properties (what a ``loc`` may show)."""
    names = {"body", "query", "path", "header", "cookie", "[key]"}

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            names.update(k for k in x.get("properties", {}) if isinstance(k, str))
            if isinstance(x.get("name"), str) and "in" in x:
                names.add(x["name"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(openapi)
    return frozenset(names)


async def validation_failed(request: Request, exc: Exception) -> JSONResponse:
    """422 for a request that does not validate, without the submitted values."""
    assert isinstance(exc, RequestValidationError)
    app = request.app
    names = getattr(app.state, "api_names", None)
    if names is None:
        names = app.state.api_names = api_names(app.openapi())
    return JSONResponse(
        {"detail": safe_errors(exc.errors(), names)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


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
