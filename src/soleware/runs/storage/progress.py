"""Progress and shoes from aggregates kept on write, and from the recent runs only, never the whole history.

``count_run`` is called in the transaction that adds or deletes a run: it keeps the per-period totals (in the
runner's time zone), the per-shoe mileage and the runner's sorted form-fit speeds (the trends' reference speed is
their median). ``update_loads`` keeps each run's training load, which depends on the runs of the 90 days before
it. A progress page then reads the last periods' totals, the runs of the periods it shows and the loads of the
last ~400 days (what the acute and chronic loads still feel).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from soleware.runs.model import RunSummary, unpack_summary
from soleware.runs.progress import (
    PeriodTotal,
    RacePrediction,
    TrainingLoad,
    TrendPoint,
    WeeklyGoal,
    _local_date,
    fill_periods,
    form_speeds,
    form_trends,
    period_start,
    predict_race,
    weekly_goal,
)
from soleware.runs.storage._base import StoreBase, _aware
from soleware.runs.storage.db import PeriodTotalRow, Runner, RunnerState, RunRow, ShoeTotalRow

__all__ = ["ProgressStore", "ProgressView", "count_run", "rebuild_aggregates", "update_loads"]

PERIODS = ("week", "month", "year")
#: loads older than this change today's acute and chronic load by less than 1e-12 of it ((27/29)^400)
LOAD_HISTORY_DAYS = 400
#: how far back a run's threshold speed looks (TrainingLoad.threshold_window_days)
THRESHOLD_DAYS = 90


def _um(x: float) -> int:
    return round(x * 1e6)


@dataclasses.dataclass(frozen=True, slots=True)
class ProgressView:
    """What the progress page shows: the last periods' totals and trends, the load, goal and race prediction."""

    totals: list[PeriodTotal]
    trends: dict[str, list[TrendPoint]]
    load: TrainingLoad | None
    goal: WeeklyGoal | None
    race: RacePrediction | None


def count_run(
    s: Session, state: RunnerState, runner_id: str, run: RunSummary, *, zone: str, sign: int
) -> None:
    """Add (``sign=1``) or take back (``sign=-1``) one run in the runner's aggregates."""
    day = _local_date(run, zone)
    for period in PERIODS:
        key = (runner_id, period, period_start(day, period))
        row = s.get(PeriodTotalRow, key)
        if row is None:
            row = PeriodTotalRow(
                runner_id=runner_id, period=period, period_start=key[2], distance_um=0, moving_time_us=0,
                elapsed_time_us=0, runs=0,
            )  # fmt: skip
            s.add(row)
        row.distance_um += sign * _um(run.distance_m)
        row.moving_time_us += sign * _um(run.moving_time_s)
        row.elapsed_time_us += sign * _um(run.elapsed_time_s)
        row.runs += sign
        if row.runs == 0:
            s.delete(row)
            s.flush()  # so that adding the period again (a run replaced by itself) inserts after this delete
    for serial in run.shoe_serials:
        shoe = s.get(ShoeTotalRow, (runner_id, serial))
        if shoe is None:
            shoe = ShoeTotalRow(
                runner_id=runner_id, serial=serial, distance_um=0, runs=0, first_run=run.start_time,
                last_run=run.start_time,
            )  # fmt: skip
            s.add(shoe)
        shoe.distance_um += sign * _um(run.distance_m)
        shoe.runs += sign
        if shoe.runs == 0:
            s.delete(shoe)
            s.flush()
        elif sign > 0:
            shoe.first_run = min(_aware(shoe.first_run), run.start_time)
            shoe.last_run = max(_aware(shoe.last_run), run.start_time)
        elif run.start_time in (_aware(shoe.first_run), _aware(shoe.last_run)):
            # the first or last run of this shoe went: find the new ones (rare; reads this runner's run times)
            starts = [
                _aware(t)
                for t, serials in s.execute(
                    sa.select(RunRow.start_time, RunRow.shoe_serials).where(RunRow.runner_id == runner_id)
                )
                if serial in serials
            ]
            shoe.first_run, shoe.last_run = min(starts), max(starts)
    speeds = np.frombuffer(state.form_speeds or b"", dtype="<f8").tolist()
    for v in form_speeds(run):
        if sign > 0:
            bisect.insort(speeds, v)
        else:
            del speeds[bisect.bisect_left(speeds, v)]
    state.form_speeds = np.asarray(speeds, dtype="<f8").tobytes()


def _packed(s: Session | Connection, where: sa.ColumnElement[bool]) -> list[RunSummary]:
    rows = s.scalars(sa.select(RunRow.summary_packed).where(where).order_by(RunRow.start_time, RunRow.id))
    return sorted((unpack_summary(b) for b in rows), key=lambda r: r.sort_key)


def update_loads(
    s: Session, runner_id: str, around: dt.datetime, *, until: dt.datetime | None = None
) -> None:
    """Recompute the training load of the runs a change from ``around`` (to ``until``) can touch (up to 90 days
    after it) from the runs that decide their thresholds (the 90 days before those); write those that changed
    (a back-dated run rarely moves a later run's threshold: most keep their load)."""
    window = dt.timedelta(days=THRESHOLD_DAYS)
    where = (RunRow.runner_id == runner_id) & (RunRow.start_time >= (around - window).astimezone(dt.UTC))
    where &= RunRow.start_time <= ((until or around) + window).astimezone(dt.UTC)
    rows = s.execute(sa.select(RunRow.summary_packed, RunRow.training_load).where(where)).all()
    unpacked = [(unpack_summary(row.summary_packed), row.training_load) for row in rows]
    stored = {r.run_id: load for r, load in unpacked}
    runs = sorted((r for r, _ in unpacked), key=lambda r: r.sort_key)
    loads = TrainingLoad().compute(runs).run_load_
    touched = [
        {"run": r.run_id, "load": loads[r.run_id]}
        for r in runs
        if around <= r.start_time and loads[r.run_id] != stored[r.run_id]
    ]
    _write_loads(s, touched)


def _write_loads(s: Session, loads: list[dict[str, Any]]) -> None:
    """Write runs' training loads (``{"run": id, "load": value}``) in one statement: one round trip per run was
    most of a back-dated upload, and seconds for a runner's whole history."""
    if loads:
        runs_table = cast(sa.Table, RunRow.__table__)
        s.connection().execute(
            sa.update(runs_table)
            .where(runs_table.c.id == sa.bindparam("run"))
            .values(training_load=sa.bindparam("load")),
            loads,
        )


def rebuild_aggregates(s: Session, runner_id: str, zone: str) -> None:
    """Every aggregate of a runner from their runs (a changed time zone, a migration): what ``count_run`` of
    each run gives, summed in memory and written at once (per run, a 10,000-run history took minutes)."""
    state = s.get(RunnerState, runner_id)
    assert state is not None
    s.execute(sa.delete(PeriodTotalRow).where(PeriodTotalRow.runner_id == runner_id))
    s.execute(sa.delete(ShoeTotalRow).where(ShoeTotalRow.runner_id == runner_id))
    runs = _packed(s, RunRow.runner_id == runner_id)
    periods: dict[tuple[str, dt.date], list[int]] = {}
    shoes: dict[str, list[Any]] = {}
    speeds: list[float] = []
    for r in runs:
        day = _local_date(r, zone)
        sums = (_um(r.distance_m), _um(r.moving_time_s), _um(r.elapsed_time_s), 1)
        for period in PERIODS:
            total = periods.setdefault((period, period_start(day, period)), [0, 0, 0, 0])
            for i, x in enumerate(sums):
                total[i] += x
        for serial in r.shoe_serials:
            shoe = shoes.setdefault(serial, [0, 0, r.start_time, r.start_time])
            shoe[0] += sums[0]
            shoe[1] += 1
            shoe[3] = r.start_time  # runs in run order: the first one seen is the first run
        speeds += form_speeds(r)
    s.add_all(
        PeriodTotalRow(
            runner_id=runner_id,
            period=period,
            period_start=start,
            distance_um=d,
            moving_time_us=m,
            elapsed_time_us=e,
            runs=n,
        )  # fmt: skip
        for (period, start), (d, m, e, n) in periods.items()
    )
    s.add_all(
        ShoeTotalRow(
            runner_id=runner_id, serial=serial, distance_um=d, runs=n, first_run=first, last_run=last
        )
        for serial, (d, n, first, last) in shoes.items()
    )
    state.form_speeds = np.sort(np.asarray(speeds, dtype="<f8")).tobytes()
    loads = TrainingLoad().compute(runs).run_load_
    _write_loads(s, [{"run": r.run_id, "load": loads[r.run_id]} for r in runs])


class ProgressStore(StoreBase):
    """Progress, goals and shoe mileage from the aggregates."""

    def period_totals(self, runner_id: str, *, period: str, last: int) -> list[PeriodTotal]:
        """The last ``last`` periods up to the last one with a run (zero totals between), oldest first."""
        with self._read() as conn:
            return self._totals(conn, runner_id, period, last)[1]

    @staticmethod
    def _totals(
        s: Connection, runner_id: str, period: str, last: int
    ) -> tuple[list[dt.date], list[PeriodTotal]]:
        """The starts of the last ``last`` periods with runs, and the last ``last`` periods (filled); the first
        of those is the first of the periods with runs."""
        rows = s.execute(
            sa.select(
                PeriodTotalRow.period_start,
                PeriodTotalRow.distance_um,
                PeriodTotalRow.moving_time_us,
                PeriodTotalRow.elapsed_time_us,
                PeriodTotalRow.runs,
            )
            .where(PeriodTotalRow.runner_id == runner_id, PeriodTotalRow.period == period)
            .order_by(PeriodTotalRow.period_start.desc())
            .limit(last)
        ).all()
        totals = [PeriodTotal(start, d / 1e6, m / 1e6, e / 1e6, n) for start, d, m, e, n in rows]
        return [r[0] for r in rows], fill_periods(reversed(totals), period)[-last:]

    def progress(
        self, runner_id: str, *, period: str = "week", last: int = 12, as_of: dt.datetime | None = None
    ) -> ProgressView:
        """The progress page in the runner's time zone, as of ``as_of`` (default now).

        Reads the last periods' totals, the runs' loads of the last ~400 days and only the run summaries a part
        of the page needs: the current week's (weekly goal), the last 90 days' (race prediction) and, when the
        trends of this data version are not in this process's cache yet, those of the periods shown.
        """
        now = as_of or dt.datetime.now(dt.UTC)
        with self._read() as s:
            runner = s.execute(
                sa.select(Runner.time_zone, Runner.weekly_goal_m, Runner.race_goal_m, RunnerState.version)
                .join(RunnerState, RunnerState.runner_id == Runner.id)
                .where(Runner.id == runner_id)
            ).one_or_none()
            assert runner is not None
            zone = runner.time_zone
            starts, totals = self._totals(s, runner_id, period, last)
            latest = s.scalar(sa.select(sa.func.max(RunRow.start_time)).where(RunRow.runner_id == runner_id))
            if latest is None:
                goal = None
                if runner.weekly_goal_m:
                    goal = weekly_goal([], goal_m=runner.weekly_goal_m, as_of=now, time_zone=zone)
                return ProgressView(totals, form_trends([], period=period, time_zone=zone), None, goal, None)
            latest = _aware(latest)
            # the first of the last `last` periods with runs (their trend points are the last ones, gaps or not)
            first_shown = min(starts, default=now.date())
            # the trends depend on the runs only, not on the time of day: kept per data version in this process
            trends_key = ("trends", runner_id, zone, period, last)
            goal_since: list[dt.datetime] = []
            if runner.race_goal_m:
                goal_since.append(now - dt.timedelta(days=THRESHOLD_DAYS + 1))
            if runner.weekly_goal_m:
                goal_since.append(now - dt.timedelta(days=8))  # the runner's current local week
            read: list[list[RunSummary]] = []

            def recent_since(since: dt.datetime) -> list[RunSummary]:
                read.append(
                    _packed(
                        s, (RunRow.runner_id == runner_id) & (RunRow.start_time >= since.astimezone(dt.UTC))
                    )
                )
                return read[-1]

            def trends_now() -> dict[str, list[TrendPoint]]:
                """Read once with the runs the goals need (one query on a cold cache, as on a warm one)."""
                since = dt.datetime.combine(first_shown, dt.time(), dt.UTC) - dt.timedelta(days=2)
                runs = recent_since(min([since, *goal_since]))
                return self._trends(
                    s, runner_id, runs, zone=zone, period=period, last=last, since=first_shown
                )

            trends = self._by_version(trends_key, runner.version, trends_now)
            if not read and goal_since:
                recent_since(min(goal_since))
            recent = read[0] if read else []
            as_of_load = max(now, latest)
            last_day = as_of_load.astimezone(ZoneInfo(zone)).date()
            tl = self._by_version(  # the same for one data version and day
                ("load", runner_id, zone),
                (runner.version, last_day),
                lambda: self._load(s, runner_id, zone=zone, since=latest, last_day=last_day),
            )
            goal = None
            if runner.weekly_goal_m:
                goal = weekly_goal(recent, goal_m=runner.weekly_goal_m, as_of=now, time_zone=zone)
            race = predict_race(recent, runner.race_goal_m, as_of=now) if runner.race_goal_m else None
        return ProgressView(totals, trends, tl, goal, race)

    @staticmethod
    def _trends(
        s: Connection,
        runner_id: str,
        recent: list[RunSummary],
        *,
        zone: str,
        period: str,
        last: int,
        since: dt.date,
    ) -> dict[str, list[TrendPoint]]:
        """The last ``last`` points of each trend, from the runs of the periods from ``since`` on (``recent``
        holds them), or from every run when a metric has fewer points there and older periods exist."""
        speeds = np.frombuffer(
            s.scalar(sa.select(RunnerState.form_speeds).where(RunnerState.runner_id == runner_id)) or b"",
            dtype="<f8",
        )
        reference = float(np.median(speeds)) if len(speeds) else None
        shown = [r for r in recent if period_start(_local_date(r, zone), period) >= since]
        trends = form_trends(shown, period=period, time_zone=zone, reference_speed_mps=reference)
        total_periods = s.scalar(
            sa.select(sa.func.count()).where(
                PeriodTotalRow.runner_id == runner_id, PeriodTotalRow.period == period
            )
        )
        if any(len(v) < last for v in trends.values()) and (total_periods or 0) > last:
            # a metric has no point in some recent periods: its last `last` points reach further back
            everything = _packed(s, RunRow.runner_id == runner_id)
            trends = form_trends(everything, period=period, time_zone=zone, reference_speed_mps=reference)
        return {k: v[-last:] for k, v in trends.items()}

    @staticmethod
    def _load(
        s: Connection, runner_id: str, *, zone: str, since: dt.datetime, last_day: dt.date
    ) -> TrainingLoad:
        """Acute and chronic load up to ``last_day`` from the stored loads of the runs of the ~400 days before
        ``since`` and after."""
        tz = ZoneInfo(zone)
        per_day: dict[dt.date, float] = {}
        for start, load in s.execute(
            sa.select(RunRow.start_time, RunRow.training_load)
            .where(
                RunRow.runner_id == runner_id,
                RunRow.start_time >= (since - dt.timedelta(days=LOAD_HISTORY_DAYS)).astimezone(dt.UTC),
            )
            .order_by(RunRow.start_time, RunRow.id)
        ):
            day = _aware(start).astimezone(tz).date()
            per_day[day] = per_day.get(day, 0.0) + load
        return TrainingLoad(time_zone=zone).compute_daily(per_day, last_day=last_day)

    def shoe_totals(self, runner_id: str) -> dict[str, ShoeTotalRow]:
        with self._tx(write=False) as s:
            rows = s.scalars(sa.select(ShoeTotalRow).where(ShoeTotalRow.runner_id == runner_id)).all()
            return {r.serial: r for r in rows}


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
