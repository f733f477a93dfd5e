"""Web Bluetooth path: how long a value the shoe notifies takes to reach the phone page's event handlers.

Two virtual shoes (our firmware over Bumble, on a virtual radio) replay a simulated run; headless Chromium opens
the web app's /phone page, pairs both through :class:`soleware.link.web_bridge.WebBluetoothBridge` and shows the
run live. For every Stride Detail the latency is the time from the shoe's notification having been sent to the
page's ``characteristicvaluechanged`` handlers having run (both on this process's monotonic clock). The path is
the emulated one: shoe → virtual radio → Bumble central → DevTools → page. Then the page syncs both shoes' run
logs into IndexedDB (pairing, List Runs, Read with credits, Ack), timed from the button to "done".

    PYTHONPATH=src .venv/bin/python benchmarks/web_ble.py [--plan "2min@5:00/km"] [--speedup 2]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

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


async def main(plan: str, speedup: float) -> None:
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
    recs = simulate(plan, seed=11)
    radio = await VirtualRadio([0, 0, 0]).start()
    shoes = [
        VirtualShoe(
            side=side,
            serial=f"SW-{side[0].upper()}-B",
            recording=recs[side],
            transport=radio.transports[i],
            speedup=speedup,
        )
        for i, side in enumerate(("left", "right"))
    ]
    tasks = [asyncio.create_task(s.run(serve_after_s=3600)) for s in shoes]
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            context = await browser.new_context(base_url=url, viewport={"width": 390, "height": 844})
            await context.add_init_script(NOTIFY_SHIM)
            page = await context.new_page()
            bridge = WebBluetoothBridge(transport=radio.transports[2])
            await bridge.attach(
                browser_session=await browser.new_browser_cdp_session(),
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
            await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in shoes)), timeout=3600)
            await asyncio.sleep(1.0)
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
            t0 = time.monotonic()
            await page.click("#sync")
            await page.wait_for_selector("#sync-state[data-state='done']", timeout=600_000)
            took = time.monotonic() - t0
            stored = int(await page.get_attribute("#sync-state", "data-stored") or 0)
            print(
                f"browser sync of both run logs (pairing included): {stored} records in {took:.2f} s, "
                f"{stored / took:.0f} records/s"
            )
            await bridge.close()
            await browser.close()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await radio.close()
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", default="2min@5:00/km")
    ap.add_argument("--speedup", type=float, default=2.0)
    a = ap.parse_args()
    asyncio.run(main(a.plan, a.speedup))
