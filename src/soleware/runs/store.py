"""The runner's data on a database: accounts, runs, records, achievements, progress, shoes, live state.

Every operation is one transaction. Adding or deleting a run updates the cached records and achievements in the
same transaction, under a lock on the runner's state row (``SELECT … FOR UPDATE`` on PostgreSQL, the database
write lock on SQLite), so concurrent uploads of one run store it once and derived state never misses a run.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from soleware.runs import accounts
from soleware.runs.accounts import AccountError, AccountExists, AuthError
from soleware.runs.achievements import Achievements, Award
from soleware.runs.db import (
    AccessToken,
    LiveSession,
    RefusedUpload,
    Runner,
    RunnerState,
    RunRow,
    Shoe,
    make_sessionmaker,
    reading,
)
from soleware.runs.model import (
    Lap,
    Run,
    RunDataError,
    RunSummary,
    Source,
    Streams,
    Stride,
    pack_strides,
    same_activity,
)
from soleware.runs.model import unpack_strides as _unpack_strides
from soleware.runs.progress import ShoeMileage, shoe_mileage
from soleware.runs.records import PersonalRecords, RecordChange

__all__ = ["AddResult", "NotFound", "RefusedUploadInfo", "RunPage", "RunStore", "RunnerInfo", "ShoeInfo"]

TOKEN_LIFETIME = dt.timedelta(days=30)
DUPLICATE_WINDOW = dt.timedelta(minutes=2)


class NotFound(LookupError):
    """No such object for this runner (also what another runner's object looks like)."""


@dataclasses.dataclass(frozen=True, slots=True)
class RunnerInfo:
    id: str
    email: str
    display_name: str
    locale: str
    time_zone: str
    units: str
    weekly_goal_m: float | None
    race_goal_m: float | None
    race_goal_date: dt.date | None

    @classmethod
    def of(cls, r: Runner) -> RunnerInfo:
        return cls(
            r.id,
            r.email,
            r.display_name,
            r.locale,
            r.time_zone,
            r.units,
            r.weekly_goal_m,
            r.race_goal_m,
            r.race_goal_date,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class AddResult:
    """What storing a run did: its id, whether it is new, and the records and achievements it brought."""

    run_id: str
    created: bool
    records: tuple[RecordChange, ...] = ()
    awards: tuple[Award, ...] = ()
    #: the upload was the other foot of a run stored with one foot only, and was added to it
    merged: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class RunPage:
    runs: list[RunSummary]
    titles: dict[str, str]
    #: pass as ``cursor`` to get the next page; None on the last page
    next_cursor: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ShoeInfo:
    serial: str
    name: str
    side: str
    retire_at_m: float
    retired: bool
    mileage: ShoeMileage


@dataclasses.dataclass(frozen=True)
class RefusedUploadInfo:
    """An upload the service refused (see :class:`soleware.runs.db.RefusedUpload`); ``run_id`` once stored."""

    id: str
    key: str
    body: dict[str, Any]
    reason: str
    refused_at: dt.datetime
    run_id: str | None
    stored_at: dt.datetime | None

    @classmethod
    def of(cls, r: RefusedUpload) -> RefusedUploadInfo:
        return cls(
            r.id,
            r.key,
            dict(r.body),
            r.reason,
            _aware(r.refused_at),
            r.run_id,
            None if r.stored_at is None else _aware(r.stored_at),
        )


def _encode_cursor(start: dt.datetime, run_id: str) -> str:
    return base64.urlsafe_b64encode(f"{start.isoformat()}|{run_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        start, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return dt.datetime.fromisoformat(start), run_id
    except ValueError as exc:
        raise RunDataError(f"invalid page cursor {cursor!r}") from exc


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; we store UTC only."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _summary(row: RunRow) -> RunSummary:
    return RunSummary.from_dict(row.summary)


class RunStore:
    """Domain operations on a database (see ``soleware.runs.db.make_engine``; migrate it first)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_sessionmaker(engine)

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[Session]:
        """A transaction; ``write=False`` for reads, which then never wait for a writer."""
        with contextlib.ExitStack() as stack:
            if not write:
                stack.enter_context(reading())
            yield stack.enter_context(self._sessions.begin())

    def _lock_state(self, s: Session, runner_id: str, *, lock: bool = True) -> RunnerState:
        stmt = sa.select(RunnerState).where(RunnerState.runner_id == runner_id)
        if lock and self.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        state = s.scalars(stmt).one_or_none()
        if state is None:
            raise NotFound(f"no runner {runner_id!r}")
        return state

    # ------------------------------------------------------------------ accounts
    def create_runner(
        self,
        email: str,
        password: str,
        *,
        display_name: str = "",
        locale: str = "en",
        time_zone: str = "UTC",
    ) -> RunnerInfo:
        email = accounts.check_email(email)
        if locale not in ("en", "zh"):
            raise AccountError(f"locale must be 'en' or 'zh', got {locale!r}")
        _check_zone(time_zone)
        row = Runner(
            id=str(uuid.uuid4()),
            email=email,
            display_name=display_name.strip()[:100] or email.split("@")[0],
            password_hash=accounts.hash_password(password),
            locale=locale,
            time_zone=time_zone,
        )
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
                s.add(
                    RunnerState(
                        runner_id=row.id,
                        records=PersonalRecords().compute([]).to_dict(),
                        achievements=Achievements().compute([]).to_dict(),
                    )
                )
        except IntegrityError:
            raise AccountExists(f"an account with e-mail {email} already exists") from None
        return RunnerInfo.of(row)

    def sign_in(self, email: str, password: str) -> str:
        """A new access token for these credentials; AuthError otherwise (same message either way)."""
        with self._tx() as s:
            row = s.scalars(sa.select(Runner).where(Runner.email == email.strip().lower())).one_or_none()
            if not accounts.verify_password(row.password_hash if row else None, password) or row is None:
                raise AuthError("wrong e-mail or password")
            token = accounts.new_token()
            now = dt.datetime.now(dt.UTC)
            s.add(
                AccessToken(
                    token_sha256=accounts.hash_token(token),
                    runner_id=row.id,
                    created_at=now,
                    expires_at=now + TOKEN_LIFETIME,
                )
            )
            return token

    def runner_for_token(self, token: str) -> RunnerInfo:
        with self._tx(write=False) as s:
            row = s.execute(
                sa.select(Runner, AccessToken.expires_at)
                .join(AccessToken, AccessToken.runner_id == Runner.id)
                .where(AccessToken.token_sha256 == accounts.hash_token(token))
            ).one_or_none()
            if row is None or _aware(row[1]) < dt.datetime.now(dt.UTC):
                raise AuthError("invalid or expired token")
            return RunnerInfo.of(row[0])

    def sign_out(self, token: str) -> None:
        with self._tx() as s:
            s.execute(sa.delete(AccessToken).where(AccessToken.token_sha256 == accounts.hash_token(token)))

    def runner(self, runner_id: str) -> RunnerInfo:
        with self._tx(write=False) as s:
            row = s.get(Runner, runner_id)
            if row is None:
                raise NotFound(f"no runner {runner_id!r}")
            return RunnerInfo.of(row)

    def delete_runner(self, runner_id: str) -> None:
        """Delete an account with all its data (runs, shoes, tokens, derived state)."""
        with self._tx() as s:
            row = s.get(Runner, runner_id)
            if row is None:
                raise NotFound(f"no runner {runner_id!r}")
            for table in (AccessToken, Shoe, RunRow, RunnerState, LiveSession):
                s.execute(sa.delete(table).where(table.runner_id == runner_id))
            s.delete(row)

    def update_runner(self, runner_id: str, **changes: Any) -> RunnerInfo:
        """Change profile fields and goals: display_name, locale, time_zone, weekly_goal_m, race_goal_*."""
        allowed = {
            "display_name",
            "locale",
            "time_zone",
            "units",
            "weekly_goal_m",
            "race_goal_m",
            "race_goal_date",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise AccountError(f"cannot change {sorted(unknown)}")
        if "locale" in changes and changes["locale"] not in ("en", "zh"):
            raise AccountError(f"locale must be 'en' or 'zh', got {changes['locale']!r}")
        if "units" in changes and changes["units"] not in ("metric", "imperial"):
            raise AccountError(f"units must be 'metric' or 'imperial', got {changes['units']!r}")
        if "time_zone" in changes:
            _check_zone(changes["time_zone"])
        for key in ("weekly_goal_m", "race_goal_m"):
            v = changes.get(key)
            if v is not None and not (0 < v < 1e7):
                raise AccountError(f"{key} must be a positive distance in metres, got {v}")
        with self._tx() as s:
            row = s.get(Runner, runner_id)
            if row is None:
                raise NotFound(f"no runner {runner_id!r}")
            for k, v in changes.items():
                setattr(row, k, v)
            return RunnerInfo.of(row)

    # ------------------------------------------------------------------ runs
    def add_run(self, runner_id: str, run: Run) -> AddResult:
        """Store a run once: a second upload of it (same fingerprint, or same start and distance) is a no-op."""
        fingerprint = run.fingerprint()
        new_id = str(uuid.uuid4())
        summary = run.summary(new_id)
        try:
            with self._tx() as s:
                state = self._lock_state(s, runner_id)
                existing = self._find_duplicate(s, runner_id, run, fingerprint)
                if existing is not None:
                    merged = self._merge_feet(s, state, runner_id, existing, run)
                    return AddResult(existing, created=False, merged=merged)
                s.add(self._row(runner_id, run, fingerprint, summary))
                s.flush()
                records = PersonalRecords.from_dict(state.records)
                before = {k: v.history for k, v in records.records_.items()}
                records.add(summary)
                changes = tuple(
                    c
                    for k, v in records.records_.items()
                    for c in v.history
                    if c.record.run_id == new_id and c not in before.get(k, ())
                )
                ach = Achievements.from_dict(state.achievements)
                n_before = len(ach.awards_)
                if ach.last_key_ is not None and summary.sort_key < ach.last_key_:
                    ach.compute(self._summaries(s, runner_id))
                    awards = tuple(a for a in ach.awards_ if a.run_id == new_id)
                else:
                    ach.add(summary)
                    awards = tuple(ach.awards_[n_before:])
                state.records = records.to_dict()
                state.achievements = ach.to_dict()
                state.version += 1
                return AddResult(new_id, True, changes, awards)
        except IntegrityError:
            # another connection stored the same run between our check and insert (possible only without locks)
            with self._tx() as s:
                existing = self._find_duplicate(s, runner_id, run, fingerprint)
            if existing is None:
                raise
            return AddResult(existing, created=False)

    def add_runs(self, runner_id: str, runs: Iterable[Run]) -> list[AddResult]:
        """Store many runs at once (an import of old history): duplicates skipped, derived state computed once."""
        results: list[AddResult] = []
        with self._tx() as s:
            state = self._lock_state(s, runner_id)
            new_ids: set[str] = set()
            for run in runs:
                fingerprint = run.fingerprint()
                existing = self._find_duplicate(s, runner_id, run, fingerprint)
                if existing is not None:
                    results.append(AddResult(existing, created=False))
                    continue
                row = self._row(runner_id, run, fingerprint, run.summary(str(uuid.uuid4())))
                s.add(row)
                s.flush()
                new_ids.add(row.id)
                results.append(AddResult(row.id, True))
            if not new_ids:
                return results
            summaries = self._summaries(s, runner_id)
            records = PersonalRecords().compute(summaries)
            ach = Achievements().compute(summaries)
            state.records = records.to_dict()
            state.achievements = ach.to_dict()
            state.version += 1
        changes = [c for r in records.records_.values() for c in r.history if c.record.run_id in new_ids]
        return [
            dataclasses.replace(
                r,
                records=tuple(c for c in changes if c.record.run_id == r.run_id),
                awards=tuple(a for a in ach.awards_ if a.run_id == r.run_id),
            )
            if r.created
            else r
            for r in results
        ]

    def _row(self, runner_id: str, run: Run, fingerprint: str, summary: RunSummary) -> RunRow:
        return RunRow(
            id=summary.run_id,
            runner_id=runner_id,
            fingerprint=fingerprint,
            start_time=run.start_time.astimezone(dt.UTC),
            time_zone=run.time_zone,
            distance_m=run.distance_m,
            elapsed_time_s=run.elapsed_time_s,
            moving_time_s=run.moving_time_s,
            source=run.source,
            title=run.title[:200],
            shoe_serials=list(run.shoe_serials),
            summary=summary.to_dict(),
            laps=[lap.to_dict() for lap in run.laps],
            pauses=[list(p) for p in run.pauses],
            strides=pack_strides(run.strides),
            streams=run.streams.to_bytes(),
        )

    def _find_duplicate(self, s: Session, runner_id: str, run: Run, fingerprint: str) -> str | None:
        same = s.scalars(
            sa.select(RunRow.id).where(RunRow.runner_id == runner_id, RunRow.fingerprint == fingerprint)
        ).first()
        if same is not None:
            return same
        start = run.start_time.astimezone(dt.UTC)
        near = s.scalars(
            sa.select(RunRow).where(
                RunRow.runner_id == runner_id,
                RunRow.start_time >= start - DUPLICATE_WINDOW,
                RunRow.start_time <= start + DUPLICATE_WINDOW,
            )
        ).all()
        for row in near:
            if same_activity(_summary(row), run):
                return row.id
        return None

    def _summaries(self, s: Session, runner_id: str) -> list[RunSummary]:
        return [
            RunSummary.from_dict(d)
            for d in s.scalars(sa.select(RunRow.summary).where(RunRow.runner_id == runner_id))
        ]

    def summaries(self, runner_id: str) -> list[RunSummary]:
        """Every run of the runner as a summary, oldest first."""
        with self._tx(write=False) as s:
            return sorted(self._summaries(s, runner_id), key=lambda r: r.sort_key)

    def get_run(self, runner_id: str, run_id: str) -> Run:
        with self._tx(write=False) as s:
            row = s.get(RunRow, run_id)
            if row is None or row.runner_id != runner_id:
                raise NotFound(f"no run {run_id!r}")
            return _to_run(row)

    def _merge_feet(self, s: Session, state: RunnerState, runner_id: str, run_id: str, run: Run) -> bool:
        """Add the other foot's strides to a shoe run stored with one foot only (a shoe that synced late).

        Records and achievements are recomputed, as for an edited run. False when there is nothing to add.
        """
        row = s.get(RunRow, run_id)
        if row is None or row.source != Source.SHOE.value or run.source != Source.SHOE.value:
            return False
        old = _to_run(row)
        old_sides = {x.side for x in old.strides}
        new_sides = {x.side for x in run.strides}
        if not old_sides or not new_sides or old_sides & new_sides:
            return False
        start = min(old.start_time, run.start_time)

        def shifted(r: Run) -> list[Stride]:
            d = (r.start_time - start).total_seconds()
            return [
                dataclasses.replace(x, t_start_s=x.t_start_s + d, t_end_s=x.t_end_s + d) for x in r.strides
            ]

        both = Run.from_strides(
            shifted(old) + shifted(run),
            start_time=start,
            time_zone=old.time_zone,
            shoe_serials=(*old.shoe_serials, *run.shoe_serials),
            title=old.title,
            laps=old.laps,
            id=run_id,
        )
        fresh = self._row(runner_id, both, both.fingerprint(), both.summary(run_id))
        for column in RunRow.__table__.columns:
            if column.key not in ("id", "runner_id", "created_at"):
                setattr(row, column.key, getattr(fresh, column.key))
        s.flush()
        summaries = self._summaries(s, runner_id)
        state.records = PersonalRecords().compute(summaries).to_dict()
        state.achievements = Achievements().compute(summaries).to_dict()
        state.version += 1
        return True

    def run_summary(self, runner_id: str, run_id: str) -> tuple[RunSummary, str]:
        """The summary and title of one run."""
        with self._tx(write=False) as s:
            row = s.execute(
                sa.select(RunRow.summary, RunRow.title, RunRow.runner_id).where(RunRow.id == run_id)
            ).one_or_none()
            if row is None or row.runner_id != runner_id:
                raise NotFound(f"no run {run_id!r}")
            return RunSummary.from_dict(row.summary), row.title

    def list_runs(
        self,
        runner_id: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        source: str | None = None,
        min_distance_m: float | None = None,
        max_distance_m: float | None = None,
    ) -> RunPage:
        """Runs newest first, ``limit`` per page, keyset-paginated (stable while runs are added)."""
        if not 1 <= limit <= 200:
            raise RunDataError(f"limit must be 1..200, got {limit}")
        q = sa.select(RunRow.id, RunRow.start_time, RunRow.summary, RunRow.title).where(
            RunRow.runner_id == runner_id
        )
        if cursor:
            c_start, c_id = _decode_cursor(cursor)
            q = q.where(sa.tuple_(RunRow.start_time, RunRow.id) < (c_start.astimezone(dt.UTC), c_id))
        if since is not None:
            q = q.where(RunRow.start_time >= since.astimezone(dt.UTC))
        if until is not None:
            q = q.where(RunRow.start_time < until.astimezone(dt.UTC))
        if source is not None:
            q = q.where(RunRow.source == source)
        if min_distance_m is not None:
            q = q.where(RunRow.distance_m >= min_distance_m)
        if max_distance_m is not None:
            q = q.where(RunRow.distance_m <= max_distance_m)
        q = q.order_by(RunRow.start_time.desc(), RunRow.id.desc()).limit(limit + 1)
        with self._tx(write=False) as s:
            rows = s.execute(q).all()
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = _encode_cursor(_aware(rows[-1].start_time), rows[-1].id) if more else None
        return RunPage([RunSummary.from_dict(r.summary) for r in rows], {r.id: r.title for r in rows}, nxt)

    def rename_run(self, runner_id: str, run_id: str, title: str) -> None:
        with self._tx() as s:
            row = s.get(RunRow, run_id)
            if row is None or row.runner_id != runner_id:
                raise NotFound(f"no run {run_id!r}")
            row.title = title.strip()[:200]

    def delete_run(self, runner_id: str, run_id: str) -> None:
        """Delete a run; records and achievements it earned are taken back (recomputed from the rest)."""
        with self._tx() as s:
            state = self._lock_state(s, runner_id)
            row = s.get(RunRow, run_id)
            if row is None or row.runner_id != runner_id:
                raise NotFound(f"no run {run_id!r}")
            s.delete(row)
            s.flush()
            remaining = self._summaries(s, runner_id)
            records = PersonalRecords.from_dict(state.records).remove(run_id, remaining=lambda: remaining)
            state.records = records.to_dict()
            state.achievements = Achievements().compute(remaining).to_dict()
            state.version += 1

    # ------------------------------------------------------------------ derived state
    def records(self, runner_id: str) -> PersonalRecords:
        with self._tx(write=False) as s:
            return PersonalRecords.from_dict(self._lock_state(s, runner_id, lock=False).records)

    def achievements(self, runner_id: str) -> Achievements:
        with self._tx(write=False) as s:
            return Achievements.from_dict(self._lock_state(s, runner_id, lock=False).achievements)

    # ------------------------------------------------------------------ shoes
    def register_shoe(
        self,
        runner_id: str,
        serial: str,
        *,
        name: str = "",
        side: str = "unknown",
        retire_at_m: float = 700_000.0,
        initial_m: float = 0.0,
    ) -> None:
        serial = serial.strip()
        if not serial or len(serial) > 64:
            raise RunDataError("a shoe serial is 1 to 64 characters")
        if side not in ("left", "right", "unknown"):
            raise RunDataError(f"side must be left, right or unknown, got {side!r}")
        if not (0 < retire_at_m < 1e8) or not (0 <= initial_m < 1e8):
            raise RunDataError("retire_at_m must be > 0 and initial_m >= 0 (metres)")
        try:
            with self._tx() as s:
                s.add(
                    Shoe(
                        runner_id=runner_id,
                        serial=serial,
                        name=name.strip()[:100],
                        side=side,
                        retire_at_m=retire_at_m,
                        initial_m=initial_m,
                    )
                )
        except IntegrityError:
            raise RunDataError(f"shoe {serial!r} is already registered") from None

    def update_shoe(self, runner_id: str, serial: str, **changes: Any) -> None:
        allowed = {"name", "retire_at_m", "retired"}
        if set(changes) - allowed:
            raise RunDataError(f"cannot change {sorted(set(changes) - allowed)}")
        with self._tx() as s:
            row = self._shoe(s, runner_id, serial)
            for k, v in changes.items():
                setattr(row, k, v)

    def delete_shoe(self, runner_id: str, serial: str) -> None:
        with self._tx() as s:
            s.delete(self._shoe(s, runner_id, serial))

    @staticmethod
    def _shoe(s: Session, runner_id: str, serial: str) -> Shoe:
        row = s.scalars(
            sa.select(Shoe).where(Shoe.runner_id == runner_id, Shoe.serial == serial)
        ).one_or_none()
        if row is None:
            raise NotFound(f"no shoe {serial!r}")
        return row

    def shoes(self, runner_id: str) -> list[ShoeInfo]:
        """Registered shoes with their mileage (runs they came from plus distance before registration)."""
        with self._tx(write=False) as s:
            rows = s.scalars(sa.select(Shoe).where(Shoe.runner_id == runner_id).order_by(Shoe.id)).all()
            if not rows:
                return []
            summaries = self._summaries(s, runner_id)
        serials = {r.serial for r in rows}
        miles = {
            m.serial: m
            for m in shoe_mileage(
                [r for r in summaries if serials.intersection(r.shoe_serials)],
                retire_at_by_serial={r.serial: r.retire_at_m for r in rows},
                initial_m_by_serial={r.serial: r.initial_m for r in rows},
            )
        }
        out = []
        for r in rows:
            m = miles.get(r.serial)
            if m is None:
                now = _aware(r.created_at)
                m = ShoeMileage(r.serial, r.initial_m, 0, now, now, r.retire_at_m)
            out.append(ShoeInfo(r.serial, r.name, r.side, r.retire_at_m, r.retired, m))
        return out

    # ------------------------------------------------------------------ refused uploads
    def keep_refused(
        self, runner_id: str, *, key: str, body: dict[str, Any], reason: str
    ) -> tuple[RefusedUploadInfo, bool]:
        """Keep a refused upload under the sender's ``key``; an existing one with that key is returned as it is.

        Returns the upload and whether it was new.
        """
        with self._tx() as s:
            row = s.scalars(
                sa.select(RefusedUpload).where(RefusedUpload.runner_id == runner_id, RefusedUpload.key == key)
            ).one_or_none()
            if row is not None:
                return RefusedUploadInfo.of(row), False
            row = RefusedUpload(id=str(uuid.uuid4()), runner_id=runner_id, key=key, body=body, reason=reason)
            s.add(row)
            s.flush()
            return RefusedUploadInfo.of(row), True

    def refused_uploads(self, runner_id: str, *, include_stored: bool = False) -> list[RefusedUploadInfo]:
        """Refused uploads, newest first; those since stored only with ``include_stored``."""
        query = sa.select(RefusedUpload).where(RefusedUpload.runner_id == runner_id)
        if not include_stored:
            query = query.where(RefusedUpload.run_id.is_(None))
        with self._tx(write=False) as s:
            rows = s.scalars(query.order_by(RefusedUpload.refused_at.desc(), RefusedUpload.id)).all()
            return [RefusedUploadInfo.of(r) for r in rows]

    def refused_upload(self, runner_id: str, upload_id: str) -> RefusedUploadInfo:
        with self._tx(write=False) as s:
            return RefusedUploadInfo.of(self._refused(s, runner_id, upload_id))

    def refused_again(self, runner_id: str, upload_id: str, reason: str) -> None:
        """Sent again and refused again: the reason is now ``reason``."""
        with self._tx() as s:
            row = self._refused(s, runner_id, upload_id)
            row.reason = reason
            row.refused_at = dt.datetime.now(dt.UTC)

    def refused_stored(self, runner_id: str, upload_id: str, run_id: str) -> None:
        """Sent again and stored as run ``run_id``."""
        with self._tx() as s:
            row = self._refused(s, runner_id, upload_id)
            row.run_id = run_id
            row.stored_at = dt.datetime.now(dt.UTC)

    def discard_refused(self, runner_id: str, upload_id: str) -> None:
        with self._tx() as s:
            s.delete(self._refused(s, runner_id, upload_id))

    @staticmethod
    def _refused(s: Session, runner_id: str, upload_id: str) -> RefusedUpload:
        row = s.get(RefusedUpload, upload_id)
        if row is None or row.runner_id != runner_id:
            raise NotFound(f"no refused upload {upload_id!r}")
        return row

    # ------------------------------------------------------------------ live
    def set_live(self, runner_id: str, state: dict[str, Any]) -> None:
        with self._tx() as s:
            row = s.get(LiveSession, runner_id)
            now = dt.datetime.now(dt.UTC)
            if row is None:
                s.add(LiveSession(runner_id=runner_id, state=state, updated_at=now))
            else:
                row.state = state
                row.updated_at = now

    def get_live(self, runner_id: str) -> dict[str, Any] | None:
        with self._tx(write=False) as s:
            row = s.get(LiveSession, runner_id)
            return None if row is None else dict(row.state)

    def end_live(self, runner_id: str) -> None:
        with self._tx() as s:
            s.execute(sa.delete(LiveSession).where(LiveSession.runner_id == runner_id))


def _to_run(row: RunRow) -> Run:
    return Run(
        start_time=_aware(row.start_time),
        time_zone=row.time_zone,
        distance_m=row.distance_m,
        elapsed_time_s=row.elapsed_time_s,
        moving_time_s=row.moving_time_s,
        streams=Streams.from_bytes(row.streams),
        strides=_unpack_strides(row.strides),
        pauses=[(float(a), float(b)) for a, b in row.pauses],
        laps=[Lap.from_dict(d) for d in row.laps],
        shoe_serials=tuple(row.shoe_serials),
        source=row.source,
        title=row.title,
        id=row.id,
    )


def _check_zone(zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError(f"unknown time zone {zone!r} (use an IANA name such as Asia/Shanghai)") from None
