// Keyboard shortcuts of the review workspace: a key clicks the button showing it
// (data-key). On the screening page "e" arms the exclusion reasons, whose number keys
// then submit; "n" goes to the next undecided record. Keys typed into a field are ignored.
(function () {
  "use strict";
  var armed = false;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function arm(on) {
    var reasons = document.getElementById("reasons");
    armed = on && !!reasons;
    if (reasons) reasons.classList.toggle("armed", armed);
  }

  function button(key, inReasons) {
    var scope = document.getElementById(inReasons ? "reasons" : "decide") || document;
    var all = Array.prototype.slice.call(document.querySelectorAll("[data-key]"));
    return all.filter(function (b) {
      var inside = !!b.closest("#reasons");
      return b.getAttribute("data-key") === key && inside === inReasons && (!inReasons || scope.contains(b));
    })[0];
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key.toLowerCase();
    if (key === "escape") { arm(false); return; }
    if (armed && /^[0-9]$/.test(key)) {
      var reason = button(key, true);
      if (reason) { event.preventDefault(); reason.click(); }
      return;
    }
    if (key === "e" && document.getElementById("reasons")) { event.preventDefault(); arm(true); return; }
    if (key === "n") {
      var next = document.getElementById("next-link");
      if (next) { event.preventDefault(); window.location.assign(next.href); }
      return;
    }
    var target = button(key, false);
    if (target) { event.preventDefault(); target.click(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var exclude = document.getElementById("exclude");
    if (exclude) exclude.addEventListener("click", function () { arm(!armed); });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    // A submitted form is sent once, however often a key is pressed.
    document.querySelectorAll("form[method=post]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
      });
    });
  });
})();
