/* visitor-counter widget: counts this page view once and shows the number in every
 * [data-visitor-count] element, formatted for the visitor's locale.
 *
 *   <span data-visitor-count>…</span>
 *   <script src="https://COUNTER-HOST/counter.js" data-api="https://API-URL" data-key="home" async></script>
 *
 * data-api defaults to this script's origin, data-key to the default counter. No
 * dependencies, no eval, no inline styles: it runs under a strict Content-Security-Policy
 * that allows the counter in script-src and connect-src.
 *
 * One count per page view: a real load (navigate or reload) sends one counting request with
 * a fresh Idempotency-Key, resent once with the same key if the network fails, so the
 * counter counts it at most once. A page restored from the back/forward cache does not run
 * this again (nothing here listens to pageshow); a page reloaded from history
 * (back/forward without the cache) only reads.
 *
 * Owners: open a page with #vc-ignore in its URL and this browser stops counting on that
 * site (localStorage vc-ignore=1; it still shows the number); #vc-count undoes it.
 *
 * On a timeout (4 s in all), an HTTP error or a refused origin the elements show "—" and
 * one console warning says why. <img data-visitor-badge="color=green"> (optional) gets
 * this counter's badge, without counting again, once the number is in.
 */
(function () {
  "use strict";
  var TIMEOUT_MS = 4000;
  var script = document.currentScript;
  var attr = function (name) { return (script && script.getAttribute(name)) || ""; };
  var api = (attr("data-api") || (script && script.src ? new URL(script.src, location.href).origin
                                                       : location.origin)).replace(/\/+$/, "");
  var key = attr("data-key");
  var name = key ? encodeURIComponent(key).replace(/%2F/gi, "/") : "visitors";

  // The tag twice on one page still counts once.
  var done = window[Symbol.for("visitor-counter")] || (window[Symbol.for("visitor-counter")] = {});
  if (done[api + " " + name]) return;
  done[api + " " + name] = true;

  function whenReady(fn) {
    if (document.readyState !== "loading") return fn();
    document.addEventListener("DOMContentLoaded", fn, { once: true });
  }
  function region(el) { return el.closest("[aria-live]") || el; }
  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

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

  addEventListener("hashchange", ignored);  // a #vc-ignore link clicked on the page

  var nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  var counting = !(nav ? nav.type === "back_forward"
                       : performance.navigation && performance.navigation.type === 2);
  if (ignored()) {
    counting = false;
    console.info("visitor-counter: this browser does not count on this site (#vc-ignore); " +
                 "open a page with #vc-count to count again.");
  }
  var url = counting ? api + "/count" + (key ? "/" + name : "") : api + "/counters/" + name;

  whenReady(function () {
    each("[data-visitor-count]", function (el) {
      if (!el.closest("[aria-live]")) el.setAttribute("aria-live", "polite");
      region(el).setAttribute("aria-busy", "true");
    });
  });

  function show(count) {
    var text;
    try { text = new Intl.NumberFormat().format(count); } catch (e) { text = String(count); }
    each("[data-visitor-count]", function (el) {
      el.textContent = text;
      region(el).removeAttribute("aria-busy");
      el.setAttribute("data-visitor-state", "ready");
    });
    each("img[data-visitor-badge]", function (img) {
      var options = img.getAttribute("data-visitor-badge");
      if (!img.getAttribute("src")) {
        img.src = api + "/badge/" + name + ".svg?count=false" + (options ? "&" + options : "");
      }
    });
  }

  function unavailable(why) {
    console.warn("visitor-counter: " + why + "; showing a placeholder.");
    each("[data-visitor-count]", function (el) {
      region(el).setAttribute("aria-live", "off");  // a placeholder is not news
      region(el).removeAttribute("aria-busy");
      el.setAttribute("data-visitor-state", "unavailable");
      el.title = "Visitor count unavailable";
      el.textContent = "\u2014";
    });
  }

  function explain(status, body) {
    if (status === 403 && body && body.error === "origin_not_allowed") {
      return "the counter at " + api + " refused this page's origin " + location.origin +
             " (it is not on the counter's allow-list)";
    }
    return url + " answered HTTP " + status + (body && body.error ? " (" + body.error + ")" : "");
  }

  function start() {
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
      whenReady(function () {
        if (timedOut) return unavailable(late());
        if (answer.status >= 300 && !never) return unavailable(explain(answer.status, body));
        if (typeof count !== "number" || !isFinite(count)) {
          return unavailable("unexpected answer from " + url);
        }
        show(count);
      });
    }, function () {
      clearTimeout(timer);
      whenReady(function () {
        unavailable(timedOut ? late()
          : "could not reach " + url + " (the API is down or unreachable, or it refused this " +
            "page's origin " + location.origin + ")");
      });
    });
  }

  function late() { return "no answer from " + url + " within " + TIMEOUT_MS / 1000 + " s"; }

  if (typeof fetch !== "function") return whenReady(function () { unavailable("no fetch()"); });
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", start, { once: true });
  } else {
    start();
  }
})();
