"""Calibration: mark a run as having had a known distance, see each shoe's factor, reset it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from soleware.runs.calibration import ReferenceKind
from soleware.runs.storage import ReferenceInfo
from soleware.server.deps import CurrentRunner, Store
from soleware.server.errors import Message
from soleware.server.schemas import CalibrationOut, ReferenceIn, ReferenceOut, ShoeCalibrationOut

router = APIRouter(prefix="/api", tags=["calibration"])


def reference_out(r: ReferenceInfo) -> ReferenceOut:
    return ReferenceOut(
        run_id=r.run_id,
        kind=r.kind,
        reference_m=r.reference_m,
        raw_m=r.raw_m,
        speed_mps=r.speed_mps,
        start_time=r.start_time,
        accepted=r.accepted,
        reason=r.reason,
    )


@router.put(
    "/runs/{run_id}/reference", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Message}}
)
def set_reference(run_id: str, body: ReferenceIn, runner: CurrentRunner, store: Store) -> Response:
    """This run had a known distance: a track (laps of 400 m in lane 1, or metres), a treadmill's reading, a
    measured course, or a course's markers the runner pressed Lap at (``marker_m`` apart: the run up to its last
    lap but one). The shoe's factor is relearned; it applies to runs stored from now on."""
    store.set_reference(
        runner.id,
        run_id,
        ReferenceKind(body.kind),
        distance_m=body.distance_m,
        laps=body.laps,
        marker_m=body.marker_m,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/runs/{run_id}/reference", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Message}}
)
def clear_reference(run_id: str, runner: CurrentRunner, store: Store) -> Response:
    """The run no longer counts as a reference."""
    store.clear_reference(runner.id, run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/calibration", response_model=CalibrationOut)
def calibration(runner: CurrentRunner, store: Store) -> CalibrationOut:
    """Each shoe's factor and the references it was learned from (accepted, or why not)."""
    return CalibrationOut(
        shoes=[
            ShoeCalibrationOut(
                shoe=c.shoe,
                factor=c.factor,
                band_factors={repr(k): v for k, v in c.band_factors.items()},
                n_agreeing=c.n_agreeing,
                min_agreeing=c.min_agreeing,
                references=[reference_out(r) for r in c.references],
            )
            for c in store.calibration(runner.id)
        ]
    )


@router.delete("/calibration", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Message}})
def reset_calibration(
    runner: CurrentRunner, store: Store, shoe: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """Back to factor 1.0 for the shoe's future runs (its references stay listed but stop counting)."""
    store.reset_calibration(runner.id, shoe)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
