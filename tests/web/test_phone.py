"""The phone page in headless Chromium with Web Bluetooth emulated by DevTools and bridged to virtual sensors over
Bumble (``soleware.link.web_bridge``): every byte the page decodes comes from our shoe firmware, or from a
third-party pod written here. Pairing, live values, reconnection after a cut, offline, a pod with only RSC's
mandatory fields, the phone's position, the upload bodies, a browser without Web Bluetooth, and screenshots."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import statistics
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Device
from bumble.transport import open_transport
from playwright.async_api import Page, async_playwright, expect

from soleware.link._testing import filled_log
from soleware.link.controllers import VirtualRadio
from soleware.link.shoe import VirtualShoe, advertised_name
from soleware.link.soleware_service import soleware_uuid
from soleware.link.web_bridge import NOTIFY_SHIM, WebBluetoothBridge, uuid_str
from soleware.shoe.runlog._records import RunStart
from soleware.shoe.runlog._records import Stride as LogStride
from soleware.shoe.sim import simulate

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)

VIEWPORT = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--font-render-hinting=none",
    "--enable-experimental-web-platform-features",
    "--enable-features=WebBluetoothNewPermissionsBackend",
]
GOLDEN = Path(__file__).parent / "ble_golden.json"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
POD_NAME = "RunPod 7"


class ThirdPartyPod:
    """A foot pod that is not our firmware: RSC with only the mandatory Measurement fields (flags, speed,
    cadence) and a Feature of 0, notified once a second at a steady 3.2 m/s and 168 steps/min."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.measurement = gatt.Characteristic(
            UUID.from_16_bits(0x2A53),
            gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.READABLE,
            b"",
        )
        feature = gatt.Characteristic(
            UUID.from_16_bits(0x2A54),
            gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE,
            struct.pack("<H", 0),
        )
        self.service = gatt.Service(UUID.from_16_bits(0x1814), [self.measurement, feature])

    async def run(self) -> None:
        async with await open_transport(self.transport) as (source, sink):
            device = Device.with_hci(POD_NAME, "C0:11:22:33:44:55", source, sink)
            device.add_service(self.service)
            await device.power_on()
            adv = AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, struct.pack("<H", 0x1814)),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, POD_NAME.encode()),
                ]
            )
            await device.start_advertising(advertising_data=bytes(adv), auto_restart=True)
            while True:
                value = struct.pack("<BHB", 0, round(3.2 * 256), 168)
                with contextlib.suppress(Exception):
                    await device.notify_subscribers(self.measurement, value)
                await asyncio.sleep(0.5)


class Phone:
    """Chromium as the phone, its page, the bridge and the virtual sensors."""

    page: Page
    bridge: WebBluetoothBridge
    uploads: list[dict[str, Any]]
    offline: bool = False
    console: list[str]
    shoes: list[VirtualShoe]

    async def pair(self, name: str) -> None:
        address = next(a for a, link in self.bridge.links.items() if link.advert.name == name)
        self.bridge.choices.append(address)
        await self.page.click("#pair")

    async def set_offline(self, offline: bool) -> None:
        """The network off or on. Playwright fulfils a routed request even while the context is offline, so the
        captured uploads are refused here as the network would refuse them."""
        self.offline = offline
        await self.page.context.set_offline(offline)

    def address(self, name: str) -> str:
        return next(a for a, link in self.bridge.links.items() if link.advert.name == name)


@contextlib.asynccontextmanager
async def phone(
    tmp_path: Path,
    url: str,
    *,
    shoes: bool = True,
    pod: bool = False,
    init_script: str | None = None,
    plan: str = "3min@5:00/km",
    speedup: float = 3.0,
    capture_uploads: bool = True,
    logged_strides: int | dict[str, int] = 0,
    background_sync: bool = False,
) -> AsyncIterator[Phone]:
    """``logged_strides``: the shoes run nothing and start with a finished run of that many strides in their log
    (the right one 0.35 s after the left), the same for both or per side (0: a run without strides).
    ``background_sync``: the browser may wake the service worker to upload when the network is back. Its requests
    pass no page route, so where a test routes the uploads the page alone must send them (left off, the worker
    sometimes won the race under load, and a run a test meant to refuse went up)."""
    radio = await VirtualRadio([0, 0, 0, 0]).start()
    tasks: list[asyncio.Task[None]] = []
    ph = Phone()
    ph.uploads = []
    ph.shoes = []
    if shoes:
        recs = simulate(plan, seed=7) if not logged_strides else {"left": None, "right": None}
        for i, side in enumerate(("left", "right")):
            if logged_strides:
                start_ms = int(time.time() * 1000) - 3_600_000 + 350 * i
                n = logged_strides if isinstance(logged_strides, int) else logged_strides[side]
                filled_log(tmp_path / f"{side}.img", side=side, strides=n, start_unix_ms=start_ms)
            shoe = VirtualShoe(
                side=side,
                serial=f"SW-{side[0].upper()}-P",
                recording=recs[side],
                transport=radio.transports[i],
                speedup=speedup,
                log_path=tmp_path / f"{side}.img",
            )
            ph.shoes.append(shoe)
            tasks.append(asyncio.create_task(shoe.run()))
    if pod:
        tasks.append(asyncio.create_task(ThirdPartyPod(radio.transports[3]).run()))
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=VIEWPORT, base_url=url, locale="en-GB")
        context.set_default_timeout(15_000)
        await context.add_init_script(NOTIFY_SHIM)
        if init_script:
            await context.add_init_script(init_script)
        # Chrome allows Background Sync unless the user turned it off; a Playwright context starts with nothing
        await context.grant_permissions(
            ["geolocation", *(["background-sync"] if background_sync else [])], origin=url
        )
        await context.set_geolocation({"latitude": 51.5007, "longitude": -0.1246, "accuracy": 8})
        page = await context.new_page()
        ph.page = page
        ph.console = []
        page.on("console", lambda m: ph.console.append(m.text))
        page.on("pageerror", lambda e: ph.console.append(f"pageerror: {e}"))

        async def capture(route: Any) -> None:
            if ph.offline:
                await route.abort("internetdisconnected")
                return
            ph.uploads.append(json.loads(route.request.post_data or "{}"))
            await route.fulfill(status=201, content_type="application/json", body=json.dumps({"id": "x"}))

        # The server side of pod samples and routes is another change: the bodies are checked here as sent.
        if capture_uploads:
            await page.route("**/api/runs", capture)
        bridge = WebBluetoothBridge(transport=radio.transports[2])
        ph.bridge = bridge
        await bridge.attach(
            browser_session=await browser.new_browser_cdp_session(),
            page_session=await context.new_cdp_session(page),
            page=page,
        )
        try:
            found: set[str] = set()
            want = (2 if shoes else 0) + (1 if pod else 0)
            for _ in range(10):
                found |= {a.name for a in await bridge.discover(0.5)}
                if len(found) >= want:
                    break
            assert len(found) >= want, f"sensors found: {found}"
            yield ph
        finally:
            print("\n".join(ph.console))
            await bridge.close()
            await browser.close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await radio.close()


async def _ready(page: Page, url: str) -> None:
    await page.goto(url)
    await expect(page.locator("body[data-ready='1']")).to_be_visible()


async def _axe(page: Page, label: str) -> list[str]:
    """axe-core's serious and critical violations on the page (as ``conftest.axe_violations``, async)."""
    if not await page.evaluate("() => !!window.axe"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{label}: {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def _signed_up(api: httpx.AsyncClient, account: dict[str, str]) -> dict[str, str]:
    """Sign ``account`` up on the service and return its bearer header (the test's own view of the runner)."""
    assert (await api.post("/api/auth/signup", json=account)).status_code == 201
    token = (await api.post("/api/auth/signin", json=account)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _sign_in(page: Page, account: dict[str, str]) -> None:
    """Sign in through the sign-in page, as a runner does (the cookie session and its CSRF cookie)."""
    await page.goto("/signin")
    await page.fill("#email", account["email"])
    await page.fill("#password", account["password"])
    await page.click("#signin button[type=submit]")
    await page.wait_for_url(lambda u: "/signin" not in u)


async def _uploaded(ph: Phone, n: int, timeout_s: float = 30.0) -> None:
    """Wait until ``n`` uploads were captured: ``#stored`` reads 0 both before a stopped run is queued and after."""
    deadline = time.monotonic() + timeout_s
    while len(ph.uploads) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert len(ph.uploads) == n


async def _logged_run_on_server(
    api: httpx.AsyncClient, auth: dict[str, str], strides: int
) -> tuple[str, Any]:
    """The single run on the server once it holds ``strides`` strides, and its stride columns: the logged run's
    upload replaces the live one, and the outbox may be empty for a moment between the sync's end and the logged
    run being queued (a foot whose log came in alone is held 30 s for the other's)."""
    listed: list[Any] = []
    r = None
    for _ in range(300):
        listed = (await api.get("/api/runs", headers=auth)).json()["runs"]
        r = await api.get(f"/api/runs/{listed[0]['id']}/strides", headers=auth) if listed else None
        if r is not None and r.status_code == 200 and len(r.json()["side"]) >= strides:
            break
        await asyncio.sleep(0.3)
    assert len(listed) == 1, listed
    assert r is not None and r.status_code == 200, r
    return listed[0]["id"], r.json()


async def _replaced(api: httpx.AsyncClient, auth: dict[str, str], live_id: str) -> list[Any]:
    """The runs on the server once the logged run has replaced the live one ``live_id``."""
    listed: list[Any] = []
    for _ in range(300):
        listed = (await api.get("/api/runs", headers=auth)).json()["runs"]
        if [r["id"] for r in listed] not in ([live_id], []):
            break
        await asyncio.sleep(0.3)
    assert len(listed) == 1 and listed[0]["id"] != live_id, listed
    return listed


async def _pair_both(ph: Phone) -> None:
    """Pair both shoes from the page, as a runner does, and wait until each is connected."""
    for side in ("left", "right"):
        await ph.pair(advertised_name(side, f"SW-{side[0].upper()}-P"))
        await expect(
            ph.page.locator(f"li.sensor[data-side='{side}'][data-state='connected']")
        ).to_be_visible()


async def _finish_and_upload(ph: Phone) -> None:
    """Once the shoes have run their plan and the run paused: Finish offline, so the run waits in the outbox
    (``#stored`` reads 0 before a finished run is queued too), then come back online and let it go up."""
    await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in ph.shoes)), 120)
    await expect(ph.page.locator("#run-state")).to_have_attribute("data-state", "paused")
    await ph.set_offline(True)
    await ph.page.click("#stop")
    await expect(ph.page.locator("#stored")).to_have_attribute("data-count", "1")
    await ph.set_offline(False)
    await expect(ph.page.locator("#stored")).to_have_attribute("data-count", "0")


async def _upload_live_then_sync(ph: Phone, api: httpx.AsyncClient, auth: dict[str, str]) -> str:
    """Finish the run and let it go up (:func:`_finish_and_upload`), then sync the shoes' logs: the id of the
    live run on the server, which the logged run is to replace."""
    await _finish_and_upload(ph)
    listed = (await api.get("/api/runs", headers=auth)).json()["runs"]
    assert len(listed) == 1
    await ph.page.click("#sync")
    await expect(ph.page.locator("#sync-state")).to_have_attribute("data-state", "done", timeout=60_000)
    return str(listed[0]["id"])


def _seconds(clock: str) -> int:
    """Seconds of a shown "m:ss" pace or time."""
    minutes, seconds = clock.split(":")
    return int(minutes) * 60 + int(seconds)


def _count(text: str) -> int:
    return int(text.replace(",", "").strip() or 0)


async def test_two_shoes_pair_run_live_through_a_cut_and_offline_and_upload(tmp_path, server, screenshots):
    left, right = advertised_name("left", "SW-L-P"), advertised_name("right", "SW-R-P")
    async with phone(tmp_path, server.url, plan="8min@5:00/km") as ph:
        page = ph.page
        await _ready(page, "/phone?lang=en")
        await expect(page.locator("#no-bluetooth")).to_be_hidden()
        await page.check("#gps")
        await ph.pair(left)
        await expect(page.locator("li.sensor[data-side='left'][data-state='connected']")).to_be_visible()
        await ph.pair(right)
        await expect(page.locator("li.sensor[data-side='right'][data-state='connected']")).to_be_visible()
        await expect(page.locator("li.sensor[data-side='left']")).to_contain_text("SW-L-P")
        await expect(page.locator("li.sensor[data-side='left']")).to_contain_text("firmware")
        await page.screenshot(path=str(screenshots / "phone-pair-en.png"))

        # live values from the shoes' notifications, the run started by the shoes themselves
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
        for side in ("left", "right"):
            foot = page.locator(f".foot[data-side='{side}']")
            await expect(foot.locator("[data-field='contact']")).not_to_have_text("–")
            await expect(foot.locator("[data-field='strike']")).not_to_have_text("–")
        await expect(page.locator("#cadence")).not_to_have_text("–")
        await expect(page.locator("#stride")).not_to_have_text("–")
        await expect(page.locator("#pace")).not_to_have_text("–:––")
        cadence = _count(await page.locator("#cadence").text_content() or "")
        assert 150 <= cadence <= 200, cadence
        pace = await page.locator("#pace").text_content()
        minutes, seconds = (int(x) for x in (pace or "0:0").split(":"))
        assert 4 * 60 + 30 <= minutes * 60 + seconds <= 5 * 60 + 30, pace  # the plan runs at 5:00/km
        await page.screenshot(path=str(screenshots / "phone-live-en.png"))
        assert await _axe(page, "phone live en") == []

        # the network goes away: the run goes on, from the shoes alone
        await ph.set_offline(True)
        strides = page.locator(".foot[data-side='left'] [data-field='strides']")
        before = _count(await strides.text_content() or "")
        await expect(strides).not_to_have_text(str(before))
        await page.context.set_geolocation({"latitude": 51.5010, "longitude": -0.1250, "accuracy": 6})

        # the link to the left shoe drops: the page reconnects by itself and strides keep coming
        await ph.bridge.cut(ph.address(left))
        await expect(page.locator("li.sensor[data-side='left'][data-state='reconnecting']")).to_be_visible()
        await expect(page.locator("li.sensor[data-side='left'][data-state='connected']")).to_be_visible()
        after_cut = _count(await strides.text_content() or "")
        await expect(strides).not_to_have_text(str(after_cut))

        await page.click("#stop")
        await expect(page.locator("#stored")).to_have_attribute("data-count", "1")
        assert ph.uploads == []
        await ph.set_offline(False)
        await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
        assert len(ph.uploads) == 1
        body = ph.uploads[0]
        assert "samples" not in body
        sides = {s["side"] for s in body["strides"]}
        assert sides == {"left", "right"}
        first = {side: min(x["t_start_s"] for x in body["strides"] if x["side"] == side) for side in sides}
        for s in body["strides"]:
            assert s["t_start_s"] < s["t_end_s"], s
            # a foot's first stride leaves the stance the shoes stood in before the run: its contact time is
            # unknown (sent as 0 ms), and uploaded as unknown; every other one is measured
            if s["contact_time_s"] is None:
                assert s["t_start_s"] == first[s["side"]], s
            else:
                assert 0.1 < s["contact_time_s"] < 0.5, s
            assert 0.5 < s["length_m"] < 3.0, s
        shown = {
            side: _count(
                await page.locator(f".foot[data-side='{side}'] [data-field='strides']").text_content() or ""
            )
            for side in ("left", "right")
        }
        assert {side: sum(s["side"] == side for s in body["strides"]) for side in sides} == shown
        route = body["route"]
        assert len(route["t_s"]) >= 2
        assert set(route) == {"t_s", "lat_deg", "lon_deg", "accuracy_m", "altitude_m"}
        assert route["accuracy_m"][-1] == 6
        assert abs(route["lat_deg"][-1] - 51.5010) < 1e-9
        # the run service takes the body as the page sent it, route included
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = {"email": "phone@example.com", "password": "correct horse battery"}
            auth = await _signed_up(api, account)
            created = await api.post("/api/runs", json=body, headers=auth)
            assert created.status_code == 201, created.text
            stored = (await api.get(f"/api/runs/{created.json()['run_id']}", headers=auth)).json()
            assert stored["route"]["lat_deg"] == route["lat_deg"]
            assert stored["route"]["accuracy_m"] == route["accuracy_m"]

        # Chinese, and the paired shoes are remembered (getDevices) and reconnect after a reload
        await _ready(page, "/phone?lang=zh")
        await expect(page.locator("li.sensor[data-state='connected']")).to_have_count(2)
        await expect(page.locator("h1")).to_have_text("用这部手机跑步")
        await expect(page.locator("[data-unit='pace']")).to_have_text("/公里")
        await page.screenshot(path=str(screenshots / "phone-pair-zh.png"))
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")  # by the shoes
        await expect(page.locator(".foot[data-side='right'] [data-field='strides']")).not_to_have_text("0")
        await page.screenshot(path=str(screenshots / "phone-live-zh.png"))
        await page.click("#lap")
        await expect(page.locator("#lap-done")).to_contain_text("第 1 圈：")
        await expect(page.locator("#lap-label")).to_have_text("第 2 圈")
        await page.screenshot(path=str(screenshots / "phone-live-lap-zh.png"), full_page=True)
        assert await _axe(page, "phone live zh") == []


async def test_a_stop_at_a_traffic_light_is_a_pause_in_the_live_run(tmp_path, server):
    """Standing 15 s mid-run: the shoes pause, and the stride after the stop starts where the foot lifted, so the
    live upload leaves the stop out of the run (the service's pause) instead of chaining that stride to the one
    before it."""
    async with phone(tmp_path, server.url, plan="40s@5:00/km, 15s stand, 40s@5:00/km", speedup=4.0) as ph:
        page = ph.page
        await _ready(page, "/phone")
        await _pair_both(ph)
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "paused", timeout=30_000)
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "running", timeout=30_000)
        await _finish_and_upload(ph)
        assert len(ph.uploads) == 1
        strides = ph.uploads[0]["strides"]
        for side in ("left", "right"):
            mine = sorted((s for s in strides if s["side"] == side), key=lambda s: s["t_start_s"])
            gaps = [b["t_start_s"] - a["t_end_s"] for a, b in zip(mine, mine[1:], strict=False)]
            assert min(gaps) > -1e-6, side  # none overlaps the one before
            assert [g for g in gaps if g > 1.0] == [pytest.approx(14.0, abs=2.0)], (side, gaps)
            assert max(s["t_end_s"] - s["t_start_s"] for s in mine) < 1.5, side


async def test_a_third_party_pod_with_mandatory_fields_only_is_recorded_as_samples(tmp_path, server):
    async with phone(tmp_path, server.url, shoes=False, pod=True) as ph:
        page = ph.page
        await _ready(page, "/phone")
        await ph.pair(POD_NAME)
        item = page.locator("li.sensor[data-kind='pod']")
        await expect(item).to_have_attribute("data-state", "connected")
        await expect(item).to_contain_text("Running pod")
        await expect(item).to_contain_text(POD_NAME)
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")  # the pod moves
        await expect(page.locator("#cadence")).to_have_text("168")
        await expect(page.locator("#pace")).to_have_text("5:13")  # 3.2 m/s
        await expect(page.locator("#stride")).to_have_text("–")
        await expect(page.locator("#distance")).not_to_have_text("0.00")
        await page.wait_for_function("() => SolewarePhone.run.samples.length >= 3")
        await page.click("#stop")
        await _uploaded(ph, 1)
        await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
        body = ph.uploads[0]
        assert "strides" not in body
        assert body["sensor"] == {"name": POD_NAME, "manufacturer": None, "model": None, "serial": None}
        samples = body["samples"]
        n = len(samples["t_s"])
        assert n >= 3
        assert samples["speed_mps"] == [819 / 256] * n  # 3.2 m/s as quantised on the wire
        assert samples["cadence_spm"] == [168] * n
        assert samples["stride_length_m"] is None and samples["total_distance_m"] is None
        assert samples["t_s"] == sorted(samples["t_s"])
        # the run service takes the pod run as the page sent it
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = {"email": "pod@example.com", "password": "correct horse battery"}
            auth = await _signed_up(api, account)
            created = await api.post("/api/runs", json=body, headers=auth)
            assert created.status_code == 201, created.text
            stored = (await api.get(f"/api/runs/{created.json()['run_id']}", headers=auth)).json()
            assert stored["source"] == "pod"
            assert stored["distance_m"] > 0


async def test_a_pod_run_keeps_its_samples_when_the_page_is_dropped(tmp_path, server):
    """A pod without a run log: what the page recorded before the browser dropped it is all there is. The run
    resumed at the reload goes up with the samples from before it and after it."""
    async with phone(tmp_path, server.url, shoes=False, pod=True) as ph:
        page = ph.page
        await _ready(page, "/phone")
        await ph.pair(POD_NAME)
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
        await page.wait_for_function("() => SolewarePhone.run.samples.length >= 3")
        kept = await page.evaluate(
            """async () => {
                const t = SolewarePhone.run.samples.map((r) => r[0]);
                await SolewarePhone.keep(true);
                return t;
            }"""
        )
        await _ready(page, "/phone")
        await expect(page.locator("li.sensor[data-kind='pod']")).to_have_attribute("data-state", "connected")
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
        await page.wait_for_function(f"() => SolewarePhone.run.samples.length >= {len(kept) + 2}")
        await page.click("#stop")
        await _uploaded(ph, 1)
        t_s = ph.uploads[0]["samples"]["t_s"]
        assert t_s[: len(kept)] == kept
        assert len(t_s) >= len(kept) + 2 and t_s == sorted(t_s)


#: steps of a runner at 170 steps/min, as a phone in a pocket feels them: the size of the acceleration (m/s²)
#: peaks about 2 g at each landing, over gravity; sent as the browser's DeviceMotion events at 60 Hz
STEPS_SCRIPT = """
(spm) => {
    const t0 = performance.now();
    window.__steps = setInterval(() => {
        const t = (performance.now() - t0) / 1000;
        const phase = (t * spm / 60) % 1;
        const g = 9.81 + 18 * Math.exp(-((phase - 0.2) ** 2) / 0.004) - 4 * Math.exp(-((phase - 0.6) ** 2) / 0.02);
        window.dispatchEvent(new DeviceMotionEvent("devicemotion", {
            accelerationIncludingGravity: { x: 0.3 * g, y: 0.9 * g, z: 0.3 * g }, interval: 16,
        }));
    }, 1000 / 60);
}
"""


async def test_the_phone_alone_records_a_run_from_its_position_and_motion(tmp_path, server, screenshots):
    """No shoes or pod connected (left at home; a browser without Web Bluetooth): Start run records the run with
    the phone itself, the distance from its position and the cadence from its motion sensor, and it goes up as
    a sensor's run the service takes."""
    async with phone(tmp_path, server.url, shoes=False) as ph:
        page = ph.page
        await page.context.grant_permissions(["geolocation", "accelerometer", "gyroscope"], origin=server.url)
        await _ready(page, "/phone")
        await expect(page.locator("#phone-alone")).to_be_visible()
        await page.click("#start")
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
        await expect(page.locator("#gps")).to_be_checked()  # the distance needs the position
        await page.evaluate(STEPS_SCRIPT, 170)
        lat0, lon0 = 51.5007, -0.1246
        for k in range(1, 13):  # north at 3 m/s, a fix a second
            await asyncio.sleep(1.0)
            if k == 6:  # the position jumps 400 m east for a second (a reflection off a building): not run
                await page.context.set_geolocation(
                    {"latitude": lat0, "longitude": lon0 + 0.0058, "accuracy": 9}
                )
                continue
            await page.context.set_geolocation(
                {"latitude": lat0 + k * 3.0 / 111_195, "longitude": lon0, "accuracy": 5}
            )
        await expect(page.locator("#cadence")).to_have_text(re.compile(r"^1(6[5-9]|7[0-5])$"))
        pace = await page.locator("#pace").text_content()
        assert pace and 5 * 60 + 10 <= _seconds(pace) <= 6 * 60 + 20, pace  # 5:33 /km at 3 m/s
        await expect(page.locator("#feet")).to_be_hidden()
        await page.evaluate("() => window.scrollTo(0, 0)")
        await page.screenshot(path=str(screenshots / "phone-alone-en.png"))
        assert await _axe(page, "phone alone en") == []
        await page.evaluate("() => clearInterval(window.__steps)")
        await page.click("#stop")
        await _uploaded(ph, 1)
        body = ph.uploads[0]
        assert "strides" not in body and body["sensor"]["name"] == "Phone"  # in every language
        samples = body["samples"]
        assert samples["total_distance_m"][-1] == pytest.approx(
            33.0, abs=9.0
        )  # 11 moves of 3 m counted in 8 m steps
        assert samples["total_distance_m"] == sorted(samples["total_distance_m"])
        cadences = [c for c in samples["cadence_spm"] if c]
        assert cadences and abs(statistics.median(cadences) - 170) <= 5, cadences
        assert len(body["route"]["t_s"]) >= 10
        async with httpx.AsyncClient(base_url=server.url) as api:
            auth = await _signed_up(
                api, {"email": "phonealone@example.com", "password": "correct horse battery"}
            )
            created = await api.post("/api/runs", json=body, headers=auth)
            assert created.status_code == 201, created.text
            stored = (await api.get(f"/api/runs/{created.json()['run_id']}", headers=auth)).json()
            assert stored["sensor"]["name"] == "Phone"
            assert stored["distance_m"] == pytest.approx(samples["total_distance_m"][-1], abs=1.0)
            assert abs(stored["avg_cadence_spm"] - 170) <= 5


async def test_shoes_that_connect_after_start_take_the_run_over_from_the_phone(tmp_path, server):
    """Start pressed before the shoes have (re)connected: the phone measures alone at first, and once the shoes
    are there the run is theirs; before, the phone's samples went up and the shoes' strides were left out."""
    async with phone(tmp_path, server.url, plan="40s@5:00/km", speedup=2.0) as ph:
        page = ph.page
        await _ready(page, "/phone")
        await page.click("#start")
        assert await page.evaluate("() => SolewarePhone.run.phone")
        await _pair_both(ph)
        await page.wait_for_function("() => SolewarePhone.run.feet.left.length >= 3")
        assert not await page.evaluate("() => SolewarePhone.run.phone")
        await expect(page.locator("#feet")).to_be_visible()
        await _finish_and_upload(ph)
        (body,) = ph.uploads
        assert "samples" not in body and {s["side"] for s in body["strides"]} == {"left", "right"}


async def test_a_browser_without_web_bluetooth_says_what_works(tmp_path, server, screenshots):
    no_bt = "delete Navigator.prototype.bluetooth;"
    async with phone(tmp_path, server.url, shoes=False, pod=True, init_script=no_bt) as ph:
        page = ph.page
        for lang in ("en", "zh"):
            await _ready(page, f"/phone?lang={lang}")
            notice = page.locator("#no-bluetooth")
            await expect(notice).to_be_visible()
            await expect(notice).to_contain_text("Bluefy")
            await expect(page.locator("#pair")).to_be_hidden()
            # no shoes here, but the phone alone records a run
            await expect(page.locator("#start")).to_be_visible()
            await expect(page.locator("#feet")).to_be_hidden()
            await expect(page.locator("#logs")).to_be_hidden()
            await page.screenshot(path=str(screenshots / f"phone-no-bluetooth-{lang}.png"))
            assert await _axe(page, f"phone without Web Bluetooth {lang}") == []


async def test_the_page_decodes_the_golden_vectors_like_python(tmp_path, server):
    vectors = json.loads(GOLDEN.read_text())
    async with phone(tmp_path, server.url, shoes=False, pod=True) as ph:
        await _ready(ph.page, "/phone")
        decoded = await ph.page.evaluate(
            """(v) => {
                const dv = (hex) => new DataView(Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16)).buffer);
                const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
                const bytes = (h) => new Uint8Array(dv(h).buffer);
                let corrupt;
                try {
                    const b = bytes(v.frames[1].hex);
                    b[10] ^= 1;
                    SolewareBle.decodeFrames(new DataView(b.buffer));
                } catch (e) { corrupt = e.message; }
                return {
                    rsc: v.rsc.map((x) => SolewareBle.decodeRsc(dv(x.hex))),
                    stride: v.stride.map((x) => SolewareBle.decodeStride(dv(x.hex))),
                    crc16: v.crc16.map((x) => SolewareBle.crc16(x.hex ? bytes(x.hex) : new Uint8Array())),
                    frames: v.frames.map((x) => SolewareBle.decodeFrames(dv(x.hex)).map(([s, p]) => [s, hex(p)])),
                    corrupt,
                    runlog: v.runlog.map((c) => {
                        const runs = Object.entries(c.shoes).flatMap(([serial, records]) =>
                            [...SolewareRunLog.runsIn(records.map(([seq, h]) => [seq, bytes(h)])).values()]
                                .map((run) => ({ serial, run })));
                        return SolewareRunLog.groupRuns(runs, 120).map((feet) => SolewareRunLog.runUploadBody(feet, c.time_zone));
                    }),
                    corruptRecord: (() => {
                        const b = bytes(v.runlog[0].shoes.L1[1][1]);
                        b[12] ^= 1;
                        try { SolewareRunLog.decodeRecord(b); } catch (e) { return e.message; }
                    })(),
                };
            }""",
            vectors,
        )
    for kind in ("rsc", "stride"):
        for got, want in zip(decoded[kind], vectors[kind], strict=True):
            assert got == pytest.approx(want["value"]), (kind, want["hex"])
    assert decoded["crc16"] == [x["value"] for x in vectors["crc16"]]
    assert decoded["frames"] == [x["value"] for x in vectors["frames"]]
    assert decoded["corrupt"] == "CRC mismatch in record 1"
    # the same upload bodies, to the last bit of every float, from the same run log records
    assert decoded["runlog"] == [x["value"] for x in vectors["runlog"]]
    assert decoded["corruptRecord"] == "record 2: CRC mismatch"


#: counts the page's IndexedDB transactions writing the run log, and which shoe each stored record came from
IDB_PROBE = """
(() => {
  const probe = { logTransactions: 0, serials: [] };
  globalThis.__idbProbe = probe;
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, mode, ...rest) {
    if (mode === "readwrite" && [].concat(stores).includes("log")) probe.logTransactions += 1;
    return transaction.call(this, stores, mode, ...rest);
  };
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (value, ...rest) {
    if (this.name === "log" && value && !value.uploaded) probe.serials.push(value.serial);
    return put.call(this, value, ...rest);
  };
})();
"""


async def test_the_sync_batches_records_per_transaction_and_syncs_both_shoes_at_once(tmp_path, server):
    """Every Run Log Data notification that arrived while the previous batch was being stored goes into one
    IndexedDB transaction, and the two shoes sync side by side: far fewer transactions than notifications, the
    records of both shoes interleaved, and still each record exactly once and everything acknowledged."""
    async with phone(tmp_path, server.url, logged_strides=1500, init_script=IDB_PROBE) as ph:
        page = ph.page
        await _ready(page, "/phone")
        await _pair_both(ph)
        expected = {s.serial: _unacknowledged_seqs(s) for s in ph.shoes}
        assert {k: len(v) for k, v in expected.items()} == {"SW-L-P": 1502, "SW-R-P": 1502}
        data_uuid = uuid_str(soleware_uuid(0x0005, "Run Log Data"))
        before = len(ph.bridge.delivered)
        await page.click("#sync")
        await expect(page.locator("#sync-state")).to_have_attribute("data-state", "done", timeout=120_000)
        probe = await page.evaluate("() => globalThis.__idbProbe")
        notifications = sum(c == data_uuid for c, _v, _t in ph.bridge.delivered[before:])
        stored = {
            serial: await page.evaluate("(s) => SolewarePhone.logCount(s)", serial) for serial in expected
        }
        assert stored == {serial: len(seqs) for serial, seqs in expected.items()}
        assert sorted(probe["serials"]) == sorted(
            s for s, seqs in expected.items() for _ in seqs
        )  # once each
        assert all(r.acknowledged for s in ph.shoes for r in s.run_log.runs())
        assert notifications >= 2 * 1502 / 8, notifications  # whole frames, several records per notification
        # the queueing and upload after the sync may add one or two transactions of their own
        assert probe["logTransactions"] <= notifications / 2, (probe["logTransactions"], notifications)
        switches = sum(a != b for a, b in zip(probe["serials"], probe["serials"][1:], strict=False))
        assert switches >= 3, switches  # one after the other would switch once
        print(f"{notifications} notifications, {probe['logTransactions']} transactions, {switches} switches")


def _unacknowledged_seqs(shoe: VirtualShoe) -> list[int]:
    runs = [r for r in shoe.run_log.runs() if not r.acknowledged]
    first, last = min(r.first_seq for r in runs), max(r.last_seq for r in runs)
    return [r.seq for r in shoe.run_log.read_from(first, 10**6) if r.seq <= last]


async def test_the_page_syncs_each_shoe_run_log_into_indexeddb_and_acknowledges_it(
    tmp_path, server, screenshots
):
    async with phone(tmp_path, server.url, plan="40s@5:00/km", speedup=4.0) as ph:
        page = ph.page
        await _ready(page, "/phone")
        await _pair_both(ph)
        await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in ph.shoes)), 120)
        expected = {s.serial: _unacknowledged_seqs(s) for s in ph.shoes}
        assert all(len(v) > 20 for v in expected.values()), {k: len(v) for k, v in expected.items()}
        state = page.locator("#sync-state")

        # the system's pairing dialog refused: the page says so and nothing is acknowledged
        ph.bridge.allow_pairing = False
        await page.click("#sync")
        await expect(state).to_have_attribute("data-state", "failed")
        await expect(state).to_contain_text("paired")
        assert all(not r.acknowledged for s in ph.shoes for r in s.run_log.runs())

        ph.bridge.allow_pairing = True
        await page.click("#sync")
        await expect(state).to_have_attribute("data-state", "done", timeout=60_000)
        stored = {
            serial: await page.evaluate("(s) => SolewarePhone.logCount(s)", serial) for serial in expected
        }
        assert stored == {serial: len(seqs) for serial, seqs in expected.items()}
        assert all(r.acknowledged for s in ph.shoes for r in s.run_log.runs())
        await state.scroll_into_view_if_needed()
        await page.screenshot(path=str(screenshots / "phone-sync-en.png"))
        await page.click("#sync")  # nothing left: no duplicates, nothing new
        await expect(state).to_contain_text("0 new records")
        assert await page.evaluate("(s) => SolewarePhone.logCount(s)", "SW-L-P") == len(expected["SW-L-P"])


async def test_a_reload_mid_sync_loses_and_duplicates_nothing(tmp_path, server, screenshots):
    # a log long enough for the reload to come mid-sync
    async with phone(tmp_path, server.url, logged_strides=4000) as ph:
        page = ph.page
        await _ready(page, "/phone")
        await _pair_both(ph)
        expected = {s.serial: _unacknowledged_seqs(s) for s in ph.shoes}
        total = sum(len(v) for v in expected.values())
        await page.click("#sync")
        await page.wait_for_function(
            "() => Number(document.querySelector('#sync-state').dataset.records || 0) >= 20", polling=10
        )
        await _ready(page, "/phone?lang=zh")  # reload while records stream in
        await expect(page.locator("li.sensor[data-state='connected']")).to_have_count(2)
        stored_before = sum(
            [await page.evaluate("(s) => SolewarePhone.logCount(s)", serial) for serial in expected]
        )
        assert 20 <= stored_before < total, (stored_before, total)
        await page.click("#sync")
        state = page.locator("#sync-state")
        await expect(state).to_have_attribute("data-state", "done", timeout=60_000)
        stored = {
            serial: await page.evaluate("(s) => SolewarePhone.logCount(s)", serial) for serial in expected
        }
        assert stored == {serial: len(seqs) for serial, seqs in expected.items()}
        assert all(r.acknowledged for s in ph.shoes for r in s.run_log.runs())
        # the second sync resumed after what the first had stored instead of starting again
        await expect(state).to_contain_text(f"{total - stored_before:,} 条新记录")
        await state.scroll_into_view_if_needed()
        await page.screenshot(path=str(screenshots / "phone-sync-zh.png"))


async def test_strides_missed_live_reach_the_server_from_the_run_log_once(tmp_path, server):
    """The link cut twice mid-run and the run finished offline; the live run is uploaded with its holes, then the
    sync's run log replaces it: the server holds exactly the strides each shoe logged, none lost, none twice."""
    left = advertised_name("left", "SW-L-P")
    account = {"email": "phonesync@example.com", "password": "correct horse battery"}
    async with httpx.AsyncClient(base_url=server.url) as api:
        auth = await _signed_up(api, account)
        async with phone(tmp_path, server.url, plan="60s@5:00/km", speedup=4.0, capture_uploads=False) as ph:
            page = ph.page
            await _sign_in(page, account)
            await _ready(page, "/phone")
            await page.check("#gps")
            await _pair_both(ph)
            await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
            await ph.set_offline(True)
            for _ in range(2):  # strides notified while the link is down are lost to the live view
                await ph.bridge.cut(ph.address(left))
                await expect(
                    page.locator("li.sensor[data-side='left'][data-state='reconnecting']")
                ).to_be_visible()
                await expect(
                    page.locator("li.sensor[data-side='left'][data-state='connected']")
                ).to_be_visible()
            await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in ph.shoes)), 120)
            await expect(page.locator("#run-state")).to_have_attribute("data-state", "paused")
            await page.click("#stop")
            await expect(page.locator("#stored")).to_have_attribute("data-count", "1")
            live = await page.evaluate(
                "() => ({left: SolewarePhone.run.feet.left.length, right: SolewarePhone.run.feet.right.length})"
            )
            logged = {}
            for shoe in ph.shoes:
                records = [r for r in shoe.run_log.read_from(0, 10**6) if isinstance(r, LogStride)]
                start = next(r for r in shoe.run_log.read_from(0, 10**6) if isinstance(r, RunStart))
                logged[shoe.side] = (start.start_unix_ms, [r.t_end_ms for r in records])
            assert live["left"] < len(logged["left"][1]), (live, {k: len(v[1]) for k, v in logged.items()})

            # online: the live run, with its holes, goes up first
            await ph.set_offline(False)
            await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
            listed = (await api.get("/api/runs", headers=auth)).json()["runs"]
            assert len(listed) == 1
            live_id = listed[0]["id"]

            await page.click("#sync")
            await expect(page.locator("#sync-state")).to_have_attribute("data-state", "done", timeout=60_000)
            run_id, columns = await _logged_run_on_server(api, auth, sum(len(t) for _, t in logged.values()))
            assert run_id != live_id  # the log's complete run replaced the live one
            await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
            route = (await api.get(f"/api/runs/{run_id}", headers=auth)).json()["route"]
            assert route is not None and abs(route["lat_deg"][0] - 51.5007) < 1e-9  # the fixes recorded live
            t0 = min(start for start, _ in logged.values())
            for side, (start, t_end_ms) in logged.items():
                k = columns["side_names"].index(side)
                stored = [t for t, x in zip(columns["t_end_s"], columns["side"], strict=True) if x == k]
                want = sorted(round((start - t0) / 1000 + t / 1000, 3) for t in t_end_ms)
                assert sorted(round(t, 3) for t in stored) == want, side
                print(
                    f"{side}: {live[side]} strides live, {len(t_end_ms)} logged, {len(stored)} on the server"
                )

            # a reload and another sync send nothing again
            await _ready(page, "/phone")
            await expect(page.locator("li.sensor[data-state='connected']")).to_have_count(2)
            await page.click("#sync")
            await expect(page.locator("#sync-state")).to_have_attribute("data-state", "done", timeout=60_000)
            await expect(page.locator("#sync-state")).to_contain_text("0 new records")
            await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
            assert len((await api.get("/api/runs", headers=auth)).json()["runs"]) == 1
            assert (await api.get(f"/api/runs/{run_id}/strides", headers=auth)).json() == columns


async def test_the_logged_run_keeps_the_live_route_when_the_shoes_start_after_the_phone(tmp_path, server):
    """The runner stands 10 s at the start with the phone recording: the shoes' run starts at the first lift, and
    the fixes the phone took before it fell before the logged run's start. The service refuses a route fix before
    a run's start, so the whole logged run was refused (422) and the live one it replaced was gone; now the last
    fix before the start is kept at 0 s and the earlier ones are left out."""
    account = {"email": "phonestand@example.com", "password": "correct horse battery"}
    async with httpx.AsyncClient(base_url=server.url) as api:
        auth = await _signed_up(api, account)
        async with phone(
            tmp_path, server.url, plan="10s stand, 40s@5:00/km", speedup=4.0, capture_uploads=False
        ) as ph:
            page = ph.page
            await _sign_in(page, account)
            await _ready(page, "/phone")
            await page.check("#gps")
            await _pair_both(ph)
            await expect(page.locator("#run-state")).to_have_attribute(
                "data-state", "running", timeout=30_000
            )
            live_id = await _upload_live_then_sync(ph, api, auth)
            listed = await _replaced(api, auth, live_id)  # the live run had every stride too
            await expect(page.locator("#refused")).to_have_attribute("data-count", "0")
            route = (await api.get(f"/api/runs/{listed[0]['id']}", headers=auth)).json()["route"]
            assert route is not None and route["t_s"][0] == 0.0 and abs(route["lat_deg"][0] - 51.5007) < 1e-9


async def test_laps_pressed_live_go_up_with_the_run_and_stay_when_the_logged_run_replaces_it(
    tmp_path, server
):
    """The runner presses Lap twice: the page says each lap's distance and time, the live run goes up with three
    laps (the last ends at Finish; the service cuts it at the last stride), and the shoes' logged run, which
    replaces it, keeps them at the same moments on its own clock."""
    account = {"email": "phonelaps@example.com", "password": "correct horse battery"}
    async with httpx.AsyncClient(base_url=server.url) as api:
        auth = await _signed_up(api, account)
        # in real time: the page marks a lap on its own clock, which a sped-up shoe outruns
        async with phone(tmp_path, server.url, plan="24s@5:00/km", speedup=1.0, capture_uploads=False) as ph:
            page = ph.page
            await _sign_in(page, account)
            await _ready(page, "/phone")
            await expect(page.locator("#lap")).to_be_disabled()
            await _pair_both(ph)
            await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
            for n in (1, 2):
                await page.wait_for_function(f"() => SolewarePhone.run.feet.left.length >= {5 * n}")
                await page.click("#lap")
                await expect(page.locator("#lap-done")).to_contain_text(f"Lap {n}: ")
                await expect(page.locator("#lap-label")).to_have_text(f"Lap {n + 1}")
            text = await page.locator("#lap-done").inner_text()
            assert re.fullmatch(r"Lap 2: 0\.0\d km in 0:\d\d", text), text
            await _finish_and_upload(ph)
            listed = (await api.get("/api/runs", headers=auth)).json()["runs"]
            live_id = listed[0]["id"]
            live = (await api.get(f"/api/runs/{live_id}", headers=auth)).json()
            # the presses on the page's clock, and how far the live strides' clock ran ahead of it
            marks, ahead, started_ms = await page.evaluate(
                "() => [SolewarePhone.run.laps.map((m) => m.t_s), SolewarePhone.run.clockAhead,"
                " SolewarePhone.run.startedAt.getTime()]"
            )
            assert 0.0 <= ahead < 5.0
            assert [lap["t_end_s"] for lap in live["laps"][:-1]] == pytest.approx(
                [m + ahead for m in marks], abs=2e-3
            )
            await page.click("#sync")
            assert len(live["laps"]) == 3 and live["laps"][-1]["t_end_s"] == pytest.approx(
                live["elapsed_time_s"]
            )
            assert sum(s["distance_m"] for s in live["lap_splits"]) == pytest.approx(
                live["distance_m"], rel=1e-3
            )
            listed = await _replaced(api, auth, live_id)
            logged = (await api.get(f"/api/runs/{listed[0]['id']}", headers=auth)).json()
            assert len(logged["laps"]) == 3 and len(logged["lap_splits"]) == 3
            shift = started_ms / 1000 - dt.datetime.fromisoformat(logged["start_time"]).timestamp()
            for mark, lap in zip(marks, logged["laps"], strict=False):
                assert lap["t_end_s"] == pytest.approx(mark + shift, abs=2e-3)
            assert logged["laps"][0]["t_start_s"] == 0.0
            assert logged["laps"][-1]["t_end_s"] == pytest.approx(logged["elapsed_time_s"])


async def test_a_page_dropped_mid_run_resumes_the_run_and_the_logged_run_replaces_it_whole(tmp_path, server):
    """The browser drops the page mid-run (a background tab closed, a reload). The page resumes the run it kept,
    with its start and the lap pressed before, where it began a second run at the reload: one the shoes' logged
    run did not replace, so the service kept both. Now one run is left, with its lap; the live run keeps the strides
    from before the reload (shoes without a run log have nothing else)."""
    account = {"email": "phonereload@example.com", "password": "correct horse battery"}
    state = "() => [SolewarePhone.run.startedAt.getTime(), SolewarePhone.run.laps.map((m) => m.t_s)]"
    async with httpx.AsyncClient(base_url=server.url) as api:
        auth = await _signed_up(api, account)
        async with phone(tmp_path, server.url, plan="30s@5:00/km", speedup=1.0, capture_uploads=False) as ph:
            page = ph.page
            await _sign_in(page, account)
            await _ready(page, "/phone")
            await _pair_both(ph)
            await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
            await page.wait_for_function("() => SolewarePhone.run.feet.left.length >= 4")
            await page.click("#lap")
            before = await page.evaluate(state)
            strides_before = await page.evaluate(
                """async () => {
                    const ends = ['left', 'right'].flatMap((f) => SolewarePhone.run.feet[f].map((s) => s.t_end_s));
                    await SolewarePhone.keep(true);
                    return ends;
                }"""
            )
            await _ready(page, "/phone")  # the page dropped and opened again
            await expect(page.locator("li.sensor[data-state='connected']")).to_have_count(2)
            await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
            assert await page.evaluate(state) == before
            await expect(page.locator("#lap-label")).to_have_text("Lap 2")
            await _finish_and_upload(ph)
            listed = (await api.get("/api/runs", headers=auth)).json()["runs"]
            assert len(listed) == 1
            live = (await api.get(f"/api/runs/{listed[0]['id']}", headers=auth)).json()
            assert dt.datetime.fromisoformat(live["start_time"]).timestamp() * 1000 == pytest.approx(
                before[0], abs=1
            )
            assert len(live["laps"]) == 2
            ends = (await api.get(f"/api/runs/{listed[0]['id']}/strides", headers=auth)).json()["t_end_s"]
            assert len(strides_before) >= 8
            assert set(np.round(strides_before, 3)) <= set(np.round(ends, 3))
            assert len(ends) > len(strides_before)
            await page.click("#sync")
            listed = await _replaced(api, auth, listed[0]["id"])
            logged = (await api.get(f"/api/runs/{listed[0]['id']}", headers=auth)).json()
            shift = before[0] / 1000 - dt.datetime.fromisoformat(logged["start_time"]).timestamp()
            assert [lap["t_end_s"] for lap in logged["laps"][:1]] == pytest.approx(
                [before[1][0] + shift], abs=2e-3
            )
            assert (await api.get(f"/api/runs/{listed[0]['id']}/strides", headers=auth)).json()["t_end_s"]


async def test_a_refused_logged_run_leaves_the_live_run_and_replaces_it_when_sent_again(tmp_path, server):
    """The logged run goes up in place of the live one (``?replaces=``, one transaction on the server). Refused
    (here: a stride the service finds too long, as a stricter check would), the live run stays on the server;
    before, the phone deleted it first and the runner had neither. Kept as refused with what it replaces, the
    logged run sent again from the server's list takes the live run's place."""
    account = {"email": "phonereplace@example.com", "password": "correct horse battery"}
    async with httpx.AsyncClient(base_url=server.url) as api:
        auth = await _signed_up(api, account)
        async with phone(tmp_path, server.url, plan="40s@5:00/km", speedup=4.0, capture_uploads=False) as ph:
            page = ph.page
            replacing: list[str] = []

            async def spoil_the_replacement(route: Any) -> None:
                replacing.append(route.request.url)
                body = json.loads(route.request.post_data or "{}")
                body["strides"][3]["length_m"] = 7.5
                await route.continue_(post_data=json.dumps(body))

            await page.route(re.compile(r"/api/runs\?replaces="), spoil_the_replacement)
            await _sign_in(page, account)
            await _ready(page, "/phone")
            await _pair_both(ph)
            await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
            live_id = await _upload_live_then_sync(ph, api, auth)
            await expect(page.locator("#refused li")).to_have_attribute("data-reported", "1", timeout=60_000)
            assert replacing and all(u.endswith(f"?replaces={live_id}") for u in replacing), replacing
            assert [r["id"] for r in (await api.get("/api/runs", headers=auth)).json()["runs"]] == [live_id]
            (kept,) = (await api.get("/api/refused-uploads", headers=auth)).json()["refused"]
            assert kept["replaces"] == live_id and kept["reason"].startswith("422 ")

            # the phone kept the body it sent (the stride check failed on the copy spoiled on the way)
            r = await api.post(f"/api/refused-uploads/{kept['id']}/resend", headers=auth)
            assert r.status_code == 201 and r.json()["replaced"], r.text
            listed = (await api.get("/api/runs", headers=auth)).json()["runs"]
            assert [x["id"] for x in listed] == [r.json()["run_id"]]
            assert (await api.get(f"/api/runs/{live_id}", headers=auth)).status_code == 404


async def test_one_foot_log_run_waits_for_the_other_foot_then_goes_alone(tmp_path, server):
    """As the gateway's ``single_foot_after_s``: with two shoes paired, a log run of one foot only is held for
    30 s for the other foot's, then uploaded with one foot."""
    async with phone(tmp_path, server.url, logged_strides={"left": 200, "right": 0}) as ph:
        page = ph.page
        await _ready(page, "/phone")
        await _pair_both(ph)
        stored = page.locator("#stored")
        await page.click("#sync")
        await expect(page.locator("#sync-state")).to_have_attribute("data-state", "done", timeout=60_000)
        synced_at = time.monotonic()
        await expect(stored).to_have_attribute("data-waiting", "1")
        await expect(stored).to_contain_text("other shoe")
        await asyncio.sleep(20)
        assert ph.uploads == []  # still waiting for the right foot's log
        await expect(stored).to_have_attribute("data-waiting", "0", timeout=30_000)
        await _uploaded(ph, 1)
        await expect(stored).to_have_attribute("data-count", "0")
        assert time.monotonic() - synced_at >= 29
        body = ph.uploads[0]
        assert body["shoe_serials"] == ["SW-L-P"]
        assert len(body["strides"]) == 200 and {s["side"] for s in body["strides"]} == {"left"}


async def test_a_refused_upload_is_set_aside_reported_and_lets_the_next_one_go(tmp_path, server):
    """A run the service refuses for good (a 4xx other than 401/409/429) leaves the outbox for the store
    ``refused``, is reported to ``/api/refused-uploads`` as the gateway reports it, is shown on the page, and the
    run queued after it is uploaded; a reload neither sends it again nor forgets it."""
    account = {"email": "refused-phone@example.com", "password": "correct horse battery"}
    async with httpx.AsyncClient(base_url=server.url) as api:
        auth = await _signed_up(api, account)
        async with phone(tmp_path, server.url, shoes=False, pod=True, capture_uploads=False) as ph:
            page = ph.page
            posted: list[dict[str, Any]] = []

            async def refuse_the_first(route: Any) -> None:
                if ph.offline:
                    await route.abort("internetdisconnected")
                    return
                posted.append(json.loads(route.request.post_data or "{}"))
                if len(posted) == 1:
                    detail = [
                        {"loc": ["body", "samples"], "msg": "a speed above 15 m/s", "type": "value_error"}
                    ]
                    await route.fulfill(
                        status=422, content_type="application/json", body=json.dumps({"detail": detail})
                    )
                else:
                    await route.continue_()

            await page.route("**/api/runs", refuse_the_first)
            await _sign_in(page, account)
            await _ready(page, "/phone")
            await ph.pair(POD_NAME)
            await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
            await ph.set_offline(True)
            for runs in (1, 2, 3):  # three runs wait in the outbox, the first to be refused
                if runs > 1:
                    await page.click("#start")
                await page.wait_for_function("() => SolewarePhone.run.samples.length >= 2")
                await page.click("#stop")
                await expect(page.locator("#stored")).to_have_attribute("data-count", str(runs))
            await ph.set_offline(False)
            await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
            refused = page.locator("#refused li")
            await expect(refused).to_have_count(1)
            await expect(refused).to_have_attribute("data-reported", "1")
            await expect(refused).to_contain_text("422 a speed above 15 m/s")
            assert len(posted) == 3
            kept = (await api.get("/api/refused-uploads", headers=auth)).json()["refused"]
            assert [(k["reason"], k["samples"], k["sensor"]) for k in kept] == [
                ("422 a speed above 15 m/s", len(posted[0]["samples"]["t_s"]), POD_NAME)
            ]
            # the runs after it went up (the service takes the third, a minute after the second, as its duplicate)
            when = [dt.datetime.fromisoformat(b["start_time"]) for b in posted]
            stored = [
                dt.datetime.fromisoformat(r["start_time"])
                for r in (await api.get("/api/runs", headers=auth)).json()["runs"]
            ]
            assert when[1] in stored and when[0] not in stored, (when, stored)

            await _ready(page, "/phone?lang=zh")
            await expect(page.locator("#refused li")).to_have_count(1)
            await expect(page.locator("#refused li")).to_contain_text("被服务器拒绝")
            await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
            assert len(posted) == 3
            assert len((await api.get("/api/refused-uploads", headers=auth)).json()["refused"]) == 1


async def test_a_run_kept_offline_goes_up_by_background_sync_with_the_page_closed(tmp_path, server):
    """A run stopped with the network off asks for Background Sync. The page is closed, the network comes back and
    the browser's sync event wakes the service worker, which uploads the run once with the cookie session (its
    CSRF token read through the Cookie Store API: a worker has no ``document``); woken while the network is still
    off, it keeps the run for the next wake-up. Opened again, the page has nothing left to send."""
    account = {"email": "bgsync@example.com", "password": "correct horse battery"}
    async with httpx.AsyncClient(base_url=server.url) as api:
        auth = await _signed_up(api, account)
        async with phone(
            tmp_path, server.url, shoes=False, pod=True, capture_uploads=False, background_sync=True
        ) as ph:
            page, context = ph.page, ph.page.context
            await _sign_in(page, account)
            await _ready(page, "/phone")
            await page.evaluate("() => navigator.serviceWorker.ready.then(() => null)")
            await ph.pair(POD_NAME)
            await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
            await ph.set_offline(True)
            await page.wait_for_function("() => SolewarePhone.run.samples.length >= 3")
            await page.click("#stop")
            await expect(page.locator("#stored")).to_have_attribute("data-count", "1")
            samples = (await page.evaluate("() => SolewarePhone.outboxAll()"))[0]["body"]["samples"]
            tags = await page.evaluate("async () => (await navigator.serviceWorker.ready).sync.getTags()")
            assert tags == ["soleware-upload"]

            # the browser's side of Background Sync, reached from another tab of this profile
            other = await context.new_page()
            cdp = await context.new_cdp_session(other)
            registrations: list[dict[str, Any]] = []
            cdp.on(
                "ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"])
            )
            await cdp.send("ServiceWorker.enable")
            await page.close()
            for _ in range(50):
                if any(r["scopeURL"] == server.url + "/" for r in registrations):
                    break
                await asyncio.sleep(0.1)
            reg = next(r for r in registrations if r["scopeURL"] == server.url + "/" and not r["isDeleted"])
            sync = {
                "origin": server.url,
                "registrationId": reg["registrationId"],
                "tag": "soleware-upload",
                "lastChance": False,
            }
            # woken while the network is still off: the upload fails, the run stays for the next wake-up
            await cdp.send("ServiceWorker.dispatchSyncEvent", sync)
            await asyncio.sleep(2)
            assert (await api.get("/api/runs", headers=auth)).json()["runs"] == []
            await ph.set_offline(False)
            await cdp.send("ServiceWorker.dispatchSyncEvent", sync)
            listed: list[dict[str, Any]] = []
            for _ in range(100):
                listed = (await api.get("/api/runs", headers=auth)).json()["runs"]
                if listed:
                    break
                await asyncio.sleep(0.2)
            assert len(listed) == 1, listed
            assert listed[0]["source"] == "pod" and listed[0]["sensor"]["name"] == POD_NAME
            assert listed[0]["elapsed_time_s"] == pytest.approx(samples["t_s"][-1], abs=1.5)

            page = ph.page = await context.new_page()
            await _ready(page, "/phone")
            await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
            await expect(page.locator("#refused")).to_have_attribute("data-count", "0")
            await page.wait_for_timeout(1000)
            assert len((await api.get("/api/runs", headers=auth)).json()["runs"]) == 1


async def test_after_one_visit_the_page_works_with_the_network_off(tmp_path, server):
    """The first visit installs the service worker, which keeps the app shell; with the network off a reload
    still shows /phone, pairs both shoes, shows the run live and keeps it for later."""
    async with phone(tmp_path, server.url, plan="2min@5:00/km", speedup=2.0) as ph:
        page = ph.page
        await _ready(page, "/phone")
        # /phone itself registers the worker (it never resolves "ready" otherwise)
        await asyncio.wait_for(page.evaluate("() => navigator.serviceWorker.ready.then(() => 1)"), 30)
        await page.reload()  # now the worker controls the page (the shell is cached by then)
        await expect(page.locator("body[data-ready='1']")).to_be_visible()
        assert await page.evaluate("() => !!navigator.serviceWorker.controller")

        await ph.set_offline(True)
        assert (
            await page.evaluate("() => fetch('/api/health').then(() => 'online', () => 'offline')")
            == "offline"
        )
        response = await asyncio.wait_for(page.reload(), 30)
        assert response is not None and response.from_service_worker
        await expect(page.locator("body[data-ready='1']")).to_be_visible()
        await expect(page.locator("h1")).to_have_text("Run with this phone")
        await _pair_both(ph)
        await expect(page.locator("#run-state")).to_have_attribute("data-state", "running")
        strides = page.locator(".foot[data-side='right'] [data-field='strides']")
        await expect(strides).not_to_have_text("0")
        await expect(page.locator("#cadence")).not_to_have_text("–")
        await page.click("#stop")
        await expect(page.locator("#stored")).to_have_attribute("data-count", "1")
        assert ph.uploads == []
        await ph.set_offline(False)
        await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
        assert len(ph.uploads) == 1 and {s["side"] for s in ph.uploads[0]["strides"]} == {"left", "right"}


async def test_chaos_a_link_cut_every_five_seconds_loses_and_doubles_nothing(tmp_path, server):
    """A whole (sped-up) run offline with one shoe's link cut every 5 s, the feet in turn; then online and a
    sync: the run service holds exactly the strides each shoe logged, per foot, once."""
    left, right = advertised_name("left", "SW-L-P"), advertised_name("right", "SW-R-P")
    account = {"email": "chaos-phone@example.com", "password": "correct horse battery"}
    async with httpx.AsyncClient(base_url=server.url) as api:
        auth = await _signed_up(api, account)
        async with phone(tmp_path, server.url, plan="90s@5:00/km", speedup=2.0, capture_uploads=False) as ph:
            page = ph.page
            await _sign_in(page, account)
            await _ready(page, "/phone")
            await _pair_both(ph)
            await ph.set_offline(True)
            cuts = 0
            while True:
                await asyncio.sleep(5)
                if all(s.done.is_set() for s in ph.shoes):
                    break
                last = ph.bridge.links[ph.address((left, right)[cuts % 2])]
                cut = last.connection
                await ph.bridge.cut(ph.address((left, right)[cuts % 2]))
                cuts += 1
            assert cuts >= 6, cuts
            # The last cut link up again before Finish and the sync (which copies the logs of connected shoes
            # only): the bridge makes a new connection only when the page asks, so the page has seen the cut.
            for _ in range(300):
                if last.connection is not None and last.connection is not cut:
                    break
                await asyncio.sleep(0.1)
            await expect(page.locator("li.sensor[data-state='connected']")).to_have_count(2, timeout=30_000)
            await page.click("#stop")
            live = await page.evaluate(
                "() => ({left: SolewarePhone.run.feet.left.length, right: SolewarePhone.run.feet.right.length})"
            )
            logged = {}
            for shoe in ph.shoes:
                records = shoe.run_log.read_from(0, 10**6)
                start = next(r for r in records if isinstance(r, RunStart))
                logged[shoe.side] = (
                    start.start_unix_ms,
                    [r.t_end_ms for r in records if isinstance(r, LogStride)],
                )
            await ph.set_offline(False)
            await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
            await page.click("#sync")
            await expect(page.locator("#sync-state")).to_have_attribute("data-state", "done", timeout=60_000)
            await expect(page.locator("#stored")).to_have_attribute("data-count", "0")
            _, columns = await _logged_run_on_server(api, auth, sum(len(t) for _, t in logged.values()))
            t0 = min(start for start, _ in logged.values())
            for side, (start, t_end_ms) in logged.items():
                k = columns["side_names"].index(side)
                stored = [t for t, x in zip(columns["t_end_s"], columns["side"], strict=True) if x == k]
                want = sorted(round((start - t0) / 1000 + t / 1000, 3) for t in t_end_ms)
                assert sorted(round(t, 3) for t in stored) == want, side
                print(
                    f"{side}: {live[side]} strides live, {len(t_end_ms)} logged, {len(stored)} on the server"
                )
            assert sum(live.values()) < sum(
                len(v[1]) for v in logged.values()
            )  # the cuts did cost the live view
