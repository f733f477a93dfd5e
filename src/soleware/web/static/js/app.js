/* Soleware web app: what every page shares. The API speaks SI units; this file turns them into the runner's
   units and locale. Each page script calls Soleware.ready(fn) and gets the signed-in runner. */
"use strict";

(() => {
  const CONFIG = JSON.parse(document.getElementById("config").textContent);
  const ME_KEY = "soleware.me";
  const KM_PER_MI = 1.609344;
  const M_PER_MI = 1609.344;
  const lang = CONFIG.lang;

  function t(message, vars) {
    let s = CONFIG.strings[message] || message;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  // ------------------------------------------------------------------ session
  // The session lives in an HttpOnly cookie this script cannot read (see soleware/server/session.py); what it can
  // read is the CSRF cookie, sent back as a header on every request that changes something.
  const CSRF_COOKIE = "soleware_csrf";
  localStorage.removeItem("soleware.token");  // where tokens were kept before the cookie session
  function csrf() {
    const pair = document.cookie.split("; ").find((c) => c.startsWith(CSRF_COOKIE + "="));
    return pair ? decodeURIComponent(pair.slice(CSRF_COOKIE.length + 1)) : null;
  }
  const signedIn = () => csrf() !== null;
  function cachedMe() {
    try { return JSON.parse(localStorage.getItem(ME_KEY) || "null"); } catch { return null; }
  }
  async function forget() {
    document.cookie = CSRF_COOKIE + "=; path=/; max-age=0; samesite=strict";
    localStorage.removeItem(ME_KEY);
    if (window.caches) await caches.delete("soleware-api");
  }
  /** Sign in (a cookie session) and keep the profile; resolves to it. */
  async function signIn(email, password) {
    const me = await api("/api/auth/session", { method: "POST", auth: false, body: { email, password } });
    localStorage.setItem(ME_KEY, JSON.stringify(me));
    return me;
  }
  /** Sign out: the server deletes the session and its cookies. */
  async function signOut() {
    try { await api("/api/auth/signout", { method: "POST" }); } catch { /* signed out locally anyway */ }
    await forget();
  }
  function toSignIn() {
    const next = location.pathname + location.search;
    location.assign("/signin" + (next && next !== "/" ? "?next=" + encodeURIComponent(next) : ""));
  }
  function setLangCookie(locale) {
    document.cookie = "lang=" + locale + "; path=/; max-age=31536000; samesite=lax";
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(typeof detail === "string" ? detail : t("Something went wrong ({status}).", { status }));
      this.status = status;
      this.detail = detail;
    }
  }

  /** Call the JSON API; ``body`` is sent as JSON, ``form`` (a FormData) as multipart. */
  async function errorDetail(resp) {
    let detail = null;
    try { detail = (await resp.json()).detail; } catch { /* not JSON */ }
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg).join("; ");
    if (!detail && resp.status === 413) detail = t("Too large to upload.");
    return detail;
  }

  async function api(path, { method = "GET", body, form, query, auth = true } = {}) {
    let url = path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
      const s = q.toString();
      if (s) url += "?" + s;
    }
    const headers = {};
    if (!["GET", "HEAD"].includes(method) && csrf()) headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(url, { method, headers, credentials: "same-origin", body: form !== undefined ? form : body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, t("No connection to the server."));
    }
    if (resp.status === 401 && auth) {
      await forget();
      toSignIn();
      throw new ApiError(401, t("Please sign in again."));
    }
    if (!resp.ok) throw new ApiError(resp.status, await errorDetail(resp));
    if (resp.status === 204 || resp.status === 202) return null;
    const type = resp.headers.get("content-type") || "";
    return type.includes("json") ? resp.json() : resp.text();
  }

  // ------------------------------------------------------------------ units and formatting
  const state = { imperial: false };
  const nf = (opts) => new Intl.NumberFormat(lang, opts);
  function num(x, digits = 0, min = digits) {
    if (x === null || x === undefined || !Number.isFinite(x)) return "–";
    return nf({ minimumFractionDigits: min, maximumFractionDigits: digits }).format(x);
  }
  const distUnit = () => (state.imperial ? t("mi") : t("km"));
  const paceUnit = () => (state.imperial ? t("/mi") : t("/km"));
  const distValue = (m) => (state.imperial ? m / M_PER_MI : m / 1000);
  function distance(m, digits = 2) {
    return num(distValue(m), digits) + " " + distUnit();
  }
  function clock(s) {
    if (s === null || s === undefined || !Number.isFinite(s)) return "–:––";
    const total = Math.round(s);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const sec = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  }
  /** Pace in the runner's unit from seconds per km, as m:ss (no unit). */
  function paceClock(sPerKm) {
    if (!sPerKm || !Number.isFinite(sPerKm) || sPerKm <= 0 || sPerKm > 3600) return "–:––";
    return clock(state.imperial ? sPerKm * KM_PER_MI : sPerKm);
  }
  const pace = (sPerKm) => paceClock(sPerKm) + " " + paceUnit();
  const paceFromSpeed = (mps) => (mps > 0.3 ? 1000 / mps : null);
  function date(iso, { timeZone, withTime = false, style = "medium" } = {}) {
    const opts = { dateStyle: style };
    if (withTime) opts.timeStyle = "short";
    if (timeZone) opts.timeZone = timeZone;
    try { return new Intl.DateTimeFormat(lang, opts).format(new Date(iso)); } catch {
      return new Intl.DateTimeFormat(lang, { dateStyle: style }).format(new Date(iso));
    }
  }
  function percent(fraction, digits = 0) {
    if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "–";
    return nf({ style: "percent", maximumFractionDigits: digits }).format(fraction);
  }
  /** A name for a record distance: "5 km", "Half marathon", "1 mile"… */
  function distanceName(m) {
    const named = {
      400: t("400 m"), 804.672: t("½ mile"), 1000: t("1 km"), 1609.344: t("1 mile"), 3218.688: t("2 miles"),
      5000: t("5 km"), 10000: t("10 km"), 15000: t("15 km"), 16093.44: t("10 miles"), 20000: t("20 km"),
      21097.5: t("Half marathon"), 42195: t("Marathon"),
    };
    for (const [k, v] of Object.entries(named)) if (Math.abs(Number(k) - m) < 0.5) return v;
    return m < 1000 ? num(m, 0) + " " + t("m") : num(m / 1000, 2) + " " + t("km");
  }
  /** The name the phone records a run under when it measures it alone (phone.js): one name in every language, so
      its calibration is one; shown to people as "This phone" in theirs. */
  const PHONE_SENSOR = "Phone";
  /** The sensor that recorded a run, for people. */
  function sensorLabel(sensor) {
    const phone = sensor.name === PHONE_SENSOR && !sensor.manufacturer && !sensor.model && !sensor.serial;
    return phone ? t("This phone") : sensor.label;
  }
  /** The run's title, or one from its local time of day ("Morning run"). */
  function runTitle(r) {
    if (r.title) return r.title;
    let hour;
    try {
      hour = Number(new Intl.DateTimeFormat("en-GB", { hour: "2-digit", hourCycle: "h23", timeZone: r.time_zone }).format(new Date(r.start_time)));
    } catch {
      hour = new Date(r.start_time).getHours();
    }
    if (hour >= 5 && hour < 11) return t("Morning run");
    if (hour >= 11 && hour < 14) return t("Lunch run");
    if (hour >= 14 && hour < 18) return t("Afternoon run");
    if (hour >= 18 && hour < 22) return t("Evening run");
    return t("Night run");
  }
  const strikeName = (s) => ({ rearfoot: t("Rearfoot"), midfoot: t("Midfoot"), forefoot: t("Forefoot") })[s] || "–";

  // ------------------------------------------------------------------ DOM helpers
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const c of children) node.append(c);
    return node;
  }
  /** A medal (ribbon, disc, mark): the mark tells the kind of achievement. Decorative: hidden from readers. */
  function medal(id) {
    const kind = id.includes("streak") ? "flame" : id.includes("total") || id.includes("month") ? "globe" : id.startsWith("run_") ? "flag" : "star";
    const marks = {
      star: svg("path", { d: "M24 21l3 6.2 6.8 1-4.9 4.8 1.2 6.8-6.1-3.2-6.1 3.2 1.2-6.8-4.9-4.8 6.8-1z", fill: "#fff" }),
      flame: svg("path", { d: "M24 19c4 4 7 7.5 7 12a7 7 0 0 1-14 0c0-3 1.5-5 3.5-7 0 2 1 3.5 2.5 4 .5-3 .5-6 1-9z", fill: "#fff" }),
      globe: svg("path", { d: "M24 21a10 10 0 1 0 0 20a10 10 0 1 0 0-20zm0 0c-3 3-4 6.5-4 10s1 7 4 10m0-20c3 3 4 6.5 4 10s-1 7-4 10m-10-10h20", fill: "none", stroke: "#fff", "stroke-width": "2" }),
      flag: svg("path", { d: "M19 41V21h12l-2 4 2 4H21v12z", fill: "#fff" }),
    };
    const node = svg("svg", { viewBox: "0 0 48 48", "aria-hidden": "true", focusable: "false" },
      svg("path", { d: "M14 2h8l6 16h-8zM34 2h-8l-6 16h8z", fill: "#b4451f" }),
      svg("circle", { cx: "24", cy: "31", r: "15", fill: "#0b5cad" }),
      svg("circle", { cx: "24", cy: "31", r: "12", fill: "none", stroke: "#e8b400", "stroke-width": "2" }),
      marks[kind]);
    return el("span", { class: "icon" }, node);
  }
  let toastTimer = null;
  function toast(message) {
    const box = $("#toast");
    box.textContent = message;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.textContent = ""; }, 5000);
  }
  function fail(e) {
    console.warn(e);
    toast(e && e.message ? e.message : String(e));
  }
  function unitLabels(root = document) {
    for (const node of $$("[data-unit]", root)) {
      node.textContent = node.dataset.unit === "pace" ? paceUnit() : distUnit();
    }
  }

  /** The file name a response offers (Content-Disposition), or ``fallback``. */
  function attachmentName(resp, fallback) {
    const cd = resp.headers.get("content-disposition") || "";
    const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(cd);
    if (star) {
      try { return decodeURIComponent(star[1].trim()); } catch { /* fall through */ }
    }
    const plain = /filename\s*=\s*"([^"]+)"|filename\s*=\s*([^;\s]+)/.exec(cd);
    return plain ? plain[1] || plain[2] : fallback;
  }

  /** Download an API file: fetch (with the session cookie), then save the blob under the server's file name, so
      a failure is shown here instead of as a browser error page. Resolves to the name, or null after showing why. */
  async function download(url, fallback = "soleware-run") {
    let resp;
    try {
      resp = await fetch(url, { credentials: "same-origin" });
    } catch {
      toast(t("Export failed: no connection to the server."));
      return null;
    }
    if (!resp.ok) {
      const detail = await errorDetail(resp);
      toast(detail ? t("Export failed: {reason}", { reason: detail }) : t("Export failed ({status}).", { status: resp.status }));
      return null;
    }
    const name = attachmentName(resp, fallback);
    const href = URL.createObjectURL(await resp.blob());
    const a = el("a", { href, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10000);
    return name;
  }
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest && ev.target.closest("a[data-auth-download]");
    if (!a) return;
    ev.preventDefault();
    download(a.href, a.getAttribute("download") || undefined);
  });

  /** ``date`` as ISO 8601 with the UTC offset ``timeZone`` has then ("2026-05-01T07:00:00+08:00"). */
  function isoInZone(date, timeZone) {
    let parts;
    try {
      parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
        timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
      }).formatToParts(date).map((p) => [p.type, p.value]));
    } catch {
      return date.toISOString();
    }
    const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
    const offsetMin = Math.round((wall - Math.floor(date.getTime() / 1000) * 1000) / 60000);
    const sign = offsetMin < 0 ? "-" : "+";
    const abs = Math.abs(offsetMin);
    const pad = (n) => String(n).padStart(2, "0");
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}` +
      `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  // ------------------------------------------------------------------ charts (Chart.js, vendored)
  const PALETTE = ["#0b5cad", "#b4451f", "#1b6a33", "#6b3fa0", "#8a4b00"];
  /** At most ``n`` points: means over equal buckets (keeps charts light on phones). */
  function thin(xs, ys, n = 300) {
    if (xs.length <= n) return { xs, ys };
    const outX = [];
    const outY = [];
    const size = xs.length / n;
    for (let i = 0; i < n; i++) {
      const a = Math.floor(i * size);
      const b = Math.max(a + 1, Math.floor((i + 1) * size));
      let sum = 0;
      let count = 0;
      for (let j = a; j < b; j++) if (ys[j] !== null && Number.isFinite(ys[j])) { sum += ys[j]; count++; }
      outX.push(xs[Math.floor((a + b - 1) / 2)]);
      outY.push(count ? sum / count : null);
    }
    return { xs: outX, ys: outY };
  }
  function chart(canvas, config) {
    if (!window.Chart) return null;
    Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    Chart.defaults.color = "#555c66";
    const old = Chart.getChart(canvas);
    if (old) old.destroy();
    config.options = Object.assign(
      { responsive: true, maintainAspectRatio: false, animation: false, normalized: true },
      config.options || {},
    );
    return new Chart(canvas, config);
  }

  // ------------------------------------------------------------------ page start-up
  function showOnline() {
    const pill = $("#offline");
    if (pill) pill.hidden = navigator.onLine;
  }

  async function loadMe() {
    let me = cachedMe();
    try {
      me = await api("/api/me");
      localStorage.setItem(ME_KEY, JSON.stringify(me));
    } catch (e) {
      if (e.status === 401) throw e;
      if (!me) throw e;
    }
    return me;
  }

  /** The runner's profile language wins over the page's, unless the URL asks for one. */
  function followProfileLocale(me) {
    const asked = new URLSearchParams(location.search).get("lang");
    if (!me || asked || me.locale === CONFIG.locale) return false;
    if (sessionStorage.getItem("soleware.relocalised") === me.locale) return false;
    sessionStorage.setItem("soleware.relocalised", me.locale);
    setLangCookie(me.locale);
    location.reload();
    return true;
  }

  async function switchLanguage(locale) {
    setLangCookie(locale);
    if (signedIn()) {
      try {
        const me = await api("/api/me", { method: "PATCH", body: { locale } });
        localStorage.setItem(ME_KEY, JSON.stringify(me));
      } catch (e) { fail(e); return; }
    }
    const url = new URL(location.href);
    url.searchParams.delete("lang");
    location.assign(url.toString());
  }

  /** The service worker keeps the app shell for offline visits (every page registers it, /phone too). */
  function registerWorker() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((e) => console.warn("service worker", e));
    }
  }

  function ready(fn) {
    const start = async () => {
      showOnline();
      const nav = $(".nav");
      const current = $(".nav [aria-current=page]");
      if (nav && current) nav.scrollLeft = current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2;
      window.addEventListener("online", showOnline);
      window.addEventListener("offline", showOnline);
      for (const a of $$("[data-lang]")) {
        a.addEventListener("click", (ev) => {
          ev.preventDefault();
          switchLanguage(a.dataset.lang);
        });
      }
      registerWorker();
      if (!CONFIG.private) {
        if (fn) await fn(null);
        document.body.dataset.ready = "1";
        return;
      }
      if (!signedIn()) { toSignIn(); return; }
      let me;
      try { me = await loadMe(); } catch (e) { if (e.status !== 401) fail(e); return; }
      if (followProfileLocale(me)) return;
      state.imperial = me.units === "imperial";
      unitLabels();
      try { await fn(me); } catch (e) { fail(e); }
      document.body.dataset.ready = "1";
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }

  window.Soleware = {
    CONFIG, t, api, ApiError, signedIn, signIn, signOut, forget, setLangCookie, switchLanguage, toSignIn, state, num,
    distance, distValue, distUnit, paceUnit, clock, pace, paceClock, paceFromSpeed, date, percent, strikeName, distanceName, download, isoInZone, medal, runTitle, PHONE_SENSOR, sensorLabel,
    $, $$, el, toast, fail, unitLabels, chart, thin, PALETTE, M_PER_MI, KM_PER_MI, ready, registerWorker, cachedMe,
  };
})();
