// test/browser/console.test.mjs: the job console in Debian's Chromium, headless,
// driven by playwright-core, against the demo server test/browser/run.sh started.
// Every expectation is checked against the REST API answering the same token.
// Prints "browser: N passed, N failed".
import { chromium } from "playwright-core";
import { spawnSync, spawn } from "node:child_process";
import { writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseParams, queryOf } from "../../console/src/jobs.js";

const BASE = process.env.BASE;
const WORK = process.env.WORK;
const DB = process.env.DB;
const OWNER = process.env.OWNER || "";
const ROOT = process.env.ROOT;
const SHOTS = process.env.SHOTS;
const URL = `${BASE}/console/`;
mkdirSync(SHOTS, { recursive: true });

let passed = 0;
let failed = 0;
async function test(name, fn) {
  try {
    await fn();
    passed += 1;
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}: ${e && e.stack ? e.stack.split("\n").slice(0, 3).join(" | ") : e}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg || "assertion failed"); }
function eq(a, b, msg) {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  if (x !== y) throw new Error(`${msg || "value"}: expected ${y}, got ${x}`);
}

async function rest(path, body, token) {
  const r = await fetch(`${BASE}/inventory/v1/${path}`, {
    method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const j = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

// Lua code run by another process on the database (test/nginx/writes.lua)
let nwrites = 0;
function writes(code) {
  nwrites += 1;
  const chunk = join(WORK, `bw${nwrites}.lua`);
  const out = join(WORK, `bw${nwrites}.out`);
  writeFileSync(chunk, code);
  const env = { ...process.env, LUA_PATH: `${ROOT}/lua/?.lua;${ROOT}/lua/?/init.lua;;`,
                LUA_CPATH: `${ROOT}/lib/lua/5.4/?.so;;` };
  const r = spawnSync("lua5.4", [join(ROOT, "test/nginx/writes.lua"), DB, chunk, out], { env, encoding: "utf8" });
  if (OWNER) spawnSync("chown", ["-R", OWNER, join(DB, "..")]);
  if (r.status !== 0) throw new Error(`writer failed: ${r.stderr}`);
  const marks = {};
  for (const line of readFileSync(out, "utf8").split("\n")) {
    const [k, v] = line.split("\t");
    if (k && !(k in marks)) marks[k] = v;
  }
  return marks;
}

const A = "domain-1f2e3d4c5b6a";
const launchArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
// (playwright-core gives every launch a fresh, temporary --user-data-dir of its own)
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: launchArgs });

const foreign = [];
const pageErrors = [];
async function newPage(opts) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  await ctx.route("**/*", (route) => {
    const u = new globalThis.URL(route.request().url());
    if (u.hostname !== "127.0.0.1" && u.protocol !== "data:") { foreign.push(u.href); return route.abort(); }
    return route.continue();
  });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
  return page;
}

async function signIn(page, token) {
  await page.goto(URL);
  await page.getByLabel("Access token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForSelector("#jobs-table tbody tr");
  await page.waitForFunction(() => document.getElementById("live").dataset.state === "open");
}

const tableIds = (page, sel = "#jobs-table tbody tr") =>
  page.$$eval(sel, (rows) => rows.map((r) => r.dataset.jobId || r.dataset.taskId));

// the table shows exactly these ids (polled: the views load asynchronously)
async function shows(page, want, what, sel = "#jobs-table tbody tr[data-job-id]") {
  const deadline = Date.now() + 5000;
  let got;
  for (;;) {
    got = await tableIds(page, sel);
    if (JSON.stringify(got) === JSON.stringify(want) || Date.now() > deadline) break;
    await page.waitForTimeout(50);
  }
  eq(got, want, what);
}

let page;

await test("make run printed the console's address", async () => {
  const out = readFileSync(process.env.RUN_OUT, "utf8");
  assert(out.includes(`Console:  ${BASE}/console/`), out);
});

await test("the page loads from this server only, light and quick", async () => {
  page = await newPage();
  let bytes = 0;
  let raw = 0;
  const sizes = [];
  page.on("requestfinished", (req) => {
    if (req.url().includes("/console/")) {
      sizes.push(req.sizes().then((z) => { bytes += z.responseBodySize; })
        .then(() => req.response()).then((r) => r && r.body()).then((b) => { raw += b ? b.length : 0; })
        .catch(() => {}));   // a body the page navigated away from before it was read
    }
  });
  const t0 = Date.now();
  await page.goto(URL, { waitUntil: "load" });
  await page.getByLabel("Access token").waitFor();
  const ms = Date.now() - t0;
  const nav = await page.evaluate(() => performance.getEntriesByType("navigation")[0].toJSON());
  await Promise.all(sizes);
  eq(await page.getByLabel("Access token").getAttribute("type"), "password", "a password field");
  console.log(`# console: ${(bytes / 1024).toFixed(1)} KiB transferred (${(raw / 1024).toFixed(1)} KiB uncompressed), load event ${Math.round(nav.loadEventEnd)} ms, sign-in form ready ${ms} ms`);
  assert(bytes > 0 && bytes < 60 * 1024, `page weight ${bytes}`);
});

await test("a wrong token is refused with a message; a good one signs in and is kept in sessionStorage", async () => {
  await page.getByLabel("Access token").fill("not-a-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("This token is not valid.").waitFor();
  await page.getByLabel("Access token").fill("demo-a-admin");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForSelector("#jobs-table tbody tr");
  eq(await page.evaluate(() => sessionStorage.getItem("inventory.token")), "demo-a-admin", "sessionStorage");
  await page.waitForFunction(() => document.getElementById("live").dataset.state === "open");
  assert((await page.textContent("#role")).includes("Domain admin"), "the role is shown");
});

await test("the Jobs table equals the REST list (first page, newest first, ids in full)", async () => {
  const want = await rest("job/list", { query: queryOf(parseParams("")) }, "demo-a-admin");
  await shows(page, want.results.map((j) => j.job_id), "ids");
  assert((await page.textContent("#jobs-status")).includes(`of ${want.total_count} jobs`), "total");
  const first = want.results[0];
  const row = page.locator(`tr[data-job-id="${first.job_id}"]`);
  eq((await row.locator("td").nth(1).textContent()).trim(), first.job_id, "the full id");
  eq((await row.locator("td").nth(2).textContent()).trim(), first.collector_id, "collector");
  await page.screenshot({ path: join(SHOTS, "jobs.png"), fullPage: true });
});

await test("filters (status, collector, search), sort and paging follow the REST API", async () => {
  await page.getByLabel("Status").selectOption("FAILURE");
  await page.getByRole("button", { name: "Apply" }).click();
  let want = await rest("job/list", { query: queryOf(parseParams("status=FAILURE")) }, "demo-a-admin");
  await shows(page, want.results.map((j) => j.job_id), "status filter");
  const coll = want.results[0].collector_id;
  await page.getByLabel("Collector").selectOption(coll);
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForFunction((c) => location.hash.includes(c), coll);
  want = await rest("job/list", { query: queryOf(parseParams(`status=FAILURE&collector=${coll}`)) }, "demo-a-admin");
  await shows(page, want.results.map((j) => j.job_id), "status and collector");
  const frag = want.results[0].job_id.slice(4, 9);
  await page.goto(`${URL}#/jobs?q=${frag}`);
  want = await rest("job/list", { query: queryOf(parseParams(`q=${frag}`)) }, "demo-a-admin");
  await shows(page, want.results.map((j) => j.job_id), "search (keyword)");
  assert(want.results.length >= 1, "the search finds the job");
  await page.goto(`${URL}#/jobs`);
  await page.locator('button.sort[data-sort="collector_id"]').click();
  await page.waitForFunction(() => location.hash.includes("sort=collector_id"));
  want = await rest("job/list", { query: queryOf(parseParams("sort=collector_id&desc=0")) }, "demo-a-admin");
  await shows(page, want.results.map((j) => j.job_id), "sorted by collector");
  eq(await page.locator('th:has(button[data-sort="collector_id"])').getAttribute("aria-sort"), "ascending", "aria-sort");
  await page.getByRole("button", { name: "Next →" }).click();
  await page.waitForFunction(() => location.hash.includes("page=2"));
  want = await rest("job/list", { query: queryOf(parseParams("sort=collector_id&desc=0&page=2")) }, "demo-a-admin");
  await shows(page, want.results.map((j) => j.job_id), "page 2");
});

let failedJob;
await test("a job: its counters, its tasks as REST lists them, errors expandable", async () => {
  const tasks = await rest("job-task/list", { query: { filter: [{ k: "errors.error_code", v: "ERROR_PLUGIN", o: "eq" }],
    page: { limit: 1 }, sort: [{ key: "created_at", desc: true }] } }, "demo-a-admin");
  failedJob = tasks.results[0].job_id;
  await page.goto(`${URL}#/jobs`);
  await page.goto(`${URL}#/job/${failedJob}`);
  await page.waitForSelector("#tasks-table tbody tr");
  const want = await rest("job-task/list", { query: { filter: [{ k: "job_id", v: failedJob, o: "eq" }],
    sort: [{ key: "created_at" }] } }, "demo-a-admin");
  await shows(page, want.results.map((t) => t.job_task_id), "tasks", "#tasks-table tbody tr[data-task-id]");
  const job = await rest("job/get", { job_id: failedJob }, "demo-a-admin");
  eq(await page.textContent('[data-counter="total"] .cv'), String(job.total_tasks), "total counter");
  eq(await page.textContent('[data-counter="bad"] .cv'), String(job.failure_tasks || 0), "failure counter");
  const t = tasks.results[0];
  const toggle = page.locator(`tr[data-task-id="${t.job_task_id}"] button.errtoggle`);
  const errs = page.locator(`tr[data-errors-of="${t.job_task_id}"]`);
  const msg = errs.locator(".emsg").first();
  eq(await toggle.getAttribute("aria-expanded"), "false", "errors start folded");
  assert(!(await msg.isVisible()), "errors start hidden");
  await toggle.focus();
  await page.keyboard.press("Enter");
  await msg.waitFor({ state: "visible" });
  eq(await toggle.getAttribute("aria-expanded"), "true", "aria-expanded");
  eq((await errs.locator(".ecode").first().textContent()), t.errors[0].error_code, "error code");
  eq((await msg.textContent()), t.errors[0].message, "error message");
  if (t.errors[0].additional) assert((await errs.locator(".eadd").first().textContent()).includes("resource_type"), "additional");
  assert(await page.locator("#delete-job").isVisible(), "an admin has the delete button");
  assert(!(await page.textContent("main")).match(/\b(null|undefined)\b/), "no null or undefined shown");
  await page.screenshot({ path: join(SHOTS, "job.png"), fullPage: true });
});

await test("progress moves live when another process finishes tasks (no reload)", async () => {
  await page.goto(`${URL}#/jobs`);
  await page.waitForSelector("#jobs-table tbody tr");
  await page.evaluate(() => { window.__noReload = true; });
  const m = writes(`
    local A = "${A}"
    local j = assert(inv.job.create{ domain_id = A, collector_id = "collector-browser", plugin_id = "plugin-browser",
      workspace_id = "*", resource_group = "DOMAIN",
      tasks = { { secret_id = "s1", project_id = "project-11gcp1", workspace_id = "workspace-a1b2c3d4e5f6" },
                { secret_id = "s2", project_id = "project-11aws2", workspace_id = "workspace-a1b2c3d4e5f6" },
                { secret_id = "s3", project_id = "project-12azr1", workspace_id = "workspace-0a9b8c7d6e5f" } } })
    mark("job", j.job_id)
  `);
  const notice = page.locator("button.notice");
  await notice.waitFor({ state: "visible", timeout: 3000 });
  await notice.click();
  const row = page.locator(`tr[data-job-id="${m.job}"]`);
  await row.waitFor();
  eq(await row.locator(".progress").getAttribute("data-success"), "0", "no task done yet");
  await page.screenshot({ path: join(SHOTS, "live-before.png") });
  const t0 = Date.now();
  writes(`
    local A = "${A}"
    local ts = assert(inv.job_task.list{ domain_id = A, job_id = "${m.job}", query = { sort = { { key = "created_at" } } } }).results
    assert(inv.job_task.start{ domain_id = A, job_task_id = ts[1].job_task_id })
    assert(inv.job_task.finish{ domain_id = A, job_task_id = ts[1].job_task_id, status = "SUCCESS", created_count = 4 })
    assert(inv.job_task.start{ domain_id = A, job_task_id = ts[2].job_task_id })
    assert(inv.job_task.add_error{ domain_id = A, job_task_id = ts[2].job_task_id, error_code = "ERROR_PLUGIN", message = "live failure" })
    assert(inv.job_task.finish{ domain_id = A, job_task_id = ts[2].job_task_id, status = "FAILURE", failure_count = 1 })
  `);
  await page.waitForFunction((id) => {
    const p = document.querySelector(`tr[data-job-id="${id}"] .progress`);
    return p && p.dataset.success === "1" && p.dataset.failure === "1";
  }, m.job, { timeout: 3000 });
  console.log(`# console: progress bar moved ${Date.now() - t0} ms after the writer process started`);
  eq(await page.evaluate(() => window.__noReload), true, "the page did not reload");
  eq(await row.getAttribute("data-status"), "IN_PROGRESS", "still running (1 task left)");
  await page.screenshot({ path: join(SHOTS, "live-after.png") });
  // the job's page follows too
  await page.goto(`${URL}#/job/${m.job}`);
  await page.waitForSelector("#tasks-table tbody tr");
  writes(`
    local A = "${A}"
    local ts = assert(inv.job_task.list{ domain_id = A, job_id = "${m.job}", status = "PENDING" }).results
    assert(inv.job_task.start{ domain_id = A, job_task_id = ts[1].job_task_id })
    assert(inv.job_task.finish{ domain_id = A, job_task_id = ts[1].job_task_id, status = "SUCCESS" })
  `);
  await page.waitForFunction(() => document.querySelector('[data-counter="ok"] .cv').textContent === "2", null, { timeout: 3000 });
  await page.locator(".facts .badge", { hasText: "Failure" }).waitFor({ timeout: 3000 });
});

await test("Overview: jobs per day from stat, success rate per collector, the oldest running job", async () => {
  await page.goto(`${URL}#/overview`);
  await page.waitForSelector("#chart canvas");
  await page.waitForSelector("#rates-table tbody tr");
  const since = new Date(Date.now() - 29 * 86400000);
  since.setUTCHours(0, 0, 0, 0);
  const r = await rest("job/stat", { query: { filter: [{ k: "created_at", v: since.toISOString(), o: "datetime_gte" }],
    aggregate: [{ group: { keys: [{ key: "status", name: "s" }], fields: [{ operator: "count", name: "n" }] } }] } }, "demo-a-admin");
  const total = r.results.reduce((a, x) => a + x.n, 0);
  const shown = await page.$$eval("table.perday tbody td", (tds) => tds.reduce((a, td) => a + Number(td.textContent), 0));
  eq(shown, total, "the chart's numbers add up to the jobs of the last 30 days");
  assert(total > 100, `the demo has history (${total})`);
  const running = await rest("job/list", { query: { filter: [{ k: "status", v: "IN_PROGRESS", o: "eq" }],
    sort: [{ key: "created_at" }], page: { limit: 1 } } }, "demo-a-admin");
  if (running.results.length) eq(await page.textContent("#oldest-link"), running.results[0].job_id, "oldest running");
  await page.screenshot({ path: join(SHOTS, "overview.png"), fullPage: true });
});

await test("keyboard: skip link first, sort and open a job with keys only; every control has a label", async () => {
  await page.goto(`${URL}#/jobs`);
  await page.waitForSelector("#jobs-table tbody tr");
  await page.reload();
  await page.waitForSelector("#jobs-table tbody tr");
  await page.keyboard.press("Tab");
  eq(await page.evaluate(() => document.activeElement.className), "skip", "first stop: skip link");
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.keyboard.press("Tab");
    found = await page.evaluate(() => document.activeElement.dataset.sort === "status");
  }
  assert(found, "the Status sort button is reachable with Tab");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => location.hash.includes("sort=status"));
  await page.waitForFunction(() => document.activeElement.dataset.sort === "status");  // the focus stays
  found = false;
  for (let i = 0; i < 10 && !found; i++) {
    await page.keyboard.press("Tab");
    found = await page.evaluate(() => (document.activeElement.getAttribute("href") || "").startsWith("#/job/"));
  }
  assert(found, "a job link is reachable");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#job-h");
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll("input, select, button")]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.textContent.trim())
    .map((el) => el.outerHTML));
  eq(unlabeled, [], "controls without a label");
});

await test("a workspace member sees only its jobs and projects, and no delete button", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Access token").waitFor();
  eq(await page.evaluate(() => sessionStorage.getItem("inventory.token")), null, "sign-out clears the token");
  await signIn(page, "demo-a-member");
  const want = await rest("job/list", { query: queryOf(parseParams("")) }, "demo-a-member");
  await shows(page, want.results.map((j) => j.job_id), "the member's job list");
  const admin = await rest("job/list", { query: { count_only: true } }, "demo-a-admin");
  assert(want.total_count < admin.total_count, "fewer jobs than the admin");
  assert((await page.textContent("#jobs-status")).includes(`of ${want.total_count} jobs`), "total");
  const jid = want.results.find((j) => j.workspace_id === "*")?.job_id || want.results[0].job_id;
  await page.goto(`${URL}#/job/${jid}`);
  await page.waitForSelector("#tasks-table tbody tr, .view p.muted");
  const tasks = await rest("job-task/list", { query: { filter: [{ k: "job_id", v: jid, o: "eq" }], sort: [{ key: "created_at" }] } }, "demo-a-member");
  await shows(page, tasks.results.map((t) => t.job_task_id), "the member's tasks", "#tasks-table tbody tr[data-task-id]");
  for (const t of tasks.results) assert(["project-11gcp1", "project-11aws2"].includes(t.project_id), t.project_id);
  eq(await page.locator("#delete-job").count(), 0, "no delete button for a member");
  await page.screenshot({ path: join(SHOTS, "member.png"), fullPage: true });
});

await test("a narrow screen (390 px): one card per job, no sideways scrolling", async () => {
  const p = await newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await signIn(p, "demo-a-owner");
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
  eq(await p.$eval("#jobs-table tbody tr", (tr) => getComputedStyle(tr).display), "block", "rows as cards");
  await p.screenshot({ path: join(SHOTS, "narrow.png") });
  await p.context().close();
});

await test("no request left this server, no error in the page", async () => {
  eq(foreign, [], "requests to other hosts");
  // (the wrong token of the sign-in test is a 401 the browser reports on purpose)
  eq(pageErrors.filter((e) => !e.includes("status of 401")), [], "page errors");
});

await test("make run refuses a taken port before its banner", async () => {
  const port = new globalThis.URL(BASE).port;
  const r = spawnSync("sh", [join(ROOT, "examples/nginx/run.sh")], { encoding: "utf8",
    env: { ...process.env, PORT: port, PREFIX: join(WORK, "taken"), SIMULATOR: "0" } });
  eq(r.status, 1, "exit status");
  assert(r.stderr.includes(`127.0.0.1:${port} is already in use`), r.stderr);
  assert(!r.stdout.includes("Console:") && !r.stdout.includes("seeding"), `no banner, no work: ${r.stdout}`);
});

await test("make run's simulator starts a job within 5 s, the console shows it move, and stops with the server", async () => {
  let port = Number(new globalThis.URL(BASE).port) + 1;
  for (;; port++) {
    const free = await fetch(`http://127.0.0.1:${port}/`).then(() => false, () => true);
    if (free) break;
  }
  const prefix = join(WORK, "demo2");
  const run = spawn("sh", [join(ROOT, "examples/nginx/run.sh")], { stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PORT: String(port), PREFIX: prefix, WORKERS: "1", SIMULATOR_EVERY: "30-60", SIMULATOR_PACE: "10" } });
  let out = "";
  run.stdout.on("data", (d) => { out += d; });
  run.stderr.on("data", (d) => { out += d; });
  const exited = new Promise((res) => run.on("exit", res));
  try {
    const t0 = Date.now();
    while (!out.includes("Console:")) {
      assert(Date.now() - t0 < 30000, `no banner: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const banner = Date.now();
    const p = await newPage();
    await p.goto(`http://127.0.0.1:${port}/console/#/jobs?status=IN_PROGRESS`);
    await p.getByLabel("Access token").fill("demo-a-admin");
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.waitForSelector("#jobs-table");
    // the first simulated job: a row, or the "new job" notice while the page was loading
    const tok = { Authorization: "Bearer demo-a-admin", "Content-Type": "application/json" };
    let job;
    while (!job) {
      assert(Date.now() - banner < 5000, "no job from the simulator within 5 s of the banner");
      for (const t of ["demo-a-admin", "demo-b-admin"]) {
        const r = await fetch(`http://127.0.0.1:${port}/inventory/v1/job/list`, { method: "POST",
          headers: { ...tok, Authorization: `Bearer ${t}` },
          body: JSON.stringify({ query: { filter: [{ k: "created_at", v: new Date(banner - 60000).toISOString(), o: "datetime_gte" }] } }) });
        const j = await r.json();
        if (j.results && j.results.length) { job = { ...j.results[0], token: t }; break; }
      }
      if (!job) await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`# demo: the simulator's first job ${Date.now() - banner} ms after make run's banner`);
    if (job.token === "demo-a-admin") {
      await p.reload();
      const row = p.locator(`tr[data-job-id="${job.job_id}"]`);
      await row.waitFor({ timeout: 5000 });
      // its tasks finish 20-110 s after it starts (2-11 s at the test's pace 10): the bar moves
      await p.waitForFunction((id) => {
        const el = document.querySelector(`tr[data-job-id="${id}"] .progress`);
        return !el || Number(el.dataset.success) + Number(el.dataset.failure) > 0;
      }, job.job_id, { timeout: 15000 });
      await p.screenshot({ path: join(SHOTS, "demo.png") });
    }
    await p.context().close();
  } finally {
    run.kill("SIGTERM");
    await exited;
  }
  const ps = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
  assert(!ps.includes(prefix), `processes of the demo are left: ${ps.split("\n").filter((l) => l.includes(prefix)).join(" | ")}`);
});

await browser.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
