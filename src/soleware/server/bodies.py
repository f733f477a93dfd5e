"""Request bodies read by hand where FastAPI's way costs too much memory, and their OpenAPI description.

FastAPI reads a JSON body into one ``bytes`` (joining the chunks: twice its size for a moment), turns all of it
into Python dicts and lists with ``json.loads`` and validates those into models; pydantic's own JSON parser builds a
whole tree of the document first too. A 20 MB run upload became 100-150 MB before a stride was stored.
:func:`json_body` keeps the body in one buffer, decodes the top-level object itself and takes the big array
(``items``) one element at a time, each validated into its compact domain object at once (see
``schemas.UploadedStride``): only the text and the result are ever whole in memory.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

__all__ = ["json_body", "openapi_json_body", "save_upload"]

M = TypeVar("M", bound=BaseModel)
_WS = re.compile(r"[ \t\n\r]*")
#: at most this many item errors are reported (a million bad strides need not make a million messages)
MAX_ERRORS = 20


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def _parse(text: str, key: str, item: Callable[[Any, int], Any]) -> dict[str, Any]:
    """The JSON object ``text``; the array under ``key`` decoded one element at a time through ``item``."""

    def ws(i: int) -> int:
        m = _WS.match(text, i)
        assert m is not None
        return m.end()

    def expect(i: int, chars: str, what: str) -> tuple[str, int]:
        c = text[i : i + 1]
        if not c or c not in chars:
            raise json.JSONDecodeError(f"Expecting {what}", text, i)
        return c, ws(i + 1)

    _, i = expect(ws(0), "{", "object")
    out: dict[str, Any] = {}
    if text[i : i + 1] == "}":
        i = ws(i + 1)
    else:
        while True:
            name, i = _DECODER.raw_decode(text, i)
            if not isinstance(name, str):
                raise json.JSONDecodeError("Expecting property name", text, i)
            _, i = expect(ws(i), ":", "':' delimiter")
            if name == key and text[i : i + 1] == "[":
                values: list[Any] = []
                i = ws(i + 1)
                c = "]" if text[i : i + 1] == "]" else ","
                i = ws(i + 1) if c == "]" else i
                while c == ",":
                    value, i = _DECODER.raw_decode(text, i)
                    values.append(item(value, len(values)))
                    c, i = expect(ws(i), ",]", "',' delimiter")
                out[name] = values
            else:
                out[name], i = _DECODER.raw_decode(text, i)
            c, i = expect(ws(i), ",}", "',' delimiter")
            if c == "}":
                break
    if i != len(text):
        raise json.JSONDecodeError("Extra data", text, i)
    return out


def _invalid_json(pos: int) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "json_invalid", "loc": ("body", pos), "msg": "JSON decode error"}]
    )


def _body_errors(exc: ValidationError, *prefix: str | int) -> list[dict[str, Any]]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    return [{**e, "loc": ("body", *prefix, *e["loc"])} for e in errors]


def json_body(model: type[M], *, items: tuple[str, TypeAdapter[Any]]) -> Callable[[Request], Awaitable[M]]:
    """A dependency reading the JSON body into ``model``, the array ``items[0]`` item by item through the
    adapter ``items[1]`` (422 as for any body otherwise)."""
    key, adapter = items

    def parse(buf: bytearray) -> M:
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _invalid_json(exc.start) from None
        buf.clear()  # the text is all we need now
        errors: list[dict[str, Any]] = []

        def item(value: Any, index: int) -> Any:
            try:
                return adapter.validate_python(value)
            except ValidationError as exc:
                if len(errors) < MAX_ERRORS:
                    errors.extend(_body_errors(exc, key, index))
                return None

        try:
            data = _parse(text, key, item)
        except json.JSONDecodeError as exc:
            raise _invalid_json(exc.pos) from None
        except ValueError:  # NaN, Infinity
            raise _invalid_json(0) from None
        del text
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
