// The Job view: its counters, its tasks and their errors.
import { h, clear, announce } from "./dom.js";
import * as api from "./api.js";
import { when, duration, n, progress, STATUS_LABEL } from "./format.js";
import { badge, progressBar, timeEl, errorBox } from "./widgets.js";

const TASK_LIMIT = 1000;
const COUNTERS = [
  ["created_count", "Created"], ["updated_count", "Updated"], ["deleted_count", "Deleted"],
  ["disconnected_count", "Disconnected"], ["failure_count", "Failures"],
];

const NCOLS = 14;

// a task's row, and, when it has errors, a full-width row under it that a
// button in the Errors cell unfolds (aria-expanded / aria-controls)
function taskRows(t, open) {
  const errs = Array.isArray(t.errors) ? t.errors : [];
  let toggle = h("span", { class: "muted" }, "—");
  let extra = null;
  if (errs.length) {
    const rid = `errors-${t.job_task_id}`;
    extra = h("tr", { class: "errrow", id: rid, "data-errors-of": t.job_task_id, hidden: !open },
      h("td", { colspan: NCOLS },
        h("ul", { class: "errors", "aria-label": `Errors of task ${t.job_task_id}` }, errs.map((e) => h("li", null,
          h("code", { class: "ecode" }, e.error_code || "ERROR"),
          h("span", { class: "emsg" }, e.message || ""),
          e.additional && Object.keys(e.additional).length
            ? h("pre", { class: "eadd", "aria-label": "additional" }, JSON.stringify(e.additional, null, 2))
            : null)))));
    toggle = h("button", { type: "button", class: "errtoggle", "aria-expanded": open ? "true" : "false",
      "aria-controls": rid, onclick: (ev) => {
        const b = ev.currentTarget;
        const now = b.getAttribute("aria-expanded") !== "true";
        b.setAttribute("aria-expanded", now ? "true" : "false");
        extra.hidden = !now;
      } }, `${errs.length} error${errs.length > 1 ? "s" : ""}`);
  }
  const row = h("tr", { "data-task-id": t.job_task_id, "data-status": t.status },
    h("td", { "data-label": "Status" }, badge(t.status)),
    h("td", { "data-label": "Task ID", class: "id" }, h("code", null, t.job_task_id)),
    h("td", { "data-label": "Provider" }, t.provider || ""),
    h("td", { "data-label": "Secret", class: "id" }, h("code", null, t.secret_id || "")),
    h("td", { "data-label": "Service account", class: "id" }, h("code", null, t.service_account_id || "")),
    h("td", { "data-label": "Project", class: "id" }, h("code", null, t.project_id || "")),
    COUNTERS.map(([k, label]) => h("td", { "data-label": label, class: "num" }, String(n(t[k])))),
    h("td", { "data-label": "Started" }, timeEl(t.started_at, when(t.started_at))),
    h("td", { "data-label": "Finished" }, timeEl(t.finished_at, when(t.finished_at))),
    h("td", { "data-label": "Errors" }, toggle));
  return extra ? [row, extra] : [row];
}

// replace (or add) a task's rows in tbody
function putTask(tbody, t) {
  const tr = tbody.querySelector(`tr[data-task-id="${CSS.escape(t.job_task_id)}"]`);
  const old = tbody.querySelector(`tr[data-errors-of="${CSS.escape(t.job_task_id)}"]`);
  const open = !!(old && !old.hidden);
  const rows = taskRows(t, open);
  if (tr) {
    tr.replaceWith(...rows);
    if (old) old.remove();
  } else {
    tbody.append(...rows);
  }
}

export function jobView(app, jobId) {
  const root = h("section", { class: "view", "aria-labelledby": "job-h" });
  const summary = h("div", { class: "summary" });
  const actions = h("div", { class: "job-actions" });
  const tasksWrap = h("div", { class: "table-wrap" });
  const tasksHead = h("h2", { id: "tasks-h" }, "Tasks");
  const gone = h("p", { class: "notice static", role: "status", hidden: true });
  let job = null;
  let tbody = null;
  let alive = true;

  root.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/jobs" }, "← Jobs")),
    h("h1", { id: "job-h", tabindex: "-1" }, "Job ", h("code", { class: "jid" }, jobId)),
    gone, summary, actions, tasksHead, tasksWrap);

  function renderSummary() {
    const p = progress(job);
    const facts = [
      ["Status", badge(job.status)],
      ["Collector", h("code", null, job.collector_id || "")],
      ["Plugin", job.plugin_id || ""],
      ["Workspace", h("code", null, job.workspace_id || "")],
      ["Resource group", job.resource_group || ""],
      ["Created", timeEl(job.created_at, when(job.created_at))],
      ["Finished", job.finished_at ? timeEl(job.finished_at, when(job.finished_at)) : "—"],
      ["Duration", duration(job.created_at, job.finished_at || (job.status === "IN_PROGRESS" ? null : job.updated_at))],
    ];
    clear(summary).append(
      h("dl", { class: "facts" }, facts.map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, v)))),
      h("div", { class: "counters", role: "group", "aria-label": "Task counters" },
        [["Total", p.total, "total"], ["Succeeded", p.success, "ok"], ["Failed", p.failure, "bad"],
         ["Remaining", p.remaining, "left"]].map(([label, v, cls]) =>
          h("div", { class: `counter ${cls}`, "data-counter": cls },
            h("span", { class: "cv" }, String(v)), h("span", { class: "cl" }, label)))),
      progressBar(job));
    renderActions();
  }

  function renderActions() {
    clear(actions);
    // members cannot delete: the button is absent for them (and until the role is known)
    if (!job || !app.identity || app.identity.role === "WORKSPACE_MEMBER") return;
    actions.append(h("button", { type: "button", class: "btn danger", id: "delete-job",
      onclick: async () => {
        if (!confirm(`Delete job ${job.job_id} and its tasks? This cannot be undone.`)) return;
        try {
          await api.jobs.remove(job.job_id);
          announce(`Job ${job.job_id} deleted`);
          location.hash = "#/jobs";
        } catch (e) {
          actions.append(errorBox(e));
        }
      } }, "Delete job"));
  }

  async function loadTasks() {
    let res;
    try {
      res = await api.tasks.list({ filter: [{ k: "job_id", v: jobId, o: "eq" }],
                                   sort: [{ key: "created_at" }], page: { limit: TASK_LIMIT } });
    } catch (e) {
      if (alive) clear(tasksWrap).append(errorBox(e));
      return;
    }
    if (!alive) return;
    const total = res.total_count || 0;
    tasksHead.textContent = `Tasks (${total})`;
    tbody = h("tbody", null, res.results.map((t) => taskRows(t, false)));
    clear(tasksWrap);
    if (total > res.results.length) {
      tasksWrap.append(h("p", { class: "muted" }, `Showing the first ${res.results.length} of ${total} tasks.`));
    }
    tasksWrap.append(
      res.results.length ? h("table", { class: "tasks", id: "tasks-table" },
        h("caption", { class: "sr-only" }, "Tasks of this job"),
        h("thead", null, h("tr", null,
          ["Status", "Task ID", "Provider", "Secret", "Service account", "Project"]
            .map((c) => h("th", { scope: "col" }, c)),
          COUNTERS.map(([, c]) => h("th", { scope: "col", class: "num" }, c)),
          ["Started", "Finished", "Errors"].map((c) => h("th", { scope: "col" }, c)))),
        tbody) : h("p", { class: "muted" }, "No task of this job is visible to you."));
  }

  async function load() {
    try {
      job = await api.jobs.get(jobId);
    } catch (e) {
      if (!alive) return;
      clear(summary).append(errorBox(e.status === 404
        ? new Error("This job does not exist or is not visible to you.") : e));
      return;
    }
    if (!alive) return;
    document.title = `Job ${jobId} · inventory console`;
    renderSummary();
    loadTasks();
  }
  load();

  const ticker = setInterval(() => {
    if (job && job.status === "IN_PROGRESS") {
      const dd = summary.querySelectorAll(".facts dd")[7];
      if (dd) dd.textContent = duration(job.created_at, null);
    }
  }, 1000);

  return {
    root,
    onIdentity: renderActions,
    onEvent(type, data) {
      if (type === "reset") { load(); return; }
      if (type === "job" && data.job_id === jobId) {
        const was = job && job.status;
        job = data;
        renderSummary();
        if (was === "IN_PROGRESS" && data.status !== "IN_PROGRESS") {
          announce(`This job finished: ${STATUS_LABEL[data.status] || data.status}`);
        }
      } else if (type === "job_task" && data.job_id === jobId && tbody) {
        putTask(tbody, data);
      } else if (type === "delete") {
        if (data.resource === "job" && data.job_id === jobId) {
          gone.textContent = "This job was deleted.";
          gone.hidden = false;
          clear(actions);
        } else if (data.resource === "job_task" && tbody) {
          for (const tr of tbody.querySelectorAll(`tr[data-task-id="${CSS.escape(data.job_task_id)}"], tr[data-errors-of="${CSS.escape(data.job_task_id)}"]`)) tr.remove();
        }
      }
    },
    destroy() { alive = false; clearInterval(ticker); },
  };
}
