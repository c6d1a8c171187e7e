// Browser tests of the widget on real sites: a single-page app whose routes change with
// history.pushState (data-key="auto", with the Navigation API and without it), the JS call
// for a route change (visitorCounter.pageview()), several counters on one page, and how a
// path becomes a key. Debian's chromium (headless), driven by playwright-core, against the
// real server binary on 127.0.0.1. Every test counts the requests the page sends to the
// counter and checks the server's totals: N route changes are N counts, one request per key.
//
//   VC_BINARY=build/release/visitor-counter node --test tests/e2e/pages.test.mjs
//
// VC_BINARY, VC_E2E_ARTIFACTS, VC_CHROMIUM: see harness.mjs.
import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { artifacts, chromium, chromiumArgs, chromiumPath, launchServer } from "./harness.mjs";

const TOKEN = "e2e-pages-admin-token-0123456789";

// --- the real server and a site ---------------------------------------------------------

// Starts `visitor-counter serve` with its own SQLite file, allowing every port of
// 127.0.0.1 (the sites below), with an admin token to set counters up.
async function startServer(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-e2e-pages-"));
  const server = await launchServer(dir,
    ["--store", "sqlite:" + path.join(dir, "counter.db"), "--allow-origin", "http://127.0.0.1:*"],
    { ...process.env, VC_ADMIN_TOKEN: TOKEN });
  t.after(() => server.stop());
  return {
    ...server,
    // The server's count for `key` (0 if it never counted), read without an Origin.
    async count(key) {
      const response = await fetch(`${server.api}/counters/${key}`);
      if (response.status === 404) return 0;
      assert.equal(response.status, 200);
      return (await response.json()).count;
    },
    // Sets the counter `key` to `views` views (the owner's PUT), so that counters differ.
    async set(key, views) {
      const response = await fetch(`${server.api}/counters/${key}`, {
        method: "PUT", body: JSON.stringify({ views }),
        headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      });
      assert.equal(response.status, 200);
    },
  };
}

// A static site on another port of 127.0.0.1 that answers every path with `html` (as a
// single-page app's host does) and /app.js with `app`, under a strict CSP that allows the
// site's own scripts and the counter `api`.
async function startSite(t, api, html, app = "") {
  const policy = `default-src 'none'; script-src 'self' ${api}; connect-src ${api}; ` +
    `img-src ${api} data:; style-src 'none'; base-uri 'none'`;
  const server = http.createServer((req, res) => {
    const script = req.url === "/app.js";
    res.writeHead(200, {
      "Content-Type": script ? "text/javascript" : "text/html; charset=utf-8",
      "Content-Security-Policy": policy,
    });
    res.end(script ? app : html);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  return `http://127.0.0.1:${server.address().port}`;
}

function page(body, tag) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Site</title>
<link rel="icon" href="data:,"></head><body>
${body}
${tag}
</body></html>`;
}

// The single-page app: links marked data-route change the route with history.pushState and
// render the new route a moment later, as React or Vue do; back/forward renders again from
// popstate. Each render adds the widget's tag once more, as Astro's router runs a page's
// scripts again: it must count nothing more.
const APP = `
const titles = { "/": "Home", "/blog/": "Blog", "/about": "About", "/contact": "Contact" };
window.__renders = 0;
window.__reruns = 0;
function render() {
  const main = document.querySelector("main");
  main.innerHTML = "<h2></h2><p>This page: <span id='view' data-visitor-count>…</span></p>" +
    (location.pathname === "/blog/" ? "<p>Home: <span id='home' data-visitor-count='home'>…</span></p>" : "");
  main.querySelector("h2").textContent = titles[location.pathname] || location.pathname;
  const tag = document.querySelector("script[data-key]");
  const again = document.createElement("script");
  for (const a of tag.attributes) again.setAttribute(a.name, a.value);
  again.addEventListener("load", () => { window.__reruns++; });
  document.body.append(again);
  window.__renders++;
}
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-route]");
  if (!link) return;
  event.preventDefault();
  history.pushState({}, "", link.href);
  setTimeout(render, 0);
});
addEventListener("popstate", () => setTimeout(render, 0));
`;

const NAV = `<nav><a data-route href="/">Home</a> <a data-route href="/blog/">Blog</a>
<a data-route href="/about">About</a> <a data-route href="/contact">Contact</a></nav>
<main><h2>Home</h2><p>This page: <span id="view" data-visitor-count>…</span></p></main>
<footer>Views of this page: <span id="layout" data-visitor-count>…</span></footer>
<script src="/app.js"></script>`;

// --- the browser ----------------------------------------------------------------------------

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
});
after(async () => {
  await browser?.close();
  console.log("e2e: screenshots in " + artifacts);
});

// A fresh page that records every request it sends to the counter's /count and /counters
// ("POST /count/home"), console warnings, uncaught errors and CSP violations. Without
// `navigationApi` the page has no window.navigation (as in browsers before 2026), so the
// widget falls back to wrapping history.pushState.
async function openPage(t, api, { navigationApi = true } = {}) {
  const context = await browser.newContext({ locale: "en-US" });
  context.setDefaultTimeout(15000);
  await context.addInitScript((keep) => {
    if (!keep) delete window.navigation;
    window.__violations = [];
    addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));
  }, navigationApi);
  const tab = await context.newPage();
  const sent = [];
  const seen = { warnings: [], errors: [] };
  tab.on("request", (r) => {
    const url = new URL(r.url());
    if (url.origin === api && /^\/count(ers)?(\/|$)/.test(url.pathname)) sent.push(`${r.method()} ${url.pathname}`);
  });
  tab.on("console", (msg) => { if (msg.type() === "warning") seen.warnings.push(msg.text()); });
  tab.on("pageerror", (error) => seen.errors.push(String(error)));
  t.after(async () => {
    const file = path.join(artifacts, t.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase() + ".png");
    await tab.screenshot({ path: file, fullPage: true }).catch(() => {});
    await context.close();
  });
  return { page: tab, sent, seen };
}

const formatted = (n) => new Intl.NumberFormat("en-US").format(n);

// Waits until every element matching `selector` shows `n` and is settled as ready; fails
// with what they show after 10 s.
async function shows(page, selector, n) {
  const all = (s) => Array.prototype.map.call(document.querySelectorAll(s),
    (el) => `${el.textContent} (${el.getAttribute("data-visitor-state")})`);
  try {
    await page.waitForFunction(([s, want]) =>
      document.querySelector(s) !== null && Array.prototype.every.call(document.querySelectorAll(s),
        (el) => el.getAttribute("data-visitor-state") === "ready" && el.textContent === want),
      [selector, formatted(n)], { timeout: 10000 });
  } catch (error) {
    assert.fail(`${selector} should show ${n}; they show ${(await page.evaluate(all, selector)).join(", ")}`);
  }
}

async function clean(page, seen) {
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(seen.warnings, []);
  assert.deepEqual(seen.errors, []);
}

// --- the tests ------------------------------------------------------------------------------

for (const navigationApi of [true, false]) {
  const how = navigationApi ? "the Navigation API" : "history.pushState wrapped, no Navigation API";
  test(`a single-page app with data-key="auto": one count per load and per route change (${how})`, async (t) => {
    const server = await startServer(t);
    await server.set("home", 10);
    await server.set("blog", 20);
    await server.set("about", 30);
    const site = await startSite(t, server.api,
      page(NAV, `<script src="${server.api}/counter.js" data-key="auto" async></script>`), APP);
    const { page: tab, sent, seen } = await openPage(t, server.api, { navigationApi });
    // Does `action` and waits until the app rendered again and the tag it added has run.
    const rendered = async (action) => {
      const n = await tab.evaluate(() => window.__renders);
      await action();
      await tab.waitForFunction((k) => window.__renders > k && window.__reruns === window.__renders, n);
    };
    const open = (route) => rendered(() => tab.click(`nav a[href="${route}"]`));

    await tab.goto(site + "/");
    await shows(tab, "#view, #layout", 11);
    assert.equal(await tab.evaluate(() => /\[native code\]/.test(history.pushState.toString())), navigationApi);
    assert.deepEqual(sent, ["POST /count/home"]);

    await open("/blog/");
    await shows(tab, "#view, #layout", 21);
    await shows(tab, "#home", 11);  // another counter, known from this page's first count
    await open("/about");
    await shows(tab, "#view, #layout", 31);
    assert.equal(await tab.evaluate(() => window.visitorCounter.pageview()), false, "counted already");
    assert.deepEqual(sent, ["POST /count/home", "POST /count/blog", "POST /count/about"]);

    // The same path again: a query, a hash, a trailing slash. None is a new page view.
    await tab.evaluate(() => {
      history.pushState({}, "", "/about?tab=team");
      history.pushState({}, "", "/about?tab=team#ada");
      history.replaceState({}, "", "/about/");
      location.hash = "#top";
    });
    await tab.waitForFunction(() => location.hash === "#top");
    assert.equal(await tab.evaluate(() => window.visitorCounter.pageview()), false);

    await open("/blog/");  // back to a path counted before: a new view of it
    await shows(tab, "#view, #layout", 22);

    // Back and forward show the number known for the path and send nothing.
    await rendered(() => tab.goBack());
    assert.equal(await tab.evaluate(() => location.pathname + location.hash), "/about/#top");
    await shows(tab, "#view, #layout", 31);
    await rendered(() => tab.goForward());
    await shows(tab, "#view, #layout", 22);

    await open("/contact");
    await shows(tab, "#view, #layout", 1);
    assert.deepEqual(sent, ["POST /count/home", "POST /count/blog", "POST /count/about",
      "POST /count/blog", "POST /count/contact"]);
    assert.deepEqual(
      [await server.count("home"), await server.count("blog"), await server.count("about"),
        await server.count("contact")],
      [11, 22, 31, 1]);
    await clean(tab, seen);
  });
}

test("pageview() counts a route change once with a fixed key; an owner's browser only reads", async (t) => {
  const server = await startServer(t);
  const site = await startSite(t, server.api,
    page(`<p>App views: <span id="app" data-visitor-count>…</span></p>`,
      `<script src="${server.api}/counter.js" data-key="app" async></script>`));
  const { page: tab, sent, seen } = await openPage(t, server.api);

  await tab.goto(site + "/");
  await shows(tab, "#app", 1);
  const pageview = () => tab.evaluate(() => window.visitorCounter.pageview());
  const go = (url) => tab.evaluate((u) => history.pushState({}, "", u), url);

  await go("/settings");  // a fixed key: a route change counts only when the page says so
  assert.deepEqual(sent, ["POST /count/app"]);
  assert.equal(await pageview(), true);
  assert.equal(await pageview(), false, "the same route twice");
  await shows(tab, "#app", 2);
  await go("/settings?tab=2#mail");
  assert.equal(await pageview(), false, "only the query and hash changed");
  await go("/inbox");
  assert.equal(await pageview(), true);
  await shows(tab, "#app", 3);
  assert.deepEqual(sent, ["POST /count/app", "POST /count/app", "POST /count/app"]);

  await tab.evaluate(() => localStorage.setItem("vc-ignore", "1"));  // the owner's switch
  await go("/sent");
  const read = tab.waitForResponse((r) => r.url().endsWith("/counters/app"));
  assert.equal(await pageview(), true);
  assert.equal((await read).status(), 200);
  await shows(tab, "#app", 3);
  assert.deepEqual(sent, ["POST /count/app", "POST /count/app", "POST /count/app", "GET /counters/app"]);
  assert.equal(await server.count("app"), 3);
  await clean(tab, seen);
});

test("several counters on one page: one request per key, the page's own from its count", async (t) => {
  const server = await startServer(t);
  await server.set("blog/post", 5);
  await server.set("home", 10);
  await server.set("other", 7);
  const site = await startSite(t, server.api, page(`
<p>This post: <span id="page" data-visitor-count>…</span>, again <span id="post" data-visitor-count="blog/post">…</span></p>
<p>Home: <span class="home" id="rekeyed" data-visitor-count="home">…</span> <span class="home" data-visitor-count="home">…</span>
  <span class="home" data-visitor-count=" home ">…</span></p>
<p>New: <span id="never" data-visitor-count="never/counted">…</span></p>
<p>Broken: <span id="bad" data-visitor-count="bad key">…</span></p>
<p id="more"></p>
<img data-visitor-badge="color=green" alt="visitor count">`,
  `<script src="${server.api}/counter.js" data-key="blog/post" async></script>`));
  const { page: tab, sent, seen } = await openPage(t, server.api);

  await tab.goto(site + "/");
  await shows(tab, "#page, #post", 6);
  await shows(tab, ".home", 10);
  await shows(tab, "#never", 0);
  await tab.waitForFunction(() => document.querySelector("#bad").getAttribute("data-visitor-state") === "unavailable");
  assert.equal(await tab.textContent("#bad"), "\u2014");
  assert.deepEqual(sent.slice().sort(), ["GET /counters/bad%20key", "GET /counters/home",
    "GET /counters/never/counted", "POST /count/blog/post"]);
  assert.equal(seen.warnings.length, 1, seen.warnings.join("\n"));
  assert.match(seen.warnings[0], /\/counters\/bad%20key answered HTTP 400 \(bad_key\)/);
  await tab.waitForFunction(() => document.querySelector("img[data-visitor-badge]").complete);
  assert.match(await tab.getAttribute("img[data-visitor-badge]", "src"),
    /\/badge\/blog\/post\.svg\?count=false&color=green$/);

  // A framework adds elements later, and gives one another key: known counters are shown
  // at once, a new one is read once for all its elements.
  await tab.evaluate(() => {
    const more = document.querySelector("#more");
    more.innerHTML = "<span id='home-too' data-visitor-count='home'>…</span>" +
      "<span class='other' data-visitor-count='other'>…</span><span class='other' data-visitor-count='other'>…</span>";
    document.querySelector("#rekeyed").setAttribute("data-visitor-count", "other");
  });
  await shows(tab, "#home-too", 10);
  await shows(tab, ".other, #rekeyed", 7);
  await tab.evaluate(() => document.querySelector("#never").setAttribute("data-visitor-count", "blog/post"));
  await shows(tab, "#never", 6);
  assert.equal(sent.length, 5, sent.join(", "));
  assert.equal(sent[4], "GET /counters/other");

  assert.deepEqual(
    [await server.count("blog/post"), await server.count("home"), await server.count("other"),
      await server.count("never/counted")],
    [6, 10, 7, 0]);
  assert.deepEqual(await tab.evaluate(() => window.__violations), []);
  assert.deepEqual(seen.errors, []);
});

test('data-key="auto" turns each path into a valid key', async (t) => {
  const server = await startServer(t);
  const tag = (extra) => `<script src="${server.api}/counter.js" data-key="auto" ${extra} async></script>`;
  const site = await startSite(t, server.api, page(`<p><span data-visitor-count>…</span></p>`, tag("")));
  const { page: tab, sent, seen } = await openPage(t, server.api);
  const long = (re) => (key) => key.length <= 128 && re.test(key);

  // [path given to pushState, the key counted or a test of it, or null: the same page as
  // the path before, nothing sent]
  const cases = [
    ["/Blog/", "Blog"],
    ["/Blog/index.html", null],
    ["/blog/Post_1.html", "blog/Post_1.html"],
    ["/a//b/./c/", "a/b/c"],
    ["/~ada/caf%C3%A9", "~ada/caf~C3~A9"],
    ["/~ada/cafe\u0301", null],  // the same name, decomposed (NFC)
    ["/search results/it's (all) here!", "search~20results/it~27s~20~28all~29~20here~21"],
    ["/a%2Fb", "a~2Fb"],
    ["/100%25/bad%zz", "100~25/bad~25zz"],
    ["/日本語/記事", "~E6~97~A5~E6~9C~AC~E8~AA~9E/~E8~A8~98~E4~BA~8B"],
    ["/" + "a".repeat(130), long(/^a{119}~[0-9a-f]{8}$/)],
    ["/" + "a".repeat(129) + "b", long(/^a{119}~[0-9a-f]{8}$/)],
    ["/" + "x".repeat(117) + "éé", long(/^x{117}~[0-9a-f]{8}$/)],  // not a broken ~XX
    ["/" + "y".repeat(117) + "/..." + "z".repeat(20), long(/^y{117}~[0-9a-f]{8}$/)],  // nor "."
    ["/", "home"],
  ];

  await tab.goto(site + "/");
  await tab.waitForFunction(() => document.querySelector("[data-visitor-count]").getAttribute("data-visitor-state") === "ready");
  const expected = ["POST /count/home"];
  for (const [url, key] of cases) {
    const before = sent.length;
    const answered = key && tab.waitForResponse((r) => r.request().method() === "POST");
    await tab.evaluate((u) => history.pushState({}, "", u), url);
    if (!key) continue;
    const response = await answered;
    assert.equal(response.status(), 200, `${url}: ${await response.text()}`);
    assert.equal(sent.length, before + 1, `${url}: ${sent.slice(before).join(", ")}`);
    const counted = decodeURIComponent(new URL(response.url()).pathname.slice("/count/".length));
    if (typeof key === "string") assert.equal(counted, key, url);
    else assert.ok(key(counted), `${url}: ${counted}`);
    expected.push("POST /count/" + counted);
  }
  assert.deepEqual(sent, expected);
  assert.equal(new Set(expected.filter((k) => /\/a{119}~/.test(k))).size, 2, "two long paths, two keys");
  assert.equal(await server.count("home"), 2);

  // data-key-prefix goes in front, within the 128 bytes.
  const prefixed = await startSite(t, server.api, page(`<p><span data-visitor-count>…</span></p>`,
    tag('data-key-prefix="docs/"')));
  await tab.goto(prefixed + "/");
  await tab.waitForFunction(() => document.querySelector("[data-visitor-count]").getAttribute("data-visitor-state") === "ready");
  const answered = tab.waitForResponse((r) => r.request().method() === "POST");
  await tab.evaluate(() => history.pushState({}, "", "/" + "p".repeat(200)));
  assert.equal((await answered).status(), 200);
  assert.match(sent.at(-1), /^POST \/count\/docs\/p{114}~[0-9a-f]{8}$/);
  assert.equal(sent.at(-2), "POST /count/docs/home");
  assert.deepEqual(seen.warnings, []);
  assert.deepEqual(seen.errors, []);
});
