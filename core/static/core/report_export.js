/* M6: the progress of a large report download written by a worker. Polls the export's
 * state every 1.5 s while it is queued or running and updates the bar in place; when the
 * file is written, shows its link. (Like revenue/runs.js for collection runs.) */
(function () {
  "use strict";

  function start() {
    var root = document.getElementById("report-export");
    if (!root || root.getAttribute("data-active") !== "1") { return; }
    var url = root.getAttribute("data-state-url");
    var every = 1500;

    function field(name) { return root.querySelector('[data-field="' + name + '"]'); }

    function update(state) {
      field("bar").style.width = state.percent + "%";
      field("percent").textContent = state.percent + "%";
      field("rows_done").textContent = Number(state.rows_done).toLocaleString("en-US");
      var status = field("status");
      status.className = "contra-badge " + state.status;
      status.textContent = state.status_label;
      var message = field("message");
      message.textContent = state.message || "";
      message.hidden = !state.message;
      field("link").hidden = state.status !== "DONE";
      field("wait").hidden = !state.active;
      root.setAttribute("data-active", state.active ? "1" : "0");
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (state) {
          update(state);
          if (state.active) { window.setTimeout(poll, every); }
        })
        .catch(function () { window.setTimeout(poll, every * 3); });
    }

    window.setTimeout(poll, every);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
