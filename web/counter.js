/* visitor-counter widget: counts this page view once and shows counters' numbers in the
 * [data-visitor-count] elements, formatted for the visitor's locale.
 *
 *   <span data-visitor-count>…</span>
 *   <script src="https://COUNTER-HOST/counter.js" data-api="https://API-URL" data-key="home" async></script>
 *
 * data-api defaults to this script's origin, data-key to the default counter. No
 * dependencies, no eval, no inline styles: it runs under a strict Content-Security-Policy
 * that allows the counter in script-src and connect-src.
 *
 * The page's counter: data-key="KEY"; without it the default counter; data-key="auto":
 * the page's path made into a key (pathKey below; "/" is "home"), with data-key-prefix
 * (optional) in front. With "auto", a single-page app's route change to another path is a
 * new page view, seen without help: the Navigation API's currententrychange where the
 * browser has it, else history.pushState/replaceState (wrapped) and popstate.
 * window.visitorCounter.pageview() says "the route changed" by hand (any data-key).
 *
 * Elements: [data-visitor-count] (empty) shows the page's counter,
 * [data-visitor-count="KEY"] the counter KEY, read without counting it. One request per
 * key: elements sharing a key share it, and the page's counter is shown from its counting
 * answer. Elements added or re-keyed later (a framework rendering a route) are filled as
 * they appear. update() below is the one way a number reaches the elements.
 *
 * One count per page view: a real load (navigate or reload) sends one counting request with
 * a fresh Idempotency-Key, resent once with the same key if the network fails, so the
 * counter counts it at most once. A page restored from the back/forward cache does not run
 * this again (nothing here listens to pageshow); a page reloaded from history
 * (back/forward without the cache) only reads. In an app, a route change counts only when
 * the path differs from the last view's (not a query or hash change), and back/forward
 * between routes never counts either: it shows the number known for that path, or reads it.
 *
 * Owners: open a page with #vc-ignore in its URL and this browser stops counting on that
 * site (localStorage vc-ignore=1; it still shows the number); #vc-count undoes it.
 *
 * Live (data-live on the tag): once a counter's number is in, it stays live: an
 * EventSource on GET /stream/KEY moves it on each change. Where the API cannot stream
 * (Lambda behind an HTTP API answers 404) or refuses the stream, it is read again every
 * data-live seconds (30 when empty, at least 10) while the page is visible. Nothing is
 * counted either way. Without data-live the number never changes after it is shown.
 *
 * On a timeout (4 s in all), an HTTP error or a refused origin the elements of that
 * counter show "—" and one console warning says why. <img data-visitor-badge="color=green">
 * (optional) gets the page counter's badge, without counting again, once the number is in.
 */
(function () {
  "use strict";
  var TIMEOUT_MS = 4000;
  var MAX_KEY = 128;  // bytes of a key (docs/http-api.md, Keys)
  var script = document.currentScript;
  var attr = function (name) { return (script && script.getAttribute(name)) || ""; };
  var api = (attr("data-api") || (script && script.src ? new URL(script.src, location.href).origin
                                                       : location.origin)).replace(/\/+$/, "");
  var fixed = attr("data-key");  // "", a key, or "auto"
  var auto = fixed === "auto";
  var prefix = auto ? attr("data-key-prefix") : "";
  var live = !!script && script.hasAttribute("data-live");
  var pollMs = Math.max(10, Number(attr("data-live")) || 30) * 1000;
  // Streams a page keeps open: over HTTP/1.1 a browser opens at most 6 connections to a
  // host, and each stream holds one. Counters past these are polled.
  var MAX_STREAMS = 2;

  // What every copy of this script on the page shares: the tags that ran, and the owner of
  // the page's elements (the tag that started last). The same tag twice on one page, or run
  // again by a router that swaps the page, counts once.
  var shared = window[Symbol.for("visitor-counter")] || (window[Symbol.for("visitor-counter")] = {});
  var tag = api + " " + (auto ? "auto " + prefix : fixed || "visitors");
  if (shared[tag]) return shared[tag].claim();
  var me = shared[tag] = shared.owner = {
    claim: function () { shared.owner = me; whenReady(scan); },
    pageview: function () { return route(false); }
  };
  if (!window.visitorCounter) {
    window.visitorCounter = {
      // A route change: counts a view of the page's counter when the path differs from the
      // last view's and answers true; else sends nothing and answers false.
      pageview: function () { return shared.owner.pageview(); }
    };
  }

  var values = new Map();      // key -> {count: N} | {pending: true} | {failed: true}
  var followed = new Map();    // key -> its EventSource, or its polling timer (live)
  var badged = new WeakMap();  // img -> the key of the badge this script gave it
  var silenced = new WeakSet();  // live regions turned off for a placeholder
  var viewPath = pathKey(location.pathname);  // the path of the last page view
  var pageKey = auto ? autoKey(viewPath) : fixed || "visitors";
  var formatter;

  // The key for a URL path: each segment percent-decoded and NFC-normalised, every byte
  // outside A-Z a-z 0-9 - . _ ~ written as ~XX (its UTF-8 bytes in hex, as in
  // percent-encoding), empty, "." and ".." segments dropped (so no trailing slash), and a
  // last segment index.html or index.htm dropped. "/" (nothing left) is "home".
  function pathKey(path) {
    var parts = [];
    path.split("/").forEach(function (raw) {
      var part;
      try { part = decodeURIComponent(raw).normalize("NFC"); } catch (e) { part = raw; }
      if (part === "" || part === "." || part === "..") return;
      parts.push(encodeURIComponent(part).replace(/[!'()*]/g, function (c) {
        return "%" + c.charCodeAt(0).toString(16).toUpperCase();
      }).replace(/%/g, "~"));
    });
    if (/^index\.html?$/.test(parts[parts.length - 1])) parts.pop();
    return parts.join("/") || "home";
  }

  // The page's counter for a path key: data-key-prefix + path, at most MAX_KEY bytes. A
  // longer one keeps its first bytes (never a broken ~XX, an empty, "." or ".." segment)
  // and ends in ~ and 8 hex digits of a hash of the whole, so long paths stay apart.
  function autoKey(path) {
    var key = prefix + path;
    if (key.length <= MAX_KEY) return key;
    var hash = 0x811c9dc5;  // FNV-1a, 32 bits
    for (var i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    var head = key.slice(0, MAX_KEY - 9).replace(/~[0-9A-F]?$/, "")
      .replace(/(^|\/)\.\.?$/, "").replace(/\/+$/, "");
    return head + "~" + ("0000000" + (hash >>> 0).toString(16)).slice(-8);
  }

  // A key as it goes in a URL path.
  function inUrl(key) { return encodeURIComponent(key).replace(/%2F/gi, "/"); }

  function whenReady(fn) {
    if (document.readyState !== "loading") return fn();
    document.addEventListener("DOMContentLoaded", fn, { once: true });
  }
  function region(el) { return el.closest("[aria-live]") || el; }
  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  // The counter an element shows: its own data-visitor-count value, else the page's.
  function keyOf(el) { return (el.getAttribute("data-visitor-count") || "").trim() || pageKey; }
  function showsPage(el) { return !(el.getAttribute("data-visitor-count") || "").trim(); }

  // The owner's switch, kept by the browser for this site. Storage may be unavailable.
  function ignored() {
    try {
      if (location.hash === "#vc-ignore") localStorage.setItem("vc-ignore", "1");
      if (location.hash === "#vc-count") localStorage.removeItem("vc-ignore");
      return localStorage.getItem("vc-ignore") === "1";
    } catch (e) {
      return false;
    }
  }

  // A random key for this page view's count: a retry with it counts nothing more.
  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); })
      .join("");
  }

  // Shows `value` (an entry of `values`, or none yet) in one element.
  function paint(el, value) {
    if (!el.closest("[aria-live]")) el.setAttribute("aria-live", "polite");
    var live = region(el);
    if (!value || value.pending) return live.setAttribute("aria-busy", "true");
    live.removeAttribute("aria-busy");
    if (value.failed) {
      if (live.getAttribute("aria-live") !== "off") silenced.add(live);
      live.setAttribute("aria-live", "off");  // a placeholder is not news
      el.setAttribute("data-visitor-state", "unavailable");
      el.title = "Visitor count unavailable";
      el.textContent = "\u2014";
      return;
    }
    if (silenced.delete(live)) live.setAttribute("aria-live", "polite");
    if (el.getAttribute("data-visitor-state") === "unavailable") el.removeAttribute("title");
    if (!formatter) {
      try { formatter = new Intl.NumberFormat(); } catch (e) { formatter = { format: String }; }
    }
    el.textContent = formatter.format(value.count);
    el.setAttribute("data-visitor-state", "ready");
  }

  // Shows the counter `key`'s value in every element showing that counter, and for the
  // page's counter in its badges. Only the owner of the page's elements touches them.
  function refresh(key) {
    if (shared.owner !== me) return;
    var value = values.get(key);
    each("[data-visitor-count]", function (el) { if (keyOf(el) === key) paint(el, value); });
    if (key === pageKey && value && value.count !== undefined) badges();
  }

  // The counter `key` has the value `count`: every element showing it shows it now. With
  // data-live, it is followed from then on.
  function update(key, count) {
    values.set(key, { count: count });
    whenReady(function () { refresh(key); });
    if (live && !followed.has(key)) follow(key);
  }

  // Keeps the counter `key` live: its stream, or, where there is none, a quiet read every
  // pollMs while the page is visible (an error leaves the number as it is).
  function follow(key) {
    var streams = 0;
    followed.forEach(function (handle) { if (handle && handle.close) streams++; });
    var stream = typeof EventSource === "function" && streams < MAX_STREAMS
      ? new EventSource(api + "/stream/" + inUrl(key)) : null;
    followed.set(key, stream);
    var poll = function () {
      if (stream) stream.close();
      var timer = setInterval(function () {
        if (document.visibilityState !== "visible") return;
        fetch(api + "/counters/" + inUrl(key), { mode: "cors", credentials: "omit", cache: "no-store" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (body) {
            // Not after prune() let the counter go while this read was out.
            if (followed.get(key) === timer && body && typeof body.count === "number") {
              update(key, body.count);
            }
          }, function () {});
      }, pollMs);
      followed.set(key, timer);
    };
    if (!stream) return poll();
    stream.onmessage = function (event) {
      var body;
      try { body = JSON.parse(event.data); } catch (e) { return; }
      if (followed.get(key) === stream && typeof body.count === "number") update(key, body.count);
    };
    // CLOSED: refused for good (no stream here, or not for this origin). CONNECTING: the
    // browser reconnects by itself after the server's retry hint.
    stream.onerror = function () { if (stream.readyState === EventSource.CLOSED) poll(); };
  }

  // Stops following the counters no element shows any more (a route left in an app).
  function prune() {
    followed.forEach(function (handle, key) {
      if (key === pageKey) return;
      var shown = false;
      each("[data-visitor-count]", function (el) { shown = shown || keyOf(el) === key; });
      if (shown) return;
      if (handle && handle.close) handle.close(); else clearInterval(handle);
      followed.delete(key);
    });
  }

  // The counter `key` has no number to show (`why`, said once in the console).
  function fail(key, why) {
    console.warn("visitor-counter: " + why + "; showing a placeholder.");
    values.set(key, { failed: true });
    whenReady(function () { refresh(key); });
  }

  // Gives each img[data-visitor-badge] the page counter's badge (it does not count), unless
  // the page set the image's src itself.
  function badges() {
    each("img[data-visitor-badge]", function (img) {
      var given = badged.get(img);
      if (given === pageKey || (given === undefined && img.getAttribute("src"))) return;
      badged.set(img, pageKey);
      var options = img.getAttribute("data-visitor-badge");
      img.src = api + "/badge/" + inUrl(pageKey) + ".svg?count=false" + (options ? "&" + options : "");
    });
  }

  // Fills the elements that show no number yet: from what is known of their counter, else
  // by reading it (once per key: a key asked for is known, or pending, from then on).
  function scan() {
    if (shared.owner !== me) return;
    each("[data-visitor-count]:not([data-visitor-state])", function (el) {
      var key = keyOf(el);
      var known = values.get(key);
      if (!known) request(key, false);
      else if (live && known.count !== undefined && !followed.has(key)) follow(key);  // shown again
      paint(el, values.get(key));
    });
    var page = values.get(pageKey);
    if (page && page.count !== undefined) badges();
    prune();
  }

  // Elements added later, or given another key, are filled too.
  function observe() {
    if (typeof MutationObserver !== "function") return;
    new MutationObserver(function (records) {
      var fresh = false;
      records.forEach(function (record) {
        if (record.type === "attributes") {
          record.target.removeAttribute("data-visitor-state");  // another key: show it anew
          fresh = true;
        } else if (Array.prototype.some.call(record.addedNodes, function (n) { return n.nodeType === 1; })) {
          fresh = true;  // an element, not the text this script writes
        }
      });
      if (fresh) scan();
    }).observe(document.documentElement, {
      childList: true, subtree: true, attributes: true, attributeFilter: ["data-visitor-count"]
    });
  }

  // One request for the counter `key`: counting (POST /count/KEY, or /count for the default
  // counter without data-key) or reading (GET /counters/KEY); its answer goes to update() or
  // fail(). Given up after TIMEOUT_MS; sent once more after a network failure, with the
  // same Idempotency-Key, so it counts at most once.
  function request(key, counting) {
    values.set(key, { pending: true });
    var url = counting ? api + "/count" + (fixed ? "/" + inUrl(key) : "")
                       : api + "/counters/" + inUrl(key);
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timedOut = false;
    var timer = setTimeout(function () {
      timedOut = true;
      if (controller) controller.abort();
    }, TIMEOUT_MS);
    var headers = counting ? { "Idempotency-Key": '"' + newKey() + '"' } : {};
    var send = function () {
      return fetch(url, {
        method: counting ? "POST" : "GET",
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
        headers: headers,
        signal: controller ? controller.signal : undefined
      });
    };
    var late = function () { return "no answer from " + url + " within " + TIMEOUT_MS / 1000 + " s"; };
    // Once more on a network failure (not on an answer): the same key makes it safe.
    send().then(null, function (error) {
      if (timedOut) throw error;
      return new Promise(function (resolve) { setTimeout(resolve, 300); }).then(send);
    }).then(function (response) {
      return response.json().then(null, function () { return null; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).then(function (answer) {
      clearTimeout(timer);
      var body = answer.body;
      var never = !counting && answer.status === 404 && body && body.error === "not_found";
      var count = never ? 0 : body && body.count;
      if (timedOut) return fail(key, late());
      if (answer.status >= 300 && !never) return fail(key, explain(url, answer.status, body));
      if (typeof count !== "number" || !isFinite(count)) {
        return fail(key, "unexpected answer from " + url);
      }
      update(key, count);
    }, function () {
      clearTimeout(timer);
      fail(key, timedOut ? late()
        : "could not reach " + url + " (the API is down or unreachable, or it refused this " +
          "page's origin " + location.origin + ")");
    });
  }

  function explain(url, status, body) {
    if (status === 403 && body && body.error === "origin_not_allowed") {
      return "the counter at " + api + " refused this page's origin " + location.origin +
             " (it is not on the counter's allow-list)";
    }
    return url + " answered HTTP " + status + (body && body.error ? " (" + body.error + ")" : "");
  }

  // A same-document navigation (automatic with data-key="auto") or pageview(): a new page
  // view when the path differs from the last view's. With "auto" the page's counter becomes
  // the new path's. A traversal (back/forward) never counts: it shows the number known for
  // that counter, or reads it. Answers whether it was a new page view.
  function route(traverse) {
    if (shared.owner !== me || document.prerendering) return false;
    var path = pathKey(location.pathname);
    if (path === viewPath) return false;
    viewPath = path;
    if (auto) {
      pageKey = autoKey(path);
      whenReady(function () {
        each("[data-visitor-count][data-visitor-state]", function (el) {
          if (showsPage(el)) el.removeAttribute("data-visitor-state");
        });
      });
    }
    var known = values.get(pageKey);
    if (!traverse || !known || known.failed) request(pageKey, !traverse && !ignored());
    whenReady(scan);
    return true;
  }

  function start() {
    var nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    var counting = !(nav ? nav.type === "back_forward"
                         : performance.navigation && performance.navigation.type === 2);
    if (ignored()) {
      counting = false;
      console.info("visitor-counter: this browser does not count on this site (#vc-ignore); " +
                   "open a page with #vc-count to count again.");
    }
    request(pageKey, counting);
    whenReady(function () { scan(); observe(); });
  }

  addEventListener("hashchange", ignored);  // a #vc-ignore link clicked on the page

  if (auto) {
    var navigation = window.navigation;
    if (navigation && typeof navigation.addEventListener === "function") {
      navigation.addEventListener("currententrychange", function (event) {
        route(event.navigationType === "traverse");
      });
    } else {
      ["pushState", "replaceState"].forEach(function (name) {
        var original = history[name];
        history[name] = function () {
          var result = original.apply(this, arguments);
          route(false);
          return result;
        };
      });
      addEventListener("popstate", function () { route(true); });
    }
  }

  if (typeof fetch !== "function") {
    return whenReady(function () {
      console.warn("visitor-counter: no fetch(); showing a placeholder.");
      each("[data-visitor-count]", function (el) { paint(el, { failed: true }); });
    });
  }
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", start, { once: true });
  } else {
    start();
  }
})();
