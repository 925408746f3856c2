// The Jobs view: the collection history table.
import { h, clear, announce } from "./dom.js";
import * as api from "./api.js";
import { STATUSES, STATUS_LABEL, when, duration } from "./format.js";
import { badge, progressBar, timeEl, errorBox } from "./widgets.js";

const COLUMNS = [
  { key: "status", label: "Status", sort: "status" },
  { key: "job_id", label: "Job ID", sort: "job_id" },
  { key: "collector_id", label: "Collector", sort: "collector_id" },
  { key: "plugin_id", label: "Plugin", sort: "plugin_id" },
  { key: "progress", label: "Progress" },
  { key: "created_at", label: "Created", sort: "created_at" },
  { key: "duration", label: "Duration" },
];
const SIZES = [15, 50, 100];

export function parseParams(qs) {
  const p = new URLSearchParams(qs);
  const size = Number(p.get("size"));
  return {
    status: p.get("status") || "",
    collector: p.get("collector") || "",
    from: p.get("from") || "",
    to: p.get("to") || "",
    q: p.get("q") || "",
    sort: COLUMNS.some((c) => c.sort && c.sort === p.get("sort")) ? p.get("sort") : "created_at",
    desc: p.has("desc") ? p.get("desc") === "1" : true,
    page: Math.max(1, Number(p.get("page")) || 1),
    size: SIZES.includes(size) ? size : 15,
  };
}

function toHash(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (k === "desc") p.set(k, v ? "1" : "0");
    else if (v !== "" && v !== null && v !== undefined) p.set(k, String(v));
  }
  return `#/jobs?${p}`;
}

const dayStart = (d) => new Date(`${d}T00:00:00`);

// the REST query of these parameters (exported: the browser tests compare with it)
export function queryOf(params) {
  const filter = [];
  if (params.status) filter.push({ k: "status", v: params.status, o: "eq" });
  if (params.collector) filter.push({ k: "collector_id", v: params.collector, o: "eq" });
  if (params.from && !isNaN(dayStart(params.from))) {
    filter.push({ k: "created_at", v: dayStart(params.from).toISOString(), o: "datetime_gte" });
  }
  if (params.to && !isNaN(dayStart(params.to))) {
    const end = dayStart(params.to);
    end.setDate(end.getDate() + 1);
    filter.push({ k: "created_at", v: end.toISOString(), o: "datetime_lt" });
  }
  const query = {
    filter,
    sort: [{ key: params.sort, desc: params.desc }],
    page: { start: (params.page - 1) * params.size + 1, limit: params.size },
  };
  if (params.q) query.keyword = params.q;
  return query;
}

function matches(params, job) {
  if (params.status && job.status !== params.status) return false;
  if (params.collector && job.collector_id !== params.collector) return false;
  if (params.q && !String(job.job_id).toLowerCase().includes(params.q.toLowerCase())) return false;
  return true;
}

function cells(job) {
  return [
    h("td", { "data-label": "Status" }, badge(job.status)),
    h("td", { "data-label": "Job ID", class: "id" },
      h("a", { href: `#/job/${encodeURIComponent(job.job_id)}` }, h("code", null, job.job_id))),
    h("td", { "data-label": "Collector", class: "id" }, h("code", null, job.collector_id || "")),
    h("td", { "data-label": "Plugin" }, job.plugin_id || ""),
    h("td", { "data-label": "Progress" }, progressBar(job)),
    h("td", { "data-label": "Created" }, timeEl(job.created_at, when(job.created_at))),
    h("td", { "data-label": "Duration", class: "num" },
      duration(job.created_at, job.finished_at || (job.status === "IN_PROGRESS" ? null : job.updated_at))),
  ];
}

function row(job) {
  return h("tr", { "data-job-id": job.job_id, "data-status": job.status }, cells(job));
}

// focusKey: the data-focus-key of the control that had the focus when the
// parameters changed (a sort button, a pager button): it gets it back
export function jobsView(app, qs, focusKey) {
  const params = parseParams(qs);
  const root = h("section", { class: "view", "aria-labelledby": "jobs-h" });
  let tbody = null;
  let notice = null;
  let fresh = 0;
  let alive = true;

  const go = (changes) => { location.hash = toHash({ ...params, ...changes }); };

  // filters
  const statusSel = h("select", { id: "f-status", name: "status" },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === params.status }, STATUS_LABEL[s])));
  const collectorSel = h("select", { id: "f-collector", name: "collector" },
    h("option", { value: "" }, "Any collector"),
    params.collector ? h("option", { value: params.collector, selected: true }, params.collector) : null);
  const fromIn = h("input", { id: "f-from", name: "from", type: "date", value: params.from });
  const toIn = h("input", { id: "f-to", name: "to", type: "date", value: params.to });
  const qIn = h("input", { id: "f-q", name: "q", type: "search", value: params.q,
                           placeholder: "job-…", autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter jobs",
    onsubmit: (e) => {
      e.preventDefault();
      go({ status: statusSel.value, collector: collectorSel.value, from: fromIn.value,
           to: toIn.value, q: qIn.value.trim(), page: 1 });
    } },
    h("div", { class: "field" }, h("label", { for: "f-status" }, "Status"), statusSel),
    h("div", { class: "field" }, h("label", { for: "f-collector" }, "Collector"), collectorSel),
    h("div", { class: "field" }, h("label", { for: "f-from" }, "Created from"), fromIn),
    h("div", { class: "field" }, h("label", { for: "f-to" }, "Created until"), toIn),
    h("div", { class: "field grow" }, h("label", { for: "f-q" }, "Search job ID"), qIn),
    h("div", { class: "field actions" },
      h("button", { type: "submit", class: "btn" }, "Apply"),
      h("a", { href: "#/jobs", class: "btn ghost" }, "Clear")));

  const status = h("p", { class: "muted", id: "jobs-status", "aria-live": "polite" }, "Loading…");
  notice = h("button", { type: "button", class: "notice", hidden: true, onclick: () => load() });
  const tableWrap = h("div", { class: "table-wrap" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });

  root.append(h("div", { class: "head" }, h("h1", { id: "jobs-h", tabindex: "-1" }, "Jobs"), status),
              form, notice, tableWrap, pager);

  api.jobs.stat({ distinct: "collector_id" }).then((r) => {
    if (!alive) return;
    for (const c of r.results || []) {
      if (c !== params.collector) collectorSel.append(h("option", { value: c }, c));
    }
  }).catch(() => {});

  function header() {
    return h("thead", null, h("tr", null, COLUMNS.map((c) => {
      if (!c.sort) return h("th", { scope: "col" }, c.label);
      const active = params.sort === c.sort;
      const dir = active ? (params.desc ? "descending" : "ascending") : null;
      return h("th", { scope: "col", "aria-sort": dir || "none" },
        h("button", { type: "button", class: "sort", "data-sort": c.sort, "data-focus-key": `sort-${c.sort}`,
          onclick: () => go({ sort: c.sort, desc: active ? !params.desc : c.sort === "created_at", page: 1 }) },
          c.label, h("span", { class: "arrow", "aria-hidden": "true" }, active ? (params.desc ? " ▼" : " ▲") : "")));
    })));
  }

  async function load() {
    fresh = 0;
    notice.hidden = true;
    let res;
    try {
      res = await api.jobs.list(queryOf(params));
    } catch (e) {
      if (!alive) return;
      clear(tableWrap).append(errorBox(e));
      status.textContent = "";
      return;
    }
    if (!alive) return;
    const total = res.total_count || 0;
    const first = total ? (params.page - 1) * params.size + 1 : 0;
    const last = Math.min(total, (params.page - 1) * params.size + res.results.length);
    status.textContent = total ? `Showing ${first}–${last} of ${total} jobs` : "No job matches.";
    tbody = h("tbody", null, res.results.map(row));
    const sortLabel = COLUMNS.find((c) => c.sort === params.sort).label;
    clear(tableWrap).append(h("table", { class: "jobs", id: "jobs-table" },
      h("caption", { class: "sr-only" },
        `Collection jobs, sorted by ${sortLabel}, ${params.desc ? "descending" : "ascending"}`),
      header(), tbody));
    const pages = Math.max(1, Math.ceil(total / params.size));
    clear(pager).append(
      h("button", { type: "button", class: "btn ghost", disabled: params.page <= 1, "data-focus-key": "prev",
                    onclick: () => go({ page: params.page - 1 }) }, "← Previous"),
      h("span", { class: "pageno" }, `Page ${Math.min(params.page, pages)} of ${pages}`),
      h("button", { type: "button", class: "btn ghost", disabled: params.page >= pages, "data-focus-key": "next",
                    onclick: () => go({ page: params.page + 1 }) }, "Next →"),
      h("label", { for: "f-size", class: "size" }, "Rows per page"),
      h("select", { id: "f-size", "data-focus-key": "size", onchange: (e) => go({ size: Number(e.target.value), page: 1 }) },
        SIZES.map((s) => h("option", { value: s, selected: s === params.size }, String(s)))));
    if (focusKey) {
      const el = root.querySelector(`[data-focus-key="${focusKey}"]`);
      if (el && !el.disabled) el.focus();
      else root.querySelector("h1").focus();
      focusKey = null;
    }
  }
  load();

  // durations of running jobs move with the clock
  const ticker = setInterval(() => {
    if (!tbody) return;
    for (const tr of tbody.querySelectorAll('tr[data-status="IN_PROGRESS"]')) {
      const t = tr.querySelector("time");
      const cell = tr.lastElementChild;
      if (t && cell) cell.textContent = duration(t.getAttribute("datetime"), null);
    }
  }, 1000);

  return {
    root,
    onEvent(type, data) {
      if (type === "reset") { load(); return; }
      if (type === "job" && tbody) {
        const tr = tbody.querySelector(`tr[data-job-id="${CSS.escape(data.job_id)}"]`);
        if (tr) {
          tr.replaceWith(row(data));
          if (data.status !== "IN_PROGRESS" && tr.dataset.status === "IN_PROGRESS") {
            announce(`Job ${data.job_id} finished: ${STATUS_LABEL[data.status] || data.status}`);
          }
        } else if (matches(params, data) && data.status === "IN_PROGRESS") {
          fresh += 1;
          notice.textContent = `${fresh} new job${fresh > 1 ? "s" : ""} · show`;
          notice.hidden = false;
        }
      } else if (type === "delete" && data.resource === "job" && tbody) {
        const tr = tbody.querySelector(`tr[data-job-id="${CSS.escape(data.job_id)}"]`);
        if (tr) { tr.remove(); announce(`Job ${data.job_id} was deleted`); }
      }
    },
    destroy() { alive = false; clearInterval(ticker); },
  };
}
