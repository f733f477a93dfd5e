"""Tables and engines: where a runner's data lives (SQLAlchemy 2; SQLite by default, PostgreSQL in production).

The schema is changed only through Alembic migrations (``soleware/runs/migrations``); these classes describe the
head revision and tests check the two agree. Runs keep their strides and streams as compact binary blobs (see
``pack_strides`` and ``Streams.to_bytes``; a shoe run's streams are not stored but computed from its strides),
not a row per sample. Per-runner derived state (personal records and
achievements) is cached in ``runner_state`` and updated in the same transaction as the run that changes it.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

__all__ = [
    "AccessToken",
    "Base",
    "CalibrationReferenceRow",
    "CalibrationRow",
    "LiveSession",
    "PeriodTotalRow",
    "RefusedUpload",
    "RunRow",
    "Runner",
    "RunnerState",
    "Shoe",
    "ShoeTotalRow",
    "SignInThrottle",
    "default_database_url",
    "make_engine",
    "make_sessionmaker",
    "reading",
]

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: sa.DateTime(timezone=True), dict[str, Any]: _JSON}


class Runner(Base):
    """An account."""

    __tablename__ = "runners"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    #: what the runner wants to see: "metric" (km) or "imperial" (miles); storage is SI regardless
    units: Mapped[str] = mapped_column(sa.String(8), default="metric", server_default="metric")
    weekly_goal_m: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    race_goal_m: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    race_goal_date: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)


class AccessToken(Base):
    """A bearer token; only its SHA-256 is stored, so a database leak does not leak sessions."""

    __tablename__ = "access_tokens"
    token_sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    expires_at: Mapped[dt.datetime]


class Shoe(Base):
    """A shoe sensor registered to a runner by its serial (left and right shoes are two rows of one pair)."""

    __tablename__ = "shoes"
    __table_args__ = (sa.UniqueConstraint("runner_id", "serial", name="uq_shoes_runner_serial"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"), index=True)
    serial: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    side: Mapped[str] = mapped_column(sa.String(8), default="unknown")
    retire_at_m: Mapped[float] = mapped_column(sa.Float, default=700_000.0)
    initial_m: Mapped[float] = mapped_column(sa.Float, default=0.0)
    retired: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)


class RunRow(Base):
    """One run. ``fingerprint`` (see ``Run.fingerprint``) is unique per runner: a run is stored once."""

    __tablename__ = "runs"
    __table_args__ = (
        sa.UniqueConstraint("runner_id", "fingerprint", name="uq_runs_runner_fingerprint"),
        sa.Index("ix_runs_runner_start", "runner_id", "start_time", "id"),
        # covering indexes (migration 0006): progress and achievements read these without the blob-laden rows
        sa.Index("ix_runs_runner_load", "runner_id", "start_time", "id", "training_load"),
        sa.Index("ix_runs_runner_packed", "runner_id", "start_time", "summary_packed"),
        # covering index (migration 0009): the facts records and achievements are computed from, in one read
        sa.Index("ix_runs_runner_facts", "runner_id", "start_time", "id", "time_zone", "facts", "efforts"),
    )
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(sa.String(40))
    start_time: Mapped[dt.datetime]
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    distance_m: Mapped[float] = mapped_column(sa.Float)
    elapsed_time_s: Mapped[float] = mapped_column(sa.Float)
    moving_time_s: Mapped[float] = mapped_column(sa.Float)
    source: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    shoe_serials: Mapped[dict[str, Any]] = mapped_column(_JSON, default=list)
    #: RunSummary.to_dict(): what records, achievements and progress need, without the blobs
    summary: Mapped[dict[str, Any]] = mapped_column(_JSON)
    laps: Mapped[list[dict[str, Any]]] = mapped_column(_JSON, default=list)
    pauses: Mapped[list[list[float]]] = mapped_column(_JSON, default=list)
    #: ``pack_strides`` (version 3: columns at the shoe's resolution, Zstandard; version 2, LZMA, still read)
    strides: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: ``Streams.to_bytes``, or empty when the streams are those of the stored strides (``stride_streams``)
    streams: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: ``pack_summary(summary)``: the same summary, read several times faster (history-wide paths use it)
    summary_packed: Mapped[bytes] = mapped_column(sa.LargeBinary, default=b"", server_default=sa.text("''"))
    #: the run's training load (``TrainingLoad.run_load_``: against the threshold standing at the run)
    training_load: Mapped[float] = mapped_column(sa.Float, default=0.0, server_default=sa.text("0"))
    #: ``Run.feet()`` as FootSummary.to_dict() per foot, so a run's page need not read its strides
    feet: Mapped[list[dict[str, Any]]] = mapped_column(_JSON, default=list, server_default=sa.text("'[]'"))
    #: the distance as the shoes measured it, before the runner's calibration (``distance_m`` is after it)
    raw_distance_m: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: the calibration factor applied when the run was stored (1.0: none); later changes do not touch the run
    calibration_factor: Mapped[float] = mapped_column(sa.Float, default=1.0, server_default=sa.text("1"))
    #: ``Route.to_bytes``: the phone's position fixes, or empty when the run has no route
    route: Mapped[bytes] = mapped_column(sa.LargeBinary, default=b"", server_default=sa.text("''"))
    #: ``Run.cut_short``: read from a file cut short, so the run stops where the file does (migration 0011)
    cut_short: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    #: ``pack_facts(summary)`` and ``pack_efforts(summary.efforts)``: what records and achievements are computed
    #: from (``soleware.runs.facts``)
    facts: Mapped[bytes] = mapped_column(sa.LargeBinary, default=b"", server_default=sa.text("''"))
    efforts: Mapped[bytes] = mapped_column(sa.LargeBinary, default=b"", server_default=sa.text("''"))


class RunnerState(Base):
    """Cached derived state of a runner (records, achievements), updated with every change of their runs."""

    __tablename__ = "runner_state"
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"), primary_key=True)
    records: Mapped[dict[str, Any]] = mapped_column(_JSON)
    achievements: Mapped[dict[str, Any]] = mapped_column(_JSON)
    version: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: the typical speed of every form fit of every run (``form_speeds``), sorted, float64: the form trends'
    #: reference speed is their median
    form_speeds: Mapped[bytes] = mapped_column(sa.LargeBinary, default=b"", server_default=sa.text("''"))


class PeriodTotalRow(Base):
    """Distance, time and runs of one runner per local week, month and year (in the runner's time zone, weeks
    from Monday), kept with every change of their runs; sums in whole micrometres and microseconds, exact in any
    order."""

    __tablename__ = "period_totals"
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    period_start: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    distance_um: Mapped[int] = mapped_column(sa.BigInteger)
    moving_time_us: Mapped[int] = mapped_column(sa.BigInteger)
    elapsed_time_us: Mapped[int] = mapped_column(sa.BigInteger)
    runs: Mapped[int] = mapped_column(sa.Integer)


class ShoeTotalRow(Base):
    """Mileage of one shoe serial from the runner's runs, kept with every change of their runs."""

    __tablename__ = "shoe_totals"
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"), primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    distance_um: Mapped[int] = mapped_column(sa.BigInteger)
    runs: Mapped[int] = mapped_column(sa.Integer)
    first_run: Mapped[dt.datetime]
    last_run: Mapped[dt.datetime]


class LiveSession(Base):
    """The latest live values of a runner's run in progress (so a page opened mid-run shows them at once)."""

    __tablename__ = "live_sessions"
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"), primary_key=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    state: Mapped[dict[str, Any]] = mapped_column(_JSON)


class SignInThrottle(Base):
    """Sign-in attempts counted per client address, per account and per known-good (account, address) pair
    (see ``soleware.runs.storage.throttle``); keys are SHA-256 hashes, so the table holds no e-mail or address."""

    __tablename__ = "sign_in_throttle"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_at: Mapped[dt.datetime]
    #: the row is forgotten after this (failures a window after the last one; a good address after months)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class RefusedUpload(Base):
    """An upload the service refused, kept as sent so the runner can see why and send it again.

    ``key`` is the sender's name for it (the gateway's: the shoes' serials and run ids), unique per runner, so
    telling the service twice keeps one. ``replaces`` is the run it was to take the place of (see
    ``RunHistory.add_run``), if any. Once sent again and stored, ``run_id`` names the run.
    """

    __tablename__ = "refused_uploads"
    __table_args__ = (sa.UniqueConstraint("runner_id", "key", name="uq_refused_uploads_runner_key"),)
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[dict[str, Any]] = mapped_column(_JSON)
    reason: Mapped[str] = mapped_column(sa.Text)
    replaces: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    refused_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    run_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    stored_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class CalibrationReferenceRow(Base):
    """A run whose true distance the runner told us (or the phone's GPS showed): one per run.

    ``raw_m`` is the shoes' distance over it before calibration; ``active`` is false once the runner reset the
    calibration of its shoe (the reference stays, for the record, but no longer counts).
    """

    __tablename__ = "calibration_references"
    __table_args__ = (sa.Index("ix_calibration_references_runner_shoe", "runner_id", "shoe"),)
    run_id: Mapped[str] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"))
    shoe: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    reference_m: Mapped[float] = mapped_column(sa.Float)
    raw_m: Mapped[float] = mapped_column(sa.Float)
    speed_mps: Mapped[float] = mapped_column(sa.Float)
    #: the reference's own relative error when known (GPS fit); else the kind's
    sigma: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    start_time: Mapped[dt.datetime]
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)


class CalibrationRow(Base):
    """The factor learned for one runner and shoe, kept with every change of its references."""

    __tablename__ = "calibrations"
    runner_id: Mapped[str] = mapped_column(sa.ForeignKey("runners.id", ondelete="CASCADE"), primary_key=True)
    shoe: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    factor: Mapped[float] = mapped_column(sa.Float)
    #: speed band lower edge (m/s, as text) to factor, for bands with enough references of their own
    band_factors: Mapped[dict[str, Any]] = mapped_column(_JSON)
    n_agreeing: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)


def default_database_url() -> str:
    """SQLite in the user's data directory (created if missing)."""
    path = Path(platformdirs.user_data_dir("soleware", appauthor=False)) / "soleware.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see _sqlite_begin
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


_WRITING: contextvars.ContextVar[bool] = contextvars.ContextVar("soleware_writing", default=True)


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read: on SQLite they do not take the write lock (WAL lets them run
    beside a writer)."""
    token = _WRITING.set(False)
    try:
        yield
    finally:
        _WRITING.reset(token)


def _sqlite_begin(conn: Any) -> None:
    # A writer takes the write lock at BEGIN (IMMEDIATE): two writers queue instead of one failing when it
    # upgrades from reading; a reader begins a plain deferred transaction and never waits for writers.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITING.get() else "BEGIN")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: SQLite in the data directory), set up for concurrent use.

    SQLite gets WAL, foreign keys, a busy timeout and write transactions that take the lock at BEGIN.
    """
    url = url or default_database_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
