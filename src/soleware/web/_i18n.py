"""Translations: gettext catalogues (Babel) for the page shells and the strings the JavaScript shows.

English is the source language; Simplified Chinese lives in ``locales/zh/LC_MESSAGES/messages.po`` with its
compiled ``messages.mo`` beside it (both committed; a test keeps them in sync). When the ``.mo`` is missing or
older than the ``.po`` the catalogue is compiled in memory, so an edited ``.po`` works without a build step.
The JavaScript's strings are the ``t("…")`` literals of ``static/js/*.js``, found with Babel's JavaScript
extractor; each page gets them translated as a JSON dict.

After changing strings run ``python -c 'from soleware.web._i18n import update_catalogues; update_catalogues()'``,
translate the new empty entries of the ``.po`` and run it again (it compiles the ``.mo`` too).
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from babel.messages.extract import extract, extract_javascript
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import soleware

# babel types an extraction method narrower than its own extract_javascript and jinja2's babel_extract are
# (extra keyword parameters, results typed in another order), so the web app holds them as plain callables.
_Extractor = Callable[..., Iterator[Any]]

__all__ = [
    "LOCALES",
    "compile_catalogues",
    "extract_messages",
    "js_messages",
    "js_strings",
    "negotiate",
    "translations",
    "update_catalogues",
]

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locales"
JS_DIR = HERE / "static" / "js"
#: page locale → (BCP 47 tag for ``<html lang>`` and ``Intl``, Babel locale)
LOCALES: dict[str, tuple[str, str]] = {"en": ("en", "en"), "zh": ("zh-CN", "zh_Hans_CN")}


def _po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def compile_catalogues() -> list[Path]:
    """Write ``messages.mo`` beside every ``messages.po``; returns the files written."""
    written = []
    for po in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(mo)
    return written


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalogue of ``locale`` (``NullTranslations`` for English and unknown locales)."""
    po = _po_path(locale)
    if not po.exists():
        return gettext.NullTranslations()
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    with po.open("rb") as f:
        catalog = read_po(f)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@functools.cache
def js_messages() -> tuple[str, ...]:
    """Every ``t("…")`` literal in the page scripts, sorted."""
    found: set[str] = set()
    for path in sorted(JS_DIR.glob("*.js")):
        with path.open("rb") as f:
            # babel's type of an extraction method leaves out its own extract_javascript's `lineno` parameter
            for _lineno, message, _comments, _context in extract(extract_javascript, f, {"t": None}):  # type: ignore[arg-type]
                if isinstance(message, str):
                    found.add(message)
    return tuple(sorted(found))


@functools.cache
def js_strings(locale: str) -> dict[str, str]:
    """The JavaScript's strings translated into ``locale`` (English ones are left out: they are the keys)."""
    if locale == "en":
        return {}
    tr = translations(locale)
    return {m: tr.gettext(m) for m in js_messages()}


def extract_messages() -> dict[str, list[str]]:
    """Every msgid of the web app (templates, Python, scripts) with where it occurs, for the catalogue."""
    import jinja2.ext
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_python

    found: dict[str, list[str]] = {}
    sources: list[tuple[Path, _Extractor, dict[str, Any]]] = [
        (p, jinja2.ext.babel_extract, DEFAULT_KEYWORDS) for p in sorted((HERE / "templates").glob("*.html"))
    ]
    sources += [(p, extract_python, DEFAULT_KEYWORDS) for p in sorted(HERE.glob("*.py"))]
    sources += [(p, extract_javascript, {"t": None}) for p in sorted(JS_DIR.glob("*.js"))]
    for path, method, keywords in sources:
        with path.open("rb") as f:
            for lineno, message, _comments, _context in extract(
                method, f, keywords, options={"extensions": "jinja2.ext.i18n"}
            ):
                if isinstance(message, str):
                    found.setdefault(message, []).append(f"{path.relative_to(HERE)}:{lineno}")
    return found


def update_catalogues() -> list[Path]:
    """Merge the extracted msgids into every ``messages.po`` (keeping translations, dropping unused ones), then
    compile. New msgids get an empty translation for a translator to fill in; the tests list them."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    messages = extract_messages()
    for po in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as f:
            old = read_po(f)
        catalog = Catalog(
            locale=old.locale,
            project="Soleware",
            copyright_holder="Soleware contributors",
            language_team="Soleware contributors",
            last_translator="Soleware contributors",
            msgid_bugs_address="",
            version=soleware.__version__,
            header_comment="# Simplified Chinese translations of the Soleware web app.\n"
            "# Update with: python -c 'from soleware.web._i18n import update_catalogues; update_catalogues()'",
            creation_date=old.creation_date,
            revision_date=old.revision_date,
            fuzzy=False,
        )
        for msgid, where in sorted(messages.items()):
            known = old.get(msgid)
            files = sorted({w.rsplit(":", 1)[0] for w in where})
            # babel types a location's line as int, but accepts None (no line number) as its own extractors give
            catalog.add(msgid, known.string if known else "", locations=[(f, None) for f in files])  # type: ignore[misc]
        with po.open("wb") as out:
            write_po(out, catalog, width=110, sort_output=True, include_lineno=False, omit_header=False)
    return compile_catalogues()


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page locale: ``?lang=``, then the ``lang`` cookie (set from the runner's profile), then the browser."""
    for choice in (query, cookie):
        if choice in LOCALES:
            return choice
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"
