"""Records, achievements, progress and goals, shoes: what a runner's history adds up to."""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status

from soleware.runs.achievements import CATALOGUE, Achievements
from soleware.runs.model import RunDataError
from soleware.server.deps import CurrentRunner, Store
from soleware.server.errors import Message
from soleware.server.routers.runs import award_out
from soleware.server.schemas import (
    AchievementOut,
    AwardOut,
    DistanceRecordOut,
    GoalOut,
    LoadOut,
    PeriodTotalOut,
    ProgressOut,
    RacePredictionOut,
    RecordEntryOut,
    ShoeIn,
    ShoeOut,
    ShoeUpdate,
    TrendPointOut,
)

router = APIRouter(prefix="/api", tags=["progress"])


@router.get("/records", response_model=list[DistanceRecordOut])
def records(runner: CurrentRunner, store: Store) -> list[DistanceRecordOut]:
    """Per distance: the three best efforts (each from a different run) and the history of records."""
    pr = store.records(runner.id)
    return [
        DistanceRecordOut(
            key=key,
            distance_m=r.distance_m,
            best=[RecordEntryOut(run_id=e.run_id, run_start=e.run_start, time_s=e.time_s) for e in r.best],
            history=[
                RecordEntryOut(run_id=c.record.run_id, run_start=c.record.run_start, time_s=c.record.time_s)
                for c in r.history
            ],
        )
        for key, r in pr.records_.items()
    ]


@router.get("/achievements", response_model=list[AchievementOut])
def achievements(
    runner: CurrentRunner, store: Store, locale: Literal["en", "zh"] | None = None
) -> list[AchievementOut]:
    """The whole catalogue in display order, each with its awards and progress towards it."""
    loc = locale or runner.locale
    ach = store.achievements(runner.id)
    progress = {p.achievement_id: p for p in ach.progress(as_of=dt.datetime.now(dt.UTC))}
    awards = _awards_out(ach, loc)
    return [
        AchievementOut(
            id=a.id,
            name=a.name.get(loc, a.name["en"]),
            description=a.description.get(loc, a.description["en"]),
            earned=awards.get(a.id, []),
            progress=progress[a.id].fraction if a.id in progress else None,
        )
        for a in CATALOGUE
    ]


#: the awards of an achievements state in each language: the store hands out one state object per data version
_AWARDS_OUT: weakref.WeakKeyDictionary[Achievements, dict[str, dict[str, list[AwardOut]]]] = (
    weakref.WeakKeyDictionary()
)


def _awards_out(ach: Achievements, locale: str) -> dict[str, list[AwardOut]]:
    """The state's awards by achievement id, in ``locale`` (built once per state and language)."""
    by_locale = _AWARDS_OUT.setdefault(ach, {})
    awards = by_locale.get(locale)
    if awards is None:
        awards = {}
        for a in ach.awards_:
            awards.setdefault(a.achievement_id, []).append(award_out(a, locale))
        by_locale[locale] = awards
    return awards


@router.get("/progress", response_model=ProgressOut)
def progress(
    runner: CurrentRunner,
    store: Store,
    period: Literal["week", "month", "year"] = "week",
    last: Annotated[int, Query(ge=1, le=520)] = 12,
) -> ProgressOut:
    """Totals and form trends per period (the last ``last`` periods), training load, goals."""
    view = store.progress(runner.id, period=period, last=last)
    totals, trends = view.totals, view.trends
    load = None
    if view.load is not None and view.load.daily_:
        load = LoadOut(acute=view.load.acute_, chronic=view.load.chronic_, ratio=view.load.ratio_)
    goal = None
    if (g := view.goal) is not None:
        goal = GoalOut(
            week_start=g.week_start,
            goal_m=g.goal_m,
            distance_m=g.distance_m,
            fraction=g.fraction,
            days_left=g.days_left,
        )
    race = None
    if (p := view.race) is not None:
        race = RacePredictionOut(
            distance_m=p.distance_m, predicted_time_s=p.predicted_time_s, from_run_id=p.from_run_id
        )
    return ProgressOut(
        period=period,
        totals=[
            PeriodTotalOut(
                period_start=t.period_start,
                distance_m=t.distance_m,
                moving_time_s=t.moving_time_s,
                runs=t.runs,
            )
            for t in totals
        ],
        trends={
            k: [TrendPointOut(period_start=p.period_start, value=p.value, runs=p.runs) for p in v[-last:]]
            for k, v in trends.items()
        },
        load=load,
        weekly_goal=goal,
        race_prediction=race,
    )


@router.get("/shoes", response_model=list[ShoeOut])
def shoes(runner: CurrentRunner, store: Store) -> list[ShoeOut]:
    return [
        ShoeOut(
            serial=s.serial,
            name=s.name,
            side=s.side,
            retire_at_m=s.retire_at_m,
            retired=s.retired,
            distance_m=s.mileage.distance_m,
            runs=s.mileage.runs,
            retire_reminder=s.mileage.retire_reminder,
        )
        for s in store.shoes(runner.id)
    ]


@router.post("/shoes", status_code=status.HTTP_201_CREATED, responses={409: {"model": Message}})
def register_shoe(body: ShoeIn, runner: CurrentRunner, store: Store) -> Response:
    try:
        store.register_shoe(runner.id, **body.model_dump())
    except RunDataError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return Response(status_code=status.HTTP_201_CREATED)


@router.patch("/shoes/{serial}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Message}})
def update_shoe(serial: str, body: ShoeUpdate, runner: CurrentRunner, store: Store) -> Response:
    store.update_shoe(runner.id, serial, **body.model_dump(exclude_unset=True, exclude_none=True))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/shoes/{serial}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Message}})
def delete_shoe(serial: str, runner: CurrentRunner, store: Store) -> Response:
    store.delete_shoe(runner.id, serial)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
