// Bigtent edit forms: type-ahead for entity values, and focus after a server round trip.
// The form works without this script: entity fields accept an id such as Q42.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function setup(input, index) {
    var hint = document.getElementById(input.getAttribute("aria-describedby").split(" ")[0]);
    var list = document.createElement("ul");
    var listId = "typeahead-" + index;
    var active = -1;
    var results = [];
    list.id = listId;
    list.className = "typeahead-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.parentNode.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function choose(i) {
      var item = results[i];
      if (!item) { return; }
      input.value = item.id;
      if (hint) { hint.textContent = item.label + (item.description ? " — " + item.description : ""); }
      close();
    }

    function highlight(i) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, k) { o.setAttribute("aria-selected", k === i ? "true" : "false"); });
      active = i;
      if (options[i]) { input.setAttribute("aria-activedescendant", options[i].id); }
    }

    function show(items) {
      results = items;
      list.textContent = "";
      items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = item.label + " (" + item.id + ")" + (item.description ? " — " + item.description : "");
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
      active = -1;
    }

    var search = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2 || /^[QP][1-9][0-9]*$/.test(q)) { close(); return; }
      var url = "/search?format=json&q=" + encodeURIComponent(q);
      if (input.dataset.class) { url += "&type=" + encodeURIComponent(input.dataset.class); }
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          if (input.value.trim() !== q) { return; }
          var prefix = input.dataset.typeahead || "Q";
          show((data.results || []).filter(function (x) { return x.id.charAt(0) === prefix; }).slice(0, 10));
        })
        .catch(function () { close(); });
    }, 200);

    input.addEventListener("input", search);
    input.addEventListener("blur", close);
    input.addEventListener("keydown", function (ev) {
      if (list.hidden) { return; }
      if (ev.key === "ArrowDown") { ev.preventDefault(); highlight(Math.min(active + 1, results.length - 1)); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); choose(active); }
      else if (ev.key === "Escape") { close(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-typeahead]").forEach(setup);
    var problems = document.getElementById("form-problems");
    var form = document.getElementById("edit-form");
    var target = problems || (form && form.dataset.focus && document.getElementById(form.dataset.focus));
    if (target) { target.focus(); }
  });
})();
