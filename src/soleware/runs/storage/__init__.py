"""Storage of the run service: SQLAlchemy tables, Alembic migrations, and one store per aggregate.

``RunStore`` is the run service's view of one database: accounts (`AccountStore`), runs with the records and
achievements derived from them (`RunHistory`), shoes (`ShoeStore`), progress from aggregates kept on write
(`ProgressStore`), live state (`LiveStore`), refused uploads (`RefusedUploadStore`) and
each runner's distance calibration (`CalibrationStore`), each in its module beside
this one over the same engine and transactions.
"""

from soleware.runs.storage._base import NotFound
from soleware.runs.storage.accounts import AccountError, AccountExists, AccountStore, AuthError, RunnerInfo
from soleware.runs.storage.calibration import CalibrationStore, ReferenceInfo, ShoeCalibration
from soleware.runs.storage.db import make_engine
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
