/* Share panel: copy the contest link or the banner snippet to the clipboard (the fields stay selectable without JS). */
(function () {
  "use strict";

  function announce(panel, text) {
    const status = panel && panel.querySelector(".copy-status");
    if (status) status.textContent = text;
  }

  function copy(button) {
    const field = document.getElementById(button.dataset.copy),
      panel = button.closest(".share");
    if (!field) return;
    field.focus();
    field.select();
    const done = function () {
      const label = button.textContent;
      button.textContent = button.dataset.copied;
      announce(panel, button.dataset.copied);
      setTimeout(function () {
        button.textContent = label;
      }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        if (document.execCommand("copy")) done();
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        copy(button);
      });
    });
  });
})();
