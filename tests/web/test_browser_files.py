"""Files in the browser: importing activity files and raw recordings from the runs page (per-file results), exporting
a run as FIT/TCX/CSV from its page, the shoes' link state on the live page, and ``/signin?email=``."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import zipfile
from pathlib import Path

import httpx
import pytest
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import FileType, Sport
from playwright.sync_api import expect

from soleware.gait.recording import sample_recording_path

pytestmark = pytest.mark.browser

EMAIL = "grace@example.com"
PASSWORD = "correct horse battery"
VIEWPORT = {"width": 390, "height": 844}
ZONE = "Asia/Shanghai"


def sign_up(server, email: str, time_zone: str = "UTC") -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, "display_name": email.split("@")[0], "time_zone": time_zone}
    assert httpx.post(server.url + "/api/auth/signup", json=body).status_code == 201
    r = httpx.post(server.url + "/api/auth/signin", json={"email": email, "password": PASSWORD})
    return {"Authorization": "Bearer " + r.json()["access_token"]}


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
                    "contact_time_s": 0.24,
                    "strike_type": "midfoot",
                    "strike_angle_deg": 4.0,
                }
            )
            t += period
            d += speed_mps * period
    return {"start_time": start.isoformat(), "time_zone": "Europe/London", "title": "", "strides": strides}


def ride_fit() -> bytes:
    """A bike computer's ride: an intact FIT activity whose sport is cycling."""
    b = FitFileBuilder(auto_define=True)
    m = FileIdMessage()
    m.type = FileType.ACTIVITY
    m.time_created = 1_780_000_000_000
    b.add(m)
    for k in range(60):
        r = RecordMessage()
        r.timestamp = 1_780_000_000_000 + 1000 * k
        r.distance = 8.0 * k
        b.add(r)
    s = SessionMessage()
    s.start_time = 1_780_000_000_000
    s.sport = Sport.CYCLING
    b.add(s)
    return b.build().to_bytes()


def car_gpx(start: dt.datetime) -> bytes:
    """Five minutes of a drive at 30 m/s that a watch recorded as a run."""
    points = "".join(
        f'<trkpt lat="{47 + 30.0 * k / 111_195:.7f}" lon="8.5"><time>'
        f"{(start + dt.timedelta(seconds=k)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for k in range(300)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="watch" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type>'
        f"<trkseg>{points}</trkseg></trk></gpx>"
    ).encode()


@pytest.fixture(scope="module")
def files(server, tmp_path_factory) -> dict[str, Path]:
    """A FIT file exported from another runner's run, a broken one, a ride, and a raw recording with its sidecar."""
    d = tmp_path_factory.mktemp("files")
    other = sign_up(server, "other@example.com")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2)
    r = httpx.post(server.url + "/api/runs", json=steady_run(start, 3000, 3.2), headers=other)
    assert r.status_code == 201
    fit = httpx.get(server.url + f"/api/runs/{r.json()['run_id']}/export?format=fit", headers=other)
    assert fit.status_code == 200
    out = {"fit": d / "tempo.fit", "broken": d / "broken.fit"}
    out["fit"].write_bytes(fit.content)
    r = httpx.post(
        server.url + "/api/runs", json=steady_run(start - dt.timedelta(days=4), 4000, 3.0), headers=other
    )
    whole = httpx.get(server.url + f"/api/runs/{r.json()['run_id']}/export?format=fit", headers=other).content
    out["cut"] = d / "dead-battery.fit"  # the watch died while it wrote the file
    out["cut"].write_bytes(whole[: len(whole) // 2])
    out["damaged"] = d / "damaged.gpx"  # malformed in its middle: no file cut short
    out["damaged"].write_bytes(b"<?xml version='1.0'?><gpx><trk><trkseg></trk></trkseg></gpx>")
    out["broken"].write_bytes(b"this is not an activity file\n" * 4)
    out["photo"] = d / "photo.fit"  # a picture saved under an activity's name
    out["photo"].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    out["ride"] = d / "ride.fit"
    out["ride"].write_bytes(ride_fit())
    out["car"] = d / "car.gpx"  # a drive the watch recorded: 30 m/s
    out["car"].write_bytes(car_gpx(start))
    sample = sample_recording_path()
    out["csv"] = Path(shutil.copy(sample, d / "track_left.csv"))
    out["json"] = Path(shutil.copy(sample.with_suffix(".json"), d / "track_left.json"))
    return out


@pytest.fixture(scope="module")
def context(browser, server):
    ctx = browser.new_context(
        viewport=VIEWPORT,
        base_url=server.url,
        locale="en-GB",
        timezone_id="Europe/London",
        accept_downloads=True,
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def page(context, server):
    sign_up(server, EMAIL, time_zone=ZONE)
    p = context.new_page()
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
    yield p
    p.close()


def wait_ready(page) -> None:
    page.wait_for_selector("body[data-ready='1']")


def auth(page) -> dict[str, str]:
    """Bearer headers for the page's session (what the gateway would send for the same runner)."""
    session = next(c for c in page.context.cookies() if c["name"] == "soleware_session")
    return {"Authorization": "Bearer " + session["value"]}


def import_via_button(page, paths: list[Path], label: str = "Import") -> None:
    done = int(page.locator("#import-box").get_attribute("data-done") or 0)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=label, exact=True).click()
    assert chooser.value.is_multiple()
    chooser.value.set_files([str(p) for p in paths])
    page.wait_for_selector(f"#import-box[data-done='{done + 1}']", state="attached", timeout=20_000)


def result(page, name: str):
    return page.locator("#import-results li", has_text=name)


def test_sign_in_link_prefills_the_email(page, server):
    page.goto(f"/signin?email={EMAIL}")
    wait_ready(page)
    assert page.get_by_label("E-mail").input_value() == EMAIL
    assert page.evaluate("document.activeElement.id") == "password"
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/")


def test_import_shows_each_file_and_refreshes_the_list(page, files, screenshots):
    page.goto("/runs")
    wait_ready(page)
    assert page.locator("#runs li").count() == 0
    assert page.locator("#import-status").get_attribute("aria-live") == "polite"
    import_via_button(page, [files["fit"], files["broken"]])
    assert page.locator("#import-results li").count() == 2
    ok = result(page, "tempo.fit")
    assert ok.get_attribute("data-status") == "imported" and "Imported" in ok.inner_text()
    bad = result(page, "broken.fit")
    assert bad.get_attribute("data-status") == "rejected" and "Rejected" in bad.inner_text()
    reason = bad.locator(".reason")
    assert reason.inner_text() == "Not a FIT, TCX or GPX activity (the data looks like unknown data)."
    assert "not a FIT file (no '.FIT' signature" in reason.get_attribute("title")  # the service's own words
    assert page.locator("#import-summary").inner_text() == "1 imported, 0 already there, 1 rejected."
    page.wait_for_function("() => document.querySelectorAll('#runs li').length === 1")
    assert "3.00 km" in page.locator("#runs li").first.inner_text()

    import_via_button(page, [files["fit"]])  # the same activity again
    again = result(page, "tempo.fit")
    assert again.get_attribute("data-status") == "duplicate" and "Already there" in again.inner_text()
    assert page.locator("#runs li").count() == 1
    assert page.locator("#import").get_attribute("aria-disabled") is None
    assert page.evaluate("document.activeElement.id") == "import"  # the focus stays on the button


def test_raw_recording_imports_with_its_start_time(page, server, files):
    mtime = dt.datetime(2026, 5, 1, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai, the runner's zone
    os.utime(files["csv"], (mtime.timestamp(), mtime.timestamp()))
    page.goto("/runs")
    wait_ready(page)
    import_via_button(page, [files["csv"], files["json"], files["broken"]])
    rec = result(page, "track_left.csv")
    assert rec.get_attribute("data-status") == "imported", rec.inner_text()
    run_id = rec.locator("a").get_attribute("href").rsplit("/", 1)[1]
    run = httpx.get(server.url + f"/api/runs/{run_id}", headers=auth(page)).json()
    assert run["time_zone"] == ZONE
    start = dt.datetime.fromisoformat(run["start_time"])
    assert (
        abs((mtime - start).total_seconds() - 60.0) < 1.5
    )  # the file was written when the 60 s recording ended
    page.wait_for_function("() => document.querySelectorAll('#runs li').length === 2")


def test_export_downloads_the_servers_file(page, server, screenshots, axe):
    runs = httpx.get(server.url + "/api/runs", headers=auth(page)).json()["runs"]
    run_id = next(r["id"] for r in runs if r["source"] == "fit")
    page.goto(f"/runs/{run_id}")
    wait_ready(page)
    page.locator("#export summary").click()
    fit_link = page.get_by_role("link", name=re.compile("^FIT file"))
    expect(fit_link).to_be_visible()
    page.screenshot(path=str(screenshots / "en-run-export.png"), full_page=True)
    problems = axe(page, "run export menu/en")
    with page.expect_download() as dl:
        fit_link.click()
    assert dl.value.suggested_filename == f"soleware-{run_id[:8]}.fit"
    data = Path(dl.value.path()).read_bytes()
    assert data[8:12] == b".FIT" and len(data) > 1000
    page.wait_for_function("() => !document.querySelector('#export').open")  # the menu closes after a choice
    page.locator("#export summary").click()
    with page.expect_download() as dl:
        page.get_by_role("link", name=re.compile("^CSV")).click()
    assert dl.value.suggested_filename.endswith(".csv")
    assert Path(dl.value.path()).read_text().startswith("side,")

    page.route("**/export?format=tcx", lambda route: route.fulfill(status=500, body="boom"))
    page.locator("#export summary").click()
    page.get_by_role("link", name=re.compile("^TCX file")).click()
    page.wait_for_function("() => document.querySelector('#toast').textContent !== ''")
    assert page.locator("#toast").inner_text() == "Export failed (500)."
    page.unroute("**/export?format=tcx")
    assert not problems, "\n".join(problems)
    assert not page.errors


def test_record_achievement_says_why_it_is_still_at_zero(page):
    page.goto("/achievements")
    wait_ready(page)
    badge = page.locator("#locked li[data-id=personal_record]")  # no run has beaten an earlier record yet
    assert badge.locator("[role=progressbar]").get_attribute("aria-valuenow") == "0"
    assert "beat it later" in badge.locator(".hint").inner_text()
    assert page.locator("#earned li[data-id=longest_run]").count() == 1  # the 3 km run beat the 0.1 km one
    assert page.locator("#earned li[data-id=run_half] h3").count() == 0
    names = page.locator("#locked h3").all_inner_texts()
    assert "Half marathon done" in names and all(n[0] == n[0].upper() for n in names)


def live(feet: dict) -> dict:
    return {
        "t_s": 60.0,
        "distance_m": 200.0,
        "speed_mps": 3.3,
        "cadence_spm": 170,
        "stride_length_m": 2.3,
        "feet": feet,
        "battery_pct": {"left": 70, "right": 55},
    }


def test_live_page_shows_each_shoes_link(page, server, screenshots):
    page.goto("/")
    page.wait_for_selector("#link[data-state=open]")
    left = page.locator(".foot[data-side=left] [data-field=link]")
    right = page.locator(".foot[data-side=right] [data-field=link]")
    feet = {"left": {"link": "reconnecting", "contact_time_s": None}, "right": {"link": "syncing"}}
    httpx.post(server.url + "/api/live", json=live(feet), headers=auth(page))
    page.wait_for_function(
        "() => document.querySelector('.foot[data-side=left] [data-field=link]').dataset.state === 'reconnecting'"
    )
    assert left.inner_text() == "Reconnecting…"
    assert right.inner_text() == "Syncing…"
    page.locator(".feet").screenshot(path=str(screenshots / "en-live-shoe-links.png"))
    httpx.post(
        server.url + "/api/live", json=live({"left": {"contact_time_s": 0.23}}), headers=auth(page)
    )  # old gateway
    page.wait_for_function(
        "() => document.querySelector('.foot[data-side=left] [data-field=link]').dataset.state === 'connected'"
    )
    assert left.inner_text() == "Connected"
    assert httpx.delete(server.url + "/api/live", headers=auth(page)).status_code == 204


def test_import_and_export_in_chinese(page, files, screenshots, axe):
    page.goto("/runs?lang=zh")
    wait_ready(page)
    import_via_button(
        page,
        [files[k] for k in ("fit", "broken", "ride", "photo", "car", "cut", "damaged")],
        label="导入",
    )
    assert "已存在" in result(page, "tempo.fit").inner_text()
    assert "已拒绝" in result(page, "broken.fit").inner_text()
    assert result(page, "ride.fit").locator(".reason").inner_text() == "不是跑步：这项运动是骑行。"
    # what the data looks like is said in the runner's language too, not in the service's English
    assert (
        result(page, "broken.fit").locator(".reason").inner_text()
        == "不是 FIT、TCX 或 GPX 运动文件（数据类型：未知）。"
    )
    assert (
        result(page, "photo.fit").locator(".reason").inner_text()
        == "不是 FIT、TCX 或 GPX 运动文件（数据类型：PNG 图片）。"
    )
    assert "a PNG image" in result(page, "photo.fit").locator(".reason").get_attribute("title")
    # which value no activity on foot has, in the runner's language, the service's English as the tooltip
    assert (
        result(page, "car.gpx").locator(".reason").inner_text()
        == "不像是徒步运动：平均速度 30.0 m/s，超过 12.5 m/s。"
    )
    assert "average speed 30.0 m/s" in result(page, "car.gpx").locator(".reason").get_attribute("title")
    # a file cut short is imported up to where it stops, and the runner is told so
    cut = result(page, "dead-battery.fit")
    assert cut.get_attribute("data-status") == "imported" and "部分导入" in cut.inner_text()
    said = cut.locator(".reason").inner_text()
    assert said.startswith("文件不完整（被截断）：已导入到 ") and said.endswith(" 为止，之后的部分缺失。"), (
        said
    )
    assert "file is cut short" in cut.locator(".reason").get_attribute("title")
    cut_page = cut.locator("a.name").get_attribute("href")
    damaged = result(page, "damaged.gpx").locator(".reason")
    assert damaged.inner_text() == "文件已损坏，无法读取；请重新导出或复制。"
    assert "malformed XML" in damaged.get_attribute("title")
    page.screenshot(path=str(screenshots / "zh-runs-import.png"), full_page=True)
    problems = axe(page, "runs import/zh")
    page.goto(page.locator("#runs li a").first.get_attribute("href") + "?lang=zh")
    wait_ready(page)
    page.locator("#export summary").click()
    assert page.locator("#export summary").inner_text().startswith("导出")
    expect(page.get_by_role("link", name=re.compile("^FIT 文件"))).to_be_visible()
    page.screenshot(path=str(screenshots / "zh-run-export.png"), full_page=True)
    problems += axe(page, "run export menu/zh")
    # the cut run's own page says so too, long after the import's answer is gone
    page.goto(cut_page + "?lang=zh")
    wait_ready(page)
    expect(page.locator("#run-cut")).to_be_visible()
    said = page.locator("#run-cut").inner_text()
    assert said.startswith("此跑步导入自被截断的文件：记录止于 ") and said.endswith("实际跑步可能更长。"), (
        said
    )
    page.screenshot(path=str(screenshots / "zh-run-cut-short.png"), full_page=True)
    problems += axe(page, "run cut short/zh")
    page.goto("/runs?lang=en")
    wait_ready(page)
    import_via_button(page, [files["fit"], files["broken"]])
    page.screenshot(path=str(screenshots / "en-runs-import.png"), full_page=True)
    problems += axe(page, "runs import/en")
    assert not problems, "\n".join(problems)
    assert not page.errors


def test_a_run_with_estimated_strides_says_so_on_its_page(page, server, screenshots, axe):
    """Strides the shoes lost samples of reach the run as estimated; its page says how many and how far, in
    the runner's language, and a run without any says nothing."""
    body = steady_run(dt.datetime(2026, 4, 2, 6, 0, tzinfo=dt.UTC), 1500.0, 3.0)
    for s in body["strides"][20:23]:
        s.update(estimated=True, contact_time_s=None, strike_type=None, strike_angle_deg=None)
    r = httpx.post(server.url + "/api/runs", json=body, headers=auth(page))
    assert r.status_code == 201, r.text
    run_page = f"/runs/{r.json()['run_id']}"
    problems = []
    for lang, text in (
        ("en", "Strides estimated across gaps in the sensor data: 3 (7 m)."),
        ("zh", "传感器数据中断处有 3 个跨步为估算值（7 米）"),
    ):
        page.goto(f"{run_page}?lang={lang}")
        wait_ready(page)
        expect(page.locator("#run-estimated")).to_be_visible()
        assert text in page.locator("#run-estimated").inner_text()
        page.screenshot(path=str(screenshots / f"{lang}-run-estimated.png"), full_page=True)
        problems += axe(page, f"run with estimated strides/{lang}")
    plain = httpx.post(
        server.url + "/api/runs",
        json=steady_run(dt.datetime(2026, 4, 3, 6, 0, tzinfo=dt.UTC), 1500.0, 3.0),
        headers=auth(page),
    )
    page.goto(f"/runs/{plain.json()['run_id']}?lang=en")
    wait_ready(page)
    expect(page.locator("#run-estimated")).to_be_hidden()
    assert not problems, "\n".join(problems)
    assert not page.errors


def test_an_export_cut_short_imports_what_came_before_the_cut(page, server, tmp_path, screenshots, axe):
    """A Strava export whose download broke off: the runs before the cut are imported, and the archive's row
    says, in the runner's language, how many files were read and that the rest is missing."""
    other = sign_up(server, "exporter@example.com")
    archive = tmp_path / "export_2026.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for k in range(4):
            start = dt.datetime(2026, 2, 1 + k, 7, tzinfo=dt.UTC)
            r = httpx.post(
                server.url + "/api/runs", json=steady_run(start, 2000 + 500 * k, 3.1), headers=other
            )
            fit = httpx.get(server.url + f"/api/runs/{r.json()['run_id']}/export?format=fit", headers=other)
            z.writestr(f"activities/{k + 1}.fit", fit.content)
    data = archive.read_bytes()
    archive.write_bytes(data[: data.index(b"activities/4.fit") - 30])  # broken off before the fourth file
    page.goto("/runs?lang=zh")
    wait_ready(page)
    import_via_button(page, [archive], label="导入")
    row = result(page, "export_2026.zip")
    for k in (1, 2, 3):
        assert result(page, f"activities/{k}.fit").get_attribute("data-status") == "imported"
    said = page.locator("#import-results li[data-status='rejected']", has_text="export_2026.zip").locator(
        ".reason"
    )
    assert (
        said.inner_text()
        == "压缩包不完整（下载中断？）：已读取前 3 个文件，其余部分缺失；请重新下载以导入其余部分。"
    )
    assert row.count() == 4
    page.screenshot(path=str(screenshots / "zh-import-cut-archive.png"), full_page=True)
    problems = axe(page, "import of a cut archive/zh")
    assert not problems, "\n".join(problems)
    assert not page.errors
