/* RMA pages: confirm before canceling a line; on Return items…, show each fee's charge
   (fee × returned ÷ expected, T7) as the quantity returned is typed. */
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!input.name || !input.name.startsWith("returned_")) return;
  const group = input.closest("tbody.contra-line-group");
  if (!group) return;
  const returned = Number.parseFloat(input.value);
  group.querySelectorAll("tr.contra-fee-line").forEach((row) => {
    const preview = row.querySelector(".contra-fee-preview");
    const total = Number.parseFloat(row.dataset.feeTotal);
    const expected = Number.parseFloat(row.dataset.expected);
    if (!preview) return;
    if (!(returned > 0) || !(expected > 0) || Number.isNaN(total)) {
      preview.textContent = "";
      return;
    }
    const charged = Math.round((total * returned * 100) / expected) / 100;
    preview.textContent = `= ${charged.toFixed(2)}`;
  });
});
