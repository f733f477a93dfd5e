"""The gateway (the phone's role): finds the shoes, shows them live, and brings every run to the run service.

Rules that keep runs from being lost or doubled:

- Records synced from a shoe are written to the gateway's state directory before anything else happens, so a
  gateway restart resumes from the last record it holds, and a dropped link resumes from there too.
- A run is uploaded when its end record is in (with the other foot's run when both shoes recorded it), and the
  shoe is acknowledged only up to records the server has stored. The server recognises an upload it already has,
  so retrying after a lost answer is safe.
- A run the server refuses for good (a 4xx answer such as an impossible stride) is not retried: its records, the
  body sent and the reason are written to ``rejected/`` in the state directory, and only then is the shoe
  acknowledged for it. The server is told about it too (it keeps refused uploads for the runner to see and send
  again, ``/api/refused-uploads``); ``soleware gateway rejected list|resend`` works on the folder.
- Live values go to the server while running; the run itself always comes from the shoes' logs.
- The runner's lap presses (``mark_lap``; the terminal view's L key) are kept in ``laps.json`` in the state
  directory as times of day, and each run goes up with the laps pressed while it lasted.
- A third-party pod (``pod=``, see ``soleware.link.pod``) keeps no log: the gateway records its notifications,
  writes them to ``pod/`` in the state directory as it goes, and uploads them when stopped; a pod run not yet
  stored is sent at the next start.

The gateway talks to the server over HTTP like any client; it imports nothing of ``soleware.runs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeGuard

import httpx

from soleware.gait.vocabulary import GRAVITY_MPS2, Gait, Side, StrikeType
from soleware.link.central import Central, LinkLost, ShoeAdvert, ShoeLink, dropped_mid_operation
from soleware.link.pod import (
    MAX_SPEED_MPS,
    PodRecorder,
    PodUpload,
    SensorLabel,
    matches_pod,
    pod_run_name,
    save_pod_run,
)
from soleware.link.rsc import RscFeature, RscMeasurement
from soleware.link.soleware_service import StrideDetail
from soleware.shoe.runlog import LogRecord, RunEnd, RunStart, Stride

__all__ = [
    "FootState",
    "Gateway",
    "LoggedRun",
    "PodState",
    "RejectedRun",
    "RunUpload",
    "ServerClient",
    "StrideUpload",
    "SyncStore",
    "UploadRejected",
    "contact_s",
    "has_flight",
    "laps_between",
    "rejected_runs",
    "run_upload_body",
]

log = logging.getLogger(__name__)
#: how long each scan listens; shoes not connected are looked for window after window
SCAN_WINDOW_S = 1.0
#: lap presses older than this are forgotten (a run's log is uploaded long before)
LAP_MARKS_KEPT_S = 2 * 86400.0


# ---------------------------------------------------------------------- what the gateway knows about each foot
def has_flight(stride: StrideDetail | None) -> TypeGuard[StrideDetail]:
    """Whether ``stride`` is a running stride with a flight phase: only then is its flight time shown (walking has
    none, whatever a glitch put in the field)."""
    return stride is not None and stride.gait == Gait.RUN and stride.flight_time_s > 0


def contact_s(stride: StrideDetail | None) -> float | None:
    """``stride``'s ground contact time, None when there is no stride or the shoe could not measure it (sent as
    0 ms, decoded as NaN: see `StrideDetail`)."""
    return stride.contact_time_s if stride is not None and math.isfinite(stride.contact_time_s) else None


@dataclasses.dataclass
class FootState:
    side: str
    serial: str = ""
    name: str = ""
    link: str = "searching"  # searching, connecting, connected, syncing, reconnecting
    rsc: RscMeasurement | None = None
    last_stride: StrideDetail | None = None
    battery_pct: int | None = None
    strides_seen: int = 0
    reconnects: int = 0
    #: monotonic time each stride notification arrived: (seq, time) — for latency measurements
    stride_arrivals: list[tuple[int, float]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class PodState(FootState):
    """The third-party pod being recorded: its link and latest values as for a foot, plus the label and the run."""

    address: str = ""
    feature: RscFeature | None = None
    label: SensorLabel | None = None
    recorder: PodRecorder = dataclasses.field(default_factory=PodRecorder)
    #: monotonic time the run being recorded was last written to the state directory
    saved_at: float = 0.0


def _sent(body: Any, loc: list[Any]) -> Any:
    """The value at ``loc`` in the body we sent (the service does not echo what it was sent), else None."""
    for part in loc:
        try:
            body = body[part]
        except (KeyError, IndexError, TypeError):
            return None
    return body


def _reasons(r: httpx.Response, body: Any = None) -> str:
    """The run service's error answer in a line: each problem as ``where: what (got value)``, the value looked up
    in ``body``, the body we sent (the service echoes nothing sent), or as the answer gives it (a refused upload
    the service kept and validated again)."""
    try:
        detail = r.json()["detail"]
    except (ValueError, KeyError, TypeError):
        return r.text[:300]
    if not isinstance(detail, list):
        return str(detail)[:300]
    parts = []
    for d in detail[:5]:
        loc = d.get("loc", [])[1:]
        where = ".".join(str(x) for x in loc)
        value = _sent(body, loc) if loc and body is not None else d.get("input")
        got = f" (got {value})" if value is not None and not isinstance(value, dict | list) else ""
        parts.append(f"{where}: {d.get('msg', '')}{got}")
    return "; ".join(parts) + (f"; and {len(detail) - 5} more" if len(detail) > 5 else "")


class UploadRejected(Exception):
    """The run service refused a run for good (its answer says why); retrying the same body cannot help."""


# ---------------------------------------------------------------------- durable sync state
class SyncStore:
    """Records received from one shoe, kept on disk until the shoe has been acknowledged for them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[int, bytes] = {}
        self.uploaded: set[int] = set()  # run ids of this shoe stored by the server
        #: run ids the server refused for good (4xx), with its reason: not retried; their records are kept in the
        #: gateway's ``rejected/`` folder before the shoe is acknowledged for them
        self.rejected: dict[int, str] = {}
        self.acked = 0
        #: records received from the shoe, each counted once, including those since acknowledged and forgotten
        self.received = 0
        if path.exists():
            data = json.loads(path.read_text())
            self.records = {int(k): bytes.fromhex(v) for k, v in data["records"].items()}
            self.uploaded = set(data["uploaded"])
            self.rejected = {int(k): v for k, v in data.get("rejected", {}).items()}
            self.acked = int(data["acked"])
            self.received = int(data.get("received", len(self.records)))

    @property
    def max_seq(self) -> int:
        return max(self.records, default=self.acked)

    def add(self, seq: int, payload: bytes) -> None:
        if seq > self.acked:
            self.received += seq not in self.records
            self.records[seq] = payload

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {
            "records": {str(k): v.hex() for k, v in sorted(self.records.items())},
            "uploaded": sorted(self.uploaded),
            "rejected": {str(k): v for k, v in sorted(self.rejected.items())},
            "acked": self.acked,
            "received": self.received,
        }
        with tmp.open("w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)

    def forget_through(self, seq: int) -> None:
        self.acked = max(self.acked, seq)
        self.records = {k: v for k, v in self.records.items() if k > seq}

    def runs(self) -> dict[int, LoggedRun]:
        """Runs in the held records, by run id."""
        return runs_in(self.records)


def runs_in(records: dict[int, bytes]) -> dict[int, LoggedRun]:
    """Runs in ``records`` (seq -> record as the shoe sent it), by run id."""
    out: dict[int, LoggedRun] = {}
    for seq in sorted(records):
        rec = LogRecord.from_bytes(records[seq])
        rid = getattr(rec, "run_id", None)
        if rid is None:
            continue
        r = out.setdefault(rid, LoggedRun(run_id=rid, first_seq=seq, last_seq=seq))
        r.last_seq = seq
        if isinstance(rec, RunStart):
            r.start = rec
        elif isinstance(rec, Stride):
            r.strides.append(rec)
        elif isinstance(rec, RunEnd):
            r.end = rec
    return out


@dataclasses.dataclass
class LoggedRun:
    """One run of one shoe as its log holds it: the records between ``first_seq`` and ``last_seq``."""

    run_id: int
    first_seq: int
    last_seq: int
    start: RunStart | None = None
    strides: list[Stride] = dataclasses.field(default_factory=list)
    end: RunEnd | None = None

    @property
    def complete(self) -> bool:
        """Start, end and at least one stride are in: the run can be uploaded."""
        return self.start is not None and self.end is not None and bool(self.strides)


# ---------------------------------------------------------------------- the upload body
@dataclasses.dataclass(frozen=True)
class StrideUpload:
    """One stride as the run service's upload body carries it (``POST /api/runs``, times from the run's start)."""

    side: Side
    t_start_s: float
    t_end_s: float
    length_m: float
    speed_mps: float
    cadence_spm: float
    contact_time_s: float | None  # None (JSON null): unknown, logged as 0 ms
    flight_time_s: float | None  # None for an estimated stride, as its strike angle and impact
    strike_angle_deg: float | None
    strike_type: StrikeType | None
    impact_g: float | None
    gait: Gait
    estimated: bool = False

    @classmethod
    def from_record(
        cls, rec: Stride, *, side: Side, offset_s: float, not_before_s: float
    ) -> StrideUpload | None:
        """A logged stride on the run's clock (the shoe's clock shifted by ``offset_s``); None if it has no time.

        Records of firmware before 0.3 keep only the stride's end: its start is then the end less the duration
        its cadence gives, not before the previous stride's end (``not_before_s``). An estimated stride (bridged
        across a gap in the shoe's samples) was logged with its form fields 0: they go as unknown (null).
        """
        t_end = offset_s + rec.t_end_s
        if rec.t_start_s is not None:
            t_start = offset_s + rec.t_start_s
        else:
            duration = 120.0 / rec.cadence_spm if rec.cadence_spm > 0 else 1.0
            t_start = max(not_before_s, t_end - duration)
        if t_end <= t_start:
            return None
        return cls(
            side=side,
            t_start_s=t_start,
            t_end_s=t_end,
            length_m=rec.length_m,
            speed_mps=rec.speed_mps,
            cadence_spm=rec.cadence_spm,
            contact_time_s=rec.contact_time_s,
            flight_time_s=None if rec.estimated else rec.flight_time_s,
            strike_angle_deg=None if rec.estimated else rec.strike_angle_deg,
            strike_type=rec.strike_type,
            impact_g=None if rec.estimated else rec.impact_mps2 / GRAVITY_MPS2,
            gait=rec.gait or Gait.RUN,
            estimated=rec.estimated,
        )


@dataclasses.dataclass(frozen=True)
class RunUpload:
    """The run service's upload body for one outing (one run of each foot that recorded it)."""

    start_time: dt.datetime
    time_zone: str
    shoe_serials: list[str]
    strides: list[StrideUpload]
    title: str = ""
    #: the laps the runner pressed (``laps_between``), none without a press
    laps: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON body of ``POST /api/runs``."""
        body = {
            "start_time": self.start_time.isoformat(),
            "time_zone": self.time_zone,
            "title": self.title,
            "shoe_serials": self.shoe_serials,
            "strides": [dataclasses.asdict(s) for s in self.strides],
        }
        return {**body, "laps": self.laps} if self.laps else body


def laps_between(marks_s: Sequence[float], end_s: float) -> list[dict[str, Any]]:
    """Laps as the run service takes them from the runner's presses (``marks_s``, seconds from the run's start):
    none without a press inside the run, else one more than such presses, from 0 to ``end_s``. The phone's page
    builds them the same way (``lapsBetween`` in phone.js)."""
    inside = sorted(m for m in marks_s if 0.0 < m < end_s)
    ends = [*inside, end_s] if inside else []
    return [{"t_start_s": a, "t_end_s": b, "name": ""} for a, b in zip([0.0, *inside], ends, strict=False)]


def run_upload_body(feet: dict[Side, tuple[str, LoggedRun]], *, time_zone: str, title: str = "") -> RunUpload:
    """The upload body from each foot's logged run: side -> (shoe serial, run). Every run must have its start."""
    starts = {side: r.start for side, (_serial, r) in feet.items() if r.start is not None}
    if len(starts) != len(feet):
        raise ValueError("a run without its RUN_START record cannot be uploaded")
    start_ms = min(s.start_unix_ms for s in starts.values())
    strides = []
    for side, (_serial, r) in feet.items():
        offset_s = (starts[side].start_unix_ms - start_ms) / 1000.0
        prev_end = offset_s
        for rec in r.strides:
            s = StrideUpload.from_record(rec, side=side, offset_s=offset_s, not_before_s=prev_end)
            if s is not None:
                strides.append(s)
                prev_end = s.t_end_s
    return RunUpload(
        start_time=dt.datetime.fromtimestamp(start_ms / 1000.0, dt.UTC),
        time_zone=time_zone,
        title=title,
        shoe_serials=sorted(serial for serial, _r in feet.values()),
        strides=strides,
    )


# ---------------------------------------------------------------------- runs the server refused
def _write_durably(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def upload_key(feet: dict[Side, tuple[str, LoggedRun]]) -> str:
    """The gateway's name for an upload: each foot's ``serial:run id``, sorted (the server keys refusals by it)."""
    return "+".join(sorted(f"{serial}:{r.run_id}" for serial, r in feet.values()))


@dataclasses.dataclass
class RejectedRun:
    """One foot's run the server refused for good, as kept in the gateway's ``rejected/`` folder.

    ``body`` is the upload as refused (both feet when both were sent) and ``key`` its name; files written before
    they were kept have neither, and the body is rebuilt from this foot's records. ``reported``: the run service
    keeps the refusal too.
    """

    path: Path
    serial: str
    run_id: int
    reason: str
    records: dict[int, bytes]
    key: str
    body: dict[str, Any] | None = None
    reported: bool = False

    @classmethod
    def load(cls, path: Path) -> RejectedRun:
        data = json.loads(path.read_text())
        return cls(
            path=path,
            serial=data["serial"],
            run_id=int(data["run_id"]),
            reason=data["reason"],
            records={int(k): bytes.fromhex(v) for k, v in data["records"].items()},
            key=data.get("key") or f"{data['serial']}:{data['run_id']}",
            body=data.get("body"),
            reported=bool(data.get("reported", False)),
        )

    def save(self) -> None:
        """Write the file durably (a refused run is nowhere else once the shoe is acknowledged)."""
        data = {
            "serial": self.serial,
            "run_id": self.run_id,
            "reason": self.reason,
            "records": {str(k): v.hex() for k, v in sorted(self.records.items())},
            "key": self.key,
            "body": self.body,
            "reported": self.reported,
        }
        _write_durably(self.path, data)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def strides(self) -> int:
        return sum(len(r.strides) for r in runs_in(self.records).values())

    def upload_body(self, *, time_zone: str = "UTC") -> dict[str, Any]:
        """The body to send again: as refused, or rebuilt from the records (``time_zone``: the runner's)."""
        if self.body is not None:
            return self.body
        run = runs_in(self.records)[self.run_id]
        side = run.start.side if run.start is not None else Side.LEFT
        return run_upload_body({side: (self.serial, run)}, time_zone=time_zone).to_json()


def rejected_runs(state_dir: Path) -> list[RejectedRun]:
    """The runs kept in ``state_dir/rejected``, by file name."""
    return [RejectedRun.load(p) for p in sorted((state_dir / "rejected").glob("*.json"))]


# ---------------------------------------------------------------------- the server
class ServerClient:
    """The run service over HTTP: sign in, live updates, run uploads (retried; the server is idempotent)."""

    def __init__(
        self,
        base_url: str,
        *,
        email: str | None = None,
        password: str | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.email = email
        self.password = password
        self.token = token
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=30.0)

    async def _auth(self) -> dict[str, str]:
        if self.token is None:
            if not (self.email and self.password):
                raise RuntimeError("the gateway needs a token or an e-mail and password for the run service")
            r = await self._client.post(
                "/api/auth/signin", json={"email": self.email, "password": self.password}
            )
            r.raise_for_status()
            self.token = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.token}"}

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(2):
            r = await self._client.request(method, url, headers=await self._auth(), **kwargs)
            if r.status_code == 401 and attempt == 0 and self.password:
                self.token = None
                continue
            return r
        return r

    async def post_live(self, update: dict[str, Any]) -> None:
        r = await self._request("POST", "/api/live", json=update)
        if r.status_code >= 400:
            log.warning("live update refused: %s %s", r.status_code, r.text[:200])

    async def end_live(self) -> None:
        await self._request("DELETE", "/api/live")

    async def upload_run(self, body: RunUpload | PodUpload) -> dict[str, Any]:
        """Store a run; :class:`UploadRejected` when the server refuses it for good, RuntimeError when for now."""
        return await self.upload_json(body.to_json())

    async def upload_json(self, payload: dict[str, Any]) -> dict[str, Any]:
        """:meth:`upload_run` for a body already in its JSON form (a pod run kept on disk)."""
        r = await self._request("POST", "/api/runs", json=payload)
        if 400 <= r.status_code < 500 and r.status_code not in (401, 408, 429):
            raise UploadRejected(f"{r.status_code} {_reasons(r, payload)}")
        if r.status_code >= 400:
            raise RuntimeError(f"upload refused: {r.status_code} {r.text[:300]}")
        stored: dict[str, Any] = r.json()
        return stored

    async def report_refused(self, *, key: str, body: dict[str, Any], reason: str) -> dict[str, Any]:
        """Have the server keep a refused upload (its web page lists it); telling it twice keeps one."""
        r = await self._request(
            "POST", "/api/refused-uploads", json={"key": key, "body": body, "reason": reason}
        )
        if r.status_code >= 400:
            raise RuntimeError(f"the server did not keep the refused run: {r.status_code} {_reasons(r)}")
        kept: dict[str, Any] = r.json()
        return kept

    async def resend_refused(self, upload_id: str) -> dict[str, Any]:
        """Send a refused upload again; :class:`UploadRejected` when refused again, with the reason."""
        r = await self._request("POST", f"/api/refused-uploads/{upload_id}/resend")
        if 400 <= r.status_code < 500 and r.status_code not in (401, 408, 429):
            raise UploadRejected(f"{r.status_code} {_reasons(r)}")
        if r.status_code >= 400:
            raise RuntimeError(f"sending again failed: {r.status_code} {r.text[:300]}")
        stored: dict[str, Any] = r.json()
        return stored

    async def close(self) -> None:
        await self._client.aclose()


# ---------------------------------------------------------------------- the gateway
class Gateway:
    """Connects to up to two shoes and keeps them: live view, forwarding, sync, upload, acknowledge.

    Parameters
    ----------
    central
        The Bluetooth central (``BumbleCentral``, or a bleak-based one).
    state_dir
        Where synced records and what was uploaded are kept (survives a gateway restart).
    server
        The run service; None keeps runs on the gateway (and never acknowledges the shoes).
    shoes
        How many shoes to look for (1 or 2).
    serials
        Only these shoes (None: any Soleware shoe or RSC sensor found).
    pair_window_s
        Left and right runs starting within this many seconds are one run.
    single_foot_after_s
        Upload one foot's run alone when the other foot's has not come in by then.
    pod
        Record a third-party RSC pod instead of shoes: ``"any"``, its name or its address. Soleware shoes are
        then left alone (and pods are, without it).
    pod_checkpoint_s
        How often the pod run being recorded is written to the state directory.
    """

    def __init__(
        self,
        central: Central,
        *,
        state_dir: Path,
        server: ServerClient | None = None,
        shoes: int = 2,
        serials: tuple[str, ...] | None = None,
        time_zone: str = "UTC",
        pair_window_s: float = 120.0,
        single_foot_after_s: float = 30.0,
        sync_interval_s: float = 2.0,
        live_interval_s: float = 0.1,
        on_change: Callable[[], None] | None = None,
        pod: str | None = None,
        pod_checkpoint_s: float = 30.0,
    ) -> None:
        self.central = central
        self.state_dir = state_dir
        self.server = server
        self.expected_shoes = shoes
        self.serials = serials
        self.time_zone = time_zone
        self.pair_window_s = pair_window_s
        self.single_foot_after_s = single_foot_after_s
        self.sync_interval_s = sync_interval_s
        self.live_interval_s = live_interval_s
        self.on_change = on_change
        self.pod = pod
        self.pod_checkpoint_s = pod_checkpoint_s
        if pod is not None:
            self.expected_shoes = 1
        #: the pod being recorded (``pod=``), once found
        self.pod_state: PodState | None = None
        self._ignored: set[str] = set()
        self.feet: dict[str, FootState] = {}
        self.stores: dict[str, SyncStore] = {}
        self.links: dict[str, ShoeLink] = {}
        self.uploads: list[dict[str, Any]] = []  # server answers, in order
        self.rejections: list[str] = []  # why the server refused runs (they stay on the shoe)
        self.stopping = asyncio.Event()
        self._upload_lock = asyncio.Lock()
        self._complete_since: dict[tuple[str, int], float] = {}
        self._live_dirty = asyncio.Event()
        self._live_active = False
        self._tasks: list[asyncio.Task[None]] = []
        #: per shoe found (serial, else address): set while it is known to be advertising
        self._sighted: dict[str, asyncio.Event] = {}
        self._adverts: dict[str, ShoeAdvert] = {}
        self._searching = asyncio.Event()
        #: refused runs in ``rejected/`` may not all be known to the server yet (checked once at start)
        self._unreported = True
        self._laps_path = state_dir / "laps.json"
        #: the runner's lap presses (time of day, s), and when the last run went up (the view counts the laps
        #: pressed after it), kept on disk
        self.lap_marks_unix_s, self._laps_since_unix_s = self._load_laps()

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Until ``stop()``: scan, keep every found shoe connected, sync and upload.

        The scanner runs while any shoe is not connected; each shoe's connection is attempted only once that shoe
        is seen advertising, so a shoe that is away never holds back another.
        """
        self._tasks.append(asyncio.create_task(self._live_loop()))
        if self.pod is not None:
            self._tasks.append(asyncio.create_task(self._upload_kept_pod_runs()))
        try:
            while not self.stopping.is_set():
                if len(self._sighted) >= self.expected_shoes and not any(
                    not seen.is_set() for seen in self._sighted.values()
                ):
                    self._searching.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._searching.wait(), SCAN_WINDOW_S)
                    continue
                for a in await self.central.scan(SCAN_WINDOW_S):
                    if not self._wanted(a):
                        continue
                    key = a.serial or a.address
                    if key not in self._sighted:
                        if len(self._sighted) >= self.expected_shoes:
                            continue
                        self._sighted[key] = asyncio.Event()
                        self._tasks.append(asyncio.create_task(self._keep(a)))
                    self._adverts[key] = a
                    self._sighted[key].set()
                self._changed()
        finally:
            for t in self._tasks:
                t.cancel()
            for t in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            for link in list(self.links.values()):
                await link.close()
            if self.pod_state is not None:
                await self._finish_pod(self.pod_state)

    def _wanted(self, a: ShoeAdvert) -> bool:
        """Whether to use a sensor seen advertising: shoes (of ``serials``), or the pod asked for."""
        if self.pod is not None:
            return not a.is_soleware and matches_pod(self.pod, name=a.name, address=a.address)
        if not a.is_soleware:
            if a.address not in self._ignored:
                self._ignored.add(a.address)
                log.info(
                    "%s (%s) is not a Soleware shoe, left alone (a pod: record it with --pod)",
                    a.name,
                    a.address,
                )
            return False
        return self.serials is None or a.serial in self.serials

    def stop(self) -> None:
        self.stopping.set()

    def settled(self, runs: int) -> bool:
        """At least ``runs`` uploads done or rejected, and every uploaded run acknowledged to its shoe."""
        if len(self.uploads) + len(self.rejections) < runs:
            return False
        return all(rid not in store.uploaded for store in self.stores.values() for rid in store.runs())

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # ------------------------------------------------------------------ laps
    def _load_laps(self) -> tuple[list[float], float]:
        try:
            kept = json.loads(self._laps_path.read_text())
            marks = sorted(float(m) for m in kept["marks_unix_s"] if math.isfinite(float(m)))
            return marks, float(kept.get("since_unix_s", 0.0))
        except FileNotFoundError:
            return [], 0.0
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("lap presses in %s cannot be read, none kept: %s", self._laps_path, exc)
            return [], 0.0

    def _save_laps(self) -> None:
        _write_durably(
            self._laps_path, {"marks_unix_s": self.lap_marks_unix_s, "since_unix_s": self._laps_since_unix_s}
        )

    def mark_lap(self, at_unix_s: float | None = None) -> None:
        """The runner pressed Lap (now, or at ``at_unix_s``): written to the state directory before anything else."""
        now = time.time() if at_unix_s is None else at_unix_s
        kept = [m for m in self.lap_marks_unix_s if now - m < LAP_MARKS_KEPT_S]
        self.lap_marks_unix_s = sorted([*kept, now])
        self._save_laps()
        self._changed()

    def current_lap(self) -> tuple[int, float] | None:
        """The lap being run (1 after the first press) and seconds since its press; None before any press."""
        pressed = [m for m in self.lap_marks_unix_s if m >= self._laps_since_unix_s]
        if not pressed:
            return None
        return len(pressed) + 1, time.time() - pressed[-1]

    def _laps(self, start: dt.datetime, end_s: float) -> list[dict[str, Any]]:
        """The laps pressed while a run that began at ``start`` and lasted ``end_s`` seconds went on."""
        t0 = start.timestamp()
        return laps_between([m - t0 for m in self.lap_marks_unix_s], end_s)

    def _store(self, serial: str) -> SyncStore:
        if serial not in self.stores:
            self.stores[serial] = SyncStore(self.state_dir / "sync" / f"{serial}.json")
        return self.stores[serial]

    async def _keep(self, advert: ShoeAdvert) -> None:
        """One shoe, forever: connect, subscribe, sync; on loss, disconnect, wait to see it advertise, reconnect."""
        key = advert.serial or advert.address
        foot: FootState
        if self.pod is not None:
            name = advert.name or advert.address
            foot = self.pod_state = self.pod_state or PodState(
                side="pod",
                serial=advert.address,
                name=name,
                address=advert.address,
                recorder=PodRecorder(name=name),
            )
        else:
            side = advert.side or ("left" if "left" not in self.feet else "right")
            foot = self.feet.setdefault(
                side, FootState(side=side, serial=advert.serial or advert.address, name=advert.name)
            )
        backoff = 0.25
        while not self.stopping.is_set():
            await self._sighted[key].wait()
            advert = self._adverts[key]
            foot.link = "connecting"
            self._changed()
            link: ShoeLink | None = None
            try:
                link = await self.central.connect(advert)
                self.links[foot.serial] = link
                foot.link = "connected"
                log.info("%s: connected", foot.serial)
                backoff = 0.25
                if isinstance(foot, PodState):
                    await self._start_pod(link, foot)
                else:
                    await link.subscribe_rsc(functools.partial(self._on_rsc, foot))
                    if advert.is_soleware:
                        await link.subscribe_strides(functools.partial(self._on_stride, foot))
                await link.subscribe_battery(functools.partial(self._on_battery, foot))
                self._changed()
                while not link.lost.is_set() and not self.stopping.is_set():
                    if isinstance(foot, PodState):
                        self._checkpoint_pod(foot)
                    elif advert.is_soleware:
                        await self._sync(link, foot)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(link.lost.wait(), self.sync_interval_s)
            except LinkLost as exc:
                log.info("%s: %s", foot.serial, exc)
            except asyncio.CancelledError as exc:
                if not dropped_mid_operation(exc):
                    raise
                log.info("%s: disconnected (%s)", foot.serial, exc)
            except Exception:
                log.exception("%s: unexpected error; reconnecting", foot.serial)
            finally:
                self.links.pop(foot.serial, None)
                if link is not None:
                    with contextlib.suppress(Exception):
                        await link.close()
            if self.stopping.is_set():
                break
            foot.link = "reconnecting"
            foot.reconnects += 1
            self._sighted[key].clear()
            self._searching.set()
            self._changed()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    # ------------------------------------------------------------------ live
    def _on_rsc(self, foot: FootState, m: RscMeasurement) -> None:
        foot.rsc = m
        self._live_dirty.set()
        self._changed()

    def _on_stride(self, foot: FootState, s: StrideDetail) -> None:
        foot.last_stride = s
        foot.strides_seen += 1
        foot.stride_arrivals.append((s.seq, time.monotonic()))
        self._live_dirty.set()
        self._changed()

    def _on_battery(self, foot: FootState, level: int) -> None:
        # the Battery Level characteristic is 0–100 %; a shoe sending more is not believed (unknown)
        foot.battery_pct = int(level) if 0 <= level <= 100 else None
        self._changed()

    def live_update(self) -> dict[str, Any] | None:
        """Both feet's latest values as one live update (speed and distance averaged over the feet), or the pod's;
        with the lap being run once the runner pressed one (its number and seconds since the press)."""
        update = self._pod_live(self.pod_state) if self.pod_state is not None else self._feet_live()
        lap = self.current_lap()
        if update is not None and lap is not None:
            update["lap"] = {"n": lap[0], "t_s": lap[1]}
        return update

    def _feet_live(self) -> dict[str, Any] | None:
        feet = [f for f in self.feet.values() if f.rsc is not None]
        rscs = [f.rsc for f in feet if f.rsc is not None]
        if not feet:
            return None
        n = len(feet)
        t_s = max((f.last_stride.t_end_s for f in feet if f.last_stride), default=0.0)
        lengths = [m.stride_length_m for m in rscs if m.stride_length_m is not None]
        return {
            "t_s": t_s,
            "distance_m": sum(m.total_distance_m or 0.0 for m in rscs) / n,
            "speed_mps": sum(m.speed_mps for m in rscs) / n,
            "cadence_spm": sum(m.cadence_spm for m in rscs) / n,
            "stride_length_m": sum(lengths) / len(lengths) if lengths else None,
            "running": any(m.is_running for m in rscs),
            "feet": {
                f.side: {
                    "link": f.link,
                    "contact_time_s": contact_s(f.last_stride),
                    "flight_time_s": f.last_stride.flight_time_s if has_flight(f.last_stride) else None,
                    "strike_type": f.last_stride.strike_type if f.last_stride else None,
                    "strike_angle_deg": f.last_stride.strike_angle_deg if f.last_stride else None,
                }
                for f in self.feet.values()
                if f.side in ("left", "right")
            },
            "battery_pct": {
                f.side: f.battery_pct
                for f in self.feet.values()
                if f.battery_pct is not None and f.side in ("left", "right")
            },
        }

    async def _live_loop(self) -> None:
        while True:
            await self._live_dirty.wait()
            self._live_dirty.clear()
            update = self.live_update()
            if update is not None and self.server is not None and update["distance_m"] > 0:
                try:
                    await self.server.post_live(update)
                    self._live_active = True
                except httpx.HTTPError as exc:
                    log.warning("live update not delivered: %s", exc)
            await asyncio.sleep(self.live_interval_s)

    # ------------------------------------------------------------------ a third-party pod
    async def _start_pod(self, link: ShoeLink, pod: PodState) -> None:
        """Label the pod (first connection only) and record its notifications."""
        if pod.label is None:
            info = await link.read_device_information()
            pod.label = SensorLabel(name=pod.name, **info)
            pod.feature = await link.read_feature()
            log.info("%s: a pod, recorded as %s; features %r", pod.address, pod.label, pod.feature)
        await link.subscribe_rsc_bytes(functools.partial(self._on_pod_bytes, pod))

    def _on_pod_bytes(self, pod: PodState, data: bytes) -> None:
        m = pod.recorder.add(data)
        if m is not None:
            pod.rsc = m
            self._live_dirty.set()
            self._changed()

    def _pod_live(self, pod: PodState) -> dict[str, Any] | None:
        m = pod.rsc
        if m is None:
            return None
        has_status = pod.feature is not None and RscFeature.WALKING_OR_RUNNING_STATUS in pod.feature
        stride = m.stride_length_m
        return {
            "t_s": pod.recorder.elapsed_s,
            "distance_m": pod.recorder.distance_m,
            "speed_mps": min(m.speed_mps, MAX_SPEED_MPS),
            "cadence_spm": m.cadence_spm,
            "stride_length_m": stride if stride is not None and stride <= 6 else None,
            "running": m.is_running or not has_status,
            "feet": {},
            "battery_pct": {},
        }

    def _pod_body(self, pod: PodState) -> tuple[Path, PodUpload] | None:
        label = pod.label or SensorLabel(name=pod.name)
        body = pod.recorder.upload(label, time_zone=self.time_zone)
        if body is None:
            return None
        t_s = body.samples["t_s"] or []
        body = dataclasses.replace(
            body, laps=self._laps(body.start_time, max((t for t in t_s if t is not None), default=0.0))
        )
        return self.state_dir / "pod" / pod_run_name(pod.address, body.start_time), body

    def _checkpoint_pod(self, pod: PodState) -> None:
        now = time.monotonic()
        if now - pod.saved_at < self.pod_checkpoint_s:
            return
        kept = self._pod_body(pod)
        if kept is not None:
            save_pod_run(*kept)
            pod.saved_at = now

    async def _finish_pod(self, pod: PodState) -> None:
        """Keep the pod run on disk, then upload it (on stop)."""
        kept = self._pod_body(pod)
        if kept is None:
            log.info("%s: fewer than two notifications, no run", pod.name)
            return
        path, body = kept
        save_pod_run(path, body)
        log.info(
            "%s: %d notifications, %.0f m; kept in %s",
            pod.name,
            len(pod.recorder),
            pod.recorder.distance_m,
            path,
        )
        await self._upload_pod_file(path)

    async def _upload_kept_pod_runs(self) -> None:
        for path in sorted((self.state_dir / "pod").glob("*.json")):
            if not path.name.endswith(".refused.json"):
                await self._upload_pod_file(path)

    async def _upload_pod_file(self, path: Path) -> None:
        """Send a kept pod run; stored: the file goes; refused for good: renamed ``*.refused.json``."""
        if self.server is None:
            return
        try:
            body = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            log.error("pod run %s cannot be read, left there: %s", path, exc)
            return
        try:
            answer = await self.server.upload_json(body)
        except UploadRejected as exc:
            kept = path.with_suffix(".refused.json")
            path.replace(kept)
            log.error("pod run refused, kept in %s: %s", kept, exc)
            self.rejections.append(str(exc))
            try:  # the runner sees it in the web app, and can send it again from there
                await self.server.report_refused(key=f"pod:{path.stem}", body=body, reason=str(exc))
            except (httpx.HTTPError, RuntimeError) as why:
                log.warning("the refused pod run is not known to the server: %s", why)
            return
        except (httpx.HTTPError, RuntimeError) as exc:
            log.warning("pod run not uploaded, kept in %s for the next start: %s", path, exc)
            return
        path.unlink()
        if self._live_active:
            with contextlib.suppress(httpx.HTTPError):
                await self.server.end_live()
            self._live_active = False
        self.uploads.append(answer)
        self._laps_since_unix_s = time.time()
        self._save_laps()
        log.info(
            "uploaded the pod run as run %s (%s)",
            answer["run_id"],
            "new" if answer["created"] else "a duplicate",
        )
        self._changed()

    # ------------------------------------------------------------------ sync and upload
    async def _sync(self, link: ShoeLink, foot: FootState) -> None:
        store = self._store(foot.serial)
        runs = await link.list_runs()
        pending = [r for r in runs if r.last_seq > store.max_seq]
        if pending:
            foot.link = "syncing"
            self._changed()
            from_seq = max(store.max_seq + 1, min(r.first_seq for r in pending))
            n = 0
            async for seq, payload in link.sync(from_seq, max_records=0xFFFFFFFF):
                store.add(seq, payload)
                n += 1
                if n % 256 == 0:
                    store.save()
            store.save()
            foot.link = "connected"
            self._changed()
        await self._upload_ready()
        await self._deliver_acks(link, foot)

    def _candidates(self) -> list[dict[Side, tuple[str, LoggedRun]]]:
        """Complete, not yet uploaded runs grouped into activities (left and right run of one outing)."""
        complete: list[tuple[Side, str, LoggedRun, int]] = []
        for foot in self.feet.values():
            store = self.stores.get(foot.serial)
            side = Side.parse(foot.side)
            if store is None or side is None:
                continue
            for rid, r in store.runs().items():
                if (
                    r.start is not None
                    and r.complete
                    and rid not in store.uploaded
                    and rid not in store.rejected
                ):
                    complete.append((side, foot.serial, r, r.start.start_unix_ms))
        complete.sort(key=lambda x: x[3])
        groups: list[dict[Side, tuple[str, LoggedRun]]] = []
        starts: list[int] = []
        for side, serial, r, start_ms in complete:
            for g, g_start_ms in zip(groups, starts, strict=True):
                if side not in g and abs(g_start_ms - start_ms) <= 1000 * self.pair_window_s:
                    g[side] = (serial, r)
                    break
            else:
                groups.append({side: (serial, r)})
                starts.append(start_ms)
        return groups

    async def _upload_ready(self) -> None:
        if self.server is None:
            return
        async with self._upload_lock:
            await self._report_rejected()
            now = time.monotonic()
            for group in self._candidates():
                keys = [(serial, r.run_id) for serial, r in group.values()]
                first_seen = min(self._complete_since.setdefault(k, now) for k in keys)
                both = len(group) >= min(2, len(self.feet))
                if not both and now - first_seen < self.single_foot_after_s:
                    continue
                body = run_upload_body(group, time_zone=self.time_zone)
                end_s = max((s.t_end_s for s in body.strides), default=0.0)
                body = dataclasses.replace(body, laps=self._laps(body.start_time, end_s))
                try:
                    answer = await self.server.upload_run(body)
                except UploadRejected as exc:
                    for serial, r in group.values():
                        kept = self._quarantine(
                            serial, r, str(exc), key=upload_key(group), body=body.to_json()
                        )
                        log.error("upload rejected, not retried; the run is kept in %s: %s", kept, exc)
                        store = self._store(serial)
                        store.rejected[r.run_id] = str(exc)
                        store.save()
                    self.rejections.append(str(exc))
                    self._unreported = True
                    self._changed()
                    continue
                except (httpx.HTTPError, RuntimeError) as exc:
                    log.warning("upload failed, will retry: %s", exc)
                    return
                self.uploads.append(answer)
                self._laps_since_unix_s = time.time()
                self._save_laps()
                how = (
                    "new"
                    if answer["created"]
                    else "added to the stored run"
                    if answer.get("merged")
                    else "a duplicate"
                )
                feet = ", ".join(f"{side} {len(r.strides)} strides" for side, (_serial, r) in group.items())
                log.info("uploaded %s as run %s (%s)", feet, answer["run_id"], how)
                for serial, r in group.values():
                    store = self._store(serial)
                    store.uploaded.add(r.run_id)
                    store.save()
                if self._live_active:
                    with contextlib.suppress(httpx.HTTPError):
                        await self.server.end_live()
                    self._live_active = False
                self._changed()
            await self._report_rejected()

    async def _report_rejected(self) -> None:
        """Tell the server about every refused run in ``rejected/`` it does not know of yet (retried until it
        does), so the runner sees them in the web app."""
        if not self._unreported or self.server is None:
            return
        pending: dict[str, list[RejectedRun]] = {}
        for rejected in rejected_runs(self.state_dir):
            if not rejected.reported:
                pending.setdefault(rejected.key, []).append(rejected)
        for key, files in pending.items():
            body = files[0].upload_body(time_zone=self.time_zone)
            try:
                await self.server.report_refused(key=key, body=body, reason=files[0].reason)
            except (httpx.HTTPError, RuntimeError) as exc:
                log.warning("the refused run %s is not yet known to the server, will retry: %s", key, exc)
                return
            for rejected in files:
                rejected.reported = True
                rejected.save()
        self._unreported = False

    def _quarantine(
        self, serial: str, run: LoggedRun, reason: str, *, key: str, body: dict[str, Any]
    ) -> Path:
        """Write a refused run's records (as the shoe sent them), the body sent and the reason to ``rejected/``,
        durably."""
        store = self._store(serial)
        rid = run.run_id
        records = {k: v for k, v in store.records.items() if run.first_seq <= k <= run.last_seq}
        path = self.state_dir / "rejected" / f"{serial}-run{rid}.json"
        RejectedRun(path, serial, rid, reason, records, key=key, body=body).save()
        return path

    async def _deliver_acks(self, link: ShoeLink, foot: FootState) -> None:
        """Acknowledge the shoe through the last record of its runs the server has stored (or that were refused
        and kept in ``rejected/``), in order."""
        store = self._store(foot.serial)
        runs = sorted(store.runs().items(), key=lambda kv: kv[1].first_seq)
        through = None
        for rid, r in runs:
            if rid not in store.uploaded and rid not in store.rejected:
                break
            through = r.last_seq
        if through is None or through <= store.acked:
            return
        await link.ack(through)
        store.forget_through(through)
        store.save()
