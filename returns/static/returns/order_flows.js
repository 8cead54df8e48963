/* Return flows of the order page: "Add a fee" clones the fee formset's empty row.
   Without JavaScript the formset's two extra rows still work. */
(function () {
  "use strict";
  function setUp() {
    var button = document.getElementById("add-fee");
    var template = document.getElementById("fee-empty-row");
    var total = document.querySelector("input[name='fees-TOTAL_FORMS']");
    var maxForms = document.querySelector("input[name='fees-MAX_NUM_FORMS']");
    var rows = document.getElementById("fee-rows");
    if (!button || !template || !total || !rows) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10) || 0;
      if (maxForms && index >= (parseInt(maxForms.value, 10) || 1000)) {
        return;
      }
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("tbody");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("select, input");
      if (first) {
        first.focus();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
