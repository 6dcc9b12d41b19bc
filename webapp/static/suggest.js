// Suggestions as you type for a search box (any <input data-suggest="URL">): names in
// any language from this site's /search/suggest (JSON), shown as a WAI-ARIA combobox
// listbox. Picking one opens its page; Enter without a pick submits the form, which is
// the whole search without JavaScript (an entity id there goes straight to its page).
(function () {
  "use strict";
  if (!window.fetch) return;
  Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), function (input, n) {
    var list = document.createElement("ul");
    var status = document.createElement("p");
    var active = -1, items = [], timer = null, asked = 0;
    list.id = (input.id || "suggest-" + n) + "-list";
    list.setAttribute("role", "listbox");
    list.className = "typeahead";
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    (input.parentNode.classList.contains("search-row") ? input.parentNode : input).after(list, status);

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function go(item) { window.location.assign(item.url); }

    function highlight(index) {
      var nodes = list.children;
      for (var i = 0; i < nodes.length; i++) nodes[i].setAttribute("aria-selected", String(i === index));
      active = index;
      if (index >= 0) input.setAttribute("aria-activedescendant", nodes[index].id);
      else input.removeAttribute("aria-activedescendant");
    }

    function show(body) {
      list.textContent = "";
      items = body.results.slice();
      if (body.go) items.unshift(Object.assign({}, body.go, { jump: true }));
      items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-option-" + i;
        li.setAttribute("role", "option");
        var title = document.createElement("span");
        title.textContent = item.jump ? input.dataset.labelGo.replace("{id}", item.id) + ": " + item.label : item.label;
        if (item.labelLanguage) title.lang = item.labelLanguage;
        li.appendChild(title);
        var id = document.createElement("span");
        id.className = "id";
        id.textContent = " (" + item.id + ")";
        li.appendChild(id);
        if (item.description) {
          var d = document.createElement("span");
          d.className = "muted";
          d.textContent = " — " + item.description;
          li.appendChild(d);
        }
        li.addEventListener("mousedown", function (event) { event.preventDefault(); go(item); });
        list.appendChild(li);
      });
      status.textContent = items.length ? "" : input.dataset.labelNone;
      list.hidden = !items.length;
      input.setAttribute("aria-expanded", String(!!items.length));
      highlight(-1);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(function () {
        var mine = ++asked;
        fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (body) { if (mine === asked && input.value.trim()) show(body); })
          .catch(close);
      }, 150);
    });

    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { highlight(Math.min(active + 1, items.length - 1)); event.preventDefault(); }
      else if (event.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); event.preventDefault(); }
      else if (event.key === "Enter" && active >= 0) { go(items[active]); event.preventDefault(); }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  });
})();
