/* Shoes: mileage against each shoe's retirement distance, a reminder when it is due, and adding a shoe. */
"use strict";

Soleware.ready(async () => {
  const S = Soleware;
  const { $, el, t, api } = S;
  const perUnit = () => (S.state.imperial ? S.M_PER_MI : 1000);
  const sideName = (s) => ({ left: t("Left"), right: t("Right") })[s] || "";

  async function load() {
    const shoes = await api("/api/shoes");
    $("#empty").hidden = shoes.length > 0;
    $("#shoes").replaceChildren(...shoes.map((s) => {
      const fraction = Math.min(1, s.distance_m / s.retire_at_m);
      const meter = el("div", {
        class: "meter" + (s.retire_reminder ? " warn" : ""), role: "progressbar",
        "aria-label": t("Mileage of {name}", { name: s.name || s.serial }),
        "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(fraction * 100)), "aria-valuetext": S.percent(fraction),
      }, el("span"));
      meter.firstElementChild.style.width = fraction * 100 + "%";
      const toggle = el("button", {
        type: "button", class: "secondary",
        text: s.retired ? t("Use again") : t("Retire"),
        onclick: async () => {
          try { await api("/api/shoes/" + encodeURIComponent(s.serial), { method: "PATCH", body: { retired: !s.retired } }); await load(); } catch (e) { S.fail(e); }
        },
      });
      return el("li", { "data-serial": s.serial }, el("div", { class: "card" },
        el("h3", { text: (s.name || s.serial) + (s.retired ? " · " + t("retired") : "") }),
        el("p", { class: "small muted", text: [s.serial, sideName(s.side), t("{n} runs", { n: S.num(s.runs) })].filter(Boolean).join(" · ") }),
        el("p", { text: t("{d} of {max}", { d: S.distance(s.distance_m, 0), max: S.distance(s.retire_at_m, 0) }) }),
        meter,
        s.retire_reminder && !s.retired ? el("p", { class: "notice", text: t("Time to think about new shoes: this pair is near its retirement distance.") }) : null,
        el("div", { class: "row" }, toggle)));
    }));
  }

  const form = $("#add-shoe");
  form.retire.value = Math.round(700000 / perUnit());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const error = $("#form-error");
    error.textContent = "";
    const serial = form.serial.value.trim();
    if (!/^[A-Za-z0-9_.:-]+$/.test(serial)) { error.textContent = t("Enter the serial number: letters, digits, - _ . : only."); form.serial.focus(); return; }
    try {
      await api("/api/shoes", {
        method: "POST",
        body: {
          serial,
          name: form.name.value.trim(),
          side: form.side.value,
          retire_at_m: Number(form.retire.value || 700) * perUnit(),
          initial_m: Number(form.initial.value || 0) * perUnit(),
        },
      });
      form.reset();
      form.retire.value = Math.round(700000 / perUnit());
      await load();
      S.toast(t("Shoe added."));
    } catch (e) {
      error.textContent = e.status === 409 ? t("This shoe is already registered.") : e.message;
    }
  });
  await load();
});
