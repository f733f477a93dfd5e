"""A runner's runs, and the records and achievements derived from them.

Every operation is one transaction. Adding or deleting a run updates the cached records and achievements in the
same transaction, under a lock on the runner's state row (``SELECT … FOR UPDATE`` on PostgreSQL, the database
write lock on SQLite), so concurrent uploads of one run store it once and derived state never misses a run.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from soleware.runs.achievements import Achievements, Award
from soleware.runs.facts import RunFacts, pack_efforts, pack_facts
from soleware.runs.model import (
    STREAM_RESOLUTION,
    FootSummary,
    Lap,
    Route,
    Run,
    RunDataError,
    RunSummary,
    Sensor,
    Source,
    Streams,
    Stride,
    pack_strides,
    pack_summary,
    same_activity,
    stride_streams,
    unpack_stride_columns,
    unpack_stride_units,
    unpack_strides,
    unpack_summary,
)
from soleware.runs.records import PersonalRecords, RecordChange
from soleware.runs.storage._base import NotFound, StoreBase, _aware
from soleware.runs.storage.db import Runner, RunnerState, RunRow
from soleware.runs.storage.progress import count_run, update_loads

__all__ = ["AddResult", "RunHistory", "RunPage", "RunView", "pack_streams", "unpack_streams"]

DUPLICATE_WINDOW = dt.timedelta(minutes=2)
T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class AddResult:
    """What storing a run did: its id, whether it is new, and the records and achievements it brought."""

    run_id: str
    created: bool
    records: tuple[RecordChange, ...] = ()
    awards: tuple[Award, ...] = ()
    #: the upload was the other foot of a run stored with one foot only, and was added to it
    merged: bool = False
    #: the run it was to replace was found and deleted with it (see ``RunHistory.add_run``)
    replaced: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class RunPage:
    runs: list[RunSummary]
    titles: dict[str, str]
    #: pass as ``cursor`` to get the next page; None on the last page
    next_cursor: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class RunView:
    """What a run's page shows: the run without its strides, its summary, title and per-foot figures."""

    run: Run
    summary: RunSummary
    title: str
    feet: list[FootSummary]


def pack_streams(
    streams: Streams, strides_blob: bytes, *, elapsed_s: float, pauses: list[tuple[float, float]]
) -> bytes:
    """The streams blob to store: empty when the stored strides give these streams back (within
    STREAM_RESOLUTION / 2), which is the case for every shoe run; else ``streams.to_bytes()``."""
    cols = unpack_stride_columns(strides_blob)
    if len(cols["side"]) and len(streams):
        derived = stride_streams(cols, elapsed_s=elapsed_s, pauses=pauses)
        if len(derived) == len(streams) and all(
            np.array_equal(np.isnan(a := getattr(derived, c)), np.isnan(b := getattr(streams, c)))
            and np.all(np.abs(np.nan_to_num(a) - np.nan_to_num(b)) <= 0.5 * res + 1e-9)
            for c, res in STREAM_RESOLUTION.items()
        ):
            return b""
    return streams.to_bytes()


def unpack_streams(
    blob: bytes, strides_blob: bytes, *, elapsed_s: float, pauses: list[tuple[float, float]]
) -> Streams:
    """Inverse of pack_streams."""
    if blob:
        return Streams.from_bytes(blob)
    return stride_streams(decoded_strides(strides_blob), elapsed_s=elapsed_s, pauses=pauses)


#: the strides blobs decoded last (a run's page read again derives its streams from them without decoding; its
#: strides are written from the stored integers, see ``stride_units``)
_DECODED: collections.OrderedDict[bytes, dict[str, np.ndarray]] = collections.OrderedDict()
DECODED_STRIDE_BLOBS = 8


def decoded_strides(blob: bytes) -> dict[str, np.ndarray]:
    """``unpack_stride_columns(blob)`` as read-only arrays, decoded once for the last few blobs asked for (keyed
    by the blob itself, so never stale)."""
    cols = _DECODED.get(blob)
    if cols is None:
        cols = unpack_stride_columns(blob)
        for a in cols.values():
            a.flags.writeable = False
        _DECODED[blob] = cols
        while len(_DECODED) > DECODED_STRIDE_BLOBS:
            with contextlib.suppress(KeyError):  # another thread took it first
                _DECODED.popitem(last=False)
    else:
        with contextlib.suppress(KeyError):
            _DECODED.move_to_end(blob)
    return cols


#: what a run's page reads of its row
_VIEW_COLUMNS = (
    RunRow.id,
    RunRow.runner_id,
    RunRow.start_time,
    RunRow.time_zone,
    RunRow.distance_m,
    RunRow.elapsed_time_s,
    RunRow.moving_time_s,
    RunRow.source,
    RunRow.title,
    RunRow.shoe_serials,
    RunRow.summary_packed,
    RunRow.laps,
    RunRow.pauses,
    RunRow.strides,
    RunRow.streams,
    RunRow.feet,
    RunRow.calibration_factor,
    RunRow.route,
    RunRow.cut_short,
)
# built once: a statement built per call costs more to look up in SQLAlchemy's cache than the row costs to read
_VIEW = sa.select(*_VIEW_COLUMNS).where(RunRow.id == sa.bindparam("run_id"))
_STRIDES = sa.select(RunRow.runner_id, RunRow.strides).where(RunRow.id == sa.bindparam("run_id"))


def _encode_cursor(start: dt.datetime, run_id: str) -> str:
    return base64.urlsafe_b64encode(f"{start.isoformat()}|{run_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        start, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return dt.datetime.fromisoformat(start), run_id
    except ValueError as exc:
        raise RunDataError("invalid page cursor") from exc


def _row_facts(row: RunRow) -> RunFacts:
    """The facts of a run row about to be stored."""
    return RunFacts.from_packed([(row.id, row.time_zone, row.facts, row.efforts)])


def _summary(row: RunRow) -> RunSummary:
    return RunSummary.from_dict(row.summary)


class RunHistory(StoreBase):
    """Runs: store once, merge the other foot, list, rename, delete; records and achievements kept with them."""

    def add_run(self, runner_id: str, run: Run, *, replaces: str | None = None) -> AddResult:
        """Store a run once: a second upload of it (same fingerprint, or same start and distance) is a no-op.

        Records and aggregates take the run in from wherever it lies in time without reading other runs;
        achievements too when it is the latest run, else they are recomputed from the runs' facts (a vectorised
        pass, see ``RunFacts``, over the facts this process kept from the runner's last write, or one narrow
        read), which costs the same wherever the run lies.

        ``replaces`` names a run this one takes the place of (the phone's live upload of an outing, replaced by
        the shoes' log of it): it is deleted in the same transaction, before the duplicate check (it is one), so
        the runner never has both runs or neither. A run that is not the runner's, or no longer there (the
        replacement sent again), replaces nothing. A run entered by hand replaces only a run entered by hand
        (RunDataError for a measured one: nothing changes).

        A run entered by hand gives way the same way to a measured run of it (the shoes synced after all): that
        one takes its place, and its title where it has none. A run entered by hand of a run already measured is
        a duplicate.
        """
        fingerprint = run.fingerprint()
        new_id = str(uuid.uuid4())
        summary = run.summary(new_id)
        row = self._row(runner_id, run, fingerprint, summary)
        try:
            with self._tx() as s:
                state = self._lock_state(s, runner_id)
                old = None if replaces is None else s.get(RunRow, replaces)
                replaced = old is not None and old.runner_id == runner_id
                if replaced and old is not None:
                    if not run.measured and old.source != Source.MANUAL:
                        raise RunDataError(
                            "only a run entered by hand can be corrected by hand (a measured run: delete it instead)"
                        )
                    self._delete_row(s, state, runner_id, old)
                existing = self._find_duplicate(s, runner_id, run, fingerprint)
                typed = None if existing is None or not run.measured else s.get(RunRow, existing)
                if typed is not None and typed.source == Source.MANUAL:
                    self._delete_row(s, state, runner_id, typed)
                    row.title = row.title or typed.title
                    replaced, existing = True, None
                if existing is not None:
                    merged = self._merge_feet(s, state, runner_id, existing, run)
                    return AddResult(existing, created=False, merged=merged, replaced=replaced)
                ach = Achievements.from_dict(state.achievements)
                back_dated = ach.last_key_ is not None and summary.sort_key < ach.last_key_
                facts = (
                    self._facts_before(s, runner_id, state.version)
                    if back_dated
                    else self._kept_facts(runner_id, state.version)
                )
                s.add(row)
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
                if facts is not None:
                    facts = RunFacts.concat([facts, _row_facts(row)]).ordered()
                if back_dated:
                    assert facts is not None
                    ach = Achievements().compute_facts(facts)
                    awards = tuple(a for a in ach.awards_ if a.run_id == new_id)
                else:
                    n_before = len(ach.awards_)
                    ach.add(summary)
                    awards = tuple(ach.awards_[n_before:])
                state.records = records.to_dict()
                state.achievements = ach.to_dict()
                count_run(s, state, runner_id, summary, zone=self._zone_of(s, runner_id), sign=1)
                update_loads(s, runner_id, summary.start_time)
                state.version += 1
                if facts is not None:
                    self._keep_facts(s, runner_id, state.version, facts)
                return AddResult(new_id, True, changes, awards, replaced=replaced)
        except IntegrityError:
            # another connection stored the same run between our check and insert (possible only without locks)
            with self._tx() as s:
                existing = self._find_duplicate(s, runner_id, run, fingerprint)
            if existing is None:
                raise
            return AddResult(existing, created=False)

    def add_runs(self, runner_id: str, runs: Iterable[Run]) -> list[AddResult]:
        """Store many runs at once (an import of old history): duplicates skipped, derived state computed once
        (incrementally when every new run comes after the runs stored, else from all runs' facts)."""
        results: list[AddResult] = []
        prepared = [(run, run.fingerprint(), run.summary(str(uuid.uuid4()))) for run in runs]
        rows = [(run, fp, summary, self._row(runner_id, run, fp, summary)) for run, fp, summary in prepared]
        with self._tx() as s:
            state = self._lock_state(s, runner_id)
            kept = self._kept_facts(runner_id, state.version)
            new: list[RunSummary] = []
            new_rows: list[RunRow] = []
            for run, fingerprint, summary, row in rows:
                existing = self._find_duplicate(s, runner_id, run, fingerprint)
                if existing is not None:
                    results.append(AddResult(existing, created=False))
                    continue
                s.add(row)
                s.flush()
                new.append(summary)
                new_rows.append(row)
                results.append(AddResult(row.id, True))
            if not new:
                return results
            new.sort(key=lambda r: r.sort_key)
            new_ids = {r.run_id for r in new}
            ach = Achievements.from_dict(state.achievements)
            records = PersonalRecords.from_dict(state.records)
            facts = None if kept is None else RunFacts.concat([kept, *map(_row_facts, new_rows)]).ordered()
            if ach.last_key_ is None or new[0].sort_key > ach.last_key_:
                for r in new:
                    ach.add(r)
                    records.add(r)
            else:
                if facts is None:
                    facts = self._facts(s, runner_id).ordered()
                records = PersonalRecords().compute_facts(facts)
                ach = Achievements().compute_facts(facts)
            zone = self._zone_of(s, runner_id)
            for r in new:
                count_run(s, state, runner_id, r, zone=zone, sign=1)
            update_loads(s, runner_id, new[0].start_time, until=new[-1].start_time)
            state.records = records.to_dict()
            state.achievements = ach.to_dict()
            state.version += 1
            if facts is not None:
                self._keep_facts(s, runner_id, state.version, facts)
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

    @staticmethod
    def _zone_of(s: Session, runner_id: str) -> str:
        return s.scalars(sa.select(Runner.time_zone).where(Runner.id == runner_id)).one()

    def _facts_before(self, s: Session, runner_id: str, version: int) -> RunFacts:
        """The runner's run facts, in run order, at state ``version`` (this transaction's, read before it changes
        any run): those this store kept then, else read."""
        kept = self._kept_facts(runner_id, version)
        return kept if kept is not None else self._facts(s, runner_id).ordered()

    @staticmethod
    def _facts(s: Session, runner_id: str) -> RunFacts:
        """The facts of every run of the runner, in one read of a covering index (no run rows, no summaries)."""
        q = (
            sa.select(RunRow.id, RunRow.time_zone, RunRow.facts, RunRow.efforts)
            .where(RunRow.runner_id == runner_id)
            .order_by(RunRow.start_time, RunRow.id)
        )
        return RunFacts.from_packed(s.connection().execute(q).all())

    def _row(self, runner_id: str, run: Run, fingerprint: str, summary: RunSummary) -> RunRow:
        strides = pack_strides(run.strides)
        pauses = [(float(a), float(b)) for a, b in run.pauses]
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
            summary_packed=pack_summary(summary),
            facts=pack_facts(summary),
            efforts=pack_efforts(summary.efforts),
            training_load=0.0,  # set by update_loads in the same transaction
            laps=[lap.to_dict() for lap in run.laps],
            pauses=[list(p) for p in pauses],
            strides=strides,
            streams=pack_streams(run.streams, strides, elapsed_s=run.elapsed_time_s, pauses=pauses),
            feet=[f.to_dict() for f in run.feet()],
            raw_distance_m=run.raw_distance_m,
            calibration_factor=run.calibration_factor,
            route=b""
            if run.route is None or not len(run.route)
            else run.route.to_bytes(),  # no fix: no route
            cut_short=run.cut_short,
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

    def stride_columns(self, runner_id: str, run_id: str) -> dict[str, np.ndarray]:
        """A run's strides as columns at their stored resolution (see ``model.stride_columns``), never as objects
        (read-only arrays: they may be shared with other requests, see ``decoded_strides``)."""
        with self._read() as conn:
            row = conn.execute(_STRIDES, {"run_id": run_id}).first()
        if row is None or row.runner_id != runner_id:
            raise NotFound(f"no run {run_id!r}")
        return dict(decoded_strides(row.strides))

    def stride_units(self, runner_id: str, run_id: str) -> dict[str, np.ndarray] | None:
        """A run's strides as the integers stored (see ``model.unpack_stride_units``); None for a run stored
        before strides were stored as integers (read ``stride_columns`` then)."""
        with self._read() as conn:
            row = conn.execute(_STRIDES, {"run_id": run_id}).first()
        if row is None or row.runner_id != runner_id:
            raise NotFound(f"no run {run_id!r}")
        return unpack_stride_units(row.strides)

    def run_view(self, runner_id: str, run_id: str) -> RunView:
        """A run for its page: streams, pauses, laps, summary and the stored per-foot figures, no strides."""
        with self._read() as conn:
            row = self._view_row(conn, runner_id, run_id)
        return self._view(row)

    @staticmethod
    def _view_row(conn: Connection, runner_id: str, run_id: str) -> Any:
        """What ``run_view`` reads of a run's row (NotFound for another runner's run)."""
        row = conn.execute(_VIEW, {"run_id": run_id}).one_or_none()
        if row is None or row.runner_id != runner_id:
            raise NotFound(f"no run {run_id!r}")
        return row

    @staticmethod
    def _view(row: Any) -> RunView:
        """The RunView of a row that ``_view_row`` read (its strides decoded, its streams derived from them)."""
        summary = unpack_summary(row.summary_packed)
        return RunView(
            _to_run(row, with_strides=False, sensor=summary.sensor),
            summary,
            row.title,
            [FootSummary.from_dict(f) for f in row.feet],
        )

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

        def shifted_route(r: Run) -> Route | None:
            if r.route is None:
                return None
            d = (r.start_time - start).total_seconds()
            x = r.route
            return Route(x.t_s + d, x.lat_deg, x.lon_deg, x.accuracy_m, x.altitude_m)

        both = Run.from_strides(
            shifted(old) + shifted(run),
            start_time=start,
            time_zone=old.time_zone,
            shoe_serials=(*old.shoe_serials, *run.shoe_serials),
            title=old.title,
            laps=old.laps,
            id=run_id,
            route=shifted_route(
                old if old.route is not None else run
            ),  # the fixes of whichever upload had them
        )
        both.calibration_factor = old.calibration_factor
        old_summary = unpack_summary(row.summary_packed)
        fresh = self._row(runner_id, both, both.fingerprint(), both.summary(run_id))
        for column in RunRow.__table__.columns:
            if column.key not in ("id", "runner_id", "created_at"):
                setattr(row, column.key, getattr(fresh, column.key))
        kept = self._kept_facts(runner_id, state.version)
        s.flush()
        facts = (
            self._facts(s, runner_id).ordered()
            if kept is None
            else RunFacts.concat([kept.without([run_id]), _row_facts(row)]).ordered()
        )
        state.records = PersonalRecords().compute_facts(facts).to_dict()
        state.achievements = Achievements().compute_facts(facts).to_dict()
        zone = self._zone_of(s, runner_id)
        count_run(s, state, runner_id, old_summary, zone=zone, sign=-1)
        count_run(s, state, runner_id, unpack_summary(row.summary_packed), zone=zone, sign=1)
        update_loads(s, runner_id, min(old_summary.start_time, both.start_time))
        state.version += 1
        self._keep_facts(s, runner_id, state.version, facts)
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
        q = sa.select(RunRow.id, RunRow.start_time, RunRow.summary_packed, RunRow.title).where(
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
        with self._read() as conn:
            rows = conn.execute(q).all()
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = _encode_cursor(_aware(rows[-1].start_time), rows[-1].id) if more else None
        return RunPage([unpack_summary(r.summary_packed) for r in rows], {r.id: r.title for r in rows}, nxt)

    def rename_run(self, runner_id: str, run_id: str, title: str) -> None:
        with self._tx() as s:
            row = s.get(RunRow, run_id)
            if row is None or row.runner_id != runner_id:
                raise NotFound(f"no run {run_id!r}")
            row.title = title.strip()[:200]

    def delete_run(self, runner_id: str, run_id: str) -> None:
        """Delete a run; records and achievements it earned are taken back (records recomputed from the rest
        only if the run held one; achievements recomputed from the runs' facts)."""
        with self._tx() as s:
            state = self._lock_state(s, runner_id)
            row = s.get(RunRow, run_id)
            if row is None or row.runner_id != runner_id:
                raise NotFound(f"no run {run_id!r}")
            self._delete_row(s, state, runner_id, row)

    def _delete_row(self, s: Session, state: RunnerState, runner_id: str, row: RunRow) -> None:
        """Delete the runner's run ``row`` in ``s`` (their state locked), taking back what it earned."""
        summary = unpack_summary(row.summary_packed)
        kept = self._kept_facts(runner_id, state.version)
        s.delete(row)
        s.flush()
        facts = self._facts(s, runner_id).ordered() if kept is None else kept.without([row.id])
        records = PersonalRecords.from_dict(state.records)
        if records.involves(row.id):
            records = PersonalRecords().compute_facts(facts)
        state.records = records.to_dict()
        state.achievements = Achievements().compute_facts(facts).to_dict()
        count_run(s, state, runner_id, summary, zone=self._zone_of(s, runner_id), sign=-1)
        update_loads(s, runner_id, summary.start_time)
        state.version += 1
        self._keep_facts(s, runner_id, state.version, facts)

    # ------------------------------------------------------------------ derived state
    def records(self, runner_id: str) -> PersonalRecords:
        """The runner's records (the same object while their runs stay the same: do not change it)."""
        return self._state_view(runner_id, RunnerState.records, PersonalRecords.from_dict)

    def achievements(self, runner_id: str) -> Achievements:
        """The runner's achievements (the same object while their runs stay the same: do not change it)."""
        return self._state_view(runner_id, RunnerState.achievements, Achievements.from_dict)

    def _state_view(
        self,
        runner_id: str,
        column: sa.orm.InstrumentedAttribute[dict[str, Any]],
        decode: Callable[[dict[str, Any]], T],
    ) -> T:
        """One column of the runner's cached state, decoded once per state version in this process."""
        with self._read() as conn:
            version = self._version(conn, runner_id)

            def load() -> T:
                data = conn.execute(sa.select(column).where(RunnerState.runner_id == runner_id)).scalar_one()
                return decode(data)

            return self._by_version((column.key, runner_id), version, load)


def _to_run(row: Any, *, with_strides: bool = True, sensor: Sensor | None = None) -> Run:
    """The run of a ``RunRow`` (or a row of the columns in ``_VIEW_COLUMNS``, given its summary's ``sensor``)."""
    pauses = [(float(a), float(b)) for a, b in row.pauses]
    if isinstance(row, RunRow):
        sensor = Sensor.from_dict(row.summary["sensor"]) if row.summary.get("sensor") else None
    return Run(
        start_time=_aware(row.start_time),
        time_zone=row.time_zone,
        distance_m=row.distance_m,
        elapsed_time_s=row.elapsed_time_s,
        moving_time_s=row.moving_time_s,
        streams=unpack_streams(row.streams, row.strides, elapsed_s=row.elapsed_time_s, pauses=pauses),
        strides=unpack_strides(row.strides) if with_strides else [],
        pauses=pauses,
        laps=[Lap.from_dict(d) for d in row.laps],
        shoe_serials=tuple(row.shoe_serials),
        source=row.source,
        title=row.title,
        id=row.id,
        calibration_factor=row.calibration_factor,
        sensor=sensor,
        route=Route.from_bytes(row.route) if row.route else None,
        cut_short=bool(row.cut_short),
    )
