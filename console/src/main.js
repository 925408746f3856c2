// inventory console: sign-in, the views, the live event stream.
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { h, clear } from "./dom.js";
import * as api from "./api.js";
import { openStream } from "./stream.js";
import { jobsView } from "./jobs.js";
import { jobView } from "./job.js";
import { overviewView } from "./overview.js";

const ROLE_LABEL = { DOMAIN_ADMIN: "Domain admin", WORKSPACE_OWNER: "Workspace owner",
                     WORKSPACE_MEMBER: "Workspace member" };

const app = { identity: null, stream: null, view: null };
const $ = (id) => document.getElementById(id);
const main = () => $("main");

function setLive(state, status) {
  const el = $("live");
  const text = { open: "● Live", reconnecting: "Reconnecting…", unavailable: `Live updates paused${status ? ` (${status})` : ""}`,
                 unauthorized: "Signed out" }[state] || state;
  el.textContent = text;
  el.dataset.state = state;
}

function signOut() {
  if (app.stream) app.stream.close();
  app.stream = null;
  app.identity = null;
  api.token.clear();
  if (app.view && app.view.destroy) app.view.destroy();
  app.view = null;
  $("nav").hidden = true;
  $("who").hidden = true;
  signInView();
}

function signInView(message) {
  document.title = "Sign in · inventory console";
  const input = h("input", { id: "token", name: "token", type: "password", required: true,
                             autocomplete: "off", spellcheck: "false", "aria-describedby": "token-help" });
  const err = h("p", { class: "error", role: "alert", id: "signin-error" }, message || "");
  const button = h("button", { type: "submit", class: "btn" }, "Sign in");
  const form = h("form", { class: "signin card", "aria-labelledby": "signin-h",
    onsubmit: async (e) => {
      e.preventDefault();
      const tok = input.value.trim();
      if (!tok) return;
      button.disabled = true;
      err.textContent = "";
      try {
        await api.call("job/list", { query: { count_only: true } }, tok);
        api.token.set(tok);
        start();
      } catch (x) {
        err.textContent = x.status === 401 ? "This token is not valid." : (x.message || "Sign-in failed.");
        button.disabled = false;
        input.focus();
      }
    } },
    h("h1", { id: "signin-h" }, "Sign in"),
    h("p", { id: "token-help", class: "muted" },
      "Paste the bearer token you use with the inventory API. It is kept in this browser tab only, until you sign out."),
    h("div", { class: "field" }, h("label", { for: "token" }, "Access token"), input),
    err, button);
  clear(main()).append(form);
  input.focus();
}

function route() {
  if (!api.token.get()) return;
  const hash = location.hash || "#/jobs";
  const [path, qs] = hash.slice(1).split("?");
  // within the Jobs view, a sort or page button keeps the focus
  const ae = document.activeElement;
  const focusKey = app.viewName === "jobs" && ae && ae.dataset ? ae.dataset.focusKey : null;
  if (app.view && app.view.destroy) app.view.destroy();
  let view;
  let name = "jobs";
  if (path.startsWith("/job/")) {
    view = jobView(app, decodeURIComponent(path.slice(5)));
    name = "job";
  } else if (path === "/overview") {
    view = overviewView(app);
    name = "overview";
    document.title = "Overview · inventory console";
  } else {
    view = jobsView(app, qs || "", focusKey);
    document.title = "Jobs · inventory console";
  }
  app.view = view;
  app.viewName = name;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.view === name || (name === "job" && a.dataset.view === "jobs")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  clear(main()).append(view.root);
  const h1 = view.root.querySelector("h1");
  if (h1 && app.routed && !(name === "jobs" && focusKey)) h1.focus({ preventScroll: false });
  app.routed = true;
}

function onEvent(type, data) {
  if (type === "hello") {
    app.identity = data;
    const who = data.workspace_id ? `${data.workspace_id}` : data.domain_id;
    $("role").textContent = `${ROLE_LABEL[data.role] || data.role} · ${who}`;
    document.body.dataset.role = data.role;
    if (app.view && app.view.onIdentity) app.view.onIdentity();
    return;
  }
  if (app.view && app.view.onEvent) app.view.onEvent(type, data);
}

function start() {
  $("nav").hidden = false;
  $("who").hidden = false;
  setLive("connecting");
  $("live").textContent = "Connecting…";
  app.stream = openStream({
    token: api.token.get(),
    onEvent,
    onState: (s, status) => {
      setLive(s, status);
      if (s === "unauthorized") signOut();
    },
  });
  app.routed = false;
  route();
}

document.addEventListener("DOMContentLoaded", () => {
  document.body.append(h("div", { id: "announce", class: "sr-only", "aria-live": "polite" }));
  $("signout").addEventListener("click", signOut);
  api.setUnauthorizedHandler(() => signOut());
  window.addEventListener("hashchange", route);
  if (api.token.get()) start(); else signInView();
});
