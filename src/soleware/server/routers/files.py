"""Files: export a run (FIT, TCX, GPX of its route, stride CSV), import activities from other apps (FIT, TCX, GPX, zips of them)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from soleware.formats import EXPORT_FORMATS, FormatError
from soleware.formats.history import export, import_into
from soleware.server.bodies import save_upload
from soleware.server.deps import CurrentRunner, Store
from soleware.server.errors import Message, unprocessable

router = APIRouter(prefix="/api/runs", tags=["files"])


class ImportedFile(BaseModel):
    name: str
    status: Literal["imported", "duplicate", "rejected"]
    run_id: str | None
    #: why it was rejected (or which file or run it duplicates, or what of an imported file could not be read:
    #: one cut short), in English
    reason: str
    #: the kind of problem (``soleware.formats.PROBLEM_CODES``; "" for others) and the values its message shows:
    #: what a client shows in the runner's language
    code: str = ""
    params: dict[str, str] = {}


class ImportResult(BaseModel):
    files: list[ImportedFile]
    imported: int
    duplicates: int
    rejected: int


@router.get(
    "/{run_id}/export",
    responses={200: {"content": {m: {} for m in EXPORT_FORMATS.values()}}, 404: {"model": Message}},
    response_class=Response,
)
def export_file(
    run_id: str,
    runner: CurrentRunner,
    store: Store,
    format: Annotated[Literal["fit", "tcx", "gpx", "csv"], Query()] = "fit",
) -> Response:
    """The run as a file for other apps: FIT activity, TCX, GPX of its route (422 without one), or CSV of its
    strides."""
    try:
        data = export(store, runner.id, run_id, format)
    except FormatError as exc:
        raise unprocessable(str(exc)) from None
    return Response(
        data,
        media_type=EXPORT_FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="soleware-{run_id[:8]}.{format}"'},
    )


@router.post("/import", response_model=ImportResult)
async def import_files(
    runner: CurrentRunner,
    store: Store,
    files: Annotated[list[UploadFile], File(description="FIT, TCX or GPX files (also .gz), or zips of them")],
) -> ImportResult:
    """Activities from watches and other apps into the runner's history; ones already there are skipped."""
    with tempfile.TemporaryDirectory(prefix="soleware-import-") as tmp:
        paths = []
        for i, f in enumerate(files):
            name = Path(f.filename or f"upload-{i}").name or f"upload-{i}"
            path = Path(tmp) / f"{i:04d}-{name}"
            await save_upload(f, path)
            paths.append(path)
        outcomes = await run_in_threadpool(import_into, store, runner.id, paths, time_zone=runner.time_zone)
    out = [
        ImportedFile(
            name=re.sub(r"^\d{4}-", "", o.name),
            status=o.status,
            run_id=o.run_id,
            reason=o.reason,
            code=o.code,
            params=o.params,
        )
        for o in outcomes
    ]
    return ImportResult(
        files=out,
        imported=sum(o.status == "imported" for o in out),
        duplicates=sum(o.status == "duplicate" for o in out),
        rejected=sum(o.status == "rejected" for o in out),
    )
