// Formatting of the REST API's records for people.
export const STATUSES = ["IN_PROGRESS", "SUCCESS", "FAILURE", "CANCELED"];
export const TASK_STATUSES = ["PENDING", "IN_PROGRESS", "SUCCESS", "FAILURE", "CANCELED"];
export const STATUS_LABEL = {
  IN_PROGRESS: "In progress", SUCCESS: "Success", FAILURE: "Failure", CANCELED: "Canceled",
  PENDING: "Pending", CREATED: "Created", ERROR: "Error", TIMEOUT: "Timeout",
};

const pad = (n, w = 2) => String(n).padStart(w, "0");

// ISO 8601 -> "2026-12-03 10:00:05" in the browser's time zone
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
         `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function duration(from, to) {
  if (!from) return "";
  const a = Date.parse(from);
  const b = to ? Date.parse(to) : Date.now();
  if (isNaN(a) || isNaN(b)) return "";
  let s = Math.max(0, Math.round((b - a) / 1000));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hh = Math.floor(s / 3600); s -= hh * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d}d ${hh}h`;
  if (hh) return `${hh}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

export const n = (v) => (typeof v === "number" ? v : 0);

// a job's progress: { total, success, failure, remaining }
export function progress(job) {
  const total = n(job.total_tasks);
  const success = n(job.success_tasks);
  const failure = n(job.failure_tasks);
  // the API omits fields holding 0: a missing remained_tasks is 0
  const remaining = Math.max(0, n(job.remained_tasks));
  return { total, success, failure, remaining };
}
