import { h } from "./dom.js";
import { STATUS_LABEL, progress } from "./format.js";

export function badge(status) {
  const s = status || "UNKNOWN";
  return h("span", { class: `badge s-${s.toLowerCase()}`, "data-status": s }, STATUS_LABEL[s] || s);
}

// success / failure / remaining of the total, as a bar with a text twin
export function progressBar(job) {
  const p = progress(job);
  const pct = (x) => (p.total ? (100 * x) / p.total : 0);
  const other = Math.max(0, p.total - p.success - p.failure - p.remaining);
  const label = `${p.success} succeeded, ${p.failure} failed, ${p.remaining} remaining` +
    (other ? `, ${other} not run` : "") + ` of ${p.total} tasks`;
  const seg = (cls, x) => {
    const el = h("span", { class: `seg ${cls}` });
    el.style.width = `${pct(x).toFixed(2)}%`;
    return el;
  };
  return h("div", { class: "progress", "data-total": p.total, "data-success": p.success,
                    "data-failure": p.failure, "data-remaining": p.remaining },
    h("div", { class: "bar", role: "img", "aria-label": label, title: label },
      seg("ok", p.success), seg("bad", p.failure), seg("left", p.remaining)),
    h("span", { class: "ptext", "aria-hidden": "true" },
      `${p.success + p.failure}/${p.total}`, p.failure ? h("span", { class: "pfail" }, ` · ${p.failure} failed`) : null));
}

export function timeEl(iso, text) {
  return iso ? h("time", { datetime: iso, title: iso }, text) : "";
}

export function errorBox(err) {
  return h("p", { class: "error", role: "alert" }, err.message || String(err));
}
