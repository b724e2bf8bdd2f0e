// Keyboard flow: y / n (or 1 / 0) answer the highlighted question and move on; Backspace steps
// back one question; Enter submits once every question is answered; u undoes the last saved answer.
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  var undo = document.getElementById("undo-form");
  if (!form) {
    document.addEventListener("keydown", function (e) {
      if (undo && (e.key || "").toLowerCase() === "u" && !(e.ctrlKey || e.metaKey || e.altKey)) { undo.submit(); }
    });
    return;
  }
  var qs = Array.prototype.slice.call(form.querySelectorAll("fieldset.q"));
  var status = document.getElementById("key-status");
  var cur = 0;
  function firstOpen() {
    for (var k = 0; k < qs.length; k++) { if (!qs[k].querySelector("input:checked")) { return k; } }
    return qs.length;
  }
  function focusOn(i) {
    cur = Math.max(0, Math.min(i, qs.length));
    qs.forEach(function (f, k) { f.classList.toggle("current", k === cur); });
    if (status) { status.textContent = cur < qs.length ? "Question " + (cur + 1) + " of " + qs.length : "Press Enter to submit"; }
  }
  function answer(value) {
    if (cur >= qs.length) { return; }
    var input = qs[cur].querySelector('input[value="' + value + '"]');
    if (input) { input.checked = true; }
    focusOn(firstOpen());
  }
  function back() {
    var k = Math.min(cur, qs.length) - 1;
    if (k < 0) { return; }
    qs[k].querySelectorAll("input").forEach(function (i) { i.checked = false; });
    focusOn(k);
  }
  var sent = false;
  form.addEventListener("submit", function (e) {
    if (sent) { e.preventDefault(); return; }
    sent = true;
  });
  form.addEventListener("change", function () { focusOn(firstOpen()); });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || sent) { return; }
    var key = (e.key || "").toLowerCase();
    if (key === "y" || key === "1") { answer("yes"); e.preventDefault(); }
    else if (key === "n" || key === "0") { answer("no"); e.preventDefault(); }
    else if (key === "backspace") { back(); e.preventDefault(); }
    else if (key === "enter") {
      e.preventDefault();
      if (firstOpen() >= qs.length) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
      else { focusOn(firstOpen()); }
    }
    else if (key === "u" && undo) { e.preventDefault(); sent = true; undo.submit(); }
  });
  focusOn(firstOpen());
})();
