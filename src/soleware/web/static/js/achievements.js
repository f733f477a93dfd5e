/* Achievements: earned badges with their dates, locked ones with a progress bar. */
"use strict";

Soleware.ready(async () => {
  const S = Soleware;
  const { $, el, t, api } = S;
  const all = await api("/api/achievements", { query: { locale: S.CONFIG.locale } });
  const earned = all.filter((a) => a.earned.length);
  const locked = all.filter((a) => !a.earned.length);
  $("#summary").textContent = t("{n} of {total} earned", { n: S.num(earned.length), total: S.num(all.length) });
  $("#none-earned").hidden = earned.length > 0;
  $("#earned").replaceChildren(...earned.map((a) => {
    const last = a.earned[a.earned.length - 1];
    const times = a.earned.length > 1 ? " · " + t("{n} times", { n: S.num(a.earned.length) }) : "";
    return el("li", { "data-id": a.id }, el("div", { class: "badge earned" },
      S.medal(a.id),
      el("h3", { text: a.name }),
      el("p", { text: a.description }),
      el("p", {}, el("a", { href: "/runs/" + encodeURIComponent(last.run_id), text: S.date(last.earned_at) }), times)));
  }));
  // these count improvements on what you already did, so they stay at 0 % until a run beats an earlier one
  const HINTS = {
    personal_record: () => t("Your first run at a distance sets its record: beat it later to earn this."),
    longest_run: () => t("Your first run sets the mark: run farther later to earn this."),
  };
  $("#locked").replaceChildren(...locked.map((a) => {
    const fraction = a.progress === null ? 0 : Math.max(0, Math.min(1, a.progress));
    const meter = el("div", {
      class: "meter", role: "progressbar", "aria-label": t("Progress towards {name}", { name: a.name }),
      "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(fraction * 100)), "aria-valuetext": S.percent(fraction),
    }, el("span"));
    meter.firstElementChild.style.width = fraction * 100 + "%";
    return el("li", { "data-id": a.id }, el("div", { class: "badge locked" },
      S.medal(a.id),
      el("h3", { text: a.name }),
      el("p", { text: a.description }),
      meter,
      el("p", { class: "small", text: S.percent(fraction) }),
      HINTS[a.id] ? el("p", { class: "small hint", text: HINTS[a.id]() }) : null));
  }));
});
