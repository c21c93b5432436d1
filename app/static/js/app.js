/* Progressive enhancement only: every page works without this script. */
(function () {
  "use strict";

  function countdown(el) {
    var deadline = Date.parse(el.dataset.deadline);
    var units = (el.dataset.units || "d,h,min,s").split(",");
    var out = el.querySelector(".countdown-value");
    function tick() {
      var left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
      if (left <= 0) { el.textContent = el.dataset.labelDone; return; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      out.textContent = (d ? d + " " + units[0] + " " : "") + h + " " + units[1] + " " + m + " " + units[2] + " " + s + " " + units[3];
      setTimeout(tick, 1000);
    }
    tick();
  }

  function pollStatus(box) {
    var label = box.querySelector("[data-role=label]"), bar = box.querySelector("[data-role=progress]"),
        reason = box.querySelector("[data-role=reason]");
    function poll() {
      fetch(box.dataset.url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (doc) {
          if (!doc.status) return;
          label.textContent = doc.label;
          label.className = "badge st-" + doc.status;
          if (bar) { bar.value = doc.progress || 0; bar.hidden = doc.final; }
          if (doc.reason) { reason.textContent = doc.reason; reason.hidden = false; }
          if (doc.final) { if (doc.status === "ready" && box.dataset.status !== "ready") location.reload(); return; }
          setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    if (["ready", "rejected", "failed"].indexOf(box.dataset.status) < 0) setTimeout(poll, 1000);
  }

  function sheetTotal(form) {
    var inputs = form.querySelectorAll("input[type=number][data-weight]"), out = form.querySelector("[data-role=total]");
    function update() {
      var total = 0, any = false;
      inputs.forEach(function (i) {
        var v = parseFloat(String(i.value).replace(",", "."));
        if (!isNaN(v)) { total += v * parseFloat(i.dataset.weight); any = true; }
      });
      out.textContent = any ? (Math.round(total * 100) / 100).toString() : "—";
    }
    inputs.forEach(function (i) { i.addEventListener("input", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".countdown[data-deadline]").forEach(countdown);
    document.querySelectorAll(".clip-status[data-url]").forEach(pollStatus);
    document.querySelectorAll("form.sheet").forEach(sheetTotal);
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) { if (!confirm(f.dataset.confirm)) e.preventDefault(); });
    });
    document.querySelectorAll("form.upload").forEach(function (f) {
      f.addEventListener("submit", function () {
        f.querySelector(".upload-wait").hidden = false;
        f.querySelector("button[type=submit]").disabled = true;
      });
    });
  });
})();
