/* Sign up, then sign in at once; the page's language and the browser's time zone go into the new profile. */
"use strict";

Soleware.ready(() => {
  const { $, api, t, signIn, setLangCookie, CONFIG } = Soleware;
  const form = $("#signup");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const error = $("#form-error");
    error.textContent = "";
    const email = form.email.value.trim();
    const password = form.password.value;
    if (!email.includes("@")) { error.textContent = t("Enter a valid e-mail address."); form.email.focus(); return; }
    if (password.length < 8) { error.textContent = t("The password needs at least 8 characters."); form.password.focus(); return; }
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await api("/api/auth/signup", {
        method: "POST",
        auth: false,
        body: {
          email,
          password,
          display_name: form.display_name.value.trim(),
          locale: CONFIG.locale,
          time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
        },
      });
      await signIn(email, password);
      const units = form.querySelector("input[name=units]:checked").value;
      const me = await api("/api/me", { method: "PATCH", body: { units } });
      localStorage.setItem("soleware.me", JSON.stringify(me));
      setLangCookie(me.locale);
      location.assign("/");
    } catch (e) {
      error.textContent = e.status === 409 ? t("An account with this e-mail already exists.") : e.message;
      button.disabled = false;
    }
  });
});
