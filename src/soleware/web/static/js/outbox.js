/* The phone's store (IndexedDB "soleware-phone") and the upload of its outbox to the run service. Shared by the
   /phone page (phone.js) and the service worker (sw.js): a run kept with the network off goes up when the network
   is back, from the page or, through Background Sync, with the page closed. No DOM here. */
"use strict";

(() => {
  const DB_NAME = "soleware-phone";
  const DB_VERSION = 4;
  const CSRF_COOKIE = "soleware_csrf";
  const LOCK = "soleware-outbox";
  const SYNC_TAG = "soleware-upload";

  let dbPromise = null;
  function db() {
    dbPromise ??= new Promise((resolve, reject) => {
      const r = indexedDB.open(DB_NAME, DB_VERSION);
      r.onupgradeneeded = (e) => {
        if (e.oldVersion < 1) r.result.createObjectStore("outbox", { keyPath: "key" });
        if (e.oldVersion < 2) r.result.createObjectStore("log", { keyPath: ["serial", "seq"] });
        // shoe runs recorded live: their route, and the run service's id once uploaded, until the log replaces them
        if (e.oldVersion < 3) r.result.createObjectStore("outings", { keyPath: "start_ms" });
        // uploads the run service refused for good: kept as sent, with the reason, until it has been told
        if (e.oldVersion < 4) r.result.createObjectStore("refused", { keyPath: "key" });
      };
      r.onsuccess = () => {
        // another context (a newer page, the worker) upgrading the database: let it, and reopen next time
        r.result.onversionchange = () => { r.result.close(); dbPromise = null; };
        resolve(r.result);
      };
      r.onerror = () => reject(r.error);
    });
    return dbPromise;
  }
  async function tx(mode, fn, store = "outbox") {
    const d = await db();
    return new Promise((resolve, reject) => {
      const x = d.transaction(store, mode);
      const result = fn(x.objectStore(store));
      x.oncomplete = () => resolve(result.result ?? result);
      x.onerror = () => reject(x.error);
    });
  }
  /** One transaction over several stores; resolves with ``fn``'s result once it has committed. */
  async function txn(stores, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const x = d.transaction(stores, "readwrite");
      let result;
      Promise.resolve(fn(x)).then((r) => { result = r; }, (e) => { x.abort(); reject(e); });
      x.oncomplete = () => resolve(result);
      x.onerror = () => reject(x.error);
    });
  }
  const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  const outboxAll = () => tx("readonly", (s) => s.getAll());

  /** Run ``fn`` holding the outbox, across the page and the service worker (Web Locks), so an upload in flight is
      neither sent again by the other nor missed by the log run that replaces it. Not re-entrant. */
  let turn = Promise.resolve();
  function exclusive(fn) {
    if (self.navigator && navigator.locks) return navigator.locks.request(LOCK, () => fn());
    return (turn = turn.then(fn, fn));
  }

  /** The CSRF token the session cookie goes with: ``document.cookie`` in the page, the Cookie Store API in the
      service worker (which has no ``document``). */
  async function csrf() {
    if (self.document) {
      const pair = document.cookie.split("; ").find((c) => c.startsWith(CSRF_COOKIE + "="));
      return pair ? decodeURIComponent(pair.slice(CSRF_COOKIE.length + 1)) : null;
    }
    if (self.cookieStore) {
      const c = await cookieStore.get(CSRF_COOKIE);
      return c ? decodeURIComponent(c.value) : null;
    }
    return null;
  }

  /** One API call with the cookie session: ``{status, json, detail}``, status 0 when the network failed. */
  async function call(path, method, body) {
    const headers = {};
    const token = await csrf();
    if (token) headers["X-CSRF-Token"] = token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      return { status: 0, json: null, detail: "no connection" };
    }
    let json = null;
    try { json = await resp.json(); } catch { /* no body, or not JSON */ }
    let detail = json && json.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg).join("; ");
    if (typeof detail !== "string" || !detail) detail = resp.status === 413 ? "too large" : `HTTP ${resp.status}`;
    return { status: resp.status, ok: resp.ok, json, detail };
  }
  /** An answer that will not change by sending the same again (the gateway's rule): the run is set aside. */
  const refusedForGood = (status) => status >= 400 && status < 500 && ![401, 408, 409, 429].includes(status);

  /** Upload every run in the outbox, in order, and report the refused ones. Resolves to "done", "signin" (the
      session is gone: nothing can go until the runner signs in) or "retry" (no network, or the server failed:
      try again later). Call it inside ``exclusive``. */
  async function uploadAll() {
    for (const item of await outboxAll()) {
      // a log run takes its live run's place in one transaction: refused, it leaves the live run where it was
      const query = item.replaces ? `?replaces=${encodeURIComponent(item.replaces)}` : "";
      const answer = await call(`/api/runs${query}`, "POST", item.body);
      if (answer.ok) { await uploaded(item, answer.json); continue; }
      if (answer.status === 401) return "signin";
      if (refusedForGood(answer.status)) { await refuse(item, `${answer.status} ${answer.detail}`); continue; }
      await reportRefused();
      return "retry";
    }
    return reportRefused();
  }

  /** After the server has the run: out of the outbox, and in the same transaction the log's records marked as
      uploaded (kept, so the next sync still resumes after them) or the live run's server id kept for its log. */
  function uploaded(item, answer) {
    return txn(["outbox", "log", "outings"], async (x) => {
      x.objectStore("outbox").delete(item.key);
      const outings = x.objectStore("outings");
      if (item.live !== null && item.live !== undefined) {
        const outing = await req(outings.get(item.live));
        if (outing) outings.put({ ...outing, key: null, run_id: answer.run_id });
      }
      if (item.outing !== null && item.outing !== undefined) outings.delete(item.outing);
      const log = x.objectStore("log");
      for (const [serial, first, last] of item.log || []) {
        const recs = await req(log.getAll(IDBKeyRange.bound([serial, first], [serial, last])));
        for (const r of recs) log.put({ ...r, uploaded: true });
      }
    });
  }

  /** A run the server refused for good, as the gateway's ``rejected/`` keeps it: out of the outbox and into the
      store ``refused`` with the body sent and the reason, its log records marked so no sync queues it again,
      in one transaction. */
  function refuse(item, reason) {
    return txn(["outbox", "refused", "log"], async (x) => {
      x.objectStore("outbox").delete(item.key);
      x.objectStore("refused").put({ key: item.key, body: item.body, reason, replaces: item.replaces || null, reported: false, at: Date.now() });
      const log = x.objectStore("log");
      for (const [serial, first, last] of item.log || []) {
        const recs = await req(log.getAll(IDBKeyRange.bound([serial, first], [serial, last])));
        for (const r of recs) log.put({ ...r, refused: true });
      }
    });
  }

  /** Tell the run service about every refused run it does not know of yet (``POST /api/refused-uploads``, as
      the gateway's ``report_refused``), so the runner sees it on the Refused page and can send it again. */
  async function reportRefused() {
    for (const r of await tx("readonly", (s) => s.getAll(), "refused")) {
      if (r.reported) continue;
      const answer = await call("/api/refused-uploads", "POST", { key: r.key, body: r.body, reason: r.reason, replaces: r.replaces || null });
      if (answer.status === 401) return "signin";
      if (!answer.ok) return "retry";
      await tx("readwrite", (s) => s.put({ ...r, reported: true }), "refused");
    }
    return "done";
  }

  /** Ask the browser to wake the service worker when the network is back (Background Sync, where the browser
      has it), so what waits in the outbox goes up even if this page is closed by then. */
  async function askForSync() {
    try {
      const reg = self.registration || (navigator.serviceWorker && await navigator.serviceWorker.getRegistration("/"));
      if (reg && reg.sync) await reg.sync.register(SYNC_TAG);
    } catch { /* no Background Sync here: the page retries while it is open */ }
  }

  self.SolewareOutbox = { SYNC_TAG, db, tx, txn, req, outboxAll, exclusive, uploadAll, askForSync };
})();
