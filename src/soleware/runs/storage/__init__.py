"""Storage of the run service: SQLAlchemy tables, Alembic migrations, and one store per aggregate.

``RunStore`` is the run service's view of one database: accounts (`AccountStore`), runs with the records and
achievements derived from them (`RunHistory`), shoes (`ShoeStore`), progress from aggregates kept on write
(`ProgressStore`), live state (`LiveStore`), refused uploads (`RefusedUploadStore`) and
each runner's distance calibration (`CalibrationStore`), each in its module beside
this one over the same engine and transactions.
"""

import contextlib

import sqlalchemy as sa

from soleware.runs.calibration import TRACK_LAP_M, ReferenceKind, shoe_key
from soleware.runs.model import Run, RunDataError
from soleware.runs.storage._base import NotFound
from soleware.runs.storage.accounts import AccountError, AccountExists, AccountStore, AuthError, RunnerInfo
from soleware.runs.storage.calibration import CalibrationStore, ReferenceInfo, ShoeCalibration
from soleware.runs.storage.db import CalibrationReferenceRow, RunRow, make_engine
from soleware.runs.storage.live import LiveStore
from soleware.runs.storage.progress import ProgressStore, ProgressView
from soleware.runs.storage.refused import RefusedUploadInfo, RefusedUploadStore
from soleware.runs.storage.runs import AddResult, RunHistory, RunPage, RunView
from soleware.runs.storage.shoes import ShoeInfo, ShoeStore

__all__ = [
    "AccountError",
    "AccountExists",
    "AccountStore",
    "AddResult",
    "AuthError",
    "CalibrationStore",
    "LiveStore",
    "NotFound",
    "ProgressStore",
    "ProgressView",
    "RefusedUploadInfo",
    "RefusedUploadStore",
    "ReferenceInfo",
    "RunHistory",
    "RunPage",
    "RunStore",
    "RunView",
    "RunnerInfo",
    "ShoeCalibration",
    "ShoeInfo",
    "ShoeStore",
    "make_engine",
]


class RunStore(
    AccountStore, RunHistory, ShoeStore, ProgressStore, LiveStore, RefusedUploadStore, CalibrationStore
):
    """Every aggregate of the run service over one database (``make_engine``; migrate it first)."""

    def run_view_and_reference(self, runner_id: str, run_id: str) -> tuple[RunView, ReferenceInfo | None]:
        """What a run's page shows: ``run_view`` and ``reference_of``, read in one transaction."""
        with self._read() as conn:
            row = self._view_row(conn, runner_id, run_id)
            reference = self._reference_of(conn, runner_id, run_id)
        return self._view(row), reference

    def store_run(self, runner_id: str, run: Run, *, replaces: str | None = None) -> AddResult:
        """Store a new run as the run service does: with the runner's calibration of its shoe applied (raw
        distance kept beside), in place of the run ``replaces`` names if that is theirs (see ``add_run``), and
        the straight stretches of its route, if the phone recorded one, a reference for later runs.

        What the runner gave the replaced run goes to the new one: its title (unless the new run has one) and
        the distance they said it had (a track, a treadmill, a course, its markers); the shoe it calibrated learns
        again.
        """
        old = None
        if replaces is not None:
            ref = CalibrationReferenceRow
            with self._read() as conn:  # its title, and the reference it is (if any), in one read
                old = conn.execute(
                    sa.select(RunRow.title, RunRow.laps, ref.shoe, ref.kind, ref.reference_m, ref.active)
                    .outerjoin(ref, ref.run_id == RunRow.id)
                    .where(RunRow.id == replaces, RunRow.runner_id == runner_id)
                ).one_or_none()
        res = self.add_run(runner_id, self.calibrate(runner_id, run), replaces=replaces)
        if res.replaced and old is not None:
            carried = False
            if res.created and old.title and not run.title.strip():
                self.rename_run(runner_id, res.run_id, old.title)
            if res.created and old.kind is not None and old.active and old.kind != ReferenceKind.GPS:
                kind = ReferenceKind(old.kind)
                laps = old.reference_m / TRACK_LAP_M if kind is ReferenceKind.TRACK else None
                # markers: as far apart as on the replaced run (one per lap but its last), counted again over the
                # new run's own laps
                marker_m = (
                    old.reference_m / max(1, len(old.laps) - 1) if kind is ReferenceKind.MARKERS else None
                )
                with contextlib.suppress(RunDataError):  # the new run cannot be one (no distance): as deleted
                    self.set_reference(  # relearns the new run's shoe
                        runner_id,
                        res.run_id,
                        kind,
                        distance_m=None if laps is not None or marker_m is not None else old.reference_m,
                        laps=laps,
                        marker_m=marker_m,
                    )
                    carried = shoe_key(run.shoe_serials, run.sensor) == old.shoe
            if old.shoe is not None and not carried:  # the replaced run was a reference, deleted with it
                self.relearn(runner_id, old.shoe)
        if res.created and run.route is not None:
            self.learn_from_route(runner_id, res.run_id)
        return res
