"""The web app: page shells rendered with Jinja2, filled in by a little vanilla JavaScript from the JSON API.

Why this shape
--------------
* **One API, no second back end.** Pages hold no runner data; their scripts call the same JSON API as the gateway
  and the CLI, signed in by an HttpOnly session cookie with a CSRF token (``soleware.server.session``) where
  programs send a bearer token; no script can read the session. The server renders only the page shells: layout,
  labels, forms, translated text. So every shell is the same for every runner, which lets the service worker
  cache it and show already-loaded runs offline.
* **No build step and no Node at run time.** Templates are Jinja2 (already a dependency), strings are gettext
  catalogues through Babel, scripts are plain ES2020 files served as they are, and the only third-party script
  (Chart.js, MIT) is vendored under ``static/vendor/`` with its licence. No CDN: the app works on a LAN without
  internet and offline.
* **Server-rendered shells, not a single-page app.** Each page is a real URL that loads fast on a phone, works
  with the back button and screen readers, and keeps its script small (one shared ``app.js`` plus one file per
  page).

The locale of a page comes from ``?lang=``, then the ``lang`` cookie (the scripts set it to the runner's
profile locale after sign-in), then ``Accept-Language``. Units (metric or imperial) come from the profile and are
applied in the browser, like all number and date formatting of API data (``Intl`` with the page's locale).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date, get_day_names
from babel.numbers import format_decimal
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from soleware.web._i18n import LOCALES, js_strings, negotiate, translations
from soleware.web._icons import BRAND_RGB, icon_png

__all__ = ["PAGES", "mount"]

HERE = Path(__file__).parent
STATIC = HERE / "static"


def N_(message: str) -> str:
    """Mark a string for the catalogue; it is translated where it is shown."""
    return message


#: page name → (path, title msgid, needs sign-in)
PAGES: dict[str, tuple[str, str, bool]] = {
    "live": ("/", N_("Live run"), True),
    "signin": ("/signin", N_("Sign in"), False),
    "signup": ("/signup", N_("Sign up"), False),
    "runs": ("/runs", N_("Runs"), True),
    "run": ("/runs/{run_id}", N_("Run"), True),
    "progress": ("/progress", N_("Progress"), True),
    "records": ("/records", N_("Records"), True),
    "achievements": ("/achievements", N_("Achievements"), True),
    "shoes": ("/shoes", N_("Shoes"), True),
    "refused": ("/refused", N_("Refused runs"), True),
    "phone": ("/phone", N_("Run with this phone"), False),
    "settings": ("/settings", N_("Settings"), True),
}
NAV = ("live", "runs", "progress", "records", "achievements", "shoes", "settings")
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
THEME = "#{:02x}{:02x}{:02x}".format(*BRAND_RGB)
ICONS = {"icon-192.png": (192, False), "icon-512.png": (512, False), "maskable-512.png": (512, True)}


@functools.cache
def _env(locale: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("soleware.web", "templates"),
        autoescape=jinja2.select_autoescape(("html", "js")),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    babel_locale = LOCALES[locale][1]
    env.filters["decimal"] = lambda x, **kw: format_decimal(x, locale=babel_locale, **kw)
    env.filters["date"] = lambda d, fmt="medium": format_date(d, fmt, locale=babel_locale)
    return env


@functools.cache
def asset_version() -> str:
    """A hash of every static file and template: the service worker's cache name changes with it."""
    h = hashlib.sha256()
    for p in sorted(
        [*STATIC.rglob("*"), *(HERE / "templates").rglob("*"), *(HERE / "locales").rglob("*.mo")]
    ):
        if p.is_file():
            h.update(str(p.relative_to(HERE)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:12]


def static_urls() -> list[str]:
    """The app shell's static files, as URLs (the service worker precaches them)."""
    return sorted(
        "/static/" + p.relative_to(STATIC).as_posix()
        for p in STATIC.rglob("*")
        if p.is_file() and not p.name.endswith(".md")
    )


def _weekdays(babel_locale: str) -> list[str]:
    names = get_day_names("abbreviated", context="stand-alone", locale=babel_locale)
    return [names[i] for i in range(7)]  # Monday first, like the API's weeks


def render_page(request: Request, page: str, **extra: Any) -> HTMLResponse:
    locale = negotiate(
        request.query_params.get("lang"), request.cookies.get("lang"), request.headers.get("accept-language")
    )
    lang_tag, babel_locale = LOCALES[locale]
    env = _env(locale)
    path, title, private = PAGES[page]
    config = {
        "page": page,
        "locale": locale,
        "lang": lang_tag,
        "private": private,
        "strings": js_strings(locale),
        "weekdays": _weekdays(babel_locale),
    }
    html = env.get_template(f"{page}.html").render(
        page=page,
        title=translations(locale).gettext(title),
        locale=locale,
        lang=lang_tag,
        nav=[(name, PAGES[name][0], PAGES[name][1]) for name in NAV],
        private=private,
        config_json=json.dumps(config, ensure_ascii=False).replace("</", "<\\/"),
        theme=THEME,
        weekdays=config["weekdays"],
        today=dt.date.today(),
        **extra,
    )
    resp = HTMLResponse(html)
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["Vary"] = "Cookie, Accept-Language"
    resp.headers["Cache-Control"] = "no-cache"
    if request.query_params.get("lang") in LOCALES:
        resp.set_cookie("lang", locale, max_age=365 * 86400, samesite="lax")
    return resp


def _page_route(app: FastAPI, page: str) -> None:
    path = PAGES[page][0]

    async def show(request: Request) -> HTMLResponse:
        return render_page(request, page)

    show.__name__ = f"page_{page}"
    app.add_api_route(path, show, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


def mount(app: FastAPI) -> None:
    """Add the pages, ``/static``, ``/sw.js``, ``/manifest.webmanifest`` and the icons to ``app``."""
    for page in PAGES:
        _page_route(app, page)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/sw.js", include_in_schema=False)
    async def service_worker() -> Response:
        pages = [p for name, (p, _, _) in PAGES.items() if "{" not in p] + ["/runs/_"]
        body = (
            _env("en")
            .get_template("sw.js")
            .render(
                version=asset_version(),
                precache=json.dumps(pages + static_urls() + [f"/icons/{n}" for n in ICONS]),
            )
        )
        return Response(
            body,
            media_type="text/javascript",
            headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
        )

    @app.get("/manifest.webmanifest", include_in_schema=False)
    async def manifest(request: Request) -> Response:
        locale = negotiate(
            request.query_params.get("lang"),
            request.cookies.get("lang"),
            request.headers.get("accept-language"),
        )
        _ = translations(locale).gettext
        body = {
            "name": "Soleware",
            "short_name": "Soleware",
            "description": _("Live runs, history and progress from your Soleware shoes."),
            "lang": LOCALES[locale][0],
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": THEME,
            "icons": [
                {"src": "/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
                {"src": "/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
                {
                    "src": "/icons/maskable-512.png",
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        }
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json")

    @app.get("/icons/{name}", include_in_schema=False)
    async def icon(name: str) -> Response:
        if name not in ICONS:
            return Response(status_code=404)
        size, maskable = ICONS[name]
        return Response(
            icon_png(size, maskable=maskable),
            media_type="image/png",
            headers={"Cache-Control": "max-age=86400"},
        )
