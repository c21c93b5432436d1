/* Progressive enhancement only: every page works without this script. */
(function () {
  "use strict";

  function countdown(el) {
    const deadline = Date.parse(el.dataset.deadline);
    const units = (el.dataset.units || "d,h,min,s").split(",");
    const out = el.querySelector(".countdown-value");
    function tick() {
      const left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
      if (left <= 0) {
        el.textContent = el.dataset.labelDone;
        return;
      }
      const d = Math.floor(left / 86400),
        h = Math.floor((left % 86400) / 3600),
        m = Math.floor((left % 3600) / 60),
        s = left % 60;
      out.textContent =
        (d ? d + " " + units[0] + " " : "") + h + " " + units[1] + " " + m + " " + units[2] + " " + s + " " + units[3];
      setTimeout(tick, 1000);
    }
    tick();
  }

  function pollStatus(box) {
    const label = box.querySelector("[data-role=label]"),
      bar = box.querySelector("[data-role=progress]"),
      reason = box.querySelector("[data-role=reason]"),
      detail = box.querySelector("[data-role=detail]");
    function poll() {
      fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          return r.json();
        })
        .then(function (doc) {
          if (!doc.status) return;
          label.textContent = doc.label;
          label.className = "badge st-" + doc.status;
          if (bar) {
            bar.value = doc.progress || 0;
            bar.hidden = doc.final;
          }
          if (detail) detail.textContent = doc.detail || "";
          if (doc.reason) {
            reason.textContent = doc.reason;
            reason.hidden = false;
          }
          if (doc.final) {
            // Reload into the final page: the player when ready; the reasons and no Submit button when rejected.
            if (doc.status !== box.dataset.status) location.reload();
            return;
          }
          setTimeout(poll, 2000);
        })
        .catch(function () {
          setTimeout(poll, 5000);
        });
    }
    if (["ready", "rejected", "failed"].indexOf(box.dataset.status) < 0) setTimeout(poll, 1000);
  }

  function sheetTotal(form) {
    const inputs = form.querySelectorAll("input[type=number][data-weight]"),
      out = form.querySelector("[data-role=total]");
    const numbers = new Intl.NumberFormat(document.documentElement.lang || "vi", { maximumFractionDigits: 2 });
    function update() {
      let total = 0,
        any = false;
      inputs.forEach(function (i) {
        const v = parseFloat(String(i.value).replace(",", "."));
        if (!isNaN(v)) {
          total += v * parseFloat(i.dataset.weight);
          any = true;
        }
      });
      out.textContent = any ? numbers.format(total) : "—";
    }
    inputs.forEach(function (i) {
      i.addEventListener("input", update);
    });
    update();
  }

  /* Storyboard: a scrub bar under the player that shows the sprite frame for the hovered/dragged time. */
  function parseVtt(text) {
    const cues = [],
      blocks = text.split(/\r?\n\r?\n/);
    function secs(t) {
      const p = t.split(":").map(parseFloat);
      return p.length === 3 ? p[0] * 3600 + p[1] * 60 + p[2] : p[0] * 60 + p[1];
    }
    blocks.forEach(function (b) {
      const m = b.match(/([\d:.]+)\s+-->\s+([\d:.]+)\s*\n(.+)/);
      if (!m) return;
      const f = m[3].trim().match(/^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/);
      if (f) cues.push({ start: secs(m[1]), end: secs(m[2]), src: f[1], x: +f[2], y: +f[3], w: +f[4], h: +f[5] });
    });
    return cues;
  }

  function storyboard(video) {
    const preview = video.nextElementSibling,
      base = video.dataset.storyboard;
    if (!preview || !preview.classList.contains("storyboard-preview")) return;
    fetch(base, { credentials: "same-origin" })
      .then(function (r) {
        return r.ok ? r.text() : "";
      })
      .then(function (text) {
        const cues = parseVtt(text);
        if (!cues.length) return;
        const scrub = document.createElement("input");
        scrub.type = "range";
        scrub.min = 0;
        scrub.step = 0.1;
        scrub.value = 0;
        scrub.className = "scrub";
        scrub.setAttribute("aria-label", video.dataset.scrubLabel || "Seek");
        // The preview floats above the bar (CSS: .scrub-box): shown in the flow, it pushed the bar down from under
        // the pointer, whose mouseleave hid it again, and so on (a flicker that also failed a browser test).
        const box = document.createElement("div");
        box.className = "scrub-box";
        preview.parentNode.insertBefore(box, preview);
        box.appendChild(preview);
        box.appendChild(scrub);
        function show(t, fraction) {
          const cue =
            cues.filter(function (c) {
              return t >= c.start && t < c.end;
            })[0] || cues[cues.length - 1];
          const url = new URL(cue.src, new URL(base, location.href)).href;
          const room = box.clientWidth - cue.w;
          preview.style.width = cue.w + "px";
          preview.style.height = cue.h + "px";
          preview.style.left = Math.max(0, Math.min(room, fraction * box.clientWidth - cue.w / 2)) + "px";
          preview.style.backgroundImage = "url(" + url + ")";
          preview.style.backgroundPosition = "-" + cue.x + "px -" + cue.y + "px";
          preview.hidden = false;
        }
        video.addEventListener("loadedmetadata", function () {
          scrub.max = video.duration;
        });
        if (video.duration) scrub.max = video.duration;
        video.addEventListener("timeupdate", function () {
          if (document.activeElement !== scrub) scrub.value = video.currentTime;
        });
        scrub.addEventListener("input", function () {
          const max = +scrub.max || 0;
          show(+scrub.value, max ? +scrub.value / max : 0);
          video.currentTime = +scrub.value;
        });
        scrub.addEventListener("mousemove", function (e) {
          const r = scrub.getBoundingClientRect(),
            max = +scrub.max || 0,
            fraction = Math.max(0, Math.min(1, (e.clientX - r.left) / r.width));
          show(fraction * max, fraction);
        });
        ["mouseleave", "blur", "change"].forEach(function (ev) {
          scrub.addEventListener(ev, function () {
            preview.hidden = true;
          });
        });
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("video[data-storyboard]").forEach(storyboard);
    document.querySelectorAll(".countdown[data-deadline]").forEach(countdown);
    document.querySelectorAll(".clip-status[data-url]").forEach(pollStatus);
    document.querySelectorAll("form.sheet").forEach(sheetTotal);
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!confirm(f.dataset.confirm)) e.preventDefault();
      });
    });
  });
})();
