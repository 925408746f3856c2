// The public REST API, with the token kept in sessionStorage.
const KEY = "inventory.token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// POST /inventory/v1/<path> with a JSON body -> the decoded answer
export async function call(path, body, tok = token.get()) {
  let r;
  try {
    r = await fetch(`/inventory/v1/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${tok}` },
      body: JSON.stringify(body || {}),
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, "NETWORK", "The server cannot be reached.");
  }
  let data = null;
  try { data = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const err = (data && data.error) || {};
    if (r.status === 401 && tok === token.get()) onUnauthorized();
    throw new ApiError(r.status, err.code, err.message);
  }
  return data;
}

export const jobs = {
  list: (query, extra) => call("job/list", { ...extra, query }),
  get: (job_id) => call("job/get", { job_id }),
  stat: (query) => call("job/stat", { query }),
  remove: (job_id) => call("job/delete", { job_id }),
};
export const tasks = {
  list: (query, extra) => call("job-task/list", { ...extra, query }),
  stat: (query) => call("job-task/stat", { query }),
};
