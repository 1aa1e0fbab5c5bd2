// Moves focus to the error summary when the page loads with one (for browsers that ignore
// autofocus on a non-form element), so a screen reader reads the list of problems first.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary && document.activeElement !== summary) {
    summary.focus();
  }
});
