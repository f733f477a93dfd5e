"""Each runner's distance calibration per shoe: the references they marked and the factor learned from them.

The factor is relearned whenever a reference is set, removed or reset, and kept in ``calibrations``; a new run of
a shoe reads that one row (``calibrate``). A run is calibrated once, when it is stored, and keeps its raw distance
beside: a later change of the factor (more references, a reset) applies to runs stored after it, not to the
history, so records and totals never shift under the runner (they see both figures on each run).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from numpy.typing import ArrayLike
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from soleware.runs.calibration import (
    SPEED_BANDS_MPS,
    CalibrationEstimator,
    Reference,
    ReferenceKind,
    calibrate_run,
    gps_reference,
    gps_segments,
    marker_reference,
    reference_distance_m,
    shoe_key,
)
from soleware.runs.model import Lap, Route, Run, RunDataError, Sensor, Source
from soleware.runs.storage._base import NotFound, StoreBase, _aware
from soleware.runs.storage.db import CalibrationReferenceRow, CalibrationRow, RunRow
from soleware.runs.storage.runs import unpack_streams

__all__ = ["CALIBRATED_SOURCES", "CalibrationStore", "ReferenceInfo", "ShoeCalibration"]

#: a run's reference (read on every run page: a plain statement, built once)
_REFERENCE_OF = sa.select(
    CalibrationReferenceRow.run_id,
    CalibrationReferenceRow.runner_id,
    CalibrationReferenceRow.kind,
    CalibrationReferenceRow.reference_m,
    CalibrationReferenceRow.raw_m,
    CalibrationReferenceRow.speed_mps,
    CalibrationReferenceRow.start_time,
    CalibrationReferenceRow.active,
).where(CalibrationReferenceRow.run_id == sa.bindparam("run_id"))

#: runs measured by our shoes (the others come from devices with their own calibration, or GPS)
CALIBRATED_SOURCES = frozenset({Source.SHOE.value, Source.RECORDING.value, "pod"})


@dataclasses.dataclass(frozen=True, slots=True)
class ReferenceInfo:
    """A reference as the runner sees it: what they told, what the shoes measured, and whether it counts."""

    run_id: str
    kind: str
    reference_m: float
    raw_m: float
    speed_mps: float
    start_time: dt.datetime
    active: bool
    accepted: bool
    #: why it does not count: "implausible", "disagrees", "unconfirmed", "reset"; None when it counts
    reason: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ShoeCalibration:
    """The calibration of one shoe: the factor applied to new runs and the references it was learned from."""

    shoe: str
    factor: float
    band_factors: dict[float, float]
    n_agreeing: int
    min_agreeing: int
    references: list[ReferenceInfo]


def _row_shoe(run: RunRow) -> str:
    sensor = run.summary.get("sensor")
    return shoe_key([str(x) for x in run.shoe_serials], Sensor.from_dict(sensor) if sensor else None)


def _reference(row: CalibrationReferenceRow) -> Reference:
    return Reference(
        kind=ReferenceKind(row.kind),
        reference_m=row.reference_m,
        raw_m=row.raw_m,
        speed_mps=row.speed_mps,
        time=_aware(row.start_time),
        shoe=row.shoe,
        run_id=row.run_id,
        sigma=row.sigma,
    )


class CalibrationStore(StoreBase):
    """References and learned factors per runner and shoe."""

    def calibrate(self, runner_id: str, run: Run) -> Run:
        """A new run with its shoe's factor applied (the run unchanged when there is none, or when it came from
        another device); its raw distance stays readable as ``run.raw_distance_m``."""
        if run.source not in CALIBRATED_SOURCES:
            return run
        with self._tx(write=False) as s:
            row = s.get(CalibrationRow, (runner_id, shoe_key(run.shoe_serials, run.sensor)))
        if row is None or (row.factor == 1.0 and not row.band_factors):
            return run
        factor = row.factor
        if row.band_factors and run.moving_time_s > 0:
            speed = run.distance_m / run.moving_time_s
            edge = max((e for e in SPEED_BANDS_MPS if e <= speed), default=SPEED_BANDS_MPS[0])
            factor = float(row.band_factors.get(repr(edge), factor))
        return calibrate_run(run, factor)

    def set_reference(
        self,
        runner_id: str,
        run_id: str,
        kind: ReferenceKind,
        *,
        distance_m: float | None = None,
        laps: float | None = None,
        marker_m: float | None = None,
    ) -> None:
        """Mark a run as having had a known distance (replacing what it had), and relearn its shoe's factor.

        ``kind`` MARKERS takes ``marker_m``, how far apart the markers were that the run's laps were pressed at
        (see ``marker_reference``); the others a distance, or a track's ``laps``."""
        if (kind is ReferenceKind.MARKERS) != (marker_m is not None):
            raise RunDataError("markers need how far apart they stand (marker_m), and only markers do")
        reference_m = (
            0.0 if marker_m is not None else reference_distance_m(kind, distance_m=distance_m, laps=laps)
        )
        with self._tx() as s:
            self._lock_state(s, runner_id)
            run = s.get(RunRow, run_id)
            if run is None or run.runner_id != runner_id:
                raise NotFound("no such run")
            if run.source not in CALIBRATED_SOURCES:
                raise RunDataError("only runs measured by the shoes can calibrate them")
            raw_m = run.raw_distance_m if run.raw_distance_m is not None else run.distance_m
            moving_s = run.moving_time_s
            if marker_m is not None:
                pauses = [(float(a), float(b)) for a, b in run.pauses]
                reference_m, raw_m, moving_s = marker_reference(
                    [Lap.from_dict(lap) for lap in run.laps],
                    unpack_streams(run.streams, run.strides, elapsed_s=run.elapsed_time_s, pauses=pauses),
                    pauses,
                    marker_m=marker_m,
                    calibration_factor=run.calibration_factor,
                )
            if raw_m <= 0 or moving_s <= 0:
                raise RunDataError("this run has no distance to calibrate against")
            shoe = _row_shoe(run)
            ref = s.get(CalibrationReferenceRow, run_id)
            if ref is None:
                ref = CalibrationReferenceRow(run_id=run_id, runner_id=runner_id)
                s.add(ref)
            ref.shoe = shoe
            ref.kind = kind.value
            ref.reference_m = reference_m
            ref.raw_m = raw_m
            ref.speed_mps = raw_m / moving_s
            ref.sigma = None
            ref.start_time = _aware(run.start_time)
            ref.active = True
            s.flush()
            self._relearn(s, runner_id, shoe)

    def add_gps_reference(
        self,
        runner_id: str,
        run_id: str,
        *,
        t_s: ArrayLike,
        lat_deg: ArrayLike,
        lon_deg: ArrayLike,
        accuracy_m: ArrayLike,
    ) -> bool:
        """Learn from the straight stretches of the phone's track of a stored run (see ``gps_segments``), unless
        the runner gave the run's distance themselves. Whether the run became a reference."""
        with self._tx() as s:
            self._lock_state(s, runner_id)
            run = s.get(RunRow, run_id)
            if run is None or run.runner_id != runner_id:
                raise NotFound("no such run")
            return self._gps_reference(s, runner_id, run, t_s, lat_deg, lon_deg, accuracy_m)

    def learn_from_route(self, runner_id: str, run_id: str) -> bool:
        """``add_gps_reference`` with the run's stored route (a new upload's); False without one, or without
        accuracies (a watch's file), or without a straight stretch of good fixes."""
        with self._tx() as s:
            self._lock_state(s, runner_id)
            run = s.get(RunRow, run_id)
            if run is None or run.runner_id != runner_id:
                raise NotFound("no such run")
            if not run.route:
                return False
            route = Route.from_bytes(run.route)
            if route.accuracy_m is None:
                return False
            return self._gps_reference(
                s, runner_id, run, route.t_s, route.lat_deg, route.lon_deg, route.accuracy_m
            )

    def _gps_reference(
        self,
        s: Session,
        runner_id: str,
        run: RunRow,
        t_s: ArrayLike,
        lat_deg: ArrayLike,
        lon_deg: ArrayLike,
        accuracy_m: ArrayLike,
    ) -> bool:
        ref = s.get(CalibrationReferenceRow, run.id)
        if run.source not in CALIBRATED_SOURCES or (ref is not None and ref.kind != ReferenceKind.GPS.value):
            return False
        pauses = [(float(a), float(b)) for a, b in run.pauses]
        st = unpack_streams(run.streams, run.strides, elapsed_s=run.elapsed_time_s, pauses=pauses)
        segments = gps_segments(
            t_s, lat_deg, lon_deg, accuracy_m, st.t_s, st.distance_m / run.calibration_factor
        )
        shoe = _row_shoe(run)
        gps = gps_reference(segments, time=_aware(run.start_time), shoe=shoe, run_id=run.id)
        if gps is None:
            return False
        if ref is None:
            ref = CalibrationReferenceRow(run_id=run.id, runner_id=runner_id)
            s.add(ref)
        ref.shoe = shoe
        ref.kind = gps.kind.value
        ref.reference_m = gps.reference_m
        ref.raw_m = gps.raw_m
        ref.speed_mps = gps.speed_mps
        ref.sigma = gps.sigma
        ref.start_time = gps.time
        ref.active = True
        s.flush()
        self._relearn(s, runner_id, shoe)
        return True

    def clear_reference(self, runner_id: str, run_id: str) -> None:
        """Unmark a run; its shoe's factor is relearned without it."""
        with self._tx() as s:
            self._lock_state(s, runner_id)
            ref = s.get(CalibrationReferenceRow, run_id)
            if ref is None or ref.runner_id != runner_id:
                raise NotFound("this run is not a reference")
            shoe = ref.shoe
            s.delete(ref)
            s.flush()
            self._relearn(s, runner_id, shoe)

    def reset_calibration(self, runner_id: str, shoe: str) -> None:
        """Back to factor 1.0 for the shoe's future runs: its references stay listed but no longer count."""
        with self._tx() as s:
            self._lock_state(s, runner_id)
            refs = s.scalars(
                sa.select(CalibrationReferenceRow).where(
                    CalibrationReferenceRow.runner_id == runner_id, CalibrationReferenceRow.shoe == shoe
                )
            ).all()
            row = s.get(CalibrationRow, (runner_id, shoe))
            if row is None and not refs:
                raise NotFound("no calibration for this shoe")
            for ref in refs:
                ref.active = False
            s.flush()
            self._relearn(s, runner_id, shoe)

    def calibration(self, runner_id: str) -> list[ShoeCalibration]:
        """Every shoe with references or a factor: the factor and each reference, accepted or why not."""
        with self._tx(write=False) as s:
            rows = s.scalars(sa.select(CalibrationRow).where(CalibrationRow.runner_id == runner_id)).all()
            refs = s.scalars(
                sa.select(CalibrationReferenceRow)
                .where(CalibrationReferenceRow.runner_id == runner_id)
                .order_by(CalibrationReferenceRow.start_time.desc())
            ).all()
        shoes = sorted({r.shoe for r in rows} | {r.shoe for r in refs})
        out = []
        for shoe in shoes:
            mine = [r for r in refs if r.shoe == shoe]
            active = [r for r in mine if r.active]
            est = CalibrationEstimator().estimate([_reference(r) for r in active])
            verdict = {
                r.run_id: (a, why) for r, a, why in zip(active, est.accepted_, est.reasons_, strict=True)
            }
            out.append(
                ShoeCalibration(
                    shoe=shoe,
                    factor=est.factor_,
                    band_factors=dict(est.band_factors_),
                    n_agreeing=est.n_agreeing_,
                    min_agreeing=est.min_agreeing,
                    references=[
                        ReferenceInfo(
                            run_id=r.run_id,
                            kind=r.kind,
                            reference_m=r.reference_m,
                            raw_m=r.raw_m,
                            speed_mps=r.speed_mps,
                            start_time=_aware(r.start_time),
                            active=r.active,
                            accepted=verdict.get(r.run_id, (False, None))[0],
                            reason=verdict[r.run_id][1] if r.run_id in verdict else "reset",
                        )
                        for r in mine
                    ],
                )
            )
        return out

    def reference_of(self, runner_id: str, run_id: str) -> ReferenceInfo | None:
        """The run's reference, if it is one (verdict not computed: ``accepted`` is whether it is active)."""
        with self._read() as conn:
            return self._reference_of(conn, runner_id, run_id)

    @staticmethod
    def _reference_of(conn: Connection, runner_id: str, run_id: str) -> ReferenceInfo | None:
        r = conn.execute(_REFERENCE_OF, {"run_id": run_id}).one_or_none()
        if r is None or r.runner_id != runner_id:
            return None
        return ReferenceInfo(
            run_id=r.run_id,
            kind=r.kind,
            reference_m=r.reference_m,
            raw_m=r.raw_m,
            speed_mps=r.speed_mps,
            start_time=_aware(r.start_time),
            active=r.active,
            accepted=r.active,
            reason=None if r.active else "reset",
        )

    def reference_shoe(self, runner_id: str, run_id: str) -> str | None:
        """The shoe whose calibration the run is a reference of, if it is one."""
        with self._tx(write=False) as s:
            ref = s.get(CalibrationReferenceRow, run_id)
            return ref.shoe if ref is not None and ref.runner_id == runner_id else None

    def relearn(self, runner_id: str, shoe: str) -> None:
        """Learn the shoe's factor again from its references (after a reference run was deleted)."""
        with self._tx() as s:
            self._lock_state(s, runner_id)
            self._relearn(s, runner_id, shoe)

    @staticmethod
    def _relearn(s: Session, runner_id: str, shoe: str) -> None:
        refs = s.scalars(
            sa.select(CalibrationReferenceRow).where(
                CalibrationReferenceRow.runner_id == runner_id,
                CalibrationReferenceRow.shoe == shoe,
                CalibrationReferenceRow.active.is_(True),
            )
        ).all()
        est = CalibrationEstimator().estimate([_reference(r) for r in refs])
        row = s.get(CalibrationRow, (runner_id, shoe))
        if row is None:
            row = CalibrationRow(runner_id=runner_id, shoe=shoe)
            s.add(row)
        row.factor = est.factor_
        row.band_factors = {repr(k): v for k, v in est.band_factors_.items()}
        row.n_agreeing = est.n_agreeing_
        row.updated_at = dt.datetime.now(dt.UTC)
