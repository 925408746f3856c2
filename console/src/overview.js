// The Overview: jobs per day by status (30 days), success rate per collector,
// the oldest running job.
import { h, clear } from "./dom.js";
import * as api from "./api.js";
import { when, duration, STATUS_LABEL } from "./format.js";
import { errorBox, timeEl } from "./widgets.js";
import { stackedBars, legend } from "./chart.js";

const DAYS = 30;
const COLORS = { SUCCESS: "#2e7d32", FAILURE: "#c62828", CANCELED: "#8d6e63", IN_PROGRESS: "#1565c0",
                 OTHER: "#9e9e9e" };
const ORDER = ["SUCCESS", "FAILURE", "CANCELED", "IN_PROGRESS"];

function utcDay(t) { return new Date(t).toISOString().slice(0, 10); }

export function overviewView(app) {
  const root = h("section", { class: "view", "aria-labelledby": "ov-h" });
  const chartBox = h("div", { class: "chart", id: "chart" });
  const chartExtra = h("div");
  const rates = h("div", { class: "table-wrap" });
  const oldest = h("div", { class: "oldest" });
  let chart = null;
  let alive = true;
  let pending = null;

  root.append(
    h("h1", { id: "ov-h", tabindex: "-1" }, "Overview"),
    h("section", { class: "card", "aria-labelledby": "perday-h" },
      h("h2", { id: "perday-h" }, `Jobs per day by status, last ${DAYS} days (UTC)`), chartBox, chartExtra),
    h("div", { class: "cols" },
      h("section", { class: "card", "aria-labelledby": "rate-h" },
        h("h2", { id: "rate-h" }, `Success rate per collector, last ${DAYS} days`), rates),
      h("section", { class: "card", "aria-labelledby": "old-h" },
        h("h2", { id: "old-h" }, "Oldest running job"), oldest)));

  const since = new Date(Date.now() - (DAYS - 1) * 86400000);
  since.setUTCHours(0, 0, 0, 0);
  const recent = [{ k: "created_at", v: since.toISOString(), o: "datetime_gte" }];

  async function loadChart() {
    const r = await api.jobs.stat({ filter: recent, aggregate: [{ group: {
      keys: [{ key: "created_at", name: "day", date_format: "%Y-%m-%d" }, { key: "status", name: "status" }],
      fields: [{ operator: "count", name: "count" }] } }] });
    if (!alive) return;
    const days = [];
    for (let i = 0; i < DAYS; i++) days.push(utcDay(since.getTime() + i * 86400000));
    const idx = new Map(days.map((d, i) => [d, i]));
    const by = {};
    for (const row of r.results || []) {
      const st = ORDER.includes(row.status) ? row.status : "OTHER";
      const i = idx.get(row.day);
      if (i === undefined) continue;
      (by[st] ||= days.map(() => 0))[i] += row.count;
    }
    const series = ORDER.concat(["OTHER"]).filter((s) => by[s] || ORDER.includes(s)).map((s) => ({
      label: STATUS_LABEL[s] || "Other", color: COLORS[s], values: by[s] || days.map(() => 0) }));
    if (chart) chart.destroy();
    clear(chartBox);
    chart = stackedBars(chartBox, { days, series });
    const total = series.reduce((a, s) => a + s.values.reduce((x, y) => x + y, 0), 0);
    chartBox.setAttribute("role", "img");
    chartBox.setAttribute("aria-label", `Bar chart of ${total} jobs over the last ${DAYS} days; the table below has the numbers.`);
    clear(chartExtra).append(legend(series),
      h("details", { class: "data" }, h("summary", null, "Show the numbers as a table"),
        h("div", { class: "table-wrap" }, h("table", { class: "perday" },
          h("caption", { class: "sr-only" }, "Jobs per day by status"),
          h("thead", null, h("tr", null, h("th", { scope: "col" }, "Day"),
            series.map((s) => h("th", { scope: "col", class: "num" }, s.label)))),
          h("tbody", null, days.map((d, i) => h("tr", null, h("th", { scope: "row" }, d),
            series.map((s) => h("td", { class: "num" }, String(s.values[i]))))))))));
  }

  async function loadRates() {
    const r = await api.jobs.stat({ filter: recent, aggregate: [{ group: {
      keys: [{ key: "collector_id", name: "collector" }, { key: "status", name: "status" }],
      fields: [{ operator: "count", name: "count" }] } }] });
    if (!alive) return;
    const per = new Map();
    for (const row of r.results || []) {
      const c = per.get(row.collector) || { collector: row.collector, total: 0, SUCCESS: 0, FAILURE: 0 };
      c.total += row.count;
      if (row.status === "SUCCESS" || row.status === "FAILURE") c[row.status] += row.count;
      per.set(row.collector, c);
    }
    const list = [...per.values()].sort((a, b) => String(a.collector).localeCompare(String(b.collector)));
    if (!list.length) { clear(rates).append(h("p", { class: "muted" }, "No job in this period.")); return; }
    clear(rates).append(h("table", { class: "rates", id: "rates-table" },
      h("caption", { class: "sr-only" }, "Success rate per collector"),
      h("thead", null, h("tr", null, ["Collector", "Jobs", "Succeeded", "Failed", "Success rate"]
        .map((c, i) => h("th", { scope: "col", class: i ? "num" : null }, c)))),
      h("tbody", null, list.map((c) => {
        const done = c.SUCCESS + c.FAILURE;
        const rate = done ? Math.round((100 * c.SUCCESS) / done) : null;
        const fill = h("span", { class: "rfill" });
        fill.style.width = `${rate || 0}%`;
        return h("tr", { "data-collector": c.collector },
          h("td", { class: "id" }, h("a", { href: `#/jobs?collector=${encodeURIComponent(c.collector)}` },
            h("code", null, c.collector))),
          h("td", { class: "num" }, String(c.total)),
          h("td", { class: "num" }, String(c.SUCCESS)),
          h("td", { class: "num" }, String(c.FAILURE)),
          h("td", { class: "num rate" }, rate === null ? "—" : h("span", { class: "rbar" },
            h("span", { class: "rtrack", "aria-hidden": "true" }, fill), `${rate}%`)));
      }))));
  }

  async function loadOldest() {
    const r = await api.jobs.list({ filter: [{ k: "status", v: "IN_PROGRESS", o: "eq" }],
                                    sort: [{ key: "created_at" }], page: { limit: 1 } });
    if (!alive) return;
    const j = (r.results || [])[0];
    if (!j) { clear(oldest).append(h("p", { class: "muted" }, "No job is running.")); return; }
    clear(oldest).append(
      h("p", null, h("a", { href: `#/job/${encodeURIComponent(j.job_id)}`, id: "oldest-link" }, h("code", null, j.job_id))),
      h("p", null, "Collector ", h("code", null, j.collector_id || ""), " · started ",
        timeEl(j.created_at, when(j.created_at)), ` · running for ${duration(j.created_at, null)}`),
      h("p", { class: "muted" }, `${r.total_count} job${r.total_count > 1 ? "s" : ""} running.`));
  }

  function load() {
    for (const [f, box] of [[loadChart, chartBox], [loadRates, rates], [loadOldest, oldest]]) {
      f().catch((e) => { if (alive) clear(box).append(errorBox(e)); });
    }
  }
  load();

  return {
    root,
    onEvent(type) {
      // at most one reload every 5 s while jobs change
      if ((type === "job" || type === "reset" || type === "delete") && !pending) {
        pending = setTimeout(() => { pending = null; if (alive) load(); }, type === "reset" ? 0 : 5000);
      }
    },
    destroy() { alive = false; clearTimeout(pending); if (chart) chart.destroy(); },
  };
}
