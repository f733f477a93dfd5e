"""Request bodies read by hand where FastAPI's way costs too much memory, and their OpenAPI description.

FastAPI reads a JSON body into one ``bytes`` (joining the chunks: twice its size for a moment), turns it into
Python dicts and lists with ``json.loads`` and validates those into models: a 20 MB run upload became ~150 MB of
objects before a single stride was stored. :func:`json_body` instead keeps the body in one growing buffer and has
pydantic parse it straight from JSON (no intermediate dicts), and models may turn each list item into its compact
domain object while validating (see ``schemas.RunUpload``), so each item's model is dropped at once.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

__all__ = ["json_body", "openapi_json_body", "save_upload"]

M = TypeVar("M", bound=BaseModel)


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency that reads the request body as JSON into ``model`` (422 as for any body otherwise)."""

    async def read(request: Request) -> M:
        buf = bytearray()
        async for chunk in request.stream():  # counted against the route's limit by server.app.BodyLimit
            buf += chunk
        try:
            return await run_in_threadpool(model.model_validate_json, buf)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False, include_context=False)
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None
        finally:
            del buf

    return read


def openapi_json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the operation's JSON body (schema inlined, no ``$defs``)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(x: Any) -> Any:
        if isinstance(x, dict):
            ref = x.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]))
            return {k: inline(v) for k, v in x.items()}
        if isinstance(x, list):
            return [inline(v) for v in x]
        return x

    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline(schema)}}}}


async def save_upload(file: UploadFile, path: Path, chunk_bytes: int = 1 << 20) -> None:
    """Copy an uploaded file (spooled to disk by the multipart parser) to ``path`` a chunk at a time."""
    with path.open("wb") as out:
        while chunk := await file.read(chunk_bytes):
            out.write(chunk)
