/* Records: the best time per distance (with its date and run), the runner-up efforts and how each record fell. */
"use strict";

Soleware.ready(async () => {
  const S = Soleware;
  const { $, el, t, api } = S;
  const records = await api("/api/records");
  const withBest = records.filter((r) => r.best.length);
  $("#empty").hidden = withBest.length > 0;
  const when = (e) => el("a", { href: "/runs/" + encodeURIComponent(e.run_id), text: S.date(e.run_start) });
  $("#records tbody").replaceChildren(...withBest.map((r) => {
    const best = r.best[0];
    return el("tr", { "data-key": r.key },
      el("th", { scope: "row", text: S.distanceName(r.distance_m) }),
      el("td", { class: "num", text: S.clock(best.time_s) }),
      el("td", { class: "num", text: S.pace((1000 * best.time_s) / r.distance_m) }),
      el("td", { class: "num" }, when(best)));
  }));
  $("#history").replaceChildren(...withBest.map((r) =>
    el("details", {},
      el("summary", { text: S.distanceName(r.distance_m) + " · " + S.clock(r.best[0].time_s) }),
      el("h3", { text: t("Top efforts") }),
      el("ol", {}, r.best.map((e) => el("li", {}, S.clock(e.time_s) + " · ", when(e)))),
      el("h3", { text: t("Record history") }),
      el("ol", {}, r.history.map((e) => el("li", {}, S.clock(e.time_s) + " · ", when(e)))),
    )));
});
