"""The web app without a browser: page shells, locale choice, catalogues, service worker, manifest and icons."""

from __future__ import annotations

import gettext
import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from soleware.server.app import create_app
from soleware.server.config import Settings
from soleware.web import PAGES, static_urls
from soleware.web._i18n import LOCALE_DIR, extract_messages, js_messages, js_strings, negotiate, translations
from soleware.web._icons import icon_png

PO = LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("web") / "soleware.db"
    with TestClient(create_app(Settings(database_url=f"sqlite:///{db}"))) as c:
        yield c


def page_paths() -> list[str]:
    return [path.replace("{run_id}", "some-run") for path, _, _ in PAGES.values()]


@pytest.mark.parametrize("path", page_paths())
def test_every_page_renders_in_both_languages(client, path):
    client.cookies.clear()
    en = client.get(path, headers={"Accept-Language": "en"})
    assert en.status_code == 200 and en.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in en.text
    assert (
        "Content-Security-Policy" in en.headers
        and "script-src 'self'" in en.headers["Content-Security-Policy"]
    )
    zh = client.get(path, params={"lang": "zh"})
    assert '<html lang="zh-CN">' in zh.text
    assert "跳到正文" in zh.text and "Skip to content" not in zh.text
    assert zh.cookies.get("lang") == "zh"
    client.cookies.clear()
    for html in (en.text, zh.text):
        assert re.search(r"<main id=\"main\"", html) and "<title>" in html
        assert " style=" not in html  # the CSP forbids inline styles


def test_pages_stay_out_of_the_api_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert all(p.startswith("/api/") for p in paths)


def test_locale_comes_from_query_then_cookie_then_browser():
    assert negotiate("zh", "en", "en") == "zh"
    assert negotiate(None, "zh", "en-GB,en") == "zh"
    assert negotiate("xx", None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert negotiate(None, None, "fr-FR,en;q=0.5") == "en"
    assert negotiate(None, None, None) == "en"


def test_cookie_keeps_the_language(client):
    client.cookies.set("lang", "zh")
    try:
        assert "<h1>设置</h1>" in client.get("/settings").text
    finally:
        client.cookies.clear()


def test_every_message_has_a_chinese_translation():
    with PO.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(set(extract_messages()) - set(translated))
    assert not missing, f"untranslated (run update_catalogues and fill them in): {missing}"
    for msgid, msgstr in translated.items():  # placeholders survive translation
        assert sorted(re.findall(r"\{\w+\}|%\(\w+\)s", msgid)) == sorted(
            re.findall(r"\{\w+\}|%\(\w+\)s", msgstr)
        ), msgid


def test_compiled_catalogue_matches_the_po():
    with PO.open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with PO.with_suffix(".mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert mo == po


def test_catalogue_compiles_in_memory_without_the_mo(tmp_path, monkeypatch):
    from soleware.web import _i18n

    (tmp_path / "zh" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "zh" / "LC_MESSAGES" / "messages.po").write_bytes(PO.read_bytes())
    monkeypatch.setattr(_i18n, "LOCALE_DIR", tmp_path)
    _i18n.translations.cache_clear()
    try:
        tr = _i18n.translations("zh")
        assert isinstance(tr, gettext.GNUTranslations) and tr.gettext("Live run") == "实时跑步"
    finally:
        _i18n.translations.cache_clear()
    assert translations("en").gettext("Live run") == "Live run"


def test_script_strings_are_found_and_translated():
    messages = js_messages()
    assert {"Connected", "Reconnecting in {s} s…", "mi", "km"} <= set(messages)
    zh = js_strings("zh")
    assert zh["Connected"] == "已连接" and zh["mi"] == "英里"
    assert js_strings("en") == {}
    for path in (Path(__file__).parents[2] / "src/soleware/web/static/js").glob("*.js"):
        for literal in re.findall(r"\bt\(\"([^\"]+)\"", path.read_text(encoding="utf-8")):
            assert literal in messages, (path.name, literal)


def test_every_kind_of_file_problem_is_said_in_the_runner_s_language():
    """Each code the importers give a refusal or a note (``PROBLEM_CODES``) has its sentence in the import list,
    whose strings are translated (above); a code without one would show the service's English."""
    from soleware.formats import PROBLEM_CODES

    js = (Path(__file__).parents[2] / "src/soleware/web/static/js/runs.js").read_text(encoding="utf-8")
    table = js[js.index("const REASON_TEXT = {") : js.index("};", js.index("const REASON_TEXT = {"))]
    said = set(re.findall(r"^\s+(\w+): \(", table, flags=re.M))
    assert set(PROBLEM_CODES) <= said, sorted(set(PROBLEM_CODES) - said)


def test_service_worker_precaches_the_shell(client):
    r = client.get("/sw.js")
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["service-worker-allowed"] == "/"
    precache = re.search(r"const PRECACHE = (\[.*?\]);", r.text).group(1)
    for url in ["/", "/runs", "/runs/_", "/static/js/app.js", "/static/vendor/chart.umd.min.js"]:
        assert f'"{url}"' in precache
    for url in static_urls():
        assert client.get(url).status_code == 200, url
    assert '"/api/runs"' in r.text.replace("'", '"')


def test_vendored_chart_library_keeps_its_licence():
    vendor = Path(__file__).parents[2] / "src/soleware/web/static/vendor"
    assert "MIT License" in (vendor / "chart.js-LICENSE.md").read_text()
    assert (vendor / "chart.umd.min.js").read_text().startswith("/*!\n * Chart.js v4")


def png_size_and_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    return w, h, zlib.decompress(idat)


def test_manifest_and_icons(client):
    m = client.get("/manifest.webmanifest", params={"lang": "zh"})
    assert m.headers["content-type"].startswith("application/manifest+json")
    body = m.json()
    assert body["start_url"] == "/" and body["display"] == "standalone" and body["lang"] == "zh-CN"
    assert "跑" in body["description"]
    assert {i["purpose"] for i in body["icons"]} == {"any", "maskable"}
    for icon in body["icons"]:
        r = client.get(icon["src"])
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        w, h, raw = png_size_and_pixels(r.content)
        assert f"{w}x{h}" == icon["sizes"]
        rows = [raw[y * (4 * w + 1) + 1 : (y + 1) * (4 * w + 1)] for y in range(h)]
        centre = rows[h // 3][4 * (w // 2) : 4 * (w // 2) + 4]
        corner = rows[0][:4]
        assert centre == b"\xff\xff\xff\xff"  # the white footprint
        assert corner[3] == (255 if icon["purpose"] == "maskable" else 0)  # rounded tile vs full bleed
    assert client.get("/icons/nope.png").status_code == 404


def test_icon_is_deterministic():
    assert icon_png(64) == icon_png(64)
    w, h, _ = png_size_and_pixels(icon_png(48, maskable=True))
    assert (w, h) == (48, 48)
    assert io.BytesIO(icon_png(32)).getbuffer().nbytes > 100
