"""Progress of one runner: period totals, form trends at comparable effort, training load, goals and shoes.

All functions read RunSummary objects only (never streams), so they are cheap over thousands of runs.

Choices, documented:

- Local calendar: ``time_zone=None`` puts each run in its own zone's calendar (where it was run); pass the
  runner's zone to use one calendar for all. Weeks start on ``week_start`` (0 = Monday ... 6 = Sunday).
- Trends at comparable effort: every run carries a line fit of cadence, stride length and contact time against
  stride speed (RunSummary.form). A trend point is the mean of those lines evaluated at one reference speed
  (default: the median of the runs' typical speeds), using only runs whose speed range covers it, so a slow
  recovery week does not look like a loss of form. Pace has no effort-free reference without heart rate; its
  trend is the moving pace of each period, and ``threshold_pace_s_per_km`` (from best efforts, below) is the
  fitness-like pace trend.
- Threshold speed: the speed one could hold for one hour, from best efforts of at least ``min_effort_m`` by
  Riegel's formula T2 = T1·(D2/D1)^1.06 solved for T2 = 3600 s: D = D1·(3600/T1)^(1/1.06). The best (fastest)
  estimate among efforts of the preceding ``window_days`` wins.
- Per-run load ("rTSS-like"): Σ over the run's moving-time speed histogram of hours × (v / v_threshold)² × 100;
  one hour at threshold = 100. The threshold used is the one standing at that run (efforts of the 90 days up to
  and including it), so past loads do not change when fitness changes later.
- Acute and chronic load: exponentially weighted moving averages of the daily load with α = 2/(N+1), N = 7 and
  28 days (Williams et al., 2017), and their ratio (acute:chronic workload ratio).
- Race prediction: Riegel's formula from the recent (``window_days``) best effort that predicts the fastest time,
  using efforts of at least ``min_effort_m`` (Riegel's relation holds for roughly 3.5 min to 4 h efforts).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Self
from zoneinfo import ZoneInfo

import numpy as np

from soleware.runs.efforts import Effort
from soleware.runs.model import FORM_METRICS, SPEED_BIN_COUNT, SPEED_BIN_MPS, RunSummary

__all__ = [
    "RIEGEL_EXPONENT",
    "DailyLoad",
    "PeriodTotal",
    "RacePrediction",
    "ShoeMileage",
    "TrainingLoad",
    "TrendPoint",
    "WeeklyGoal",
    "fill_periods",
    "form_speeds",
    "form_trends",
    "period_start",
    "period_totals",
    "predict_race",
    "riegel_time_s",
    "run_load",
    "shoe_mileage",
    "threshold_speed_mps",
    "weekly_goal",
]

RIEGEL_EXPONENT = 1.06
DEFAULT_RETIRE_AT_M = 700_000.0
_PERIODS = ("week", "month", "year")
_TREND_NAMES = {
    "cadence_spm": "cadence_spm",
    "length_m": "stride_length_m",
    "contact_time_s": "contact_time_s",
}


def _local_date(run: RunSummary, time_zone: str | None) -> dt.date:
    return run.start_time.astimezone(ZoneInfo(time_zone or run.time_zone)).date()


def period_start(day: dt.date, period: str, *, week_start: int = 0) -> dt.date:
    """First day of the week, month or year that contains ``day``."""
    if period == "week":
        if not 0 <= week_start <= 6:
            raise ValueError(f"week_start must be 0 (Monday) .. 6 (Sunday), got {week_start}")
        return day - dt.timedelta(days=(day.weekday() - week_start) % 7)
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"period must be one of {_PERIODS}, got {period!r}")


# ---------------------------------------------------------------------- totals
@dataclasses.dataclass(frozen=True, slots=True)
class PeriodTotal:
    period_start: dt.date
    distance_m: float
    moving_time_s: float
    elapsed_time_s: float
    runs: int


def _next_period(start: dt.date, period: str) -> dt.date:
    if period == "week":
        return start + dt.timedelta(days=7)
    if period == "month":
        return dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return dt.date(start.year + 1, 1, 1)


def period_totals(
    runs: Iterable[RunSummary],
    *,
    period: str = "week",
    time_zone: str | None = None,
    week_start: int = 0,
    fill: bool = False,
) -> list[PeriodTotal]:
    """Distance, time and number of runs per local week, month or year, oldest first.

    Periods without runs are left out unless ``fill``, which gives every period from the first to the last
    (zero totals in between, for charts).
    """
    acc: dict[dt.date, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for r in runs:
        key = period_start(_local_date(r, time_zone), period, week_start=week_start)
        a = acc[key]
        a[0] += r.distance_m
        a[1] += r.moving_time_s
        a[2] += r.elapsed_time_s
        a[3] += 1
    if fill and acc:
        day, last = min(acc), max(acc)
        while day < last:
            day = _next_period(day, period)
            acc[day]  # defaultdict: a zero total
    return [PeriodTotal(k, v[0], v[1], v[2], int(v[3])) for k, v in sorted(acc.items())]


# ---------------------------------------------------------------------- Riegel, threshold, races
def riegel_time_s(
    time_s: float, distance_m: float, target_m: float, *, exponent: float = RIEGEL_EXPONENT
) -> float:
    """Riegel's prediction T2 = T1·(D2/D1)^exponent."""
    if time_s <= 0 or distance_m <= 0 or target_m <= 0:
        raise ValueError("Riegel needs positive times and distances")
    predicted_s: float = time_s * (target_m / distance_m) ** exponent
    return predicted_s


def _effort_threshold_mps(e: Effort) -> float:
    """One-hour speed implied by one effort (Riegel solved for a 3600 s race)."""
    speed_mps: float = e.distance_m * (3600.0 / e.time_s) ** (1.0 / RIEGEL_EXPONENT) / 3600.0
    return speed_mps


def threshold_speed_mps(efforts: Iterable[Effort], *, min_effort_m: float = 1500.0) -> float | None:
    """Threshold (one-hour) speed from the best of these efforts, or None if none is long enough."""
    speeds = [_effort_threshold_mps(e) for e in efforts if e.distance_m >= min_effort_m]
    return max(speeds) if speeds else None


@dataclasses.dataclass(frozen=True, slots=True)
class RacePrediction:
    distance_m: float
    predicted_time_s: float
    #: the effort the prediction comes from, and its run
    from_run_id: str
    from_effort: Effort

    @property
    def pace_s_per_km(self) -> float:
        return 1000.0 * self.predicted_time_s / self.distance_m


def predict_race(
    runs: Iterable[RunSummary],
    distance_m: float,
    *,
    as_of: dt.datetime,
    window_days: float = 90.0,
    min_effort_m: float = 1500.0,
) -> RacePrediction | None:
    """Predicted finish time for ``distance_m`` from the best recent effort (Riegel), or None without one."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    since = as_of - dt.timedelta(days=window_days)
    best: RacePrediction | None = None
    for r in runs:
        if not since <= r.start_time <= as_of:
            continue
        for e in r.efforts:
            if e.distance_m < min_effort_m:
                continue
            t = riegel_time_s(e.time_s, e.distance_m, distance_m)
            if best is None or (t, r.run_id) < (best.predicted_time_s, best.from_run_id):
                best = RacePrediction(distance_m, t, r.run_id, e)
    return best


# ---------------------------------------------------------------------- training load
_BIN_MID_MPS = (np.arange(SPEED_BIN_COUNT) + 0.5) * SPEED_BIN_MPS


def run_load(run: RunSummary, threshold_mps: float) -> float:
    """rTSS-like load of one run: Σ hours × (v / v_threshold)² × 100 over its moving-time speed histogram."""
    if threshold_mps <= 0:
        raise ValueError(f"threshold_mps must be > 0, got {threshold_mps}")
    hist = np.asarray(run.speed_time_s, dtype=np.float64)
    if len(hist) == 0:
        # no histogram (e.g. a manual entry): its average moving speed for its moving time
        if run.moving_time_s <= 0:
            return 0.0
        v = run.distance_m / run.moving_time_s
        return run.moving_time_s / 3600.0 * (v / threshold_mps) ** 2 * 100.0
    mids = _BIN_MID_MPS[: len(hist)]
    return float(np.sum(hist / 3600.0 * (mids / threshold_mps) ** 2) * 100.0)


@dataclasses.dataclass(frozen=True, slots=True)
class DailyLoad:
    day: dt.date
    load: float
    acute: float
    chronic: float
    #: acute / chronic, None while chronic is 0
    ratio: float | None


class TrainingLoad:
    """Per-run load and the acute vs chronic daily load of one runner.

    Parameters
    ----------
    acute_days, chronic_days
        Spans N of the exponentially weighted averages (α = 2/(N+1)).
    threshold_window_days
        How far back best efforts count for the threshold speed standing at a run.
    default_threshold_mps
        Threshold speed before the runner has any effort of ``min_effort_m`` (3.0 m/s ≈ 5:33 /km).
    min_effort_m
        Shortest best effort used for the threshold estimate.
    time_zone
        Calendar for the daily series; None = each run's own zone.

    Attributes
    ----------
    run_load_
        Run id to its load.
    run_threshold_mps_
        Run id to the threshold speed used for it.
    daily_
        One DailyLoad per local day from the first run's day to ``as_of``'s day.
    """

    def __init__(
        self,
        *,
        acute_days: int = 7,
        chronic_days: int = 28,
        threshold_window_days: float = 90.0,
        default_threshold_mps: float = 3.0,
        min_effort_m: float = 1500.0,
        time_zone: str | None = None,
    ) -> None:
        self.acute_days = acute_days
        self.chronic_days = chronic_days
        self.threshold_window_days = threshold_window_days
        self.default_threshold_mps = default_threshold_mps
        self.min_effort_m = min_effort_m
        self.time_zone = time_zone

    def compute(self, runs: Iterable[RunSummary], *, as_of: dt.datetime | None = None) -> Self:
        ordered = sorted(runs, key=lambda r: r.sort_key)
        self.run_load_: dict[str, float] = {}
        self.run_threshold_mps_: dict[str, float] = {}
        self.daily_: list[DailyLoad] = []
        window = dt.timedelta(days=self.threshold_window_days)
        # sliding-window maximum of the per-run threshold estimates (monotonic deque)
        candidates: collections.deque[tuple[dt.datetime, float]] = collections.deque()
        per_day: dict[dt.date, float] = collections.defaultdict(float)
        for r in ordered:
            est = threshold_speed_mps(r.efforts, min_effort_m=self.min_effort_m)
            if est is not None:
                while candidates and candidates[-1][1] <= est:
                    candidates.pop()
                candidates.append((r.start_time, est))
            while candidates and candidates[0][0] < r.start_time - window:
                candidates.popleft()
            threshold = candidates[0][1] if candidates else self.default_threshold_mps
            load = run_load(r, threshold)
            self.run_load_[r.run_id] = load
            self.run_threshold_mps_[r.run_id] = threshold
            per_day[_local_date(r, self.time_zone)] += load
        if not per_day:
            return self
        last = None
        if as_of is not None:
            last = as_of.astimezone(ZoneInfo(self.time_zone or ordered[-1].time_zone)).date()
        return self.compute_daily(per_day, last_day=last)

    def compute_daily(self, per_day: Mapping[dt.date, float], *, last_day: dt.date | None = None) -> Self:
        """The acute and chronic series from loads per local day (``daily_`` from the first day to
        ``last_day``, default the last day with a load). Loads from before the last ~400 days change the result
        by less than 1e-12 of it: storage passes only those."""
        self.daily_ = []
        if not per_day:
            return self
        first = min(per_day)
        last = max(per_day) if last_day is None else max(last_day, first)
        a_alpha = 2.0 / (self.acute_days + 1)
        c_alpha = 2.0 / (self.chronic_days + 1)
        acute = chronic = 0.0
        for k in range((last - first).days + 1):
            day = first + dt.timedelta(days=k)
            load = per_day.get(day, 0.0)
            acute += a_alpha * (load - acute)
            chronic += c_alpha * (load - chronic)
            self.daily_.append(DailyLoad(day, load, acute, chronic, acute / chronic if chronic > 0 else None))
        return self

    @property
    def acute_(self) -> float:
        return self.daily_[-1].acute if self.daily_ else 0.0

    @property
    def chronic_(self) -> float:
        return self.daily_[-1].chronic if self.daily_ else 0.0

    @property
    def ratio_(self) -> float | None:
        return self.daily_[-1].ratio if self.daily_ else None


# ---------------------------------------------------------------------- trends
@dataclasses.dataclass(frozen=True, slots=True)
class TrendPoint:
    period_start: dt.date
    value: float
    runs: int


def form_speeds(run: RunSummary) -> list[float]:
    """The typical speed of each of a run's form fits (middle of its speed range): the reference speed of the
    trends is the median of these over all runs."""
    return [0.5 * (f.speed_lo_mps + f.speed_hi_mps) for f in run.form.values()]


def fill_periods(totals: Iterable[PeriodTotal], period: str) -> list[PeriodTotal]:
    """Totals (oldest first) with every period from the first to the last, zero totals in between."""
    by_start = {t.period_start: t for t in totals}
    if not by_start:
        return []
    day, last = min(by_start), max(by_start)
    out = [by_start[day]]
    while day < last:
        day = _next_period(day, period)
        out.append(by_start.get(day, PeriodTotal(day, 0.0, 0.0, 0.0, 0)))
    return out


def form_trends(
    runs: Iterable[RunSummary],
    *,
    period: str = "month",
    reference_speed_mps: float | None = None,
    time_zone: str | None = None,
    week_start: int = 0,
    min_effort_m: float = 1500.0,
) -> dict[str, list[TrendPoint]]:
    """Trends per period: cadence_spm, stride_length_m and contact_time_s at ``reference_speed_mps``;
    pace_s_per_km (moving pace of the period); threshold_pace_s_per_km (from the period's best efforts)."""
    runs = list(runs)
    if reference_speed_mps is None:
        typical = [v for r in runs for v in form_speeds(r)]
        reference_speed_mps = float(np.median(typical)) if typical else None
    by_period: dict[dt.date, list[RunSummary]] = collections.defaultdict(list)
    for r in runs:
        by_period[period_start(_local_date(r, time_zone), period, week_start=week_start)].append(r)
    out: dict[str, list[TrendPoint]] = {name: [] for name in (*_TREND_NAMES.values(), "pace_s_per_km")}
    out["threshold_pace_s_per_km"] = []
    for start in sorted(by_period):
        group = by_period[start]
        if reference_speed_mps is not None:
            for metric in FORM_METRICS:
                values = [
                    (v, r.form[metric].n)
                    for r in group
                    if metric in r.form and (v := r.form[metric].at(reference_speed_mps)) is not None
                ]
                if values:
                    mean = sum(v * n for v, n in values) / sum(n for _, n in values)
                    out[_TREND_NAMES[metric]].append(TrendPoint(start, mean, len(values)))
        distance = sum(r.distance_m for r in group)
        moving = sum(r.moving_time_s for r in group)
        if distance > 0:
            out["pace_s_per_km"].append(TrendPoint(start, 1000.0 * moving / distance, len(group)))
        th = threshold_speed_mps((e for r in group for e in r.efforts), min_effort_m=min_effort_m)
        if th is not None:
            out["threshold_pace_s_per_km"].append(TrendPoint(start, 1000.0 / th, len(group)))
    return out


# ---------------------------------------------------------------------- goals
@dataclasses.dataclass(frozen=True, slots=True)
class WeeklyGoal:
    week_start: dt.date
    goal_m: float
    distance_m: float
    days_left: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.distance_m / self.goal_m)

    @property
    def remaining_m(self) -> float:
        return max(0.0, self.goal_m - self.distance_m)

    @property
    def reached(self) -> bool:
        return self.distance_m >= self.goal_m


def weekly_goal(
    runs: Iterable[RunSummary], *, goal_m: float, as_of: dt.datetime, time_zone: str, week_start: int = 0
) -> WeeklyGoal:
    """Progress on a weekly distance goal for the runner's current local week (``as_of`` in ``time_zone``)."""
    if goal_m <= 0:
        raise ValueError(f"goal_m must be > 0, got {goal_m}")
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    today = as_of.astimezone(ZoneInfo(time_zone)).date()
    start = period_start(today, "week", week_start=week_start)
    distance = sum(
        r.distance_m
        for r in runs
        if period_start(_local_date(r, time_zone), "week", week_start=week_start) == start
        and r.start_time <= as_of
    )
    return WeeklyGoal(start, goal_m, distance, 6 - (today - start).days)


# ---------------------------------------------------------------------- shoes
@dataclasses.dataclass(frozen=True, slots=True)
class ShoeMileage:
    serial: str
    distance_m: float
    runs: int
    first_run: dt.datetime
    last_run: dt.datetime
    retire_at_m: float

    @property
    def remaining_m(self) -> float:
        return max(0.0, self.retire_at_m - self.distance_m)

    @property
    def retire_reminder(self) -> bool:
        """True once the shoe has run its retirement distance."""
        return self.distance_m >= self.retire_at_m


def shoe_mileage(
    runs: Iterable[RunSummary],
    *,
    retire_at_m: float = DEFAULT_RETIRE_AT_M,
    retire_at_by_serial: Mapping[str, float] | None = None,
    initial_m_by_serial: Mapping[str, float] | None = None,
) -> list[ShoeMileage]:
    """Mileage of every shoe serial from its runs (each run counts fully for each shoe it came from).

    ``initial_m_by_serial`` adds distance a shoe ran before it was registered; ``retire_at_by_serial``
    overrides the retirement distance (default 700 km) per shoe. Sorted by serial.
    """
    retire_at_by_serial = retire_at_by_serial or {}
    initial = initial_m_by_serial or {}
    acc: dict[str, list[Any]] = {}  # serial -> [distance_m, runs, first start, last start]
    for r in runs:
        for serial in r.shoe_serials:
            a = acc.setdefault(serial, [initial.get(serial, 0.0), 0, r.start_time, r.start_time])
            a[0] += r.distance_m
            a[1] += 1
            a[2] = min(a[2], r.start_time)
            a[3] = max(a[3], r.start_time)
    return [
        ShoeMileage(serial, a[0], a[1], a[2], a[3], float(retire_at_by_serial.get(serial, retire_at_m)))
        for serial, a in sorted(acc.items())
    ]
