// Hygeia dashboard: plots, sign-in, CSRF-protected actions, ward sorting/filtering, live alert events.
"use strict";
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  async function post(url, body, token) {
    const r = await fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": token || csrf()},
      body: JSON.stringify(body || {})});
    let data = {};
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    return {ok: r.ok, status: r.status, data: data};
  }

  function renderPlots(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-figure]").forEach(function (div) {
      if (div.dataset.rendered) return;
      const src = document.getElementById(div.dataset.figure);
      if (!src) return;
      const fig = JSON.parse(src.textContent);
      const layout = Object.assign({}, fig.layout || {}, {autosize: true});
      delete layout.template;  // plotly_white is the default look here; templates are not needed offline
      Plotly.newPlot(div, fig.data || [], layout, {responsive: true, displaylogo: false});
      div.dataset.rendered = "1";
    });
  }

  function login() {
    const form = document.getElementById("login-form");
    if (!form) return;
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      const res = await post("/web/login", {username: form.username.value, password: form.password.value,
                                            next: form.dataset.next}, form.dataset.csrf);
      if (res.ok) { window.location.assign(res.data.redirect); return; }
      document.getElementById("login-error").textContent = res.data.detail || ("sign-in failed (" + res.status + ")");
    });
  }

  function logout() {
    const b = document.getElementById("logout");
    if (b) b.addEventListener("click", async function () {
      const res = await post("/web/logout", {});
      window.location.assign((res.data && res.data.redirect) || "/web/login");
    });
  }

  function acks(root) {
    root.querySelectorAll("button.ack").forEach(function (b) {
      b.addEventListener("click", async function () {
        b.disabled = true;
        const res = await post("/web/alerts/" + encodeURIComponent(b.dataset.alert) + "/ack", {});
        if (res.ok) { b.replaceWith(Object.assign(document.createElement("span"),
          {className: "chip acked", textContent: "acknowledged by " + res.data.acknowledged_by})); }
        else { b.disabled = false; alert(res.data.detail || "could not acknowledge"); }
      });
    });
  }

  // ward table: sort by column, filter by text and alerts
  const state = {key: "news2", dir: -1};
  function applyWard() {
    const table = document.getElementById("ward-table");
    if (!table) return;
    const body = table.tBodies[0];
    const rows = Array.from(body.querySelectorAll("tr[data-patient]"));
    const q = (document.getElementById("ward-filter").value || "").toLowerCase();
    const only = document.getElementById("alerts-only").checked;
    const num = ["news2", "alert", "last"].indexOf(state.key) >= 0;
    rows.sort(function (a, b) {
      const x = a.dataset[state.key] || "", y = b.dataset[state.key] || "";
      const c = num ? (parseFloat(x) - parseFloat(y)) : x.localeCompare(y, undefined, {numeric: true});
      return c * state.dir;
    });
    rows.forEach(function (r) {
      r.hidden = (q && r.dataset.search.indexOf(q) < 0) || (only && r.dataset.alert === "0");
      body.appendChild(r);
    });
    table.querySelectorAll("th[data-sort]").forEach(function (th) {
      th.className = th.dataset.sort === state.key ? (state.dir > 0 ? "sorted-asc" : "sorted-desc") : "";
    });
  }

  function ward() {
    const table = document.getElementById("ward-table");
    if (!table) return;
    table.querySelectorAll("th[data-sort]").forEach(function (th) {
      th.addEventListener("click", function () {
        state.dir = state.key === th.dataset.sort ? -state.dir : (th.dataset.sort === "name" || th.dataset.sort === "bed" ? 1 : -1);
        state.key = th.dataset.sort;
        applyWard();
      });
    });
    document.getElementById("ward-filter").addEventListener("input", applyWard);
    document.getElementById("alerts-only").addEventListener("change", applyWard);
    document.getElementById("ward-select").addEventListener("change", function () { this.form.submit(); });
    applyWard();
  }

  let pending = null;
  async function refreshWard() {
    const table = document.getElementById("ward-table");
    const ward = table.dataset.ward;
    const r = await fetch("/web/ward/table" + (ward ? "?ward=" + encodeURIComponent(ward) : ""), {credentials: "same-origin"});
    if (!r.ok) return;
    table.tBodies[0].innerHTML = await r.text();
    applyWard();
  }

  function live() {
    const badge = document.getElementById("live");
    if (!badge || !window.EventSource) return;
    const table = document.getElementById("ward-table");
    const ward = table ? table.dataset.ward : "";
    const es = new EventSource("/web/events" + (ward ? "?ward=" + encodeURIComponent(ward) : ""));
    es.onopen = function () { badge.textContent = "live"; badge.className = "live"; };
    es.onerror = function () { badge.textContent = "live: reconnecting…"; badge.className = "muted"; };
    ["raised", "resent", "acknowledged", "superseded"].forEach(function (kind) {
      es.addEventListener(kind, function (ev) {
        const doc = JSON.parse(ev.data);
        badge.textContent = "live · " + kind + " " + doc.level_name + " (NEWS2 " + doc.total + ") " + new Date().toLocaleTimeString();
        if (table) { clearTimeout(pending); pending = setTimeout(refreshWard, 500); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    login(); logout(); acks(document); ward(); live(); renderPlots(document);
  });
})();
