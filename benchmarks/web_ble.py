"""Web Bluetooth path: how long a value the shoe notifies takes to reach the phone page's event handlers.

Two virtual shoes (our firmware over Bumble, on a virtual radio) replay a simulated run; headless Chromium opens
the web app's /phone page, pairs both through :class:`soleware.link.web_bridge.WebBluetoothBridge` and shows the
run live. For every Stride Detail the latency is the time from the shoe's notification having been sent to the
page's ``characteristicvaluechanged`` handlers having run (both on this process's monotonic clock). The path is
the emulated one: shoe → virtual radio → Bumble central → DevTools → page. Then the page syncs both shoes' run
logs into IndexedDB (pairing, List Runs, Read with credits, Ack), timed from the button to "done".

With ``--log-strides N`` there is no live run: each shoe starts with a run of N strides already in its flash log
(a marathon is about 17,000 per foot) and only the sync is measured, with where its time went: in the bridge
(DevTools calls answering the page's GATT operations and handing it notifications) and in the page.

Last, the page keeps a marathon's run in progress (both feet's strides) in IndexedDB, as it does every 10 s while
running so that a page the browser drops resumes its run: how long that write takes and holds up the page.

    PYTHONPATH=src .venv/bin/python benchmarks/web_ble.py [--plan "2min@5:00/km"] [--speedup 2]
    PYTHONPATH=src .venv/bin/python benchmarks/web_ble.py --log-strides 17000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import async_playwright

from soleware.link._testing import filled_log
from soleware.link.controllers import VirtualRadio
from soleware.link.shoe import VirtualShoe
from soleware.link.soleware_service import soleware_uuid
from soleware.link.web_bridge import NOTIFY_SHIM, WebBluetoothBridge, uuid_str
from soleware.shoe.sim import simulate

SERVE = """
import sys, uvicorn
from soleware.server.app import create_app
from soleware.server.config import Settings
uvicorn.run(create_app(Settings(database_url=sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
ARGS = [
    "--disable-gpu",
    "--enable-experimental-web-platform-features",
    "--enable-features=WebBluetoothNewPermissionsBackend",
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_s() -> tuple[float, float]:
    """CPU seconds used so far by this process, and by its descendants (the browser, the Playwright driver)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    me = os.getpid()

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parent.get(pid, 1)
            if pid == me:
                return True
        return False

    return time.process_time(), sum(s for pid, s in used.items() if descends(pid))


class _Timed:
    """A CDP session whose ``send`` adds up the time spent waiting for Chromium's answers."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.busy_s = 0.0
        self.calls = 0

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            answer: dict[str, Any] = await self.session.send(method, params)
            return answer
        finally:
            self.busy_s += time.perf_counter() - t0
            self.calls += 1

    def on(self, event: str, f: Any) -> None:
        self.session.on(event, f)


async def main(plan: str, speedup: float, log_strides: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    port = _port()
    server = subprocess.Popen([sys.executable, "-c", SERVE, f"sqlite:///{tmp}/db.sqlite", str(port)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(url + "/api/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    recs = simulate(plan, seed=11) if not log_strides else {"left": None, "right": None}
    start_ms = int(time.time() * 1000) - 3_600_000
    radio = await VirtualRadio([0, 0, 0]).start()
    shoes = []
    for i, side in enumerate(("left", "right")):
        log_path = None
        if log_strides:
            log_path = tmp / f"{side}.img"
            filled_log(log_path, side=side, strides=log_strides, start_unix_ms=start_ms + 350 * i)
        shoes.append(
            VirtualShoe(
                side=side,
                serial=f"SW-{side[0].upper()}-B",
                recording=recs[side],
                transport=radio.transports[i],
                speedup=speedup,
                log_path=log_path,
            )
        )
    tasks = [asyncio.create_task(s.run(serve_after_s=3600)) for s in shoes]
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            context = await browser.new_context(base_url=url, viewport={"width": 390, "height": 844})
            await context.add_init_script(NOTIFY_SHIM)
            page = await context.new_page()
            bridge = WebBluetoothBridge(transport=radio.transports[2])
            browser_session = _Timed(await browser.new_browser_cdp_session())
            await bridge.attach(
                browser_session=browser_session,
                page_session=await context.new_cdp_session(page),
                page=page,
            )
            while len(bridge.links) < 2:
                await bridge.discover(0.5)
            await page.goto("/phone")
            await page.wait_for_selector("body[data-ready='1']")
            for shoe in shoes:
                bridge.choices.append(
                    next(a for a, k in bridge.links.items() if k.advert.name.endswith(shoe.serial))
                )
                await page.click("#pair")
                await page.wait_for_selector(f"li.sensor[data-side='{shoe.side}'][data-state='connected']")
            if not log_strides:
                await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in shoes)), timeout=3600)
                await asyncio.sleep(1.0)
                _latency(bridge, shoes)
            logged = sum(len(s.run_log.read_from(0, 10**7)) for s in shoes)
            delivered_s0, busy_s0, calls0 = bridge.deliver_s, browser_session.busy_s, browser_session.calls
            notified0, delivered0 = bridge.notified, len(bridge.delivered)
            page_ms0 = await page.evaluate("() => globalThis.__solewareEmulatedStats.busyMs")
            cpu0 = _cpu_s()
            t0 = time.monotonic()
            await page.click("#sync")
            await page.wait_for_selector("#sync-state[data-state='done']", timeout=600_000)
            took = time.monotonic() - t0
            cpu1 = _cpu_s()
            page_ms = await page.evaluate("() => globalThis.__solewareEmulatedStats.busyMs") - page_ms0
            stored = int(await page.get_attribute("#sync-state", "data-stored") or 0)
            assert stored == logged, f"{stored} records on the phone, the shoes logged {logged}"
            print(
                f"browser sync of both run logs (pairing included): {stored} records in {took:.2f} s, "
                f"{stored / took:.0f} records/s"
            )
            deliver_s = bridge.deliver_s - delivered_s0
            calls = len({at for _c, _v, at in bridge.delivered[delivered0:]})
            answer_s = browser_session.busy_s - busy_s0
            print(
                f"  {bridge.notified - notified0} notifications handed to the page in {calls} calls taking "
                f"{deliver_s:.2f} s (DevTools evaluate; the page's event handlers {page_ms / 1000:.2f} s of it); "
                f"{browser_session.calls - calls0} GATT answers "
                f"and other DevTools calls waited {answer_s:.2f} s"
            )
            print(
                f"  CPU during the sync: {cpu1[0] - cpu0[0]:.2f} s in this process (shoes, radio, bridge), "
                f"{cpu1[1] - cpu0[1]:.2f} s in the browser and Playwright's driver"
            )
            await _keep_in_progress(page)
            await bridge.close()
            await browser.close()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await radio.close()
        server.terminate()
        server.wait(10)


#: a marathon's strides per foot, as the run in progress the phone keeps (``keep`` in phone.js) holds them near its end
KEEP_STRIDES = 17_000


async def _keep_in_progress(page: Any) -> None:
    """How long the page takes to keep a marathon's run in progress (both feet's strides) in IndexedDB, which it
    does every 10 s while running: the time to the write's completion, and the copy of the strides that holds up
    the page's thread (IndexedDB's structured clone)."""
    took = await page.evaluate(
        """async (n) => {
            const P = SolewarePhone, run = P.run;
            const stride = (i, side) => ({
                seq: i % 65536, side, t_start_s: 0.7 * i, t_end_s: 0.7 * i + 0.7, length_m: 2.4,
                contact_time_s: 0.21, strike_type: "midfoot", strike_angle_deg: 3.1,
            });
            const feet = { left: [], right: [] };
            for (let i = 0; i < n; i++) { feet.left.push(stride(i, "left")); feet.right.push(stride(i, "right")); }
            Object.assign(run, { state: "paused", startedAt: new Date(Date.now() - 700 * n), feet });
            const total = [], clone = [];
            for (let k = 0; k < 7; k++) {
                let t0 = performance.now();
                await P.keep(true);
                total.push(performance.now() - t0);
                t0 = performance.now();
                structuredClone(run.feet);  // what IndexedDB's put does on the page's thread
                clone.push(performance.now() - t0);
            }
            return { total, clone };
        }""",
        KEEP_STRIDES,
    )
    print(
        f"keeping a marathon in progress ({2 * KEEP_STRIDES} strides) in IndexedDB: "
        f"median {statistics.median(took['total']):.0f} ms to the write's end, "
        f"{statistics.median(took['clone']):.0f} ms of it copying on the page's thread"
    )


def _latency(bridge: WebBluetoothBridge, shoes: list[VirtualShoe]) -> None:
    stride_uuid = uuid_str(soleware_uuid(0x0002, "Stride Detail"))
    got: dict[tuple[int, int], float] = {}
    for characteristic, value, at in bridge.delivered:
        if characteristic == stride_uuid:
            seq, side = struct.unpack_from("<I", value)[0], value[17]
            got[(side, seq)] = at
    latencies = []
    for code, shoe in ((1, shoes[0]), (2, shoes[1])):
        for seq, sent in shoe.stats.stride_sent_at:
            if (code, seq) in got:
                latencies.append((got[(code, seq)] - sent) * 1000)
    sent_total = sum(len(s.stats.stride_sent_at) for s in shoes)
    latencies.sort()
    print(f"strides sent {sent_total}, on the page {len(latencies)} (paired after the first few)")
    print(
        f"notification → page handlers: median {statistics.median(latencies):.1f} ms, "
        f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.1f} ms, max {latencies[-1]:.1f} ms"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", default="2min@5:00/km")
    ap.add_argument("--speedup", type=float, default=2.0)
    ap.add_argument(
        "--log-strides", type=int, default=0, help="sync only: each shoe's log holds this many strides"
    )
    a = ap.parse_args()
    asyncio.run(main(a.plan, a.speedup, a.log_strides))
