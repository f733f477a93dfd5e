"""Achievements: a catalogue of badges, awarded by walking a runner's runs in order.

Awards are a pure, deterministic function of the runner's run summaries: runs are taken in run order (start
time, then id) and each achievement goes to the first run that earns it. Deleting or editing a run is
"recompute from the remaining runs": an award whose run is gone moves to the next run that qualifies, or is taken
back. Monthly challenges are awarded once per calendar month. ``Achievements.add`` applies one new run without
a recompute when it is the latest run (the usual case: a run just finished) and equals a recompute then;
``insert`` and ``remove`` take a run from anywhere in time by rewinding the state to that run and replaying only
the runs after it (plus the few days before it), and also equal a recompute (tested). ``compute_facts`` is
``compute`` from the runs' facts as columns (``soleware.runs.facts``) in a few vectorised passes: storage uses
it for a run from anywhere in time or a deleted run, at a cost that does not depend on where the run lies.

Distances are summed as whole micrometres, so sums do not depend on the order of addition and can be taken back.

Calendar days, weeks and months are local: by default each run's own time zone (where the runner was), or one
``time_zone`` for all runs. Weeks start on ``week_start`` (0 = Monday ... 6 = Sunday).

Names and descriptions are given in English and Simplified Chinese as data (``name["en"]``, ``name["zh"]``); the
web app may use them directly or as gettext message ids (the English text).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable
from typing import Any, Self
from zoneinfo import ZoneInfo

import numpy as np

from soleware.runs.facts import RunFacts
from soleware.runs.model import RunSummary

__all__ = ["CATALOGUE", "REWIND_DAYS", "Achievement", "Achievements", "Award", "Progress"]


@dataclasses.dataclass(frozen=True, slots=True)
class Achievement:
    """One badge of the catalogue.

    ``kind`` says how it is computed and ``target`` is in ``unit``: total_distance (km), single_run_distance
    (km), weekly_streak (weeks), daily_streak (days), monthly_distance (km in one calendar month), cadence (spm,
    average of one run of at least 1 km), form (% midfoot/forefoot strikes in one run of at least 1 km),
    early_run (runs starting before ``hour`` local time), night_run (runs starting at or after ``hour``),
    first_run, personal_record (records beaten), longest_run (times your longest run was beaten).
    """

    id: str
    kind: str
    target: float
    unit: str
    icon: str
    name: dict[str, str]
    description: dict[str, str]
    #: local hour for early_run / night_run
    hour: int | None = None

    @property
    def monthly(self) -> bool:
        return self.kind == "monthly_distance"


def _a(
    id: str,
    kind: str,
    target: float,
    unit: str,
    icon: str,
    en: tuple[str, str],
    zh: tuple[str, str],
    hour: int | None = None,
) -> Achievement:
    return Achievement(
        id, kind, target, unit, icon, {"en": en[0], "zh": zh[0]}, {"en": en[1], "zh": zh[1]}, hour
    )


#: The achievement catalogue, in display order.
CATALOGUE: tuple[Achievement, ...] = (
    _a(
        "first_run",
        "first_run",
        1,
        "runs",
        "flag",
        ("First steps", "Record your first run."),
        ("迈出第一步", "完成第一次跑步记录。"),
    ),
    *(
        _a(
            f"total_{km}km",
            "total_distance",
            km,
            "km",
            "road",
            (f"{km} km club", f"Run {km} km in total."),
            (f"{km} 公里俱乐部", f"累计跑步 {km} 公里。"),
        )
        for km in (10, 50, 100, 500, 1000)
    ),
    *(
        _a(
            f"run_{key}",
            "single_run_distance",
            km,
            "km",
            "medal",
            (f"{en_name} done", f"Cover {en_text} in a single run."),
            (f"完成{zh}", f"单次跑步完成{zh}。"),
        )
        for key, km, en_name, en_text, zh in (
            ("5k", 5, "5 km", "5 km", "5 公里"),
            ("10k", 10, "10 km", "10 km", "10 公里"),
            ("half", 21.0975, "Half marathon", "a half marathon", "半程马拉松"),
            ("marathon", 42.195, "Marathon", "a marathon", "全程马拉松"),
        )
    ),
    *(
        _a(
            f"weekly_streak_{n}",
            "weekly_streak",
            n,
            "weeks",
            "calendar-week",
            (f"{n}-week streak", f"Run at least once a week for {n} weeks in a row."),
            (f"连续 {n} 周", f"连续 {n} 周每周至少跑一次。"),
        )
        for n in (4, 12, 26, 52)
    ),
    *(
        _a(
            f"daily_streak_{n}",
            "daily_streak",
            n,
            "days",
            "calendar-day",
            (f"{n}-day streak", f"Run {n} days in a row."),
            (f"连续 {n} 天", f"连续 {n} 天每天跑步。"),
        )
        for n in (3, 7, 30)
    ),
    _a(
        "personal_record",
        "personal_record",
        1,
        "records",
        "trophy",
        ("New personal record", "Beat one of your personal records."),
        ("刷新个人纪录", "打破你的一项个人纪录。"),
    ),
    _a(
        "longest_run",
        "longest_run",
        1,
        "runs",
        "arrow-up-right",
        ("Longest run yet", "Run farther than ever before in one run."),
        ("最长距离", "单次跑步距离超过以往所有跑步。"),
    ),
    _a(
        "early_bird",
        "early_run",
        1,
        "runs",
        "sunrise",
        ("Early bird", "Start a run before 6:00 local time."),
        ("早起的鸟儿", "在当地时间 6:00 之前开始跑步。"),
        hour=6,
    ),
    _a(
        "night_owl",
        "night_run",
        1,
        "runs",
        "moon",
        ("Night owl", "Start a run at 21:00 local time or later."),
        ("夜猫子", "在当地时间 21:00 或之后开始跑步。"),
        hour=21,
    ),
    _a(
        "cadence_170",
        "cadence",
        170,
        "spm",
        "metronome",
        ("Quick feet", "Average at least 170 steps per minute in a run of 1 km or more."),
        ("快步频", "在 1 公里以上的一次跑步中平均步频达到每分钟 170 步。"),
    ),
    _a(
        "form_80",
        "form",
        80,
        "%",
        "footprint",
        (
            "Light landing",
            "Land on the midfoot or forefoot in at least 80% of strides in a run of 1 km or more.",
        ),
        ("轻盈着地", "在 1 公里以上的一次跑步中至少 80% 的步伐以中足或前掌着地。"),
    ),
    *(
        _a(
            f"monthly_{km}km",
            "monthly_distance",
            km,
            "km",
            "calendar-month",
            (f"{km} km in a month", f"Run {km} km within one calendar month."),
            (f"月跑 {km} 公里", f"在一个自然月内累计跑步 {km} 公里。"),
        )
        for km in (50, 100)
    ),
)

_MIN_GOAL_RUN_M = 1000.0
#: runs this close before a point in time may share a local day or week with a run after it (zones differ by up
#: to 26 h, a week is 7 days): ``insert`` and ``remove`` need them
REWIND_DAYS = 9


def _um(distance_m: float) -> int:
    return round(distance_m * 1e6)


@dataclasses.dataclass(frozen=True, slots=True)
class Award:
    """An achievement earned by a run; ``period`` is "YYYY-MM" for monthly challenges, else ""."""

    achievement_id: str
    run_id: str
    earned_at: dt.datetime
    period: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "achievement_id": self.achievement_id,
            "run_id": self.run_id,
            "earned_at": self.earned_at.isoformat(),
            "period": self.period,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Award:
        return cls(
            d["achievement_id"], d["run_id"], dt.datetime.fromisoformat(d["earned_at"]), d.get("period", "")
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Progress:
    """Where a runner stands on one achievement (for monthly ones: in the month of ``as_of``)."""

    achievement_id: str
    current: float
    target: float
    unit: str
    earned: bool

    @property
    def fraction(self) -> float:
        return min(1.0, self.current / self.target) if self.target else 1.0


class Achievements:
    """Award achievements from a runner's runs.

    Parameters
    ----------
    catalogue
        The achievements to award (default: CATALOGUE).
    time_zone
        IANA zone for calendar days/weeks/months/times of day; None = each run's own zone.
    week_start
        First day of the week for weekly streaks, 0 = Monday ... 6 = Sunday.

    Attributes
    ----------
    awards_
        Awards in the order they were earned.
    run_count_, total_distance_m_, longest_run_m_
        Running totals over the runs taken into account.
    """

    awards_: list[Award]

    def __init__(
        self,
        *,
        catalogue: tuple[Achievement, ...] = CATALOGUE,
        time_zone: str | None = None,
        week_start: int = 0,
    ) -> None:
        self.catalogue = catalogue
        self.time_zone = time_zone
        self.week_start = week_start

    # ------------------------------------------------------------------ state
    def _reset(self) -> None:
        if not 0 <= self.week_start <= 6:
            raise ValueError(f"week_start must be 0 (Monday) .. 6 (Sunday), got {self.week_start}")
        self.awards_ = []
        self.run_count_ = 0
        self._total_um = 0
        self.hour_runs_: dict[str, int] = {}  # early_run / night_run achievement id -> runs counted
        # the runs that raised a running best, oldest first, as (start ISO, run id, value): what the best was
        # before any point in time, so the state can be rewound there
        self.longest_history_: list[tuple[str, str, float]] = []
        self.cadence_history_: list[tuple[str, str, float]] = []
        self.form_history_: list[tuple[str, str, float]] = []
        self.effort_history_: dict[float, list[tuple[str, str, float]]] = {}
        self.days_: set[int] = set()  # local date ordinals with a run
        self.weeks_: set[int] = set()  # week index (ordinal of the week's first day // 7)
        self._month_um: dict[str, int] = {}
        self.last_key_: tuple[dt.datetime, str] | None = None
        self.last_zone_: str | None = None
        self.run_ids_: set[str] = set()
        self._earned: set[tuple[str, str]] = set()
        self._prepare()

    # running figures, derived from the state above
    @property
    def total_distance_m_(self) -> float:
        return self._total_um / 1e6

    @property
    def month_m_(self) -> dict[str, float]:
        return {k: v / 1e6 for k, v in self._month_um.items()}

    @property
    def longest_run_m_(self) -> float:
        return self.longest_history_[-1][2] if self.longest_history_ else 0.0

    @property
    def longest_beaten_(self) -> int:
        """Times a run was longer than every run before it (the first run with a distance does not count)."""
        return max(0, len(self.longest_history_) - 1)

    @property
    def best_cadence_spm_(self) -> float:
        return self.cadence_history_[-1][2] if self.cadence_history_ else 0.0

    @property
    def best_form_pct_(self) -> float:
        return self.form_history_[-1][2] if self.form_history_ else 0.0

    @property
    def best_efforts_s_(self) -> dict[float, float]:
        return {d: h[-1][2] for d, h in self.effort_history_.items() if h}

    @property
    def records_beaten_(self) -> int:
        return sum(max(0, len(h) - 1) for h in self.effort_history_.values())

    def _hour_runs_of(self, local: dt.datetime) -> list[Achievement]:
        return [
            a
            for a in self._hour_achievements
            if a.hour is not None
            and (
                (a.kind == "early_run" and local.hour < a.hour)
                or (a.kind == "night_run" and local.hour >= a.hour)
            )
        ]

    def _local(self, run: RunSummary) -> dt.datetime:
        return run.start_time.astimezone(ZoneInfo(self.time_zone or run.time_zone))

    def _week(self, day: dt.date) -> int:
        return (day.toordinal() - 1 - self.week_start) // 7  # ordinal 1 (0001-01-01) is a Monday

    @staticmethod
    def _streak(days: set[int], last: int, limit: float = float("inf")) -> int:
        """Length of the run of consecutive members of ``days`` ending at ``last`` (counted up to ``limit``)."""
        n = 0
        while n < limit and last - n in days:
            n += 1
        return n

    def _prepare(self) -> None:
        """Lookups derived from the catalogue and the awards so far (not state: rebuilt on load)."""
        self._hour_achievements = [a for a in self.catalogue if a.hour is not None]
        self._day_limit = max((a.target for a in self.catalogue if a.kind == "daily_streak"), default=0.0)
        self._week_limit = max((a.target for a in self.catalogue if a.kind == "weekly_streak"), default=0.0)
        self._monthly = [a for a in self.catalogue if a.monthly]
        self._pending = [a for a in self.catalogue if not a.monthly and (a.id, "") not in self._earned]

    def _step(self, run: RunSummary) -> None:
        if run.run_id in self.run_ids_:
            raise ValueError(f"run {run.run_id!r} is already counted; to edit a run, recompute")
        self.run_ids_.add(run.run_id)
        self.last_key_ = run.sort_key
        self.last_zone_ = run.time_zone
        local = self._local(run)
        day = local.date()
        month = f"{day.year:04d}-{day.month:02d}"
        key = (run.start_time.isoformat(), run.run_id)
        um = _um(run.distance_m)

        self.run_count_ += 1
        self._total_um += um
        if not self.longest_history_ or run.distance_m > self.longest_run_m_:  # the first run always enters
            self.longest_history_.append((*key, run.distance_m))
        self.days_.add(day.toordinal())
        self.weeks_.add(self._week(day))
        self._month_um[month] = self._month_um.get(month, 0) + um
        for a in self._hour_runs_of(local):
            self.hour_runs_[a.id] = self.hour_runs_.get(a.id, 0) + 1
        if run.distance_m >= _MIN_GOAL_RUN_M:
            if run.avg_cadence_spm is not None and run.avg_cadence_spm > self.best_cadence_spm_:
                self.cadence_history_.append((*key, run.avg_cadence_spm))
            if run.fore_mid_strike_fraction is not None:
                pct = 100.0 * run.fore_mid_strike_fraction
                if pct > self.best_form_pct_:
                    self.form_history_.append((*key, pct))
        for e in run.efforts:
            h = self.effort_history_.setdefault(e.distance_m, [])
            if not h or e.time_s < h[-1][2]:
                h.append((*key, e.time_s))

        # awards only need streaks up to the longest target, which keeps this O(1) per run
        day_streak = self._streak(self.days_, day.toordinal(), self._day_limit)
        week_streak = self._streak(self.weeks_, self._week(day), self._week_limit)
        earned_now = []
        for a in (*self._pending, *self._monthly):
            period = month if a.monthly else ""
            if (a.id, period) in self._earned:
                continue
            if self._current(a, day_streak=day_streak, week_streak=week_streak, month=month) >= a.target:
                earned_now.append(a)
                self._earned.add((a.id, period))
                self.awards_.append(Award(a.id, run.run_id, run.start_time, period))
        if earned_now:
            self._pending = [a for a in self._pending if a not in earned_now]

    def _current(
        self,
        a: Achievement,
        *,
        day_streak: int,
        week_streak: int,
        month: str,
    ) -> float:
        match a.kind:
            case "first_run":
                return self.run_count_
            case "total_distance":
                return self.total_distance_m_ / 1000.0
            case "single_run_distance":
                return self.longest_run_m_ / 1000.0
            case "weekly_streak":
                return week_streak
            case "daily_streak":
                return day_streak
            case "monthly_distance":
                return self._month_um.get(month, 0) / 1e9
            case "cadence":
                return self.best_cadence_spm_
            case "form":
                return self.best_form_pct_
            case "early_run" | "night_run":
                return self.hour_runs_.get(a.id, 0)
            case "personal_record":
                return self.records_beaten_
            case "longest_run":
                return self.longest_beaten_
        raise ValueError(f"achievement {a.id!r} has unknown kind {a.kind!r}")

    # ------------------------------------------------------------------ actions
    def compute(self, runs: Iterable[RunSummary]) -> Self:
        """Awards from scratch for this set of runs (input order does not matter)."""
        self._reset()
        for run in sorted(runs, key=lambda r: r.sort_key):
            self._step(run)
        return self

    def compute_facts(self, facts: RunFacts) -> Self:
        """Awards and state from the runs' facts, equal to ``compute`` over the same runs (tested).

        A few vectorised passes over the history instead of a step per run: what a run adds or takes back costs
        the same wherever it lies in time. ``facts`` carry local days and hours: build them in this object's
        ``time_zone`` (or each run's own zone when it is None), see ``RunFacts.from_summaries``.
        """
        self._reset()
        f = facts.ordered()
        f.check_unique()
        n = len(f)
        if n == 0:
            return self
        if not np.all(np.isfinite(f.distance_m)):
            raise ValueError("run distances must be finite")
        um = np.rint(f.distance_m * 1e6).astype(np.int64)
        day = f.local_day
        week = (day - 1 - self.week_start) // 7
        local_date = np.datetime64("0001-01-01", "D") + (day - 1).astype("m8[D]")
        month = local_date.astype("M8[M]").astype(np.int64)  # months since 1970-01

        def month_key(m: int) -> str:
            return f"{m // 12 + 1970:04d}-{m % 12 + 1:02d}"

        def improvements(values: np.ndarray, start: float) -> np.ndarray:
            """Where a value beats (is above) the best so far, the best starting at ``start``."""
            best = np.maximum.accumulate(np.concatenate(([start], values)))
            return np.flatnonzero(values > best[:-1])

        def entries(idx: np.ndarray, values: np.ndarray) -> list[tuple[str, str, float]]:
            return [(f.start_time(i).isoformat(), f.run_id[i], float(values[i])) for i in idx]

        longest = np.concatenate(([0], 1 + improvements(f.distance_m[1:], float(f.distance_m[0]))))
        goal = f.distance_m >= _MIN_GOAL_RUN_M
        cadence = np.where(goal & (f.cadence_spm > 0.0), f.cadence_spm, 0.0)
        pct = 100.0 * f.fore_mid_fraction
        form = np.where(goal & (pct > 0.0), pct, 0.0)
        cadence_idx, form_idx = improvements(cadence, 0.0), improvements(form, 0.0)

        # records beaten by each run (the first effort at a distance beats none)
        beaten = np.zeros(n, dtype=np.int64)
        effort_history: dict[float, list[tuple[str, str, float]]] = {}
        distances, first = np.unique(f.effort_distance_m, return_index=True)
        for d in distances[np.argsort(first, kind="stable")]:
            sel = np.flatnonzero(f.effort_distance_m == d)
            t = f.effort_time_s[sel]
            if np.isnan(t[0]):  # nothing is faster than a NaN standing first: Python's comparisons say no
                idx = np.array([0])
            else:
                standing = np.fmin.accumulate(t)
                idx = np.concatenate(([0], 1 + np.flatnonzero(t[1:] < standing[:-1])))
            np.add.at(beaten, f.effort_run[sel[idx[1:]]], 1)
            runs = f.effort_run[sel[idx]]
            effort_history[float(d)] = [
                (f.start_time(i).isoformat(), f.run_id[i], float(x))
                for i, x in zip(runs, t[idx], strict=True)
            ]

        hour_counts: dict[str, np.ndarray] = {}
        for a in self._hour_achievements:
            assert a.hour is not None
            if a.kind == "early_run":
                hour_counts[a.id] = np.cumsum(f.local_hour < a.hour)
            elif a.kind == "night_run":
                hour_counts[a.id] = np.cumsum(f.local_hour >= a.hour)

        def units_of(units: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            """The units (days or weeks) with a run, the first run in each, and how many units in a row end
            there."""
            uniq, first_run, inverse = np.unique(units, return_index=True, return_inverse=True)
            gap = np.concatenate(([True], np.diff(uniq) != 1))
            seg_start = np.maximum.accumulate(np.where(gap, np.arange(len(uniq)), 0))
            return first_run, np.arange(len(uniq)) - seg_start + 1, inverse

        by_unit = {"daily_streak": units_of(day), "weekly_streak": units_of(week)}

        def streak_reached(kind: str, target: float) -> np.ndarray:
            """Per run: the streak of consecutive units with a run so far, ending at the run's unit, is at least
            ``target`` long. A unit's streak is there once each unit of its window got its first run."""
            first_run, in_a_row, inverse = by_unit[kind]
            length = max(1, math.ceil(target))
            ready = np.full(len(first_run), np.iinfo(np.int64).max)
            if length <= len(first_run):
                windows = np.lib.stride_tricks.sliding_window_view(first_run, length).max(axis=1)
                ready[length - 1 :] = np.where(in_a_row[length - 1 :] >= length, windows, ready[length - 1 :])
            reached: np.ndarray = np.arange(n) >= ready[inverse]
            return reached

        by_month = np.argsort(month, kind="stable")  # runs by month, in run order within one
        total = np.cumsum(um[by_month])
        starts = np.flatnonzero(np.concatenate(([True], np.diff(month[by_month]) != 0)))
        month_um = total - np.repeat(total[starts] - um[by_month][starts], np.diff(np.append(starts, n)))

        found: list[tuple[int, int, int, Achievement, str]] = []  # (run, monthly, catalogue position, ...)
        for pos, a in enumerate(self.catalogue):
            if a.monthly:
                hit = by_month[month_um / 1e9 >= a.target]
                months, at = np.unique(month[hit], return_index=True)
                found += [
                    (int(hit[k]), 1, pos, a, month_key(int(m))) for m, k in zip(months, at, strict=True)
                ]
                continue
            match a.kind:
                case "first_run":
                    reached = np.arange(1, n + 1) >= a.target
                case "total_distance":
                    reached = np.cumsum(um) / 1e6 / 1000.0 >= a.target
                case "single_run_distance":
                    reached = np.maximum.accumulate(f.distance_m) / 1000.0 >= a.target
                case "weekly_streak" | "daily_streak":
                    reached = streak_reached(a.kind, a.target)
                case "cadence":
                    reached = np.maximum.accumulate(cadence) >= a.target
                case "form":
                    reached = np.maximum.accumulate(form) >= a.target
                case "early_run" | "night_run":
                    reached = hour_counts.get(a.id, np.zeros(n, dtype=np.int64)) >= a.target
                case "personal_record":
                    reached = np.cumsum(beaten) >= a.target
                case "longest_run":
                    beats = np.zeros(n, dtype=np.int64)
                    beats[longest[1:]] = 1
                    reached = np.cumsum(beats) >= a.target
                case _:
                    raise ValueError(f"achievement {a.id!r} has unknown kind {a.kind!r}")
            if reached.any():
                found.append((int(np.argmax(reached)), 0, pos, a, ""))

        found.sort(key=lambda x: x[:3])
        self.awards_ = [Award(a.id, f.run_id[i], f.start_time(i), period) for i, _, _, a, period in found]
        self._earned = {(a.achievement_id, a.period) for a in self.awards_}
        self.run_count_ = n
        self._total_um = int(um.sum())
        first_counted = sorted((int(np.argmax(v > 0)), k) for k, v in hour_counts.items() if v[-1])
        self.hour_runs_ = {k: int(hour_counts[k][-1]) for _, k in first_counted}
        self.longest_history_ = entries(longest, f.distance_m)
        self.cadence_history_ = entries(cadence_idx, cadence)
        self.form_history_ = entries(form_idx, form)
        self.effort_history_ = effort_history
        self.days_ = set(np.unique(day).tolist())
        self.weeks_ = set(np.unique(week).tolist())
        months, first_in, inverse = np.unique(month, return_index=True, return_inverse=True)
        sums = np.zeros(len(months), dtype=np.int64)
        np.add.at(sums, inverse, um)
        self._month_um = {month_key(int(months[k])): int(sums[k]) for k in np.argsort(first_in)}
        self.last_key_ = (f.start_time(n - 1), f.run_id[-1])
        self.last_zone_ = f.time_zone[-1]
        self.run_ids_ = set(f.run_id)
        self._prepare()
        return self

    def add(self, run: RunSummary, *, all_runs: Iterable[RunSummary] | None = None) -> Self:
        """Take one new run into account; equals ``compute(previous runs + [run])``.

        Incremental when ``run`` comes after every run counted so far; a run from before that (an old run
        imported late) needs ``all_runs`` (every run including this one) and triggers a recompute.
        """
        if self.last_key_ is None or run.sort_key > self.last_key_:
            self._step(run)
            return self
        if all_runs is None:
            raise ValueError(
                f"run {run.run_id!r} starts before the latest run counted; pass all_runs= to recompute"
            )
        return self.compute(all_runs)

    def insert(self, run: RunSummary, *, later: Iterable[RunSummary], recent: Iterable[RunSummary]) -> Self:
        """Take one new run from anywhere in time into account; equals ``compute(previous runs + [run])``.

        ``later`` are the runs counted so far that come after ``run``; ``recent`` the counted runs of the
        REWIND_DAYS before it, and at least the one run just before it if there is one. Costs in proportion to
        those, not to the whole history.
        """
        later = list(later)
        self._rewind(run.sort_key, counted=later, recent=recent)
        for r in sorted([run, *later], key=lambda r: r.sort_key):
            self._step(r)
        return self

    def remove(self, run: RunSummary, *, later: Iterable[RunSummary], recent: Iterable[RunSummary]) -> Self:
        """Forget a counted run; equals ``compute(the other runs)``. ``later`` and ``recent`` as for ``insert``."""
        later = list(later)
        self._rewind(run.sort_key, counted=[run, *later], recent=recent)
        for r in sorted(later, key=lambda r: r.sort_key):
            self._step(r)
        return self

    def _rewind(
        self, key: tuple[dt.datetime, str], *, counted: list[RunSummary], recent: Iterable[RunSummary]
    ) -> None:
        """The state before ``key``: ``counted`` (every counted run from ``key`` on) taken back out."""
        recent = sorted((r for r in recent if r.sort_key < key), key=lambda r: r.sort_key)

        def before(h: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
            return [e for e in h if (dt.datetime.fromisoformat(e[0]), e[1]) < key]

        for r in counted:
            local = self._local(r)
            day = local.date()
            month = f"{day.year:04d}-{day.month:02d}"
            um = _um(r.distance_m)
            self.run_count_ -= 1
            self._total_um -= um
            self._month_um[month] -= um
            if not self._month_um[month]:
                del self._month_um[month]
            for a in self._hour_runs_of(local):
                self.hour_runs_[a.id] -= 1
                if not self.hour_runs_[a.id]:
                    del self.hour_runs_[a.id]
            self.days_.discard(day.toordinal())
            self.weeks_.discard(self._week(day))
            self.run_ids_.discard(r.run_id)
        for r in recent:  # a day or week that runs before the cut share with runs after it stays
            day = self._local(r).date()
            self.days_.add(day.toordinal())
            self.weeks_.add(self._week(day))
        self.longest_history_ = before(self.longest_history_)
        self.cadence_history_ = before(self.cadence_history_)
        self.form_history_ = before(self.form_history_)
        self.effort_history_ = {d: b for d, h in self.effort_history_.items() if (b := before(h))}
        self.awards_ = [a for a in self.awards_ if (a.earned_at, a.run_id) < key]
        self._earned = {(a.achievement_id, a.period) for a in self.awards_}
        self._prepare()
        if recent:
            self.last_key_, self.last_zone_ = recent[-1].sort_key, recent[-1].time_zone
        elif self.run_count_ == 0:
            self.last_key_, self.last_zone_ = None, None
        else:
            raise ValueError("recent must hold at least the run just before the point rewound to")

    # ------------------------------------------------------------------ views
    def awarded(self) -> dict[tuple[str, str], Award]:
        """Awards by (achievement id, period)."""
        return {(a.achievement_id, a.period): a for a in self.awards_}

    def progress(self, *, as_of: dt.datetime | None = None) -> list[Progress]:
        """Progress on every catalogue entry, in catalogue order.

        Streaks count back from ``as_of`` (default: the latest run) and stay alive through the current day or
        week even if the runner has not run yet today or this week. Monthly challenges use ``as_of``'s month.
        """
        if as_of is None:
            as_of = self.last_key_[0] if self.last_key_ else dt.datetime.now(dt.UTC)
        if as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")
        zone: dt.tzinfo | None = ZoneInfo(self.time_zone) if self.time_zone else None
        if zone is None:
            # no runner-wide zone: read "today" in the zone of the latest run
            zone = ZoneInfo(self.last_zone_) if self.last_zone_ else dt.UTC
        today = as_of.astimezone(zone).date()
        month = f"{today.year:04d}-{today.month:02d}"
        d0 = today.toordinal()
        day_streak = self._streak(self.days_, d0) or self._streak(self.days_, d0 - 1)
        w0 = self._week(today)
        week_streak = self._streak(self.weeks_, w0) or self._streak(self.weeks_, w0 - 1)
        earned = self.awarded()
        out = []
        for a in self.catalogue:
            current = self._current(a, day_streak=day_streak, week_streak=week_streak, month=month)
            key = (a.id, month if a.monthly else "")
            out.append(Progress(a.id, float(current), float(a.target), a.unit, key in earned))
        return out

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """State as JSON-able data so storage can keep it and ``add``/``insert`` later (catalogue not stored;
        run ids neither: storage keeps runs unique)."""
        return {
            "version": 2,
            "time_zone": self.time_zone,
            "week_start": self.week_start,
            "awards": [a.to_dict() for a in self.awards_],
            "run_count": self.run_count_,
            "total_um": self._total_um,
            "hour_runs": self.hour_runs_,
            "longest_history": self.longest_history_,
            "cadence_history": self.cadence_history_,
            "form_history": self.form_history_,
            "effort_history": [[d, h] for d, h in self.effort_history_.items()],
            "days": sorted(self.days_),
            "weeks": sorted(self.weeks_),
            "month_um": self._month_um,
            "last_key": None
            if self.last_key_ is None
            else [self.last_key_[0].isoformat(), self.last_key_[1]],
            "last_zone": self.last_zone_,
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, catalogue: tuple[Achievement, ...] = CATALOGUE
    ) -> Achievements:
        if data.get("version") != 2:
            raise ValueError("achievement state of an older layout: recompute it from the runs")
        obj = cls(catalogue=catalogue, time_zone=data["time_zone"], week_start=int(data["week_start"]))
        obj._reset()
        obj.awards_ = [Award.from_dict(a) for a in data["awards"]]
        obj._earned = {(a.achievement_id, a.period) for a in obj.awards_}
        obj._prepare()
        obj.run_count_ = int(data["run_count"])
        obj._total_um = int(data["total_um"])
        obj.hour_runs_ = {k: int(v) for k, v in data["hour_runs"].items()}

        def hist(h: list[list[Any]]) -> list[tuple[str, str, float]]:
            return [(str(a), str(b), float(c)) for a, b, c in h]

        obj.longest_history_ = hist(data["longest_history"])
        obj.cadence_history_ = hist(data["cadence_history"])
        obj.form_history_ = hist(data["form_history"])
        obj.effort_history_ = {float(d): hist(h) for d, h in data["effort_history"]}
        obj.days_ = set(data["days"])
        obj.weeks_ = set(data["weeks"])
        obj._month_um = {k: int(v) for k, v in data["month_um"].items()}
        lk = data["last_key"]
        obj.last_key_ = None if lk is None else (dt.datetime.fromisoformat(lk[0]), lk[1])
        obj.last_zone_ = data.get("last_zone")
        return obj
