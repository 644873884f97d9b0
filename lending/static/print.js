// The "Print" buttons of the offer and the statement (no inline handlers: the CSP forbids them).
document.querySelectorAll("button[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
