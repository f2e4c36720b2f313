// The vmpool dashboard (docs/operations.md, "Dashboard"). The page holds no data: this
// script keeps the token in the tab's sessionStorage and fetches the dashboard's HTML
// fragment with it as a bearer header every few seconds. The fragment is rendered by the
// daemon with every value escaped; it carries no script.
"use strict";

(function () {
  const KEY = "vmpool.token";
  const body = document.body;
  const url = body.dataset.fragment;
  const form = document.getElementById("login");
  const input = document.getElementById("token");
  const loginError = document.getElementById("login-error");
  const panel = document.getElementById("dashboard");
  const status = document.getElementById("status");
  const caller = document.getElementById("caller");
  const logout = document.getElementById("logout");
  let timer = null;
  let generation = 0; // a logout or a new login makes answers to older requests stale

  function setStatus(text, bad) {
    status.textContent = text;
    status.classList.toggle("bad", Boolean(bad));
  }

  function showLogin(message) {
    clearTimeout(timer);
    generation += 1;
    panel.hidden = true;
    panel.replaceChildren();
    logout.hidden = true;
    caller.textContent = "";
    setStatus("", false);
    loginError.textContent = message || "";
    form.hidden = false;
    input.focus();
  }

  function schedule() {
    clearTimeout(timer);
    // read each time: the page's period, unless a test changed it meanwhile
    timer = setTimeout(refresh, 1000 * Number(body.dataset.refreshS || "5"));
  }

  async function messageOf(response) {
    try {
      const answer = await response.json();
      return answer.error.message;
    } catch (e) {
      return "HTTP " + response.status;
    }
  }

  async function refresh() {
    const token = sessionStorage.getItem(KEY);
    if (!token) {
      showLogin("");
      return;
    }
    if (document.hidden) {
      schedule(); // nobody looks: ask again once the tab is visible (see below)
      return;
    }
    const mine = generation;
    let response;
    try {
      response = await fetch(url, {
        headers: { Authorization: "Bearer " + token, Accept: "text/html" },
        cache: "no-store",
        credentials: "omit",
        redirect: "error",
      });
    } catch (e) {
      if (mine === generation) {
        setStatus("the daemon does not answer; trying again", true);
        schedule();
      }
      return;
    }
    if (mine !== generation) return;
    if (response.status === 401) {
      sessionStorage.removeItem(KEY);
      showLogin(await messageOf(response));
      return;
    }
    if (!response.ok) {
      setStatus("not updated: " + (await messageOf(response)), true);
      schedule();
      return;
    }
    const html = await response.text();
    if (mine !== generation) return;
    panel.innerHTML = html; // the daemon's own escaped HTML
    const meta = document.getElementById("meta");
    caller.textContent = meta ? meta.dataset.caller + " (" + meta.dataset.role + ")" : "";
    form.hidden = true;
    panel.hidden = false;
    logout.hidden = false;
    setStatus("updated " + new Date().toLocaleTimeString(), false);
    body.dataset.loaded = String(Number(body.dataset.loaded || "0") + 1);
    schedule();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const token = input.value.trim();
    input.value = "";
    if (!token) return;
    sessionStorage.setItem(KEY, token);
    generation += 1;
    loginError.textContent = "";
    setStatus("loading…", false);
    refresh();
  });

  logout.addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    showLogin("Logged out.");
  });

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && sessionStorage.getItem(KEY)) refresh();
  });

  refresh();
})();
