// Browser tests of the owner's dashboard (/dashboard): Debian's chromium (headless), driven
// by playwright-core, against the real server binary on 127.0.0.1, its store seeded with
// `visitor-counter import` (1,005 counters, three with 90 days of history) and a few hits.
//
//   VC_BINARY=build/release/visitor-counter node --test tests/e2e/dashboard.test.mjs
//
// VC_BINARY: the server (CTest sets it). VC_E2E_ARTIFACTS: where screenshots go (CTest:
// <build>/e2e-artifacts; default: a new temporary directory). VC_CHROMIUM: the browser
// (default /usr/bin/chromium). Installs its npm packages with `npm ci` when missing. The
// light screenshot of the signed-in dashboard is also copied to docs/dashboard.png when
// VC_UPDATE_DOCS=1.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { artifacts, axeSource, binary, chromium, chromiumArgs, chromiumPath, here, launchServer } from "./harness.mjs";

const docsShot = path.resolve(here, "../../docs/dashboard.png");
const TOKEN = crypto.randomBytes(16).toString("hex"); // 32 characters
const WRONG_TOKEN = crypto.randomBytes(16).toString("hex");
const ADMIN_FILES = ["/dashboard", "/dashboard.js", "/dashboard.css", "/uPlot.iife.min.js", "/uPlot.min.css"];

// --- the seed ------------------------------------------------------------------------------

// UTC days relative to today: day(0) is today, day(1) yesterday.
const today = Date.parse(new Date().toISOString().slice(0, 10));
const day = (n) => new Date(today - n * 86400000).toISOString().slice(0, 10);

// `n` days of history ending today, oldest first, with figures from `views(i)` and
// `visitors(i)` for the day i days ago.
const history = (n, views, visitors) =>
  Array.from({ length: n }, (_, k) => n - 1 - k).map((i) => ({ date: day(i), views: views(i), visitors: visitors(i) }));

// blog/post: 90 days, a different figure every day, and totals of its own.
const POST = { key: "blog/post", views: 5000, visitors: 3000,
  days: history(90, (i) => 10 + ((i * 7) % 13), (i) => 1 + (i % 5)) };
const seed = [
  POST,
  { key: "blog/archive", views: 900, visitors: 400, days: history(90, (i) => i % 4, (i) => i % 2) },
  { key: "docs/intro", views: 300, visitors: 200, days: history(90, (i) => (i % 10 === 0 ? 9 : 0), () => 0) },
  // 1,000 more, in 20 pages of 50, with a day or two each.
  ...Array.from({ length: 1000 }, (_, i) => ({
    key: "site/p" + String(i).padStart(4, "0"), views: i + 1, visitors: Math.ceil((i + 1) / 2),
    days: i % 3 ? [{ date: day(i % 40), views: i % 9, visitors: i % 4 }] : [],
  })),
];
// Counted over HTTP once the server runs: keys that no import created.
const HITS = { "docs/install/linux": 3, "home": 2, "blog/2026/launch": 1 };
const ALL_KEYS = [...seed.map((c) => c.key), ...Object.keys(HITS)].sort();

// Views and visitors of `days` summed over the `n` latest.
const sum = (days, n) => days.slice(-n).reduce(
  (total, d) => ({ views: total.views + d.views, visitors: total.visitors + d.visitors }),
  { views: 0, visitors: 0 });
const formatted = (n) => new Intl.NumberFormat("en-US").format(n);

// --- the real server ------------------------------------------------------------------------

// Imports `records` into a new SQLite file, then starts `visitor-counter serve` on it, on a
// free port of 127.0.0.1, with VC_ADMIN_TOKEN=`token` (none when null). The import reads
// the export format, JSON Lines: a header, then one counter a line with its days as
// ["YYYY-MM-DD", views, visitors].
async function startServer({ token = null, records = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-e2e-server-"));
  const store = "sqlite:" + path.join(dir, "counter.db");
  if (records.length) {
    const input = path.join(dir, "seed.jsonl");
    const lines = [{ format: "visitor-counter", version: 1 }, ...records.map((r) =>
      ({ ...r, days: r.days.map((d) => [d.date, d.views, d.visitors]) }))].map((r) => JSON.stringify(r));
    fs.writeFileSync(input, lines.join("\n") + "\n");
    try {
      execFileSync(binary, ["import", "--store", store, "--input", input, "--mode", "set"], { cwd: dir, stdio: "pipe" });
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error("visitor-counter import failed: " + error.stderr, { cause: error });
    }
  }
  const env = { ...process.env };
  delete env.VC_ADMIN_TOKEN;
  if (token) env.VC_ADMIN_TOKEN = token;
  return launchServer(dir, ["--store", store], env);
}

// One counting request, as curl would send it: a GET with no Origin.
function hit(api, key) {
  return new Promise((resolve, reject) => {
    http.get(`${api}/count/${key}`, (response) => {
      response.resume();
      response.on("end", () => response.statusCode === 200
        ? resolve() : reject(new Error(`GET /count/${key}: HTTP ${response.statusCode}`)));
    }).on("error", reject);
  });
}

// --- the browser ----------------------------------------------------------------------------

let server; // VC_ADMIN_TOKEN=TOKEN, seeded
let browser;

before(async () => {
  server = await startServer({ token: TOKEN, records: seed });
  for (const [key, n] of Object.entries(HITS)) for (let i = 0; i < n; i++) await hit(server.api, key);
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  console.log("e2e: screenshots in " + artifacts);
});

// A fresh page that records CSP violations (events and console errors), other console
// errors and uncaught errors, and every API request the page sends. Its clock's time zone
// is far from UTC, so a day computed in local time would show.
async function openPage(t, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 }, locale: "en-US", timezoneId: "Pacific/Kiritimati", ...options,
  });
  context.setDefaultTimeout(15000);
  await context.addInitScript(() => {
    window.__vc = { violations: [] };
    addEventListener("securitypolicyviolation", (e) => window.__vc.violations.push(e.violatedDirective));
  });
  const page = await context.newPage();
  const seen = { errors: [], requests: [] };
  page.on("console", (msg) => { if (msg.type() === "error") seen.errors.push(msg.text()); });
  page.on("pageerror", (error) => seen.errors.push(String(error)));
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (/^\/(counters|history)\b/.test(url.pathname)) {
      seen.requests.push({ url, authorization: request.headers()["authorization"] });
    }
  });
  t.after(async () => {
    const file = path.join(artifacts, "dashboard-" + t.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase() + ".png");
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    await context.close();
  });
  return { page, seen };
}

// Asserts the page saw no CSP violation and no error (a CSP refusal is a console error too)
// but those matching `expected`.
async function clean(page, seen, expected = null) {
  assert.deepEqual(await page.evaluate(() => window.__vc.violations), []);
  assert.deepEqual(seen.errors.filter((e) => !expected?.test(e)), []);
}

// The rows of the counters table: key and the six figures as shown.
const rows = (page) => page.evaluate(() => [...document.querySelectorAll("#counters tbody tr")]
  .filter((tr) => tr.querySelector("button.key"))
  .map((tr) => [tr.querySelector("button.key").textContent,
    ...[...tr.querySelectorAll("td.num")].map((td) => td.textContent)]));

// Waits until the table is loaded, with every key starting with `prefix` and the first one
// `first` (each when given), then returns the keys.
async function tableWhere(page, { prefix = "", first = null } = {}) {
  await page.waitForFunction(([prefix, first]) => {
    const table = document.getElementById("counters");
    const keys = [...table.querySelectorAll("tbody button.key")].map((b) => b.textContent);
    return !table.hasAttribute("aria-busy") && keys.length > 0 &&
      keys.every((k) => k.startsWith(prefix)) && (first === null || keys[0] === first);
  }, [prefix, first]);
  return (await rows(page)).map((row) => row[0]);
}

// Opens the dashboard and signs in with `token` through the form.
async function signIn(page, token = TOKEN) {
  await page.goto(server.api + "/dashboard");
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const signedIn = (page) => tableWhere(page);

// --- the tests ------------------------------------------------------------------------------

test("with no admin token configured, the dashboard and its files answer 404", async () => {
  const plain = await startServer();
  try {
    for (const file of ADMIN_FILES) {
      const response = await fetch(plain.api + file);
      assert.equal(response.status, 404, file);
    }
  } finally {
    await plain.stop();
  }
});

test("with a token, the files are served under the strict CSP and the API wants the token", async () => {
  for (const file of ADMIN_FILES) {
    const response = await fetch(server.api + file);
    assert.equal(response.status, 200, file);
    const type = response.headers.get("content-type");
    assert.match(type, file.endsWith(".js") ? /^text\/javascript/ : file.endsWith(".css") ? /^text\/css/ : /^text\/html/);
  }
  const page = await fetch(server.api + "/dashboard");
  const csp = page.headers.get("content-security-policy") ?? "";
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"]) {
    assert.ok(csp.includes(directive), `CSP "${csp}" lacks ${directive}`);
  }
  for (const authorization of [undefined, "Bearer " + WRONG_TOKEN]) {
    const response = await fetch(server.api + "/counters", { headers: authorization ? { authorization } : {} });
    assert.equal(response.status, 401);
    assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal((await response.json()).error, "unauthorized");
  }
});

test("the token form: a wrong token is refused, the right one shows the counters", async (t) => {
  const { page, seen } = await openPage(t);
  await page.goto(server.api + "/dashboard");
  const input = page.getByLabel("Admin token");
  assert.equal(await input.getAttribute("type"), "password");
  assert.equal(await page.locator("#board").isVisible(), false);

  await input.fill(WRONG_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForFunction(() => /refused/.test(document.getElementById("sign-in-error").textContent));
  assert.equal(await page.evaluate(() => sessionStorage.getItem("vc-admin-token")), null);
  assert.equal(await page.evaluate(() => document.activeElement.id), "token");
  assert.equal(await page.locator("#board").isVisible(), false);

  await input.fill(TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  const keys = await signedIn(page);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("vc-admin-token")), TOKEN);
  assert.deepEqual(keys, ALL_KEYS.slice(0, 50));
  const listing = seen.requests.at(-1);
  assert.equal(listing.authorization, "Bearer " + TOKEN);
  assert.equal(listing.url.searchParams.get("days"), "30");
  assert.equal(listing.url.searchParams.get("limit"), "50");

  // blog/post's figures: today, the last 7 and the last 30 UTC days of its seeded history.
  const figures = (days) => [1, 7, 30].flatMap((n) => [sum(days, n).views, sum(days, n).visitors].map(formatted));
  const table = await rows(page);
  assert.deepEqual(table.find((row) => row[0] === POST.key), [POST.key, ...figures(POST.days)]);
  const linux = table.find((row) => row[0] === "docs/install/linux");
  assert.deepEqual([linux[1], linux[3], linux[5]], ["3", "3", "3"]); // views: today, 7 and 30 days
  assert.equal(await page.locator("#counters tbody td.spark canvas").count(), 50);

  // The token lasts for the tab: a reload stays signed in; signing out forgets it.
  await page.reload();
  await signedIn(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Admin token").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("vc-admin-token")), null);
  assert.equal(await page.locator("#board").isVisible(), false);
  await clean(page, seen, /^Failed to load resource: .* status of 401\b/); // the wrong token's
});

test("search narrows the list on the server; Next and Previous walk all 1,006 counters", async (t) => {
  const { page, seen } = await openPage(t);
  await signIn(page);
  await signedIn(page);

  const search = page.getByLabel("Keys starting with");
  await search.fill("site/p09");
  let keys = await tableWhere(page, { prefix: "site/p09" });
  assert.deepEqual(keys, ALL_KEYS.filter((k) => k.startsWith("site/p09")).slice(0, 50));
  assert.equal(seen.requests.at(-1).url.searchParams.get("prefix"), "site/p09");
  await page.getByRole("button", { name: "Next" }).click();
  keys = await tableWhere(page, { first: "site/p0950" });
  assert.equal(keys.at(-1), "site/p0999");
  assert.ok(await page.getByRole("button", { name: "Next" }).isDisabled());
  await page.getByRole("button", { name: "Previous" }).click();
  keys = await tableWhere(page, { first: "site/p0900" });
  assert.equal(keys.length, 50);

  await search.fill("docs/");
  keys = await tableWhere(page, { prefix: "docs/" });
  assert.deepEqual(keys, ["docs/install/linux", "docs/intro"]);
  await search.fill("nothing-like-this");
  await page.waitForFunction(() => /No counter keys start with/.test(document.querySelector("#counters tbody").textContent));

  // Every counter, page by page, each once and in order; then back to the first page.
  await search.fill("");
  keys = await tableWhere(page, { first: ALL_KEYS[0] });
  const all = [...keys];
  for (let n = 2; n <= Math.ceil(ALL_KEYS.length / 50); n++) {
    await page.getByRole("button", { name: "Next" }).click();
    keys = await tableWhere(page, { first: ALL_KEYS[(n - 1) * 50] });
    all.push(...keys);
  }
  assert.deepEqual(all, ALL_KEYS);
  assert.ok(await page.getByRole("button", { name: "Next" }).isDisabled());
  for (let n = Math.ceil(ALL_KEYS.length / 50) - 1; n >= 1; n--) {
    await page.getByRole("button", { name: "Previous" }).click();
    keys = await tableWhere(page, { first: ALL_KEYS[(n - 1) * 50] });
  }
  assert.equal(keys.length, 50);
  assert.ok(await page.getByRole("button", { name: "Previous" }).isDisabled());
  await clean(page, seen);
});

test("a counter's detail panel charts its history over 30 days, and over 90 when asked", async (t) => {
  const { page, seen } = await openPage(t);
  await signIn(page);
  await signedIn(page);

  // Opened from the keyboard.
  await page.getByRole("button", { name: POST.key, exact: true }).focus();
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("#detail .uplot canvas")
    && document.querySelector("#detail .uplot").dataset.days === "30");
  assert.equal(await page.locator("#detail-title").textContent(), POST.key);
  const shownTotals = () => page.locator("#totals").evaluate((dl) =>
    [...dl.querySelectorAll("dt")].map((dt) => [dt.textContent, dt.nextElementSibling.textContent]));
  const expected = (n) => [
    [`Last ${n} days`, `${formatted(sum(POST.days, n).views)} views · ${formatted(sum(POST.days, n).visitors)} visitors`],
    ["All time", `${formatted(POST.views)} views · ${formatted(POST.visitors)} visitors`],
    ["Last counted", day(0)],
  ];
  assert.deepEqual(await shownTotals(), expected(30));
  let request = seen.requests.at(-1);
  assert.equal(request.url.pathname, "/history/blog/post");
  assert.equal(request.authorization, "Bearer " + TOKEN);
  assert.deepEqual([request.url.searchParams.get("from"), request.url.searchParams.get("to")], [day(29), day(0)]);

  const fetched = seen.requests.length;
  await page.getByLabel("90 days").check();
  await page.waitForFunction(() => document.querySelector("#detail .uplot")?.dataset.days === "90");
  assert.equal(seen.requests.length, fetched + 1);
  request = seen.requests.at(-1);
  assert.deepEqual([request.url.searchParams.get("from"), request.url.searchParams.get("to")], [day(89), day(0)]);
  assert.deepEqual(await shownTotals(), expected(90));
  assert.equal(await page.locator("#detail canvas").first().isVisible(), true);

  // Escape closes it and gives the focus back to the counter's button.
  await page.locator("#detail-title").focus();
  await page.keyboard.press("Escape");
  await page.locator("#detail").waitFor({ state: "hidden" });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), POST.key);
  await clean(page, seen);
});

test("the open counter's totals and today's figures follow new hits live", async (t) => {
  const { page, seen } = await openPage(t);
  await signIn(page);
  await signedIn(page);
  const key = "blog/2026/launch"; // counted once over HTTP, today
  await page.getByRole("button", { name: key, exact: true }).click();
  await page.waitForFunction(() => document.querySelector("#detail .uplot canvas"));
  await page.waitForFunction(() => document.getElementById("detail").dataset.live === "on");
  for (let i = 0; i < 2; i++) await hit(server.api, key);
  await page.waitForFunction(() => [...document.querySelectorAll("#totals dd")].map((dd) => dd.textContent)
    .join("|") === `3 views · 1 visitor|3 views · 1 visitor|${new Date().toISOString().slice(0, 10)}`);
  await page.getByRole("button", { name: "Close" }).click();
  await page.locator("#detail").waitFor({ state: "hidden" });
  await clean(page, seen);
});

for (const colorScheme of ["light", "dark"]) {
  test(`the dashboard has no accessibility violations (axe-core, ${colorScheme}), and a screenshot`, async (t) => {
    // The screenshot first, under the page's own CSP; then axe, injected as a script, which
    // that CSP would rightly block, in a context that bypasses it.
    const shoot = await openPage(t, { colorScheme });
    await signIn(shoot.page);
    await signedIn(shoot.page);
    await shoot.page.getByRole("button", { name: POST.key, exact: true }).click();
    await shoot.page.waitForFunction(() => document.querySelector("#detail .uplot canvas"));
    await shoot.page.evaluate(() => document.activeElement.blur());
    const file = path.join(artifacts, colorScheme === "light" ? "dashboard.png" : "dashboard-dark.png");
    await shoot.page.screenshot({ path: file });
    if (colorScheme === "light" && process.env.VC_UPDATE_DOCS === "1") fs.copyFileSync(file, docsShot);
    await clean(shoot.page, shoot.seen);

    const { page } = await openPage(t, { colorScheme, bypassCSP: true });
    await page.goto(server.api + "/dashboard");
    await page.getByLabel("Admin token").waitFor();
    await page.addScriptTag({ content: axeSource });
    const axe = async (what) => {
      const result = await page.evaluate(() => window.axe.run(document));
      const violations = result.violations.map((v) =>
        `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(" ")).join("\n  ")}`);
      assert.deepEqual(violations, [], what);
      assert.ok(result.passes.length > 10);
    };
    await axe("the token form");
    await page.getByLabel("Admin token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await signedIn(page);
    await page.getByRole("button", { name: POST.key, exact: true }).click();
    await page.waitForFunction(() => document.querySelector("#detail .uplot canvas"));
    await axe("the counters and the detail panel");
  });
}
