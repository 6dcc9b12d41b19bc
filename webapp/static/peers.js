// Type-ahead for capacities on /peers: names in any language (labels and aliases) come
// from this site's /search (JSON); a picked capacity is selected in the multi-select,
// which is the whole form without JavaScript.
(function () {
  "use strict";
  var input = document.getElementById("peers-capacity-name");
  if (!input || !window.fetch) return;
  var select = document.getElementById(input.dataset.select);
  var list = document.createElement("ul");
  var status = document.createElement("p");
  var active = -1, items = [], timer = null, asked = 0;
  list.id = "peers-capacity-list";
  list.setAttribute("role", "listbox");
  list.className = "typeahead";
  list.hidden = true;
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.after(list, status);

  function close() {
    list.hidden = true;
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function pick(item) {
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === item.id; });
    if (!option) {
      option = new Option(item.label, item.id);
      select.add(option);
    }
    option.selected = true;
    input.value = "";
    status.textContent = item.label;
    close();
  }

  function highlight(index) {
    var nodes = list.children;
    for (var i = 0; i < nodes.length; i++) nodes[i].setAttribute("aria-selected", String(i === index));
    active = index;
    if (index >= 0) input.setAttribute("aria-activedescendant", nodes[index].id);
  }

  function show(results) {
    list.textContent = "";
    items = results;
    results.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = "peers-capacity-option-" + i;
      li.setAttribute("role", "option");
      li.textContent = item.label + (item.match && item.match.text !== item.label ? " (" + item.match.text + ")" : "");
      li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(item); });
      list.appendChild(li);
    });
    if (!results.length) status.textContent = input.dataset.labelNone;
    list.hidden = !results.length;
    input.setAttribute("aria-expanded", String(!!results.length));
    highlight(-1);
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (!q) { close(); return; }
    timer = setTimeout(function () {
      var mine = ++asked;
      var url = input.dataset.search + "?format=json&type=Q5&q=" + encodeURIComponent(q);
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (body) { if (mine === asked) show(body.results.slice(0, 8)); })
        .catch(function () { close(); });
    }, 150);
  });

  input.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown") { highlight(Math.min(active + 1, items.length - 1)); event.preventDefault(); }
    else if (event.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); event.preventDefault(); }
    else if (event.key === "Enter" && active >= 0) { pick(items[active]); event.preventDefault(); }
    else if (event.key === "Escape") { close(); }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();
