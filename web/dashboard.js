/* The owner's dashboard (dashboard.html): signs in with the admin token, lists the counters
 * a page at a time with their last 30 days (GET /counters?days=30), and charts one counter's
 * history (GET /history/KEY) over 30, 90 or 365 days, its totals and today's figures kept live
 * while it is open (GET /stream/KEY, read with fetch: EventSource cannot send the token).
 * Charts are uPlot (uPlot.iife.min.js,
 * loaded first). The token lives in sessionStorage ("vc-admin-token") until sign-out, a
 * 401, or the tab closing. No inline styles or scripts: it runs under script-src 'self'.
 */
(() => {
  "use strict";
  const TOKEN_KEY = "vc-admin-token";
  const PAGE_SIZE = 50;
  const LIST_DAYS = 30;
  const SEARCH_DELAY_MS = 250;
  const DAY_MS = 86400000;

  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat();
  const fmt = (n) => number.format(n);
  const plural = (n, one, many) => `${fmt(n)} ${n === 1 ? one : many}`;
  const both = (t) => `${plural(t.views, "view", "views")} · ${plural(t.visitors, "visitor", "visitors")}`;
  // Counts are whole numbers: the y axis steps by 1, 2 or 5 times a power of ten.
  const WHOLE_STEPS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));
  const dark = matchMedia("(prefers-color-scheme: dark)");

  const state = {
    cursors: [null], // the cursor of each page up to the one shown (null: the first)
    next: null, // the cursor after the page shown, or null at the end
    prefix: "",
    counters: [], // the page shown, as the API answered it
    sparklines: [],
    listing: null, // the AbortController of the listing request in flight
    detail: null, // { key, info, days, chart, request, live }
  };

  // --- the token and the API -----------------------------------------------------------------

  let kept = null; // the token when storage is off: it lasts until the page is left
  const token = () => {
    try { return sessionStorage.getItem(TOKEN_KEY) ?? kept; } catch { return kept; }
  };
  const setToken = (value) => {
    kept = value || null;
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch { /* storage off */ }
  };

  class Unauthorized extends Error {}

  // A key in a path or a value in a query: each byte outside A-Za-z0-9-._~/ percent-encoded.
  const encode = (text) => Array.from(new TextEncoder().encode(String(text)), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9\-._~/]/.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }).join("");
  const query = (params) => Object.entries(params).filter(([, v]) => v !== null && v !== "")
    .map(([name, value]) => name + "=" + encode(value)).join("&");

  async function api(path, signal) {
    const response = await fetch(path, {
      headers: { Authorization: "Bearer " + token() },
      cache: "no-store",
      signal,
    });
    const body = await response.json().catch(() => null);
    if (response.status === 401) throw new Unauthorized();
    if (!response.ok) {
      throw new Error((body && body.message) || `${path} answered HTTP ${response.status}`);
    }
    return body;
  }

  // Every failed request ends here: a refused token signs out, an abort is not news.
  function failed(error, where) {
    if (error.name === "AbortError") return;
    if (error instanceof Unauthorized) {
      return signOut("The server refused this token. Enter the admin token again.");
    }
    where.textContent = "Could not load: " + (error.message || String(error));
  }

  // --- signing in and out --------------------------------------------------------------------

  function showSignIn(message) {
    $("board").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = message || "";
    $("token").value = "";
    $("token").focus();
  }

  function signOut(message) {
    setToken(null);
    if (state.listing) state.listing.abort();
    closeDetail(false);
    clearTable();
    state.cursors = [null];
    state.counters = [];
    showSignIn(message);
  }

  function signedIn() {
    $("sign-in").hidden = true;
    $("board").hidden = false;
    $("sign-out").hidden = false;
    loadPage();
  }

  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return;
    setToken(value);
    $("sign-in-error").textContent = "";
    signedIn();
    $("search").focus();
  });
  $("sign-out").addEventListener("click", () => signOut(""));

  // --- colours -------------------------------------------------------------------------------

  // The chart colours are the stylesheet's, so each scheme has its own.
  function colours() {
    const style = getComputedStyle(document.documentElement);
    const get = (name) => style.getPropertyValue(name).trim();
    return {
      views: get("--views"), viewsFill: get("--views-fill"), visitors: get("--visitors"),
      ink: get("--muted"), grid: get("--line"),
    };
  }

  // --- the table -----------------------------------------------------------------------------

  // Views and visitors summed over the last `n` days of a counter's days array.
  function lastDays(days, n) {
    const total = { views: 0, visitors: 0 };
    for (const day of days.slice(-n)) {
      total.views += day.views;
      total.visitors += day.visitors;
    }
    return total;
  }

  function clearTable() {
    for (const chart of state.sparklines) chart.destroy();
    state.sparklines = [];
    $("counters").tBodies[0].replaceChildren();
  }

  function cell(tag, text, className) {
    const el = document.createElement(tag);
    if (text !== undefined) el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function sparkline(target, days, c) {
    const views = days.map((d) => d.views);
    const top = Math.max(1, ...views);
    const peak = views.indexOf(Math.max(...views));
    target.setAttribute("role", "img");
    target.setAttribute("aria-label", days.length && views[peak] > 0
      ? `Daily views, last ${days.length} days: highest ${fmt(views[peak])} on ${days[peak].date}`
      : `No views in the last ${days.length} days`);
    return new uPlot({
      width: 120, height: 32, pxAlign: false,
      legend: { show: false }, cursor: { show: false }, select: { show: false },
      scales: { x: { time: false }, y: { range: [0, top * 1.15] } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke: c.views, fill: c.viewsFill, width: 1.5, points: { show: false } }],
    }, [views.map((_, i) => i), views], target);
  }

  function renderTable() {
    clearTable();
    const body = $("counters").tBodies[0];
    const c = colours();
    if (state.counters.length === 0) {
      const row = body.insertRow();
      const empty = cell("td", state.prefix ? `No counter keys start with “${state.prefix}”.`
                                            : "No counters yet.", "empty");
      empty.colSpan = 8;
      row.append(empty);
    }
    for (const counter of state.counters) {
      const days = counter.days || [];
      const row = body.insertRow();
      const head = cell("th");
      head.scope = "row";
      const button = cell("button", counter.key, "key");
      button.type = "button";
      button.dataset.key = counter.key;
      if (state.detail && state.detail.key === counter.key) button.setAttribute("aria-current", "true");
      head.append(button);
      row.append(head);
      for (const span of [1, 7, LIST_DAYS]) {
        const total = lastDays(days, span);
        row.append(cell("td", fmt(total.views), "num"), cell("td", fmt(total.visitors), "num"));
      }
      const spark = cell("td", undefined, "spark");
      const box = cell("div");
      spark.append(box);
      row.append(spark);
      state.sparklines.push(sparkline(box, days, c));
    }
    const first = (state.cursors.length - 1) * PAGE_SIZE;
    $("page-status").textContent = state.counters.length
      ? `Page ${state.cursors.length}: counters ${fmt(first + 1)}–${fmt(first + state.counters.length)}`
      : `Page ${state.cursors.length}`;
    const focused = document.activeElement;
    $("prev").disabled = state.cursors.length === 1;
    $("next").disabled = !state.next;
    // A pager button that just went off hands the keyboard focus to the other one.
    if (focused && focused.disabled) ($("prev").disabled ? $("next") : $("prev")).focus();
  }

  async function loadPage() {
    if (state.listing) state.listing.abort();
    const request = (state.listing = new AbortController());
    const cursor = state.cursors[state.cursors.length - 1];
    const params = { prefix: state.prefix, limit: PAGE_SIZE, cursor, days: LIST_DAYS };
    $("counters").setAttribute("aria-busy", "true");
    try {
      const answer = await api("/counters?" + query(params), request.signal);
      state.counters = answer.counters;
      state.next = answer.next;
      $("list-error").textContent = "";
      renderTable();
    } catch (error) {
      failed(error, $("list-error"));
    } finally {
      if (state.listing === request) {
        state.listing = null;
        $("counters").removeAttribute("aria-busy");
      }
    }
  }

  let searchTimer = null;
  $("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const prefix = $("search").value.trim();
      if (prefix === state.prefix) return;
      state.prefix = prefix;
      state.cursors = [null];
      loadPage();
    }, SEARCH_DELAY_MS);
  });
  // A page at a time: a click while one loads is ignored (the cursors would be stale).
  $("next").addEventListener("click", () => {
    if (!state.next || state.listing) return;
    state.cursors.push(state.next);
    loadPage();
  });
  $("prev").addEventListener("click", () => {
    if (state.cursors.length === 1 || state.listing) return;
    state.cursors.pop();
    loadPage();
  });
  $("counters").addEventListener("click", (event) => {
    const button = event.target.closest("button.key");
    if (button) openDetail(state.counters.find((c) => c.key === button.dataset.key));
  });

  // --- one counter ---------------------------------------------------------------------------

  const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
  const range = () => Number(document.querySelector('input[name="range"]:checked').value);

  function openDetail(info) {
    if (!info) return;
    state.detail?.request?.abort();
    state.detail?.live?.abort();
    state.detail?.chart?.destroy();
    state.detail = { key: info.key, info, days: null, chart: null, request: null, live: null };
    for (const button of document.querySelectorAll("button.key")) {
      if (button.dataset.key === info.key) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
    $("detail").hidden = false;
    $("detail-title").textContent = info.key;
    delete $("detail").dataset.live;
    $("detail-title").focus();
    loadHistory();
  }

  function closeDetail(refocus) {
    const detail = state.detail;
    if (!detail) return;
    detail.request?.abort();
    detail.live?.abort();
    detail.chart?.destroy();
    state.detail = null;
    delete $("detail").dataset.live;
    $("detail").hidden = true;
    $("chart").replaceChildren();
    $("totals").replaceChildren();
    const button = [...document.querySelectorAll("button.key")].find((b) => b.dataset.key === detail.key);
    if (button) {
      button.removeAttribute("aria-current");
      if (refocus) button.focus();
    }
  }
  $("close-detail").addEventListener("click", () => closeDetail(true));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.detail && $("detail").contains(document.activeElement)) {
      closeDetail(true);
    }
  });
  for (const radio of document.querySelectorAll('input[name="range"]')) {
    radio.addEventListener("change", () => loadHistory());
  }

  // Follows the open counter's live stream: the first event is the baseline, each later one
  // moves the totals and today's figures by what it adds. #detail gets data-live="on" once the
  // stream is in. Ends when the panel closes or the stream does (the numbers then stay).
  async function followLive(detail) {
    const live = (detail.live = new AbortController());
    delete $("detail").dataset.live;
    let baseline = null;
    try {
      const response = await fetch(`/stream/${encode(detail.key)}`, {
        headers: { Authorization: "Bearer " + token(), Accept: "text/event-stream" },
        cache: "no-store",
        signal: live.signal,
      });
      if (!response.ok || !response.body) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done || state.detail !== detail || detail.live !== live) break;
        text += value;
        for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
          const data = text.slice(0, end).split("\n").filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trim()).join("\n");
          text = text.slice(end + 2);
          if (!data) continue;
          const totals = JSON.parse(data);
          if (baseline) applyLive(detail, baseline, totals);
          else $("detail").dataset.live = "on";
          baseline = totals;
        }
      }
    } catch { /* closed, or the stream broke: the figures stay as they are */ }
    if (state.detail === detail && detail.live === live) delete $("detail").dataset.live;
  }

  function applyLive(detail, before, after) {
    const added = { views: after.views - before.views, visitors: after.visitors - before.visitors };
    Object.assign(detail.info, { count: after.count, views: after.views, visitors: after.visitors });
    const last = detail.days?.at(-1);
    if (last && last.date === isoDay(Date.now()) && added.views >= 0 && added.visitors >= 0) {
      last.views += added.views;
      last.visitors += added.visitors;
      detail.info.last_day = last.date;
    }
    if (detail.days) renderDetail();
  }

  async function loadHistory() {
    const detail = state.detail;
    detail.request?.abort();
    const request = (detail.request = new AbortController());
    const days = range();
    const today = Date.parse(isoDay(Date.now()));
    const params = { from: isoDay(today - (days - 1) * DAY_MS), to: isoDay(today) };
    $("chart").setAttribute("aria-busy", "true");
    try {
      const answer = await api(`/history/${encode(detail.key)}?${query(params)}`, request.signal);
      if (state.detail !== detail) return;
      detail.days = answer.days;
      $("detail-error").textContent = "";
      renderDetail();
      // Live from these days on: the stream's first event is their baseline.
      detail.live?.abort();
      followLive(detail);
    } catch (error) {
      failed(error, $("detail-error"));
    } finally {
      if (state.detail === detail && detail.request === request) {
        detail.request = null;
        $("chart").removeAttribute("aria-busy");
      }
    }
  }

  function renderDetail() {
    const detail = state.detail;
    const days = detail.days;
    const target = $("chart");
    detail.chart?.destroy();
    target.replaceChildren();
    if (days.length === 0) return;
    const c = colours();
    const total = lastDays(days, days.length);
    target.setAttribute("aria-label", `Daily views and visitors of ${detail.key}, ` +
      `${days[0].date} to ${days[days.length - 1].date}: ${both(total)}`);
    const axis = { stroke: c.ink, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } };
    detail.chart = new uPlot({
      width: chartWidth(), height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [axis, { ...axis, size: 56, incrs: WHOLE_STEPS, values: (u, splits) => splits.map(fmt) }],
      series: [
        { label: "Day", value: "{YYYY}-{MM}-{DD}" },
        { label: "Views", stroke: c.views, fill: c.viewsFill, width: 2, points: { show: false } },
        { label: "Visitors", stroke: c.visitors, width: 2, points: { show: false } },
      ],
    }, [days.map((d) => Date.parse(d.date) / 1000), days.map((d) => d.views), days.map((d) => d.visitors)],
    target);
    detail.chart.root.dataset.days = String(days.length);

    const info = detail.info;
    const rows = [
      [`Last ${days.length} days`, both(total)],
      ["All time", both({ views: info.views ?? info.count, visitors: info.visitors ?? 0 })],
      ["Last counted", info.last_day || "never"],
    ];
    $("totals").replaceChildren(...rows.flatMap(([term, value]) => [cell("dt", term), cell("dd", value)]));
  }

  const chartWidth = () => Math.max(240, Math.floor($("chart").clientWidth));
  new ResizeObserver(() => {
    const chart = state.detail?.chart;
    if (chart && chart.width !== chartWidth()) chart.setSize({ width: chartWidth(), height: 240 });
  }).observe($("chart"));

  // A change of colour scheme redraws the charts in the new scheme's colours.
  dark.addEventListener("change", () => {
    if (!$("board").hidden && state.counters.length) renderTable();
    if (state.detail?.days) renderDetail();
  });

  // --- start ---------------------------------------------------------------------------------

  if (token()) signedIn();
  else showSignIn("");
})();
