"""Request and response bodies of the HTTP API (pydantic). SI units; names carry them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from soleware.gait.vocabulary import Gait, Side, StrikeType
from soleware.runs.model import (
    MANUAL_MAX_DISTANCE_M,
    MANUAL_MAX_DURATION_S,
    MAX_ROUTE_FIXES,
    Route,
    RunSummary,
    Sensor,
    Stride,
)


def _aware(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None:
        raise ValueError("give a time zone offset, e.g. 2026-05-01T07:00:00+08:00")
    return t


AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]
Metres = Annotated[float, Field(ge=0, le=1e7)]
Seconds = Annotated[float, Field(ge=0, le=1e6)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------- accounts
class SignUp(Strict):
    email: str = Field(max_length=320)
    password: str = Field(min_length=8, max_length=1024)
    display_name: str = Field("", max_length=100)
    locale: Literal["en", "zh"] = "en"
    time_zone: str = Field("UTC", max_length=64)


class SignIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class Me(BaseModel):
    id: str
    email: str
    display_name: str
    locale: str
    time_zone: str
    units: str
    weekly_goal_m: float | None
    race_goal_m: float | None
    race_goal_date: dt.date | None


class MeUpdate(Strict):
    display_name: str | None = Field(None, max_length=100)
    locale: Literal["en", "zh"] | None = None
    time_zone: str | None = Field(None, max_length=64)
    units: Literal["metric", "imperial"] | None = None
    weekly_goal_m: float | None = Field(None, gt=0, le=1e7)
    race_goal_m: float | None = Field(None, gt=0, le=1e7)
    race_goal_date: dt.date | None = None


# ---------------------------------------------------------------------- runs
class StrideIn(Strict):
    """One stride of the upload body; the fields and units of ``soleware.gait.vocabulary`` (impact in g)."""

    side: Side
    t_start_s: Seconds
    t_end_s: Seconds
    length_m: float = Field(ge=0, le=6)
    speed_mps: float | None = Field(None, ge=0, le=15)
    cadence_spm: float | None = Field(None, ge=0, le=400)
    contact_time_s: float | None = Field(None, ge=0, le=10)
    flight_time_s: float | None = Field(None, ge=0, le=10)
    strike_angle_deg: float | None = Field(None, ge=-90, le=90)
    strike_type: StrikeType | None = None
    impact_g: float | None = Field(None, ge=0, le=100)
    gait: Gait = Gait.RUN
    #: not measured: estimated across a gap in the sensor data from the pace around it
    estimated: bool = False

    def to_stride(self) -> Stride:
        """The domain's stride (one mapping from the upload body to the run domain)."""
        return Stride(**self.model_dump())


def _stride_as_is(v: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    return v if isinstance(v, Stride) else handler(v)


#: a stride as uploaded, turned into the domain's compact ``Stride`` as soon as it is valid (a pydantic model per
#: stride costs ~1.5 kB, five times its JSON; a run of 72,000 strides keeps only the slotted ``Stride``s); one
#: validated already (``server.bodies.json_body`` does them one by one) passes as it is
if TYPE_CHECKING:
    # what validation leaves: pydantic's hints type the Annotated below as its StrideIn
    UploadedStride = Stride
else:
    UploadedStride = Annotated[StrideIn, AfterValidator(StrideIn.to_stride), WrapValidator(_stride_as_is)]
UPLOADED_STRIDE: TypeAdapter[Stride] = TypeAdapter(UploadedStride)


class LapIn(Strict):
    t_start_s: Seconds
    t_end_s: Seconds
    name: str = Field("", max_length=100)


#: notifications a pod run may hold: 6 h 56 min at 4 Hz, 27 h at 1 Hz
MAX_POD_SAMPLES = 100_000


class SensorIn(Strict):
    """The third-party sensor a pod run was recorded with: advertised name, Device Information where it has it."""

    name: str = Field(min_length=1, max_length=100)
    manufacturer: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=100)
    serial: str | None = Field(None, max_length=100)

    def to_sensor(self) -> Sensor:
        return Sensor(**self.model_dump())


# each column's values within what the RSC Measurement field can carry; null: not in that notification
_Speed = Annotated[float, Field(ge=0, le=65535 / 256)]
_Cadence = Annotated[float, Field(ge=0, le=255)] | None
_StrideLength = Annotated[float, Field(ge=0, le=655.35)] | None
_Total = Annotated[float, Field(ge=0, le=2**32 / 10)] | None


class PodSamplesIn(Strict):
    """A pod's RSC notifications as columns of equal length: seconds from ``start_time`` and SI units, the total
    distance as the sensor sent it (it may wrap or restart; ``soleware.runs.pod`` sorts that out)."""

    t_s: list[Seconds] = Field(min_length=2, max_length=MAX_POD_SAMPLES)
    speed_mps: list[_Speed] = Field(max_length=MAX_POD_SAMPLES)
    cadence_spm: list[_Cadence] | None = Field(None, max_length=MAX_POD_SAMPLES)
    stride_length_m: list[_StrideLength] | None = Field(None, max_length=MAX_POD_SAMPLES)
    total_distance_m: list[_Total] | None = Field(None, max_length=MAX_POD_SAMPLES)

    @model_validator(mode="after")
    def _columns_agree(self) -> PodSamplesIn:
        n = len(self.t_s)
        for name in ("speed_mps", "cadence_spm", "stride_length_m", "total_distance_m"):
            values = getattr(self, name)
            if values is not None and len(values) != n:
                raise ValueError(
                    f"{name} has {len(values)} values, t_s has {n}: columns must be of equal length"
                )
        for i in range(1, n):
            if self.t_s[i] <= self.t_s[i - 1]:
                raise ValueError(f"t_s must increase: t_s[{i}] = {self.t_s[i]} after {self.t_s[i - 1]}")
        return self


#: one column of a route: a value per fix
RouteColumn = Annotated[list[float], Field(max_length=MAX_ROUTE_FIXES)]


class RouteIn(Strict):
    """The phone's position fixes over the run, as columns of equal length: ``t_s`` seconds from ``start_time``,
    WGS-84 degrees, each fix's horizontal accuracy (the Geolocation API's ``coords.accuracy``) and altitude
    where the phone gave one. Checked as a whole by the run domain (``Route``): one message, not one per fix."""

    t_s: RouteColumn
    lat_deg: RouteColumn
    lon_deg: RouteColumn
    accuracy_m: RouteColumn
    altitude_m: RouteColumn | None = None

    def to_route(self) -> Route:
        """The domain's route (raises RunDataError saying which fix is wrong)."""
        return Route(self.t_s, self.lat_deg, self.lon_deg, self.accuracy_m, self.altitude_m)


class RouteOut(BaseModel):
    """A run's route in the upload's column form; ``accuracy_m`` is null for routes from files that have none."""

    t_s: list[float]
    lat_deg: list[float]
    lon_deg: list[float]
    accuracy_m: list[float] | None
    altitude_m: list[float] | None

    @classmethod
    def of(cls, route: Route) -> RouteOut:
        return cls.model_validate(route.to_dict())


class RunUpload(Strict):
    """A run as the gateway uploads it: strides of one or both feet synced from the shoes, or the samples of a
    third-party pod with its ``sensor`` (exactly one of ``strides`` and ``samples``); and the phone's route when
    the runner let it record one."""

    start_time: AwareDatetime
    time_zone: str = Field("UTC", max_length=64)
    title: str = Field("", max_length=200)
    shoe_serials: list[str] = Field(default_factory=list, max_length=4)
    strides: list[UploadedStride] | None = Field(None, min_length=1, max_length=200_000)
    sensor: SensorIn | None = None
    samples: PodSamplesIn | None = None
    laps: list[LapIn] = Field(default_factory=list, max_length=1000)
    route: RouteIn | None = None

    @model_validator(mode="after")
    def _strides_or_samples(self) -> RunUpload:
        if (self.strides is None) == (self.samples is None):
            raise ValueError(
                "send either strides (shoes) or samples with its sensor (a pod), exactly one of them"
            )
        if (self.sensor is None) != (self.samples is None):
            raise ValueError("sensor goes with, and only with, samples")
        return self


#: how far ahead of the service's clock a run entered by hand may start (a phone's clock running fast)
_CLOCK_SLACK = dt.timedelta(minutes=10)


class ManualRunIn(Strict):
    """A run entered by hand: when it started, how far (m) and for how long (s, moving). It counts in the
    totals, goals and shoe mileage; it sets no best efforts and calibrates nothing. A measured run of the same
    outing uploaded later takes its place."""

    start_time: AwareDatetime
    time_zone: str = Field("UTC", max_length=64)
    distance_m: float = Field(gt=0, le=MANUAL_MAX_DISTANCE_M)
    duration_s: float = Field(gt=0, le=MANUAL_MAX_DURATION_S)
    title: str = Field("", max_length=200)
    shoe_serials: list[str] = Field(default_factory=list, max_length=4)

    @field_validator("start_time")
    @classmethod
    def _not_to_come(cls, t: dt.datetime) -> dt.datetime:
        if t > dt.datetime.now(dt.UTC) + _CLOCK_SLACK:
            raise ValueError("that run starts in the future: give the time it started")
        return t


class RunUpdate(Strict):
    title: str = Field(max_length=200)


class EffortOut(BaseModel):
    distance_m: float
    time_s: float
    start_s: float
    end_s: float


class SensorOut(BaseModel):
    name: str
    manufacturer: str | None
    model: str | None
    serial: str | None
    #: one line for people (``Sensor.label``)
    label: str


class RunItem(BaseModel):
    id: str
    title: str
    start_time: dt.datetime
    time_zone: str
    distance_m: float
    elapsed_time_s: float
    moving_time_s: float
    source: str
    shoe_serials: list[str]
    avg_cadence_spm: float | None
    fore_mid_strike_fraction: float | None
    #: the third-party sensor that recorded the run (source "pod"), else null
    sensor: SensorOut | None = None

    @classmethod
    def of(cls, s: RunSummary, title: str) -> RunItem:
        return cls(
            id=s.run_id,
            title=title,
            start_time=s.start_time,
            time_zone=s.time_zone,
            distance_m=s.distance_m,
            elapsed_time_s=s.elapsed_time_s,
            moving_time_s=s.moving_time_s,
            source=s.source,
            shoe_serials=list(s.shoe_serials),
            avg_cadence_spm=s.avg_cadence_spm,
            fore_mid_strike_fraction=s.fore_mid_strike_fraction,
            sensor=None if s.sensor is None else SensorOut(**s.sensor.to_dict(), label=s.sensor.label),
        )


class RunList(BaseModel):
    runs: list[RunItem]
    next_cursor: str | None


class RecordChangeOut(BaseModel):
    distance_m: float
    time_s: float
    replaced_time_s: float | None


class AwardOut(BaseModel):
    achievement_id: str
    run_id: str
    earned_at: dt.datetime
    period: str
    name: str
    description: str


class UploadResult(BaseModel):
    run_id: str
    created: bool
    #: the upload was the other foot of a run stored with one foot only, and was added to it
    merged: bool = False
    #: the run named by ``replaces`` was found and deleted (false without ``replaces``, or when it was gone)
    replaced: bool = False
    records: list[RecordChangeOut]
    awards: list[AwardOut]


class RefusedUploadIn(Strict):
    """An upload the service refused, as its sender kept it: its own name for it, the body, the reason."""

    key: str = Field(min_length=1, max_length=200)
    reason: str = Field(max_length=2000)
    body: dict[str, Any]
    #: the run it was to take the place of (``POST /api/runs?replaces=``): sent again, it still does
    replaces: str | None = Field(default=None, max_length=64)


class RefusedUploadOut(BaseModel):
    id: str
    key: str
    reason: str
    refused_at: dt.datetime
    #: the run it was stored as once sent again, else None
    run_id: str | None
    stored_at: dt.datetime | None
    #: the run it was to take the place of, if any
    replaces: str | None = None
    #: from the body as sent (it may be what is wrong with it)
    start_time: str | None
    shoe_serials: list[str]
    strides: int
    distance_m: float | None
    #: a pod's run: the sensor's name and how many samples the body held (0 and None for shoes)
    samples: int = 0
    sensor: str | None = None

    @classmethod
    def of(cls, u: Any) -> RefusedUploadOut:
        body = u.body
        strides = body.get("strides") if isinstance(body.get("strides"), list) else []
        samples = body.get("samples") if isinstance(body.get("samples"), dict) else {}
        sensor = body.get("sensor") if isinstance(body.get("sensor"), dict) else {}
        lengths = [s.get("length_m") for s in strides if isinstance(s, dict)]
        numbers = [float(x) for x in lengths if isinstance(x, int | float) and not isinstance(x, bool)]
        serials = body.get("shoe_serials")
        return cls(
            id=u.id,
            key=u.key,
            reason=u.reason,
            refused_at=u.refused_at,
            run_id=u.run_id,
            stored_at=u.stored_at,
            replaces=u.replaces,
            start_time=str(body["start_time"])[:64] if body.get("start_time") is not None else None,
            shoe_serials=[str(x)[:64] for x in serials[:4]] if isinstance(serials, list) else [],
            strides=len(strides),
            distance_m=sum(numbers) / max(1, len({s.get("side") for s in strides if isinstance(s, dict)}))
            if numbers
            else None,
            samples=len(samples["t_s"]) if isinstance(samples.get("t_s"), list) else 0,
            sensor=str(sensor["name"])[:64] if sensor.get("name") is not None else None,
        )


class RefusedUploadList(BaseModel):
    refused: list[RefusedUploadOut]


class SplitOut(BaseModel):
    index: int
    distance_m: float
    time_s: float
    pace_s_per_km: float | None
    avg_cadence_spm: float | None


class LapOut(SplitOut):
    """A lap the runner marked (or a watch's lap), as a split: its name is the file's, or empty."""

    name: str


class StreamsOut(BaseModel):
    t_s: list[float]
    distance_m: list[float]
    speed_mps: list[float | None]
    cadence_spm: list[float | None]
    stride_length_m: list[float | None]
    contact_time_s: list[float | None]


class StrideColumnsOut(BaseModel):
    """A run's strides as columns (one list per field, index k is stride k, in time order), at the resolution the
    shoes send; ``side``, ``gait`` and ``strike`` are indexes into the ``*_names`` lists, -1 / null unknown;
    ``estimated`` is 1 for a stride estimated across a gap in the sensor data, 0 for a measured one."""

    side_names: list[str]
    gait_names: list[str]
    strike_names: list[str]
    side: list[int]
    gait: list[int]
    strike: list[int]
    t_start_s: list[float]
    t_end_s: list[float]
    length_m: list[float]
    speed_mps: list[float | None]
    cadence_spm: list[float | None]
    contact_time_s: list[float | None]
    flight_time_s: list[float | None]
    strike_angle_deg: list[float | None]
    impact_g: list[float | None]
    estimated: list[int]


class FootOut(BaseModel):
    side: str
    strides: int
    avg_contact_time_s: float | None
    avg_flight_time_s: float | None
    avg_strike_angle_deg: float | None
    strike_types: dict[str, int]
    avg_impact_g: float | None
    #: of ``strides``, those estimated across gaps in the sensor data (not measured), and their distance
    estimated_strides: int = 0
    estimated_m: float = 0.0


class RunDetail(RunItem):
    #: the distance as the shoes measured it; ``distance_m`` is after the runner's calibration
    raw_distance_m: float
    #: the calibration factor applied when the run was stored (1.0: none)
    calibration_factor: float
    #: the known distance the runner gave for this run, if any
    reference: ReferenceOut | None = None
    pauses: list[tuple[float, float]]
    laps: list[dict[str, Any]]
    #: each lap's distance, moving time, pace and cadence, in order
    lap_splits: list[LapOut]
    splits_km: list[SplitOut]
    splits_mile: list[SplitOut]
    efforts: list[EffortOut]
    feet: list[FootOut]
    #: read from a file cut short: the run stops where the file does (``elapsed_time_s`` after its start)
    cut_short: bool = False
    streams: StreamsOut
    #: where the phone was, or null when the run has no route
    route: RouteOut | None = None


# ---------------------------------------------------------------------- records, achievements, progress
class RecordEntryOut(BaseModel):
    run_id: str
    run_start: dt.datetime
    time_s: float


class DistanceRecordOut(BaseModel):
    key: str
    distance_m: float
    best: list[RecordEntryOut]
    history: list[RecordEntryOut]


class AchievementOut(BaseModel):
    id: str
    name: str
    description: str
    earned: list[AwardOut]
    progress: float | None


class PeriodTotalOut(BaseModel):
    period_start: dt.date
    distance_m: float
    moving_time_s: float
    runs: int


class TrendPointOut(BaseModel):
    period_start: dt.date
    value: float
    runs: int


class GoalOut(BaseModel):
    week_start: dt.date
    goal_m: float
    distance_m: float
    fraction: float
    days_left: int


class RacePredictionOut(BaseModel):
    distance_m: float
    predicted_time_s: float
    from_run_id: str


class LoadOut(BaseModel):
    acute: float
    chronic: float
    ratio: float | None


class ProgressOut(BaseModel):
    period: str
    totals: list[PeriodTotalOut]
    trends: dict[str, list[TrendPointOut]]
    load: LoadOut | None
    weekly_goal: GoalOut | None
    race_prediction: RacePredictionOut | None


class ShoeIn(Strict):
    serial: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field("", max_length=100)
    side: Literal["left", "right", "unknown"] = "unknown"
    retire_at_m: float = Field(700_000.0, gt=0, le=1e8)
    initial_m: float = Field(0.0, ge=0, le=1e8)


class ShoeUpdate(Strict):
    name: str | None = Field(None, max_length=100)
    retire_at_m: float | None = Field(None, gt=0, le=1e8)
    retired: bool | None = None


class ShoeOut(BaseModel):
    serial: str
    name: str
    side: str
    retire_at_m: float
    retired: bool
    distance_m: float
    runs: int
    retire_reminder: bool


# ---------------------------------------------------------------------- live
class LiveLap(Strict):
    """The lap being run: its number (2 after the first press) and the seconds since it began."""

    n: int = Field(ge=1, le=100_000)
    t_s: Seconds


class LiveUpdate(Strict):
    """What the gateway posts while a run is on; also what open pages receive."""

    t_s: Seconds
    distance_m: Metres
    speed_mps: float = Field(ge=0, le=15)
    cadence_spm: float | None = Field(None, ge=0, le=400)
    stride_length_m: float | None = Field(None, ge=0, le=6)
    running: bool = True
    feet: dict[Literal["left", "right"], dict[str, float | str | None]] = Field(default_factory=dict)
    battery_pct: dict[Literal["left", "right"], Annotated[int, Field(strict=True, ge=0, le=100)]] = Field(
        default_factory=dict
    )
    lap: LiveLap | None = None


# ---------------------------------------------------------------------- calibration
class ReferenceIn(Strict):
    """A run's known distance: laps of a 400 m track (lane 1), or a distance (track, treadmill, course); or the
    markers of a course the runner pressed Lap at, ``marker_m`` apart (the first lap from the start line)."""

    kind: Literal["track", "treadmill", "course", "markers"]
    distance_m: float | None = Field(None, ge=100, le=300_000)
    laps: float | None = Field(None, gt=0, le=500)
    marker_m: float | None = Field(None, ge=100, le=50_000)


class ReferenceOut(BaseModel):
    run_id: str
    kind: str
    reference_m: float
    raw_m: float
    speed_mps: float
    start_time: dt.datetime
    #: counts toward the factor
    accepted: bool
    #: why not: "implausible" (over 15 % from the shoes), "disagrees" (with the others), "unconfirmed"
    #: (alone it would move the factor already learned too far; held until another reference agrees with it or
    #: the factor stands on enough others), "reset"; else None
    reason: str | None


class ShoeCalibrationOut(BaseModel):
    #: the shoe's sensor serials joined by "+" (pass to DELETE /api/calibration?shoe=)
    shoe: str
    factor: float
    #: speed band lower edge (m/s) to factor, for bands with enough references of their own
    band_factors: dict[str, float]
    n_agreeing: int
    #: references that must agree before the factor leaves 1.0
    min_agreeing: int
    references: list[ReferenceOut]


class CalibrationOut(BaseModel):
    shoes: list[ShoeCalibrationOut]


RunDetail.model_rebuild()
