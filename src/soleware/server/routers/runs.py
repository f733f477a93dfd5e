"""Runs: upload (gateway sync, raw recordings), list, detail, rename, delete."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile, status
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from soleware.gait.recording import RecordingError, load_recording
from soleware.runs.achievements import CATALOGUE
from soleware.runs.ingest import run_from_recordings
from soleware.runs.model import (
    STREAM_RESOLUTION,
    STRIDE_CODES,
    STRIDE_MISSING,
    STRIDE_RESOLUTION,
    Lap,
    Route,
    Run,
    RunDataError,
    Source,
)
from soleware.runs.pod import PodSamples, run_from_pod
from soleware.runs.splits import Split, lap_stats, splits
from soleware.runs.storage import AddResult
from soleware.server.bodies import json_body, openapi_json_body, save_upload
from soleware.server.columns import float_column, int_column, json_object, units_column
from soleware.server.deps import CurrentRunner, Store
from soleware.server.errors import Message, unprocessable
from soleware.server.routers.calibration import reference_out
from soleware.server.schemas import (
    UPLOADED_STRIDE,
    AwardOut,
    EffortOut,
    FootOut,
    LapOut,
    ManualRunIn,
    RecordChangeOut,
    RouteIn,
    RouteOut,
    RunDetail,
    RunItem,
    RunList,
    RunUpdate,
    RunUpload,
    SplitOut,
    StreamsOut,
    StrideColumnsOut,
    UploadResult,
)

router = APIRouter(prefix="/api/runs", tags=["runs"])
_BY_ID = {a.id: a for a in CATALOGUE}
MILE_M = 1609.344
_JSON = "application/json"


def award_out(award: Any, locale: str) -> AwardOut:
    a = _BY_ID.get(award.achievement_id)
    return AwardOut(
        achievement_id=award.achievement_id,
        run_id=award.run_id,
        earned_at=award.earned_at,
        period=award.period,
        name=a.name.get(locale, a.name["en"]) if a else award.achievement_id,
        description=a.description.get(locale, a.description["en"]) if a else "",
    )


def _result(res: AddResult, locale: str) -> UploadResult:
    return UploadResult(
        run_id=res.run_id,
        created=res.created,
        merged=res.merged,
        replaced=res.replaced,
        records=[
            RecordChangeOut(
                distance_m=c.record.distance_m,
                time_s=c.record.time_s,
                replaced_time_s=None if c.replaced is None else c.replaced.time_s,
            )
            for c in res.records
        ],
        awards=[award_out(a, locale) for a in res.awards],
    )


def store_run(
    store: Store, runner: CurrentRunner, run: Run, response: Response, *, replaces: str | None = None
) -> UploadResult:
    """Store a new run (see ``RunStore.store_run``): 201, or 200 when it was stored before."""
    res = store.store_run(runner.id, run, replaces=replaces)
    response.status_code = status.HTTP_201_CREATED if res.created else status.HTTP_200_OK
    return _result(res, runner.locale)


@router.post(
    "",
    response_model=UploadResult,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": UploadResult, "description": "already stored (a duplicate upload)"}},
    openapi_extra=openapi_json_body(RunUpload),
)
def upload_run(
    runner: CurrentRunner,  # before the body: a stranger is refused before it is read
    body: Annotated[RunUpload, Depends(json_body(RunUpload, items=("strides", UPLOADED_STRIDE)))],
    store: Store,
    response: Response,
    replaces: Annotated[
        str | None,
        Query(
            max_length=64,
            description="id of a run of yours this one takes the place of (the phone's live upload of the same "
            "outing, replaced by the shoes' log): deleted once this run is stored, in the same transaction. A "
            "refused upload leaves it; an id that is gone (the replacement sent again) or not yours is ignored.",
        ),
    ] = None,
) -> UploadResult:
    """A run synced from the shoes (strides of one or both feet) or recorded with a third-party pod (its samples
    and sensor); times in seconds from ``start_time``."""
    return store_run(store, runner, run_from_upload(body), response, replaces=replaces)


@router.post(
    "/manual",
    response_model=UploadResult,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": UploadResult, "description": "already stored (a run of that outing is there)"}},
)
def enter_run(
    runner: CurrentRunner,
    body: ManualRunIn,
    store: Store,
    response: Response,
    replaces: Annotated[
        str | None,
        Query(
            max_length=64,
            description="id of a run you entered by hand that this entry corrects (in one transaction); a run "
            "that is gone is ignored, a measured run refused",
        ),
    ] = None,
) -> UploadResult:
    """A run entered by hand: its start, distance and moving time (shoes left at home, a treadmill's reading)."""
    try:
        run = Run.manual(
            start_time=body.start_time,
            time_zone=body.time_zone,
            distance_m=body.distance_m,
            duration_s=body.duration_s,
            title=body.title,
            shoe_serials=body.shoe_serials,
        )
    except RunDataError as exc:
        raise unprocessable(str(exc)) from None
    return store_run(store, runner, run, response, replaces=replaces)


def run_from_upload(body: RunUpload) -> Run:
    """The run of a gateway upload (with the phone's route when it came with one), or a 422 saying why there
    is none."""
    route = route_from_upload(body.route)
    try:
        if body.samples is not None and body.sensor is not None:
            return run_from_pod(
                PodSamples.of(**body.samples.model_dump()),
                sensor=body.sensor.to_sensor(),
                start_time=body.start_time,
                time_zone=body.time_zone,
                title=body.title,
                laps=[Lap(**lap.model_dump()) for lap in body.laps],
                route=route,
            )
        assert body.strides is not None  # RunUpload takes exactly one of samples and strides
        return Run.from_strides(
            body.strides,  # already Stride (see schemas.UploadedStride)
            start_time=body.start_time,
            time_zone=body.time_zone,
            shoe_serials=body.shoe_serials,
            source=Source.SHOE.value,
            title=body.title,
            laps=[Lap(**lap.model_dump()) for lap in body.laps],
            route=route,
        )
    except (RunDataError, ValueError) as exc:
        raise unprocessable(str(exc)) from None


def route_from_upload(route: RouteIn | None) -> Route | None:
    """The domain's route of an upload's ``route``, or a 422 at ("body", "route") naming the bad fix."""
    if route is None:
        return None
    try:
        return route.to_route()
    except RunDataError as exc:
        raise unprocessable(str(exc), ("body", "route")) from None


@router.post(
    "/recording",
    response_model=UploadResult,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": UploadResult, "description": "already stored (a duplicate upload)"}},
)
async def upload_recording(
    runner: CurrentRunner,
    store: Store,
    response: Response,
    files: Annotated[
        list[UploadFile], File(description="one CSV per foot, each optionally with its JSON sidecar")
    ],
    start_time: Annotated[dt.datetime, Form()],
    time_zone: Annotated[str, Form(max_length=64)] = "UTC",
    title: Annotated[str, Form(max_length=200)] = "",
    shoe_serials: Annotated[list[str] | None, Form()] = None,
) -> UploadResult:
    """Raw IMU recordings (the dataset format) analysed here by the gait engine."""
    if start_time.tzinfo is None:
        raise unprocessable(
            "start_time needs a time zone offset, e.g. 2026-05-01T07:00:00+08:00", ("body", "start_time")
        )
    csvs = [f for f in files if (f.filename or "").lower().endswith(".csv")]
    if not csvs or len(csvs) > 2:
        raise unprocessable("send one or two .csv recordings (one per foot)", ("body", "files"))
    with tempfile.TemporaryDirectory(prefix="soleware-upload-") as tmp:
        paths = []
        for i, f in enumerate(files):
            name = Path(f.filename or f"file{i}").name
            if not name.lower().endswith((".csv", ".json")):
                raise unprocessable(f"{name}: expected .csv recordings and .json sidecars", ("body", "files"))
            await save_upload(f, Path(tmp) / name)
            if name.lower().endswith(".csv"):
                paths.append(Path(tmp) / name)
        try:
            run = await run_in_threadpool(
                lambda: run_from_recordings(
                    [load_recording(p) for p in paths],
                    start_time=start_time,
                    time_zone=time_zone,
                    shoe_serials=shoe_serials or (),
                    title=title,
                )
            )
        except (RecordingError, RunDataError, ValueError) as exc:
            raise unprocessable(str(exc).replace(tmp + "/", ""), ("body", "files")) from None
    return store_run(store, runner, run, response)


@router.get("", response_model=RunList)
def list_runs(
    runner: CurrentRunner,
    store: Store,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    source: Annotated[Source | None, Query()] = None,
    min_distance_m: Annotated[float | None, Query(ge=0)] = None,
    max_distance_m: Annotated[float | None, Query(ge=0)] = None,
) -> RunList:
    """Runs newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    for name, t in (("since", since), ("until", until)):
        if t is not None and t.tzinfo is None:
            raise unprocessable(f"{name} needs a time zone offset", ("query", name))
    try:
        page = store.list_runs(
            runner.id,
            limit=limit,
            cursor=cursor,
            since=since,
            until=until,
            source=None if source is None else source.value,
            min_distance_m=min_distance_m,
            max_distance_m=max_distance_m,
        )
    except RunDataError as exc:
        raise unprocessable(str(exc)) from None
    return RunList(
        runs=[RunItem.of(s, page.titles[s.run_id]) for s in page.runs], next_cursor=page.next_cursor
    )


def _split(s: Split) -> SplitOut:
    return SplitOut(
        index=s.index,
        distance_m=s.distance_m,
        time_s=s.moving_time_s,
        pace_s_per_km=s.pace_s_per_km,
        avg_cadence_spm=s.avg_cadence_spm,
    )


#: the fields of a run's page written by ``columns`` rather than by pydantic: its last two
_PAGE_TAIL = ("streams", "route")
_NO_STREAMS = StreamsOut(**{k: [] for k in StreamsOut.model_fields})
_STRIDE_NAMES = {f"{k}_names": to_json([str(x) for x in names]) for k, names in STRIDE_CODES.items()}


@router.get("/{run_id}", response_model=RunDetail, responses={404: {"model": Message}})
def run_detail(run_id: str, runner: CurrentRunner, store: Store) -> Response:
    # RunDetail's JSON, its streams (~30,000 numbers) written straight from their arrays (no docstring: it would
    # become the API's description)
    view, ref = store.run_view_and_reference(runner.id, run_id)
    run, summary, title = view.run, view.summary, view.title
    st = run.streams
    page = RunDetail(
        **RunItem.of(summary, title).model_dump(),
        raw_distance_m=run.raw_distance_m,
        calibration_factor=run.calibration_factor,
        reference=None if ref is None else reference_out(ref),
        pauses=run.pauses,
        laps=[lap.to_dict() for lap in run.laps],
        lap_splits=[LapOut(**_split(s).model_dump(), name=s.name) for s in lap_stats(run)],
        splits_km=[_split(s) for s in splits(run, unit_m=1000.0)],
        splits_mile=[_split(s) for s in splits(run, unit_m=MILE_M)],
        efforts=[EffortOut(**e.to_dict()) for e in summary.efforts],
        feet=[FootOut.model_validate(f, from_attributes=True) for f in view.feet],
        cut_short=run.cut_short,
        streams=_NO_STREAMS,  # written below
    )
    head = page.model_dump_json(exclude=set(_PAGE_TAIL)).encode()
    streams = json_object(
        {k: float_column(getattr(st, k), STREAM_RESOLUTION[k]) for k in StreamsOut.model_fields}
    )
    route = b"null" if run.route is None else RouteOut.of(run.route).model_dump_json().encode()
    return Response(head[:-1] + b',"streams":' + streams + b',"route":' + route + b"}", media_type=_JSON)


@router.get("/{run_id}/strides", response_model=StrideColumnsOut, responses={404: {"model": Message}})
def run_strides(run_id: str, runner: CurrentRunner, store: Store) -> Response:
    """Every stride of a run as compact columns (empty for a run imported without strides)."""
    # written as the StrideColumnsOut would be, straight from the stored integers (~100,000 numbers)
    units = store.stride_units(runner.id, run_id)
    if units is not None:
        floats = {k: units_column(units[k], r, missing=STRIDE_MISSING) for k, r in STRIDE_RESOLUTION.items()}
        codes = units
    else:  # stored as floats
        codes = store.stride_columns(runner.id, run_id)
        floats = {k: float_column(codes[k], r) for k, r in STRIDE_RESOLUTION.items()}
    fields = {
        k: _STRIDE_NAMES[k]
        if k in _STRIDE_NAMES
        else int_column(codes[k])
        if k in STRIDE_CODES or k == "estimated"
        else floats[k]
        for k in StrideColumnsOut.model_fields
    }
    return Response(json_object(fields), media_type=_JSON)


@router.patch("/{run_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Message}})
def rename_run(run_id: str, body: RunUpdate, runner: CurrentRunner, store: Store) -> Response:
    store.rename_run(runner.id, run_id, body.title)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{run_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Message}})
def delete_run(run_id: str, runner: CurrentRunner, store: Store) -> Response:
    shoe = store.reference_shoe(runner.id, run_id)
    store.delete_run(runner.id, run_id)
    if shoe is not None:  # the run was a reference (deleted with it): its shoe's factor without it
        store.relearn(runner.id, shoe)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
