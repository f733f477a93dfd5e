/* Refused runs: why the service refused each run, and sending it again (checked like a new upload) or discarding it. */
"use strict";

Soleware.ready(async () => {
  const S = Soleware;
  const { $, el, t, api } = S;

  /** What a refusal means for the runner, in their language, by the HTTP status the service refused the run with
      (the reason's first word). */
  function meaning(reason) {
    const status = Number((/^\d{3}\b/.exec(reason) || [])[0]);
    if (status === 413) return t("The run is larger than the service takes.");
    if (status === 400 || status === 422) return t("The service did not take some of its values:");
    return t("The service refused it:");
  }

  /** The reason as the runner reads it: its meaning, then the service's own words (English: they name the value
      at fault, for whoever fixes it). */
  function showReason(node, reason) {
    node.replaceChildren(el("strong", { text: meaning(reason) }), " ", el("span", { class: "detail", lang: "en", text: reason }));
  }

  function item(u) {
    const reason = el("p", { class: "error" });
    showReason(reason, u.reason);
    const when = u.start_time && !Number.isNaN(Date.parse(u.start_time)) ? S.date(u.start_time, { withTime: true }) : t("Unknown start");
    const status = el("p", { class: "small", role: "status" });
    const send = el("button", {
      type: "button",
      text: t("Send again"),
      onclick: async () => {
        send.disabled = true;
        status.textContent = "";
        try {
          const stored = await api("/api/refused-uploads/" + encodeURIComponent(u.id) + "/resend", { method: "POST" });
          li.replaceWith(el("li", { "data-id": u.id }, el("div", { class: "card" },
            el("h3", { text: when }),
            el("p", {}, el("a", { href: "/runs/" + encodeURIComponent(stored.run_id), text: t("Stored. Open the run") })))));
          S.toast(t("Run stored."));
          $("#empty").hidden = $("#refused").children.length > 0;
        } catch (e) {
          if (e.status !== 422) { S.fail(e); send.disabled = false; return; }
          const fresh = (await api("/api/refused-uploads")).refused.find((x) => x.id === u.id);
          if (fresh) showReason(reason, fresh.reason);
          status.textContent = t("Refused again.");
          send.disabled = false;
        }
      },
    });
    const discard = el("button", {
      type: "button",
      class: "secondary",
      text: t("Discard"),
      onclick: () => { discarding = { id: u.id, li }; dialog.showModal(); },
    });
    const li = el("li", { "data-id": u.id }, el("div", { class: "card" },
      el("h3", { text: when }),
      el("p", {
        class: "small muted",
        text: (u.sensor
          ? [u.sensor, t("{n} samples", { n: S.num(u.samples) })]
          : [u.shoe_serials.join(", "), t("{n} strides", { n: S.num(u.strides) }), u.distance_m !== null ? S.distance(u.distance_m) : null]
        ).filter(Boolean).join(" · "),
      }),
      reason,
      status,
      el("div", { class: "row" }, send, discard)));
    return li;
  }

  const dialog = $("#confirm-discard");
  let discarding = null;
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "discard" || !discarding) return;
    try {
      await api("/api/refused-uploads/" + encodeURIComponent(discarding.id), { method: "DELETE" });
      discarding.li.remove();
      $("#empty").hidden = $("#refused").children.length > 0;
    } catch (e) { S.fail(e); }
  });

  const { refused } = await api("/api/refused-uploads");
  $("#refused").replaceChildren(...refused.map(item));
  $("#empty").hidden = refused.length > 0;
});
