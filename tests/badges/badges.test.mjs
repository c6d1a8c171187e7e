// The badge against shields.io's own renderer, badge-maker (npm, pinned in package.json and
// installed with `npm ci` on first run), and in Debian's chromium:
//
//   VC_BINARY=build/release/visitor-counter node --test tests/badges/badges.test.mjs
//
// Each row of ROWS is drawn in every style by the real server (`count=false` on counters
// set with the admin API) and by badge-maker from the same label, number and colours. The
// widths must agree within 1 px, the texts exactly (after shields' capitals), and so must
// the fills; every badge must be well-formed XML (Chromium's DOMParser) with its texts
// escaped. Then every style is shown as an <img> and screenshotted into the artifacts
// folder (docs/badges/ too with VC_UPDATE_DOCS=1). VC_BINARY, VC_E2E_ARTIFACTS and
// VC_CHROMIUM as for tests/e2e (harness.mjs, which this test shares).
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

const here = path.dirname(fileURLToPath(import.meta.url));

const { artifacts, chromium, chromiumArgs, chromiumPath, ensurePackages, launchServer } =
  await import("../e2e/harness.mjs");
ensurePackages(here, "badges");  // the pinned badge-maker (package-lock.json)
const { makeBadge } = (await import("badge-maker")).default;

const STYLES = ["flat", "flat-square", "plastic", "for-the-badge", "social"];
const TOKEN = crypto.randomBytes(16).toString("hex");
const docsDir = path.resolve(here, "../../docs/badges");

// format=short as docs/http-api.md states it: the expected text for each total used below.
const SHORT = new Map([
  [0, "0"], [7, "7"], [999, "999"], [1000, "1k"], [1049, "1k"], [1050, "1.1k"], [1149, "1.1k"],
  [1150, "1.2k"], [1234, "1.2k"], [9949, "9.9k"], [9950, "10k"], [34567, "35k"],
  [999499, "999k"], [999500, "1M"], [5600000, "5.6M"], [123456789, "123M"],
  [9007199254740991, "9P"],
]);
const full = (n) => new Intl.NumberFormat("en-US").format(n);

// Label, total, and the options besides style (colours as a name or hex digits, as the
// query takes them and badge-maker too).
const ROWS = [
  { label: "visitors", views: 1234 },
  { label: "visitors", views: 1234, format: "short" },
  { label: "views", views: 0 },
  { label: "a", views: 7, color: "brightgreen" },
  { label: "page views", views: 999, format: "short", color: "yellow", labelColor: "blue" },
  { label: "WWWWWWWW", views: 1000, format: "short", color: "ff69b4" },
  { label: "iiiiiiii", views: 1049, format: "short", color: "#abc", labelColor: "#123456" },
  { label: "1", views: 1050, format: "short", color: "green" },
  { label: "café crème", views: 34567, format: "short", labelColor: "informational" },
  { label: "naïve résumé", views: 5600000 },
  { label: "Zürich, Łódź, Ærøskøbing", views: 123456789, format: "short", color: "orange" },
  { label: "Ελληνικά", views: 999500, format: "short", color: "critical" },
  { label: "Привет, мир", views: 1234, color: "success", labelColor: "lightgrey" },
  { label: "Việt Nam ḁ ẁ", views: 1150, format: "short", color: "inactive" },
  { label: "访问者 訪問者", views: 1234, color: "important" },
  { label: "방문자 수", views: 34567, format: "short", labelColor: "red" },
  { label: "ひらがな カタカナ", views: 7, color: "grey" },
  { label: "👀 views 🚀", views: 1234, format: "short" },
  { label: "— “quotes” … €5 • ½", views: 999 },
  { label: "straße", views: 1000, color: "yellowgreen" },
  { label: "e\u0301te\u0301 (combining)", views: 1149, format: "short" },
  { label: "x".repeat(64), views: 9007199254740991 },
  { label: "x".repeat(64), views: 9007199254740991, format: "short" },
  { label: "The quick brown fox jumps over the lazy dog: 0123456789 ?!#%&@*", views: 9949 },
  { label: '<script>alert("x")</script>', views: 1234, color: "red" },
  { label: `"quotes" & 'apostrophes' <b>`, views: 9950, format: "short" },
  { label: "a < b > c && d", views: 0, color: "000", labelColor: "fff" },
  { label: "]]> <!-- --> &amp; &#39;", views: 999499, format: "short", labelColor: "gray" },
];

// The letters of the blocks whose capitals badge_text::to_upper writes, 30 to a label, each
// between brackets (badge-maker trims spaces off the ends).
function letterLabels() {
  const blocks = [[0x20, 0x7e], [0xa0, 0x17f], [0x370, 0x3ff], [0x400, 0x52f], [0x1e00, 0x1eff],
    [0xff01, 0xff5e]];
  const labels = [];
  for (const [first, last] of blocks) {
    for (let start = first; start <= last; start += 30) {
      let text = "";
      for (let cp = start; cp <= Math.min(last, start + 29); cp++) text += String.fromCodePoint(cp);
      labels.push(`[${text}]`);
    }
  }
  return labels;
}

let server;
let browser;
let page;

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-badges-"));
  server = await launchServer(dir, ["--store", "memory:"], { ...process.env, VC_ADMIN_TOKEN: TOKEN });
  for (const views of SHORT.keys()) {
    const response = await fetch(`${server.api}/counters/n${views}`, {
      method: "PUT", headers: { Authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ views }),
    });
    assert.equal(response.status, 200, await response.text());
  }
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  page = await browser.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function query(row, style) {
  const params = new URLSearchParams({ count: "false", label: row.label, style });
  for (const name of ["color", "labelColor", "format"]) if (row[name]) params.set(name, row[name]);
  return params.toString();
}

// Our badge and badge-maker's for `row` in `style`, with the number the badge must show.
async function pair(row, style) {
  const message = row.format === "short" ? SHORT.get(row.views) : full(row.views);
  assert.ok(message !== undefined, `no short text for ${row.views}`);
  const response = await fetch(`${server.api}/badge/n${row.views}.svg?${query(row, style)}`);
  const ours = await response.text();
  assert.equal(response.status, 200, ours);
  const theirs = makeBadge({ label: row.label, message, style, color: row.color ?? "blue",
    labelColor: row.labelColor ?? "#555" });
  return { ours, theirs, message };
}

// What the browser's XML parser makes of each SVG: a parse error, the root's width, the
// visible texts (not the aria-hidden shadows), the title, the aria-label, the fills that are
// colours, and the element names.
async function parseAll(svgs) {
  return page.evaluate((list) => list.map((text) => {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const root = doc.documentElement;
    return {
      error: doc.getElementsByTagName("parsererror").length > 0,
      root: root.localName,
      width: Number(root.getAttribute("width")),
      texts: [...doc.querySelectorAll("text:not([aria-hidden])")].map((t) => t.textContent),
      title: doc.querySelector("title")?.textContent ?? null,
      ariaLabel: root.getAttribute("aria-label"),
      fills: [...doc.querySelectorAll("rect[fill^='#']")].map((r) => r.getAttribute("fill")),
      elements: [...new Set([...doc.querySelectorAll("*")].map((e) => e.localName))],
    };
  }), svgs);
}

const ELEMENTS = new Set(["svg", "title", "linearGradient", "stop", "clipPath", "g", "rect", "text", "path"]);

// Compares each case with badge-maker's; returns the width differences in pixels.
async function compare(cases) {
  const drawn = [];
  for (const { row, style } of cases) drawn.push({ row, style, ...(await pair(row, style)) });
  const ours = await parseAll(drawn.map((d) => d.ours));
  const theirs = await parseAll(drawn.map((d) => d.theirs));
  const differences = [];
  drawn.forEach(({ row, style, message }, i) => {
    const what = `${style} ${JSON.stringify(row)}`;
    const [o, t] = [ours[i], theirs[i]];
    assert.equal(o.error, false, `not well-formed XML: ${what}\n${drawn[i].ours}`);
    assert.equal(t.error, false, `badge-maker's is not XML: ${what}`);
    assert.equal(o.root, "svg", what);
    assert.deepEqual(o.elements.filter((name) => !ELEMENTS.has(name)), [], what);
    assert.equal(o.title, `${row.label}: ${message}`, what);
    assert.equal(o.ariaLabel, `${row.label}: ${message}`, what);
    assert.deepEqual(o.texts, t.texts, `texts: ${what}`);
    assert.deepEqual(o.fills, t.fills, `fills: ${what}`);
    const difference = Math.abs(o.width - t.width);
    assert.ok(difference <= 1, `width ${o.width}, badge-maker's ${t.width}: ${what}`);
    differences.push(difference);
  });
  return differences;
}

test("every row in every style: badge-maker's width within 1 px, its texts and fills, escaped XML", async () => {
  assert.ok(ROWS.length * STYLES.length >= 50);
  const cases = ROWS.flatMap((row) => STYLES.map((style) => ({ row, style })));
  const differences = await compare(cases);
  const max = Math.max(...differences);
  const exact = differences.filter((d) => d === 0).length;
  console.log(`badges: ${cases.length} badges against badge-maker 4.1.0: max width difference ${max} px, ` +
    `${exact} exactly equal`);
});

test("capitals: for-the-badge and social write Latin, Greek and Cyrillic letters as shields does", async () => {
  const cases = letterLabels().flatMap((label) =>
    ["for-the-badge", "social"].map((style) => ({ row: { label, views: 1234 }, style })));
  const differences = await compare(cases);
  console.log(`badges: ${cases.length} badges of letters: max width difference ${Math.max(...differences)} px`);
});

test("every style in chromium: each badge loads as an <img> at its own width; screenshots", async () => {
  const variant = { label: "downloads", color: "brightgreen", labelColor: "%23234", format: "short" };
  const rows = STYLES.map((style) => ({
    style,
    plain: `${server.api}/badge/n1234.svg?count=false&style=${style}`,
    variant: `${server.api}/badge/n5600000.svg?count=false&style=${style}&` +
      Object.entries(variant).map(([k, v]) => `${k}=${v}`).join("&"),
  }));
  const shot = await browser.newPage({ deviceScaleFactor: 2, viewport: { width: 640, height: 400 } });
  try {
    await shot.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Badge styles</title>
<style>body{margin:0;background:#fff;font:14px system-ui,sans-serif;color:#24292f}
table{border-collapse:collapse;margin:8px}td{padding:6px 12px;vertical-align:middle}
code{font:13px ui-monospace,monospace}</style></head><body><table id="gallery">
${rows.map((r) => `<tr><td><code>style=${r.style}</code></td>
<td><img id="${r.style}" src="${r.plain}" alt="visitors 1,234, ${r.style}"></td>
<td><img id="${r.style}-variant" src="${r.variant}" alt="downloads 5.6M, ${r.style}"></td></tr>`).join("\n")}
</table></body></html>`);
    await shot.waitForFunction(() => [...document.images].every((img) => img.complete));
    const out = path.join(artifacts, "badges");
    fs.mkdirSync(out, { recursive: true });
    for (const r of rows) {
      for (const [id, url] of [[r.style, r.plain], [`${r.style}-variant`, r.variant]]) {
        const svg = await (await fetch(url)).text();
        const width = Number(svg.match(/^<svg [^>]*?width="([\d.]+)"/)[1]);
        const natural = await shot.evaluate((i) => document.getElementById(i).naturalWidth, id);
        assert.ok(Math.abs(natural - width) < 1, `${id}: naturalWidth ${natural}, width ${width}`);
        await shot.locator(`#${id}`).screenshot({ path: path.join(out, `${id}.png`) });
      }
    }
    const gallery = path.join(out, "styles.png");
    await shot.locator("#gallery").screenshot({ path: gallery });
    if (process.env.VC_UPDATE_DOCS === "1") {
      fs.mkdirSync(docsDir, { recursive: true });
      fs.copyFileSync(gallery, path.join(docsDir, "styles.png"));
    }
    console.log(`badges: screenshots in ${out}`);
  } finally {
    await shot.close();
  }
});

