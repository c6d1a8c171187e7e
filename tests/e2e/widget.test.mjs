// Browser tests of the widget, the demo page and the badge: Debian's chromium (headless),
// driven by playwright-core, against the real server binary on 127.0.0.1.
//
//   VC_BINARY=build/release/visitor-counter node --test tests/e2e/widget.test.mjs
//
// VC_BINARY: the server (CTest sets it). VC_E2E_ARTIFACTS: where screenshots go (CTest:
// <build>/e2e-artifacts; default: a new temporary directory). VC_CHROMIUM: the browser
// (default /usr/bin/chromium); see harness.mjs.
import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { artifacts, axeSource, chromium, chromiumArgs, chromiumPath, launchServer } from "./harness.mjs";

const TIMEOUT_MS = 4000; // the widget's
const PLACEHOLDER = "\u2014";

// --- the real server ------------------------------------------------------------------------

// Starts `visitor-counter serve` on a free port of 127.0.0.1 with its own SQLite file.
async function startServer(...flags) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-e2e-server-"));
  const server = await launchServer(dir, ["--store", "sqlite:" + path.join(dir, "counter.db"), ...flags]);
  const api = server.api;
  return {
    ...server,
    // The server's count for `key` (0 if it never counted), read without an Origin.
    async count(key) {
      const response = await fetch(`${api}/counters/${key}`);
      if (response.status === 404) return 0;
      assert.equal(response.status, 200);
      return (await response.json()).count;
    },
    async metric(line) {
      const text = await (await fetch(`${api}/metrics`)).text();
      const found = text.split("\n").find((l) => l.startsWith(line + " "));
      return found ? Number(found.split(" ").pop()) : 0;
    },
  };
}

// A plain static server on another port of 127.0.0.1: the "second local origin". `pages`
// maps a path to HTML; every page is sent with a strict CSP that allows `allow` for scripts,
// fetches and images.
async function startSite(pages, allow) {
  const policy = `default-src 'none'; script-src ${allow}; connect-src ${allow}; ` +
    `img-src ${allow} data:; style-src 'none'; base-uri 'none'`;
  const server = http.createServer((req, res) => {
    const body = pages[req.url];
    if (body === undefined) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": policy });
    res.end(body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

// Accepts connections and never answers: an API that hangs.
async function startBlackHole() {
  const sockets = new Set();
  const server = http.createServer(() => {});
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close() { for (const s of sockets) s.destroy(); server.close(); },
  };
}

function widgetPage(title, scriptSrc, extra = "") {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<link rel="icon" href="data:,"></head><body>
<h1>${title}</h1>
<p id="content">The page's own content. Visitors: <span data-visitor-count>…</span></p>
<script src="${scriptSrc}" ${extra} async></script>
</body></html>`;
}

// --- the browser ----------------------------------------------------------------------------

let server;  // allows http://localhost:* only; the browser opens it as http://localhost:PORT
let demo;    // http://localhost:PORT
let browser; // bfcache on (playwright turns it off by default)

before(async () => {
  server = await startServer("--allow-origin", "http://localhost:*");
  demo = `http://localhost:${server.port}`;
  browser = await chromium.launch({
    executablePath: chromiumPath, headless: true, args: chromiumArgs,
    ignoreDefaultArgs: ["--disable-back-forward-cache"],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  console.log("e2e: screenshots in " + artifacts);
});

// A fresh page that records what the tests check: console warnings, uncaught errors, CSP
// violations, layout shifts, pageshow events.
async function openPage(t, b = browser, options = {}) {
  const context = await b.newContext({ viewport: { width: 1200, height: 800 }, locale: "en-US", ...options });
  context.setDefaultTimeout(15000);
  await context.addInitScript(() => {
    window.__vc = { shifts: 0, violations: [], shows: [], settledAt: null, fetchAt: null };
    // When the widget's first request started: its timeout runs from there, so timing
    // checks measure from it, not from a navigation that a busy machine may slow down.
    const realFetch = window.fetch;
    window.fetch = function (...args) {
      if (window.__vc.fetchAt === null) window.__vc.fetchAt = performance.now();
      return realFetch.apply(this, args);
    };
    // When the widget settled, in ms since navigation start.
    new MutationObserver(() => {
      if (window.__vc.settledAt === null && document.querySelector("[data-visitor-state]")) {
        window.__vc.settledAt = performance.now();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-visitor-state"] });
    addEventListener("securitypolicyviolation", (e) => window.__vc.violations.push(e.violatedDirective));
    addEventListener("pageshow", (e) => window.__vc.shows.push(e.persisted));
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__vc.shifts += entry.value;
    }).observe({ type: "layout-shift", buffered: true });
  });
  const page = await context.newPage();
  const seen = { warnings: [], errors: [] };
  page.on("console", (msg) => { if (msg.type() === "warning") seen.warnings.push(msg.text()); });
  page.on("pageerror", (error) => seen.errors.push(String(error)));
  t.after(async () => {
    const file = path.join(artifacts, t.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase() + ".png");
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    await context.close();
  });
  return { page, seen };
}

const state = (page) => page.locator("[data-visitor-count]").first().getAttribute("data-visitor-state");
const shown = (page) => page.locator("[data-visitor-count]").first().textContent();
const formatted = (n) => new Intl.NumberFormat("en-US").format(n);

// How long the widget took from its first request to settling, in ms.
const settleTime = (page) => page.evaluate(() => window.__vc.settledAt - window.__vc.fetchAt);

// Waits until the widget has settled (a number or the placeholder) and returns the state.
async function settled(page) {
  await page.waitForFunction(() => {
    const el = document.querySelector("[data-visitor-count]");
    return el && el.hasAttribute("data-visitor-state");
  });
  return state(page);
}

// --- the tests ------------------------------------------------------------------------------

test("demo page shows the server's count, +1 per load and per reload, none on back/forward", async (t) => {
  const { page, seen } = await openPage(t);
  const start = await server.count("visitors");

  await page.goto(demo + "/");
  assert.equal(await settled(page), "ready");
  assert.equal(await shown(page), formatted(start + 1));
  assert.equal(await server.count("visitors"), start + 1);

  await page.reload();
  assert.equal(await settled(page), "ready");
  assert.equal(await shown(page), formatted(start + 2));
  assert.equal(await server.count("visitors"), start + 2);

  // The badge shows the same number, without counting.
  const badge = page.locator("img[data-visitor-badge]");
  await page.waitForFunction(() => {
    const img = document.querySelector("img[data-visitor-badge]");
    return img && img.complete && img.naturalWidth > 0;
  });
  assert.match(await badge.getAttribute("src"), /\/badge\/visitors\.svg\?count=false$/);

  // Away to another page of the same origin and back: restored from the bfcache (no load
  // event then, so wait for the pageshow that says so).
  const awayAndBack = async (away) => {
    const shows = await page.evaluate(() => window.__vc.shows.length);
    await away();
    await page.goBack({ waitUntil: "commit" });
    await page.waitForFunction((n) => window.__vc?.shows.length > n && window.__vc.shows.at(-1), shows);
  };
  await awayAndBack(() => page.goto(demo + "/healthz"));
  assert.equal(await state(page), "ready");
  assert.equal(await shown(page), formatted(start + 2));
  assert.equal(await server.count("visitors"), start + 2);
  await awayAndBack(async () => {
    await page.goForward({ waitUntil: "commit" });
    await page.waitForFunction(() => location.pathname === "/healthz" && window.__vc?.shows.length);
  });
  assert.equal(await shown(page), formatted(start + 2));
  assert.equal(await server.count("visitors"), start + 2);

  assert.equal(await page.evaluate(() => window.__vc.shifts), 0, "layout shift when the number arrived");
  assert.deepEqual(await page.evaluate(() => window.__vc.violations), []);
  assert.deepEqual(seen.warnings, []);
  assert.deepEqual(seen.errors, []);
  const live = await page.evaluate(() => {
    const region = document.querySelector("[data-visitor-count]").closest("[aria-live]");
    return [region.getAttribute("aria-live"), region.textContent.replace(/\s+/g, " ").trim(),
      region.hasAttribute("aria-busy")];
  });
  assert.deepEqual(live, ["polite", `Visitors so far: ${formatted(start + 2)}`, false]);
});

// One view counted from outside the page, as another visitor's browser would.
async function countElsewhere(key = "") {
  const response = await fetch(`${server.api}/count${key ? "/" + key : ""}`, {
    method: "POST", headers: { "User-Agent": "Mozilla/5.0 (another visitor)" },
  });
  assert.equal(response.status, 200);
}

test("data-live: the demo page's number moves when another client counts, streamed", async (t) => {
  const { page, seen } = await openPage(t);
  const streams = [];
  page.on("request", (request) => { if (request.url().includes("/stream/")) streams.push(request.url()); });
  const streaming = page.waitForResponse((response) => response.url().includes("/stream/"));
  await page.goto(demo + "/");
  assert.equal(await settled(page), "ready");
  const start = await server.count("visitors");
  assert.equal(await shown(page), formatted(start));
  assert.equal((await streaming).status(), 200);
  for (const n of [1, 2]) {
    await countElsewhere();
    await page.waitForFunction((text) => document.querySelector("[data-visitor-count]").textContent === text,
      formatted(start + n));
  }
  assert.equal(await server.count("visitors"), start + 2);  // the stream counts nothing
  assert.deepEqual(streams, [demo + "/stream/visitors"]);
  assert.deepEqual(seen.warnings, []);
  assert.deepEqual(seen.errors, []);
});

test("data-live: where the API cannot stream (Lambda: 404) the number is read again while visible", async (t) => {
  const { page, seen } = await openPage(t);
  const reads = [];
  await page.route(`${demo}/polled.html`, (route) => route.fulfill({
    contentType: "text/html", body: widgetPage("Polled", "/counter.js", 'data-key="polled" data-live="10"'),
  }));
  await page.route("**/stream/**", (route) => route.fulfill({
    status: 404, contentType: "application/json", body: '{"error":"not_found","message":"no streams here"}',
  }));
  page.on("request", (request) => { if (request.url().includes("/counters/polled")) reads.push(request.method()); });
  await page.goto(demo + "/polled.html");
  assert.equal(await settled(page), "ready");
  const start = await server.count("polled");
  await countElsewhere("polled");
  await page.waitForFunction((text) => document.querySelector("[data-visitor-count]").textContent === text,
    formatted(start + 1), { timeout: 25000 });
  assert.deepEqual(reads.slice(0, 1), ["GET"]);
  assert.equal(await server.count("polled"), start + 1);
  assert.deepEqual(seen.errors, []);
});

test("with no allow-list the demo page counts at the printed URL, and only there", async (t) => {
  // Without --public-url, a server on a loopback address exempts the URL it prints; the
  // Host a page was loaded under proves nothing (anyone can point a name at a server).
  const own = await startServer();
  t.after(() => own.stop());
  const { page, seen } = await openPage(t);
  await page.goto(own.api + "/");
  assert.equal(await settled(page), "ready");
  assert.equal(await shown(page), formatted(1));
  assert.equal(await own.count("visitors"), 1);

  await page.goto(`http://localhost:${own.port}/`);
  assert.equal(await settled(page), "unavailable");
  assert.equal(await own.count("visitors"), 1);
  assert.equal(seen.warnings.length, 1, seen.warnings.join("\n"));
  assert.match(seen.warnings[0], /refused this page's origin http:\/\/localhost:\d+/);
  assert.deepEqual(seen.errors, []);
});

test("back/forward without the bfcache reads the count and does not count", async (t) => {
  const plain = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
  const { page, seen } = await openPage(t, plain);
  t.after(() => plain.close()); // after the screenshot
  await page.goto(demo + "/");
  assert.equal(await settled(page), "ready");
  const counted = await server.count("visitors");
  assert.equal(await shown(page), formatted(counted));

  await page.goto(demo + "/healthz");
  await page.goBack();
  assert.equal(await settled(page), "ready");
  const navigation = await page.evaluate(() => performance.getEntriesByType("navigation")[0].type);
  assert.equal(navigation, "back_forward");
  assert.equal(await shown(page), formatted(counted));
  assert.equal(await server.count("visitors"), counted);
  assert.deepEqual(seen.warnings, []);
});

test("an owner's #vc-ignore stops this browser counting on the site, #vc-count undoes it", async (t) => {
  const { page, seen } = await openPage(t);
  const start = await server.count("visitors");
  const load = async (hash) => {
    await page.goto(demo + "/healthz");  // a full load each time, not a same-page hash change
    await page.goto(demo + "/" + hash);
    assert.equal(await settled(page), "ready");
    return page.locator("[data-visitor-count]").first().textContent();
  };

  assert.equal(await load("#vc-ignore"), formatted(start));  // shows the number, counts nothing
  assert.equal(await page.evaluate(() => localStorage.getItem("vc-ignore")), "1");
  assert.equal(await load(""), formatted(start));  // remembered by this browser
  assert.equal(await server.count("visitors"), start);

  assert.equal(await load("#vc-count"), formatted(start + 1));
  assert.equal(await page.evaluate(() => localStorage.getItem("vc-ignore")), null);
  assert.equal(await load(""), formatted(start + 2));
  assert.equal(await server.count("visitors"), start + 2);

  // A #vc-ignore link clicked on the page sets it too, without a reload.
  await page.click('a[href="#vc-ignore"]');
  // The page hears the click as a hashchange event, after the click itself returns.
  await page.waitForFunction(() => localStorage.getItem("vc-ignore") === "1", null,
                             { timeout: 5000 });
  assert.equal(await page.evaluate(() => localStorage.getItem("vc-ignore")), "1");
  assert.equal(await load(""), formatted(start + 2));
  assert.equal(await server.count("visitors"), start + 2);
  assert.deepEqual(seen.warnings, []);
  assert.deepEqual(seen.errors, []);
});

test("a page view's request resent after a network failure counts once (Idempotency-Key)", async (t) => {
  const { page, seen } = await openPage(t);
  const start = await server.count("visitors");
  const sent = [];
  // The first attempt reaches the server and counts, then the browser sees the connection
  // reset: the widget resends, and the server must recognise the same page view.
  await page.route(`${demo}/count`, async (route) => {
    sent.push(route.request().headers()["idempotency-key"]);
    if (sent.length === 1) {
      const answer = await route.fetch();
      assert.equal(answer.status(), 200);
      return route.abort("connectionreset");
    }
    return route.continue();
  });
  await page.goto(demo + "/");
  assert.equal(await settled(page), "ready");
  assert.equal(sent.length, 2);
  assert.match(sent[0], /^"[0-9a-f-]{32,36}"$/);
  assert.equal(sent[1], sent[0]);
  assert.equal(await shown(page), formatted(start + 1));
  assert.equal(await server.count("visitors"), start + 1);
  assert.equal(await server.metric('vc_hits_ignored_total{reason="idempotent_replay"}'), 1);

  // The next page view has a key of its own, and counts.
  await page.unroute(`${demo}/count`);
  await page.reload();
  assert.equal(await settled(page), "ready");
  assert.equal(await server.count("visitors"), start + 2);
  assert.deepEqual(seen.errors, []);
});

test("a page on an origin off the allow-list is refused, not counted, and shows the placeholder", async (t) => {
  const site = await startSite({
    "/": widgetPage("Someone else's page", `${demo}/counter.js`, 'data-key="foreign"'),
  }, demo);
  t.after(() => site.close());
  const refusedBefore = await server.metric('vc_http_requests_total{route="count",status="403"}');
  const { page, seen } = await openPage(t);

  await page.goto(site.origin + "/");
  assert.equal(await settled(page), "unavailable");
  assert.equal(await shown(page), PLACEHOLDER);
  assert.equal(await page.locator("[data-visitor-count]").getAttribute("title"), "Visitor count unavailable");
  assert.equal(await server.count("foreign"), 0);
  // The Idempotency-Key header makes the browser ask first (a CORS preflight), which is
  // refused; a page cannot tell that from a network failure, so the widget asks once more.
  assert.equal(await server.metric('vc_http_requests_total{route="count",status="403"}'), refusedBefore + 2);
  assert.equal(seen.warnings.length, 1, seen.warnings.join("\n"));
  assert.match(seen.warnings[0], /^visitor-counter: .*refused this page's origin http:\/\/127\.0\.0\.1:\d+/);
  assert.match(await page.locator("#content").textContent(), /The page's own content/);
  assert.deepEqual(await page.evaluate(() => window.__vc.violations), []);
  assert.deepEqual(seen.errors, []);
});

test("with the API stopped, the placeholder appears within the timeout and the page is intact", async (t) => {
  const stopped = await startServer();
  await stopped.stop();
  const site = await startSite({
    "/": widgetPage("API down", `${demo}/counter.js`, `data-api="${stopped.api}" data-key="down"`),
  }, `${demo} ${stopped.api}`);
  t.after(() => site.close());
  const { page, seen } = await openPage(t);

  await page.goto(site.origin + "/");
  assert.equal(await settled(page), "unavailable");
  const took = await settleTime(page);
  assert.ok(took < TIMEOUT_MS, `placeholder ${took} ms after the request`);
  assert.equal(await shown(page), PLACEHOLDER);
  assert.equal(await page.locator("h1").textContent(), "API down");
  assert.match(await page.locator("#content").textContent(), /^The page's own content\. Visitors: —$/);
  assert.equal(seen.warnings.length, 1, seen.warnings.join("\n"));
  assert.match(seen.warnings[0], /^visitor-counter: could not reach http:\/\/127\.0\.0\.1:\d+\/count\/down/);
  assert.deepEqual(seen.errors, []);
});

test("with the API hanging, the request is abandoned after the timeout and not retried", async (t) => {
  const hole = await startBlackHole();
  t.after(() => hole.close());
  const site = await startSite({
    "/": widgetPage("API slow", `${demo}/counter.js`, `data-api="${hole.url}"`),
  }, `${demo} ${hole.url}`);
  t.after(() => site.close());
  const { page, seen } = await openPage(t);
  const requests = [];
  page.on("request", (r) => { if (r.url().startsWith(hole.url)) requests.push(r.method() + " " + r.url()); });

  await page.goto(site.origin + "/");
  assert.equal(await settled(page), "unavailable");
  const took = await settleTime(page);
  assert.ok(took >= TIMEOUT_MS - 50 && took < TIMEOUT_MS + 2500, `placeholder ${took} ms after the request`);
  assert.equal(await shown(page), PLACEHOLDER);
  assert.deepEqual(requests, [`POST ${hole.url}/count`]);
  assert.equal(seen.warnings.length, 1, seen.warnings.join("\n"));
  assert.match(seen.warnings[0], /no answer from .* within 4 s/);
  assert.match(await page.locator("#content").textContent(), /The page's own content/);
});

test("the badge loads as an <img> and its SVG is XML with the label escaped", async (t) => {
  const label = "<script>alert(1)</script>";
  const query = `?label=${encodeURIComponent(label)}&color=orange&count=false`;
  const site = await startSite({
    "/": `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Badges</title>
<link rel="icon" href="data:,"></head><body><h1>README</h1>
<p><img id="counting" src="${demo}/badge/e2e-badge.svg" alt="visitors"></p>
<p><img id="escaped" src="${demo}/badge/e2e-badge.svg${query}" alt="escaped"></p>
</body></html>`,
  }, demo);
  t.after(() => site.close());
  const { page, seen } = await openPage(t);

  await page.goto(site.origin + "/");
  for (const id of ["counting", "escaped"]) {
    await page.waitForFunction((i) => document.getElementById(i).complete, id);
    const width = await page.evaluate((i) => document.getElementById(i).naturalWidth, id);
    assert.ok(width > 0, `#${id} naturalWidth ${width}`);
  }
  const counted = await server.count("e2e-badge");
  assert.equal(counted, 1); // the counting <img> only

  const response = await fetch(`${server.api}/badge/e2e-badge.svg${query}`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/svg+xml; charset=utf-8");
  assert.match(response.headers.get("cache-control"), /no-cache/);
  assert.match(response.headers.get("etag"), /^"[0-9a-f]{16}"$/);
  const svg = await response.text();
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    return {
      error: doc.getElementsByTagName("parsererror").length > 0,
      root: doc.documentElement.localName,
      title: doc.querySelector("title")?.textContent,
      scripts: doc.getElementsByTagName("script").length,
      label: doc.documentElement.getAttribute("aria-label"),
    };
  }, svg);
  assert.deepEqual(parsed, {
    error: false, root: "svg", title: `${label}: ${formatted(counted)}`, scripts: 0,
    label: `${label}: ${formatted(counted)}`,
  });

  const bad = await fetch(`${server.api}/badge/e2e-badge.svg?color=notacolor`);
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error, "bad_option");
  assert.equal(await server.count("e2e-badge"), counted);
  assert.deepEqual(seen.errors, []);
});

for (const colorScheme of ["light", "dark"]) {
  test(`the demo page has no accessibility violations (axe-core, ${colorScheme})`, async (t) => {
    // axe is injected as a script, which the page's own CSP would rightly block.
    const { page } = await openPage(t, browser, { bypassCSP: true, colorScheme });
    await page.goto(demo + "/");
    assert.equal(await settled(page), "ready");
    await page.waitForFunction(() => document.querySelector("img[data-visitor-badge]").complete);
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(() => window.axe.run(document));
    const violations = result.violations.map((v) =>
      `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(" ")).join("\n  ")}`);
    assert.deepEqual(violations, []);
    assert.ok(result.passes.length > 10);
  });
}
