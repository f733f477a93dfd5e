/* Sign in: trade e-mail and password for a bearer token, kept in localStorage. */
"use strict";

Soleware.ready(() => {
  const { $, api, t, token, setToken, setLangCookie } = Soleware;
  if (token()) {
    location.replace("/");
    return;
  }
  const form = $("#signin");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const error = $("#form-error");
    error.textContent = "";
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const { access_token } = await api("/api/auth/signin", {
        method: "POST",
        auth: false,
        body: { email: form.email.value.trim(), password: form.password.value },
      });
      setToken(access_token);
      const me = await api("/api/me");
      localStorage.setItem("soleware.me", JSON.stringify(me));
      setLangCookie(me.locale);
      const next = new URLSearchParams(location.search).get("next");
      location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (e) {
      error.textContent = e.status === 401 ? t("Wrong e-mail or password.") : e.message;
      button.disabled = false;
    }
  });
});
