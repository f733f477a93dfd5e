"""Request bodies read by hand where FastAPI's way costs too much memory, and their OpenAPI description.

FastAPI reads a JSON body into one ``bytes`` (joining the chunks: twice its size for a moment), turns all of it
into Python dicts and lists with ``json.loads`` and validates those into models; pydantic's own JSON parser builds a
whole tree of the document first too. A 20 MB run upload became 100-150 MB before a stride was stored.
:func:`json_body` keeps the body in one buffer and reads it with ijson's event stream, building the big array
(``items``) one element at a time, each validated into its compact domain object at once (see
``schemas.UploadedStride``): only the bytes and the result are ever whole in memory.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import ijson
from fastapi import Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

__all__ = ["json_body", "openapi_json_body", "save_upload"]

M = TypeVar("M", bound=BaseModel)
#: at most this many item errors are reported (a million bad strides need not make a million messages)
MAX_ERRORS = 20


def _value(events: Iterator[tuple[str, str, Any]], first: tuple[str, Any]) -> Any:
    """One whole JSON value from ijson's events, ``first`` being its first (event, value)."""
    builder = ijson.ObjectBuilder()
    depth = 0
    event, value = first
    while True:
        builder.event(event, value)
        depth += event in ("start_map", "start_array")
        depth -= event in ("end_map", "end_array")
        if depth == 0:
            return builder.value
        _, event, value = next(events)


class _Reader:
    """``buf`` as a file ijson reads a chunk at a time (without a copy of the whole buffer)."""

    def __init__(self, buf: bytearray) -> None:
        self._view = memoryview(buf)
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._view) if n < 0 else self._pos + n
        chunk = bytes(self._view[self._pos : end])
        self._pos += len(chunk)
        return chunk


def _parse(buf: bytearray, key: str, item: Callable[[Any, int], Any]) -> dict[str, Any]:
    """The JSON object in ``buf``; the array under ``key`` built one element at a time and handed to ``item``
    (ijson's event stream: no tree of the whole document is ever built)."""
    events = ijson.parse(_Reader(buf), use_float=True)
    _, event, _ = next(events)
    if event != "start_map":
        raise ijson.JSONError("the body is not a JSON object")
    out: dict[str, Any] = {}
    for _, event, name in events:
        if event == "end_map":
            break
        _, event, value = next(events)
        if name == key and event == "start_array":
            values: list[Any] = []
            for _, event, value in events:
                if event == "end_array":
                    break
                values.append(item(_value(events, (event, value)), len(values)))
            out[name] = values
        else:
            out[name] = _value(events, (event, value))
    for _ in events:  # yajl checks that nothing but white space follows
        raise ijson.JSONError("extra data after the JSON object")
    return out


def _invalid_json() -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}])


def _body_errors(exc: ValidationError, *prefix: str | int) -> list[dict[str, Any]]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    return [{**e, "loc": ("body", *prefix, *e["loc"])} for e in errors]


def json_body(model: type[M], *, items: tuple[str, TypeAdapter[Any]]) -> Callable[[Request], Awaitable[M]]:
    """A dependency reading the JSON body into ``model``, the array ``items[0]`` item by item through the
    adapter ``items[1]`` (422 as for any body otherwise)."""
    key, adapter = items

    def parse(buf: bytearray) -> M:
        errors: list[dict[str, Any]] = []

        def item(value: Any, index: int) -> Any:
            try:
                return adapter.validate_python(value)
            except ValidationError as exc:
                if len(errors) < MAX_ERRORS:
                    errors.extend(_body_errors(exc, key, index))
                return None

        try:
            data = _parse(buf, key, item)
        except (ijson.JSONError, StopIteration, UnicodeDecodeError):
            raise _invalid_json() from None
        buf.clear()
        if errors:
            raise RequestValidationError(errors[:MAX_ERRORS])
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise RequestValidationError(_body_errors(exc)) from None

    async def read(request: Request) -> M:
        buf = bytearray()
        async for chunk in request.stream():  # counted against the route's limit by server.app.BodyLimit
            buf += chunk
        return await run_in_threadpool(parse, buf)

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
