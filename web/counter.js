// visitor-counter widget: counts this page view once and shows the number in every
// [data-visitor-count] element. Placeholder: an em dash.
(function () {
  "use strict";
  var script = document.currentScript;
  var api = (script && script.getAttribute("data-api")) || (script ? new URL(script.src).origin : "");
  var key = (script && script.getAttribute("data-key")) || "";
  var url = api.replace(/\/$/, "") + "/count" + (key ? "/" + encodeURIComponent(key).replace(/%2F/g, "/") : "");
  function show(text) {
    document.querySelectorAll("[data-visitor-count]").forEach(function (el) { el.textContent = text; });
  }
  fetch(url, { method: "POST", mode: "cors", credentials: "omit" })
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(function (body) { show(Number(body.count).toLocaleString()); })
    .catch(function (err) { show("\u2014"); console.warn("visitor-counter: " + err.message); });
})();
