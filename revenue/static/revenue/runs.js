/* I8: live progress of collection runs. Polls the admin's progress view every 2 s while a
 * run shown on the page is queued or running, and updates its cells in place
 * (elements with data-run / data-field). Stops when no shown run is active. */
(function () {
  "use strict";

  function cells(id, field) {
    return document.querySelectorAll('[data-run="' + id + '"][data-field="' + field + '"]');
  }

  function activeIds() {
    var ids = [];
    document.querySelectorAll('[data-field="status"][data-active="1"]').forEach(function (el) {
      ids.push(el.getAttribute("data-run"));
    });
    return ids;
  }

  function setText(id, field, value) {
    cells(id, field).forEach(function (el) {
      el.textContent = value === null || value === undefined ? "" : String(value);
    });
  }

  function update(run) {
    cells(run.id, "status").forEach(function (el) {
      el.setAttribute("data-active", run.active ? "1" : "0");
      var badge = el.querySelector(".contra-badge") || document.createElement("span");
      badge.className = "contra-badge " + run.status;
      badge.textContent = run.status_label;
      badge.title = run.status_label;
      if (!badge.parentNode) { el.appendChild(badge); }
    });
    cells(run.id, "progress").forEach(function (el) {
      var bar = el.querySelector(".contra-progress > span");
      var pct = el.querySelector(".pct");
      if (bar) { bar.style.width = run.percent + "%"; }
      if (pct) { pct.textContent = run.percent + "%"; }
      el.title = run.processed + " of " + run.total + " lines";
    });
    ["total", "collected", "stopped", "waiting", "validated", "skipped",
     "started", "finished", "duration", "message"].forEach(function (field) {
      setText(run.id, field, run[field]);
    });
  }

  function start() {
    var root = document.getElementById("revenue-runs");
    if (!root) { return; }
    var url = root.getAttribute("data-progress-url");
    var every = parseInt(root.getAttribute("data-interval") || "2000", 10);
    var timer = null;

    function poll() {
      var ids = activeIds();
      if (!ids.length) { timer = null; return; }
      fetch(url + "?ids=" + ids.join(","), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          data.runs.forEach(update);
          root.setAttribute("data-polls", String(parseInt(root.getAttribute("data-polls") || "0", 10) + 1));
          timer = data.active ? window.setTimeout(poll, every) : null;
        })
        .catch(function () {
          timer = window.setTimeout(poll, every * 3); // server busy or restarting: slow down
        });
    }

    if (activeIds().length) { timer = window.setTimeout(poll, every); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
