"""The web app in headless Chromium against a real server: sign-up, live updates and reconnection, runs and their
charts, units, Chinese, deleting a run, offline runs, accessibility (axe-core) and screenshots of every page."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"
VIEWPORT = {"width": 390, "height": 844}


def strides_body(*, start: str, distance_m: float, speed_mps: float, title: str = "") -> dict:
    """A steady two-foot run as the gateway uploads it, with a slow wave in speed so charts have a shape."""
    period = 0.75
    body_strides = []
    for side, offset in (("left", 0.0), ("right", period / 2)):
        t, d, i = 0.0, 0.0, 0
        while d < distance_m:
            v = speed_mps * (1 + 0.06 * math.sin(i / 40))
            length = v * period
            body_strides.append(
                {
                    "side": side,
                    "t_start_s": t + offset,
                    "t_end_s": t + period + offset,
                    "length_m": length,
                    "contact_time_s": 0.23 if side == "left" else 0.25,
                    "strike_type": ("rearfoot", "midfoot", "forefoot")[i % 3]
                    if side == "left"
                    else "midfoot",
                    "strike_angle_deg": 4.0,
                }
            )
            t += period
            d += length
            i += 1
    return {"start_time": start, "time_zone": "Europe/London", "title": title, "strides": body_strides}


def live_update(t_s: float, distance_m: float, speed_mps: float, cadence_spm: float) -> dict:
    return {
        "t_s": t_s,
        "distance_m": distance_m,
        "speed_mps": speed_mps,
        "cadence_spm": cadence_spm,
        "stride_length_m": 2.4,
        "feet": {
            "left": {"contact_time_s": 0.231, "strike_type": "midfoot"},
            "right": {"contact_time_s": 0.244, "strike_type": "forefoot"},
        },
        "battery_pct": {"left": 81, "right": 64},
    }


@pytest.fixture(scope="module")
def context(browser, server):
    ctx = browser.new_context(
        viewport=VIEWPORT, base_url=server.url, locale="en-GB", timezone_id="Europe/London"
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def page(context):
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))

    def on_console(msg) -> None:  # CSP violations land here; dropped connections are expected in these tests
        if msg.type == "error" and not re.search(
            r"WebSocket|Failed to load resource|ERR_INTERNET_DISCONNECTED", msg.text
        ):
            errors.append(msg.text)

    p.on("console", on_console)
    p.errors = errors  # type: ignore[attr-defined]
    yield p
    p.close()


def session_cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == "soleware_session"), None)


def auth(page) -> dict[str, str]:
    """Bearer headers for the page's session (what the gateway would send for the same runner)."""
    return {"Authorization": f"Bearer {session_cookie(page)['value']}"}


def test_sign_up_lands_on_the_live_page(page, server):
    page.goto("/signup")
    page.get_by_label("Your name").fill("Ada")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(server.url + "/")
    # the session is an HttpOnly, SameSite=Strict cookie: no script on the page can read it or find a token
    cookie = session_cookie(page)
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] not in page.evaluate("document.cookie")
    assert (
        page.evaluate("JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})").count(
            cookie["value"]
        )
        == 0
    )
    page.wait_for_selector("#link[data-state=open]")
    expect(page.locator("#run-state")).to_have_text("No run in progress")


def test_live_page_follows_updates_and_reconnects(page, server, screenshots):
    page.goto("/")
    page.wait_for_selector("#link[data-state=open]")
    post = httpx.post(server.url + "/api/live", json=live_update(125, 410.0, 3.2, 172), headers=auth(page))
    assert post.status_code == 202
    page.wait_for_function("() => document.querySelector('#distance').textContent === '0.41'")
    assert page.locator("#time").inner_text() == "2:05"
    assert page.locator("#pace").inner_text() == "5:13"  # 1000 / 3.2 = 312.5 s
    assert page.locator("#cadence").inner_text() == "172"
    left = page.locator(".foot[data-side=left]")
    assert left.locator("[data-field=contact]").inner_text() == "231"
    assert left.locator("[data-field=strike]").inner_text() == "Midfoot"
    assert page.locator(".foot[data-side=right] [data-field=battery]").inner_text() == "64%"
    assert page.locator("#run-state").inner_text() == "Running"
    expect(page.locator("#lap-stat")).to_be_hidden()  # no lap pressed

    lap = {"n": 2, "t_s": 65.0}  # pressed at the gateway
    update = {**live_update(250, 830.0, 4.0, 180), "lap": lap}
    httpx.post(server.url + "/api/live", json=update, headers=auth(page))
    page.wait_for_function("() => document.querySelector('#distance').textContent === '0.83'")
    assert page.locator("#pace").inner_text() == "4:10"
    expect(page.locator("#lap-stat")).to_be_visible()
    assert (page.locator("#lap-label").inner_text(), page.locator("#lap-time").inner_text()) == (
        "Lap 2",
        "1:05",
    )
    page.screenshot(path=str(screenshots / "en-live-lap.png"))

    page.evaluate("window.sameDocument = true")
    server.stop()  # the socket drops; the page keeps its values and retries with back-off
    page.wait_for_selector("#link[data-state=retrying]")
    assert "Reconnecting" in page.locator("#link").inner_text()
    assert page.locator("#distance").inner_text() == "0.83"
    server.start()
    page.wait_for_selector("#link[data-state=open]", timeout=20_000)
    httpx.post(server.url + "/api/live", json=live_update(400, 1300.0, 3.5, 176), headers=auth(page))
    page.wait_for_function("() => document.querySelector('#distance').textContent === '1.30'")
    assert page.evaluate("window.sameDocument === true")  # reconnected without a reload
    assert httpx.delete(server.url + "/api/live", headers=auth(page)).status_code == 204
    page.wait_for_function("() => document.querySelector('#run-state').textContent === 'Run finished'")
    assert not page.errors


# ---------------------------------------------------------------------- runs
def upload(page, server, body: dict) -> str:
    r = page.request.post(
        server.url + "/api/runs",
        data=json.dumps(body),
        headers={**auth(page), "Content-Type": "application/json"},
    )
    assert r.status == 201, r.text()
    return r.json()["run_id"]


@pytest.fixture(scope="module")
def runs(page, server) -> dict[str, str]:
    """23 runs over the last weeks: 21 short ones, a fast 5 km (the oldest) and a slower 5.5 km."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ids = {
        "fast": upload(
            page,
            server,
            strides_body(
                start=(now - dt.timedelta(days=30)).isoformat(),
                distance_m=5200,
                speed_mps=3.6,
                title="Fast five",
            ),
        )
    }
    slow = strides_body(
        start=(now - dt.timedelta(days=25)).isoformat(), distance_m=5500, speed_mps=3.0, title="Easy long"
    )
    # three laps marked on the phone: the last ends at Finish, after the last stride
    ends = (0.0, 600.0, 1500.0, 1900.0)
    slow["laps"] = [
        {"t_start_s": a, "t_end_s": b, "name": "Warm-up" if a == 0 else ""}
        for a, b in itertools.pairwise(ends)
    ]
    ids["slow"] = upload(page, server, slow)
    for i in range(21):
        upload(
            page,
            server,
            strides_body(
                start=(now - dt.timedelta(days=21 - i, hours=2)).isoformat(), distance_m=1200, speed_mps=2.9
            ),
        )
    return ids


def wait_ready(page) -> None:
    page.wait_for_selector("body[data-ready='1']")


def test_runs_list_pages_with_more_and_filters(page, runs, screenshots):
    page.goto("/runs")
    wait_ready(page)
    items = page.locator("#runs li")
    assert items.count() == 20
    page.locator("#more").click()
    page.wait_for_function("() => document.querySelectorAll('#runs li').length === 23")
    expect(page.locator("#more")).to_be_hidden()
    page.locator("#filters-box summary").click()
    page.get_by_label("Shortest").fill("5")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_function("() => document.querySelectorAll('#runs li').length === 2")
    assert "Fast five" in page.locator("#runs").inner_text()
    page.get_by_role("button", name="Calendar").click()
    page.wait_for_function("() => document.querySelector('#cal-total').textContent !== ''")
    if page.locator("#cal tbody td a").count() == 0:  # early on the 1st, the runs are all last month
        page.locator("#cal-prev").click()
    page.wait_for_selector("#cal tbody td a")
    assert page.locator("#cal tbody tr").count() in (4, 5, 6)
    page.screenshot(path=str(screenshots / "en-runs-calendar.png"), full_page=True)


def canvas_ink(page, canvas_id: str) -> int:
    """Painted pixels of a canvas (0 when nothing was drawn)."""
    return page.evaluate(
        """(id) => { const c = document.getElementById(id); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                     let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""",
        canvas_id,
    )


def test_run_detail_draws_charts_and_tables(page, runs):
    page.goto(f"/runs/{runs['fast']}")
    wait_ready(page)
    assert page.locator("h1").inner_text() == "Fast five"
    for key in ("pace", "cadence", "stride", "contact", "strikes"):
        assert canvas_ink(page, f"c-{key}") > 2000, key
    # each foot over the run, from the strides' columns
    expect(page.locator("#feet-run-text")).to_contain_text("strides")
    assert canvas_ink(page, "c-feet-run") > 2000
    labels = page.evaluate(
        "Chart.getChart(document.getElementById('c-feet-run')).data.datasets.map((d) => [d.label, d.data.length])"
    )
    assert [label for label, _ in labels] == ["Left", "Right"] and all(n >= 5 for _, n in labels)
    assert (
        page.evaluate("Chart.getChart(document.getElementById('c-pace')).data.datasets[0].data.length") > 50
    )
    page.get_by_role("button", name="Distance", exact=True).click()
    page.wait_for_function(
        "() => Chart.getChart(document.getElementById('c-pace')).options.scales.x.title.text === 'Distance (km)'"
    )
    assert page.locator("#splits tbody tr").count() == 6  # 5 whole km and the rest
    page.locator("[data-split=mile]").click()
    expect(page.locator("#splits tbody tr")).to_have_count(4)
    assert page.locator("#efforts tbody tr").count() >= 5
    assert "L " in page.locator("#balance").inner_text()
    assert page.locator("#awards li").count() >= 1
    assert "5 km done" in page.locator("#awards").inner_text()
    for fmt in ("fit", "tcx", "csv"):
        href = page.locator(f"#export a[data-format={fmt}]").get_attribute("href")
        assert href.endswith(f"/api/runs/{runs['fast']}/export?format={fmt}")
    assert not page.errors


def _line_pixels(page, canvas_id: str, color: str, t0_s: float, t1_s: float) -> int:
    """Pixels of a time chart's line (its colour) between two run times."""
    return page.evaluate(
        """([id, color, t0, t1]) => {
             const c = document.getElementById(id), ch = Chart.getChart(c), a = ch.chartArea;
             const want = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
             const r = window.devicePixelRatio || 1;
             const x0 = Math.round(ch.scales.x.getPixelForValue(t0 / 60) * r);
             const x1 = Math.round(ch.scales.x.getPixelForValue(t1 / 60) * r);
             const d = c.getContext('2d').getImageData(x0, a.top * r, x1 - x0, (a.bottom - a.top) * r).data;
             let n = 0;
             for (let i = 0; i < d.length; i += 4)
               if (d[i + 3] > 128 && want.every((v, k) => Math.abs(d[i + k] - v) < 40)) n++;
             return n; }""",
        [canvas_id, color, t0_s, t1_s],
    )


def test_a_pause_breaks_the_lines_over_time(page, server, runs):
    """A run with a minute's stop (a traffic light) after 300 m: the charts over time break there rather than
    draw a slope from the stride before the stop to the one after it."""
    body = strides_body(
        start=(dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).isoformat(), distance_m=600, speed_mps=2.5
    )
    stop_s = 120.0
    for s in body["strides"]:
        if s["t_start_s"] >= stop_s:
            s["t_start_s"] += 60.0
            s["t_end_s"] += 60.0
    rid = upload(page, server, body)
    try:
        page.goto(f"/runs/{rid}")
        wait_ready(page)
        cadence = "#b4451f"  # the cadence chart's colour (PALETTE[1])
        assert _line_pixels(page, "c-cadence", cadence, stop_s - 50.0, stop_s - 10.0) > 20
        assert _line_pixels(page, "c-cadence", cadence, stop_s + 10.0, stop_s + 50.0) == 0
        assert _line_pixels(page, "c-cadence", cadence, stop_s + 70.0, stop_s + 110.0) > 20
        assert not page.errors
    finally:
        assert page.request.delete(f"{server.url}/api/runs/{rid}", headers=auth(page)).status == 204


def test_a_pod_run_names_its_sensor_and_has_no_strides(page, server, runs):
    """A run recorded with a third-party RSC pod: labelled with the sensor, no per-foot chart to draw."""
    n = 600
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=400)
    rid = upload(
        page,
        server,
        {
            "start_time": start.isoformat(),
            "time_zone": "UTC",
            "sensor": {"name": "Stryd", "manufacturer": "Stryd Inc.", "model": "NG", "serial": "A1B2"},
            "samples": {
                "t_s": [float(i) for i in range(n)],
                "speed_mps": [2.5] * n,
                "cadence_spm": [170.0] * n,
                "stride_length_m": None,
                "total_distance_m": None,
            },
        },
    )
    page.goto(f"/runs/{rid}")
    wait_ready(page)
    expect(page.locator("#run-when")).to_contain_text("Recorded with Stryd")
    expect(page.locator("#feet-run-text")).to_contain_text("not stored")
    assert page.locator("#c-feet-run").is_hidden()
    assert not page.errors


def test_runs_already_loaded_show_offline(context, page, runs):
    page.goto(f"/runs/{runs['slow']}")
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now under the service worker: the API answer is cached
    wait_ready(page)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    try:
        page.reload()
        wait_ready(page)
        expect(page.locator("h1")).to_have_text("Easy long")
        # the page learns it is offline from navigator.onLine or the "offline" event, whichever comes first
        expect(page.locator("#offline")).to_be_visible()
    finally:
        context.set_offline(False)


def test_miles(page, runs):
    page.goto("/settings")
    wait_ready(page)
    page.get_by_label("Miles").check()
    page.wait_for_function("() => JSON.parse(localStorage.getItem('soleware.me')).units === 'imperial'")
    page.goto("/runs")
    wait_ready(page)
    first = page.locator("#runs li").first.inner_text()
    assert re.search(r"\d mi\b", first) and "/mi" in first
    page.goto(f"/runs/{runs['slow']}")
    wait_ready(page)
    assert page.locator("#s-distance").inner_text() == "3.42 mi"  # 5.5 km
    assert page.locator("#s-pace").inner_text().endswith("/mi")
    page.goto("/settings")
    wait_ready(page)
    page.get_by_label("Kilometres").check()
    page.wait_for_function("() => JSON.parse(localStorage.getItem('soleware.me')).units === 'metric'")


def clock(s: float) -> str:
    total = round(s)
    h, rest = divmod(total, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def test_deleting_a_run_recomputes_records(page, server, runs):
    def five_k() -> float:
        r = page.request.get(server.url + "/api/records", headers=auth(page)).json()
        return next(x for x in r if x["key"] == "5k")["best"][0]["time_s"]

    before = five_k()
    page.goto("/records")
    wait_ready(page)
    row = page.locator("#records tr[data-key='5k']")
    assert row.locator("td").first.inner_text() == clock(before)
    page.goto(f"/runs/{runs['fast']}")
    wait_ready(page)
    page.get_by_role("button", name="Delete run").click()
    page.locator("#confirm-delete-yes").click()
    page.wait_for_url("**/runs")
    after = five_k()
    assert after > before + 60
    page.goto("/records")
    wait_ready(page)
    assert row.locator("td").first.inner_text() == clock(after)
    page.goto(f"/runs/{runs['fast']}")
    page.wait_for_selector("#run-missing:not([hidden])")


def test_refused_runs_are_shown_and_sent_again(page, server):
    """A run the service refused is listed with its reason; sent again, it is stored if today's service takes it
    and refused again, with the reason, if not."""

    def keep(key: str, body: dict, reason: str) -> None:
        r = page.request.post(
            server.url + "/api/refused-uploads",
            data=json.dumps({"key": key, "body": body, "reason": reason}),
            headers={**auth(page), "Content-Type": "application/json"},
        )
        assert r.status == 201, r.text()

    bad = strides_body(start="2026-10-03T07:00:00+01:00", distance_m=2000, speed_mps=3.0)
    bad["strides"][31]["length_m"] = 7.5
    keep("SW-L-0001:8", bad, "422 strides.31.length_m: Input should be less than or equal to 6 (got 7.5)")
    good = strides_body(start="2026-10-04T07:00:00+01:00", distance_m=2000, speed_mps=3.0)
    keep("SW-L-0001:9", good, "422 a check since relaxed")

    page.goto("/runs")
    wait_ready(page)
    note = page.locator("#refused-note")
    note.wait_for(state="visible")
    assert "2" in note.inner_text()
    note.get_by_role("link").click()
    page.wait_for_url("**/refused")
    wait_ready(page)
    cards = page.locator("#refused li")
    cards.first.wait_for()
    assert cards.count() == 2
    relaxed = cards.filter(has_text="a check since relaxed")
    relaxed.get_by_role("button", name="Send again").click()
    stored = page.get_by_role("link", name="Stored. Open the run")
    stored.wait_for()
    refused = cards.filter(has_text="(got 7.5)")
    refused.get_by_role("button", name="Send again").click()
    refused.get_by_role("status").filter(has_text="Refused again.").wait_for()
    assert refused.locator(".error .detail").inner_text().startswith("422 strides.31.length_m")
    assert refused.locator(".error strong").inner_text() == "The service did not take some of its values:"
    stored.click()
    page.wait_for_url("**/runs/*")
    r = page.request.get(server.url + "/api/refused-uploads", headers=auth(page)).json()
    assert [u["key"] for u in r["refused"]] == ["SW-L-0001:8"]
    page.goto("/refused?lang=zh")  # what it means in the runner's language, the service's words as they are
    wait_ready(page)
    reason = page.locator("#refused li .error")
    reason.wait_for()
    assert reason.locator("strong").inner_text() == "服务未接受其中的部分数值："
    assert reason.locator(".detail").get_attribute("lang") == "en"
    assert reason.locator(".detail").inner_text().startswith("422 strides.31.length_m")
    assert not page.errors


# ---------------------------------------------------------------------- every page: axe-core and screenshots
PRIVATE_PAGES = ("live", "runs", "run", "progress", "records", "achievements", "shoes", "refused", "settings")


def test_the_laps_a_runner_marked_are_a_table_on_the_run_page(page, runs):
    """Each lap's distance, time and pace; a run without laps has no such table."""
    page.goto(f"/runs/{runs['slow']}")
    wait_ready(page)
    rows = page.locator("#lap-table tbody tr")
    expect(rows).to_have_count(3)
    cells = [rows.nth(k).locator("td").all_inner_texts() for k in range(3)]
    assert cells[0][0].split() == ["1", "Warm-up"] and cells[1][0] == "2"
    # the first lap: 600 s at ~3.0 m/s, the steady pace in each
    assert cells[0][1].endswith(" km") and 1.7 < float(cells[0][1].split()[0]) < 1.9
    assert cells[0][2] == "10:00" and cells[1][2] == "15:00"
    for row in cells:
        assert row[3].endswith("/km") and row[3].startswith(("5:2", "5:3", "5:4", "5:5")), row
    total = sum(float(row[1].split()[0]) for row in cells)
    assert total == pytest.approx(5.5, abs=0.05)  # the last lap is cut where the run ends
    page.goto(f"/runs/{runs['fast']}")
    wait_ready(page)
    expect(page.locator("#laps")).to_be_hidden()
    assert not page.errors


def audit(page, name: str, lang: str, screenshots: Path, axe) -> list[str]:
    """axe-core's serious and critical violations on the page, after a full-page screenshot."""
    wait_ready(page)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots / f"{lang}-{name}.png"), full_page=True)
    return axe(page, f"{name}/{lang}")


def visit_all(page, server, runs, lang: str, screenshots: Path, axe) -> list[str]:
    problems = []
    paths = {"live": "/", "run": f"/runs/{runs['slow']}"}
    for name in PRIVATE_PAGES:
        page.goto(paths.get(name, f"/{name}"))
        problems += audit(page, name, lang, screenshots, axe)
    return problems


def test_every_page_passes_axe_in_english(browser, page, server, runs, screenshots, axe):
    httpx.post(server.url + "/api/live", json=live_update(1520, 4890.0, 3.3, 174), headers=auth(page))
    page.request.post(
        server.url + "/api/shoes",
        data=json.dumps({"serial": "SW-L-0001", "name": "Blue racers", "side": "left", "initial_m": 640000}),
        headers={**auth(page), "Content-Type": "application/json"},
    )
    page.request.post(
        server.url + "/api/shoes",
        data=json.dumps({"serial": "SW-R-0001", "name": "Blue racers", "side": "right"}),
        headers={**auth(page), "Content-Type": "application/json"},
    )
    page.request.patch(
        server.url + "/api/me",
        data=json.dumps({"weekly_goal_m": 20000, "race_goal_m": 10000}),
        headers={**auth(page), "Content-Type": "application/json"},
    )
    problems = visit_all(page, server, runs, "en", screenshots, axe)
    page.set_viewport_size({"width": 1280, "height": 800})  # and once on a desktop screen
    try:
        for name, path in (("run", f"/runs/{runs['slow']}"), ("live", "/")):
            page.goto(path)
            wait_ready(page)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(screenshots / f"en-desktop-{name}.png"), full_page=True)
    finally:
        page.set_viewport_size(VIEWPORT)
    anon = browser.new_context(viewport=VIEWPORT, base_url=server.url, locale="en-GB")
    try:
        p = anon.new_page()
        for name in ("signin", "signup"):
            p.goto(f"/{name}")
            problems += audit(p, name, "en", screenshots, axe)
    finally:
        anon.close()
    assert not problems, "\n".join(problems)
    assert not page.errors


def test_chinese_pages_follow_the_profile(browser, page, server, runs, screenshots, axe):
    page.goto("/settings")
    wait_ready(page)
    page.get_by_label("中文（简体）").check()
    page.wait_for_selector("html[lang='zh-CN']")
    wait_ready(page)
    assert page.locator("h1").inner_text() == "设置"
    assert "跑步" in page.locator("nav").inner_text()
    page.goto("/runs")
    wait_ready(page)
    assert "公里" in page.locator("#runs li").first.inner_text()
    page.goto("/")
    wait_ready(page)
    page.wait_for_selector("#link[data-state=open]")
    assert page.locator("#link").inner_text() == "已连接"
    problems = visit_all(page, server, runs, "zh", screenshots, axe)

    # another browser, English by default: signing in switches it to the profile's Chinese
    other = browser.new_context(viewport=VIEWPORT, base_url=server.url, locale="en-GB")
    try:
        p = other.new_page()
        for name in ("signin", "signup"):
            p.goto(f"/{name}?lang=zh")
            problems += audit(p, name, "zh", screenshots, axe)
        p.goto("/signin?lang=en")
        assert p.locator("h1").inner_text() == "Sign in"
        p.get_by_label("E-mail").fill(EMAIL)
        p.get_by_label("Password").fill(PASSWORD)
        p.get_by_role("button", name="Sign in").click()
        p.wait_for_url(server.url + "/")
        # the English page reloads itself in the profile's language once it has read the profile
        expect(p.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(p.locator("h1")).to_have_text("实时跑步")
    finally:
        other.close()
    assert not problems, "\n".join(problems)

    page.locator("header [data-lang=en]").click()  # back to English, saved in the profile
    page.wait_for_selector("html[lang='en']")
    wait_ready(page)
    assert page.evaluate("() => JSON.parse(localStorage.getItem('soleware.me')).locale") == "en"
    assert not page.errors


def test_session_cookie_needs_the_csrf_token_and_signing_out_ends_it(page, server):
    page.goto("/settings")
    wait_ready(page)
    update = live_update(10, 30.0, 3.0, 170)
    # the session cookie alone (what a page on another site could make the browser send) changes nothing
    assert page.request.post(server.url + "/api/live", data=update).status == 403
    csrf = page.evaluate(
        "document.cookie.split('; ').find((c) => c.startsWith('soleware_csrf=')).split('=')[1]"
    )
    evil = {"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
    assert page.request.post(server.url + "/api/live", data=update, headers=evil).status == 403
    assert (
        page.request.post(server.url + "/api/live", data=update, headers={"X-CSRF-Token": csrf}).status == 202
    )
    assert page.request.delete(server.url + "/api/live", headers={"X-CSRF-Token": csrf}).status == 204
    old = session_cookie(page)["value"]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    assert session_cookie(page) is None and "soleware_csrf" not in page.evaluate("document.cookie")
    assert httpx.get(server.url + "/api/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    wait_ready(page)
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/")
    assert session_cookie(page)["value"] != old
    assert not page.errors


def test_delete_account(page, server):
    page.goto("/settings")
    wait_ready(page)
    page.get_by_role("button", name="Delete account").click()
    confirm = page.locator("#confirm-delete-yes")
    expect(confirm).to_be_disabled()
    page.get_by_label("I understand").check()
    confirm.click()
    page.wait_for_url("**/signup")
    assert session_cookie(page) is None
    assert "soleware_csrf" not in page.evaluate("document.cookie")
    r = httpx.post(server.url + "/api/auth/signin", json={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 401
