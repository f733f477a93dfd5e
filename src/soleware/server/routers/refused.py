"""Refused uploads: runs the service refused, kept as sent so the runner sees why and can send them again.

The gateway tells the service about a run it refused for good (``POST``) before it lets the shoe erase it; the
web app and ``soleware gateway rejected`` list them and send them again once the cause is fixed (a stricter check
relaxed, a bug fixed). Sending again validates the body as a new upload would.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import ValidationError

from soleware.server.deps import CurrentRunner, Store
from soleware.server.errors import Message, summary
from soleware.server.routers.runs import run_from_upload, store_run
from soleware.server.schemas import (
    RefusedUploadIn,
    RefusedUploadList,
    RefusedUploadOut,
    RunUpload,
    UploadResult,
)

router = APIRouter(prefix="/api/refused-uploads", tags=["refused uploads"])


@router.post(
    "",
    response_model=RefusedUploadOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": RefusedUploadOut, "description": "already kept under this key"}},
)
def keep_refused(
    body: RefusedUploadIn, runner: CurrentRunner, store: Store, response: Response
) -> RefusedUploadOut:
    """Keep an upload the service refused, under the sender's ``key`` (telling it twice keeps one)."""
    upload, created = store.keep_refused(
        runner.id, key=body.key, body=body.body, reason=body.reason, replaces=body.replaces
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return RefusedUploadOut.of(upload)


@router.get("", response_model=RefusedUploadList)
def list_refused(runner: CurrentRunner, store: Store, include_stored: bool = False) -> RefusedUploadList:
    """Refused uploads not stored yet, newest first (``include_stored``: also those since stored)."""
    uploads = store.refused_uploads(runner.id, include_stored=include_stored)
    return RefusedUploadList(refused=[RefusedUploadOut.of(u) for u in uploads])


def _detail(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors in the shape of a request validation 422."""
    out = []
    for e in error.errors(include_url=False):
        item: dict[str, Any] = {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
        if not isinstance(e.get("input"), dict | list):
            item["input"] = e.get("input")
        out.append(item)
    return out


@router.post(
    "/{upload_id}/resend",
    response_model=UploadResult,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": UploadResult, "description": "stored before (a duplicate, or sent again twice)"},
        404: {"model": Message},
    },
)
def resend_refused(upload_id: str, runner: CurrentRunner, store: Store, response: Response) -> UploadResult:
    """Send a refused upload again: validated as a new upload; stored (in place of the run it was to replace, if
    that is still there), or refused again with today's reason."""
    upload = store.refused_upload(runner.id, upload_id)
    try:
        run = run_from_upload(RunUpload.model_validate(upload.body))
    except ValidationError as exc:
        detail = _detail(exc)
        store.refused_again(runner.id, upload_id, f"422 {summary(detail)}")
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None
    except HTTPException as exc:
        detail = exc.detail if isinstance(exc.detail, list) else [{"msg": str(exc.detail)}]
        store.refused_again(runner.id, upload_id, f"{exc.status_code} {summary(detail)}")
        raise
    result = store_run(store, runner, run, response, replaces=upload.replaces)
    store.refused_stored(runner.id, upload_id, result.run_id)
    return result


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Message}})
def discard_refused(upload_id: str, runner: CurrentRunner, store: Store) -> Response:
    """Forget a refused upload (the run is given up)."""
    store.discard_refused(runner.id, upload_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
