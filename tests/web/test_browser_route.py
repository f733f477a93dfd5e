"""The route on a run's page in headless Chromium: an SVG polyline of the phone's good fixes scaled to its box,
only for runs that have a route (and the GPX export with it), in English and Chinese, screenshots at 390×844."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EMAIL = "lin@example.com"
PASSWORD = "correct horse battery"
VIEWPORT = {"width": 390, "height": 844}


def steady_run(start: dt.datetime, distance_m: float, speed_mps: float) -> dict:
    """Two feet striding evenly, as the gateway uploads a run."""
    period = 0.75
    strides = []
    for side, offset in (("left", 0.0), ("right", period / 2)):
        t, d = 0.0, 0.0
        while d < distance_m:
            strides.append(
                {
                    "side": side,
                    "t_start_s": t + offset,
                    "t_end_s": t + period + offset,
                    "length_m": speed_mps * period,
                }
            )
            t += period
            d += speed_mps * period
    return {"start_time": start.isoformat(), "time_zone": "Asia/Shanghai", "title": "", "strides": strides}


@pytest.fixture(scope="module")
def runs(server, make_route) -> dict:
    body = {"email": EMAIL, "password": PASSWORD, "display_name": "Lin", "time_zone": "Asia/Shanghai"}
    assert httpx.post(server.url + "/api/auth/signup", json=body).status_code == 201
    token = httpx.post(server.url + "/api/auth/signin", json={"email": EMAIL, "password": PASSWORD})
    headers = {"Authorization": "Bearer " + token.json()["access_token"]}
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    with_route = steady_run(start, 3000, 3.2)
    route = make_route(3000 / 3.2, speed_mps=3.2)
    with_route["route"] = route.to_dict()
    with_route["title"] = "Bund loop"
    r = httpx.post(server.url + "/api/runs", json=with_route, headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    plain = httpx.post(
        server.url + "/api/runs", json=steady_run(start - dt.timedelta(days=1), 2000, 3.0), headers=headers
    )
    assert plain.status_code == 201
    good = int((route.accuracy_m <= 20).sum())
    return {
        "route": r.json()["run_id"],
        "plain": plain.json()["run_id"],
        "good": good,
        "n": len(route),
        "headers": headers,
    }


@pytest.fixture(scope="module")
def page(browser, server, runs):
    ctx = browser.new_context(
        viewport=VIEWPORT, base_url=server.url, locale="en-GB", timezone_id="Asia/Shanghai"
    )
    ctx.set_default_timeout(10_000)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not re.search(r"WebSocket|Failed to load resource", m.text)
            else None
        ),
    )
    p.errors = errors  # type: ignore[attr-defined]
    p.goto("/signin")
    p.get_by_label("E-mail").fill(EMAIL)
    p.get_by_label("Password").fill(PASSWORD)
    p.get_by_role("button", name="Sign in").click()
    p.wait_for_url(server.url + "/")
    yield p
    ctx.close()


def wait_ready(page) -> None:
    page.wait_for_selector("body[data-ready='1']")


def route_geometry(page) -> dict:
    return page.evaluate(
        """() => { const svg = document.getElementById('route'); const line = svg.querySelector('polyline');
                   const a = svg.getBoundingClientRect(), b = line.getBoundingClientRect();
                   return { points: line.points.numberOfItems, svg: [a.left, a.top, a.right, a.bottom],
                            line: [b.left, b.top, b.right, b.bottom], circles: svg.querySelectorAll('circle').length }; }"""
    )


def test_a_run_with_a_route_draws_it_scaled_to_its_box(page, runs, screenshots, axe):
    page.goto(f"/runs/{runs['route']}")
    wait_ready(page)
    expect(page.locator("#route-section")).to_be_visible()
    g = route_geometry(page)
    assert g["points"] == runs["good"] < runs["n"]  # the poor fixes are left out
    assert g["circles"] == 2
    (sl, st, sr, sb), (ll, lt, lr, lb) = g["svg"], g["line"]
    assert sl - 1 <= ll and lr <= sr + 1 and st - 1 <= lt and lb <= sb + 1  # inside the box
    # scaled to it: the loop (as tall as wide) fills the box's height, less the padding, and is centred
    assert (lb - lt) >= 0.8 * (sb - st) and abs((ll + lr) / 2 - (sl + sr) / 2) < 2
    assert (lr - ll) == pytest.approx(lb - lt, rel=0.05)  # the plane projection keeps the loop round
    expect(page.locator("#route-text")).to_contain_text(
        f"{runs['n']:,} phone positions, typically accurate to"
    )
    expect(page.locator("#export-gpx")).to_be_attached()
    assert not page.locator("#export-gpx").get_attribute("hidden")
    href = page.locator("#export a[data-format=gpx]").get_attribute("href")
    assert href.endswith(f"/api/runs/{runs['route']}/export?format=gpx")
    page.locator("#route-section").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "en-run-route.png"))
    assert not axe(page, "run-route en")
    assert not page.errors


def test_a_run_without_a_route_shows_none(page, runs):
    page.goto(f"/runs/{runs['plain']}")
    wait_ready(page)
    expect(page.locator("#route-section")).to_be_hidden()
    assert page.locator("#route polyline").count() == 0
    assert page.locator("#export-gpx").get_attribute("hidden") is not None
    assert not page.errors


def test_the_route_in_chinese(page, server, runs, screenshots, axe):
    r = httpx.patch(server.url + "/api/me", json={"locale": "zh"}, headers=runs["headers"])
    assert r.status_code == 200, r.text
    page.goto(f"/runs/{runs['route']}")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    wait_ready(page)
    expect(page.locator("#h-route")).to_have_text("路线")
    expect(page.locator("#route-text")).to_contain_text("个手机定位点")
    page.locator("#route-section").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "zh-run-route.png"))
    assert not axe(page, "run-route zh")
    assert not page.errors
