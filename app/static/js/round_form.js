/* The round form, progressively enhanced: add and remove rubric rows, offer the rows by name as tie-break rules, and
   show only the fields that apply. Without this script the server adds rows and every field stays visible. */
(function () {
  "use strict";

  const ROW_NAME = /criteria-(\d+|__i__)-/g;

  function rubric(form) {
    const fieldset = form.querySelector("[data-rubric]");
    const box = form.querySelector("[data-criterion-rows]");
    const template = document.getElementById("criterion-template");
    const addButton = form.querySelector("[data-add-criterion]");
    const ties = form.querySelector(".tie-breaks");
    const selects = Array.from(form.querySelectorAll("select[data-tie-break]"));
    const max = parseInt(fieldset.dataset.max, 10) || 50;
    const text = fieldset.dataset;

    function rows() {
      return Array.from(box.querySelectorAll("[data-criterion-row]"));
    }

    function setIndex(row, index) {
      row.dataset.index = String(index);
      row.querySelectorAll("[name], [id], label[for], [aria-describedby]").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          const value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(ROW_NAME, "criteria-" + index + "-"));
        });
      });
      const label = row.querySelector("label[for$='-name']");
      if (label) label.textContent = text.labelCriterion.replace("{n}", index + 1);
      const remove = row.querySelector("[data-remove-criterion]");
      if (remove) remove.textContent = text.labelRemove.replace("{n}", index + 1);
    }

    function options() {
      const names = rows().map(function (row) {
        return row.querySelector("[data-criterion-name]").value.trim();
      });
      selects.forEach(function (select) {
        const chosen = select.value;
        Array.from(select.options).forEach(function (option) {
          if (option.value.indexOf("row:") === 0) option.remove();
        });
        const before = select.options[1] || null; // rows go between "no rule" and the median
        names.forEach(function (name, index) {
          const label = name
            ? ties.dataset.labelNamed.replace("{name}", name)
            : ties.dataset.labelRow.replace("{n}", index + 1);
          select.add(new Option(label, "row:" + index), before);
        });
        select.value = Array.from(select.options).some((o) => o.value === chosen) ? chosen : "";
      });
    }

    // Renumber rows 0..n-1 (the server reads them in order) and follow the tie-break choices that name them.
    function renumber(removedIndex) {
      selects.forEach(function (select) {
        if (select.value.indexOf("row:") !== 0 || removedIndex === undefined) return;
        const index = parseInt(select.value.slice(4), 10);
        if (index === removedIndex) select.value = "";
        else if (index > removedIndex) select.value = "row:" + (index - 1);
      });
      const values = selects.map((s) => s.value);
      rows().forEach(setIndex);
      options();
      selects.forEach(function (select, i) {
        select.value = values[i];
      });
      const count = rows().length;
      box.querySelectorAll(".row-actions").forEach(function (p) {
        p.hidden = count <= 1;
      });
      addButton.hidden = count >= max;
    }

    function add() {
      const row = template.content.firstElementChild.cloneNode(true);
      box.appendChild(row);
      renumber();
      row.querySelector("[data-criterion-name]").focus();
    }

    addButton.addEventListener("click", function (e) {
      e.preventDefault();
      add();
    });
    box.addEventListener("click", function (e) {
      const button = e.target.closest("[data-remove-criterion]");
      if (!button) return;
      const row = button.closest("[data-criterion-row]");
      const index = rows().indexOf(row);
      const next = rows()[index + 1] || rows()[index - 1];
      row.remove();
      renumber(index);
      if (next) next.querySelector("[data-criterion-name]").focus();
    });
    box.addEventListener("input", function (e) {
      if (e.target.matches("[data-criterion-name]")) options();
    });
    renumber();
  }

  // <div data-show-if="field=value">: shown only while the form's field has that value.
  function showIf(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (box) {
      const [name, value] = box.dataset.showIf.split("=");
      const control = form.elements[name];
      function update() {
        box.hidden = control.value !== value;
      }
      control.addEventListener("change", update);
      update();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.round-form").forEach(function (form) {
      rubric(form);
      showIf(form);
    });
  });
})();
