// Choosing criteria on /peers: each <fieldset data-multiselect> holds every value as a
// checkbox (the whole form without JavaScript). This turns it into a WAI-ARIA combobox
// with a listbox of the values that match what is typed and a chip per chosen value;
// picking or removing a value ticks or unticks its checkbox, so the form sends the same
// thing either way. A fieldset with data-search also asks this site's /search (JSON) for
// names in every language (labels and aliases), so "gouvern" finds governance.
(function () {
  "use strict";
  if (!window.fetch || !Element.prototype.after) return;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  Array.prototype.forEach.call(document.querySelectorAll("fieldset[data-multiselect]"), function (box) {
    var name = box.dataset.name;
    var details = box.querySelector("details.choices");
    var legend = box.querySelector("legend");
    var byName = box.querySelector(".capacity-name");
    var chips = document.createElement("ul");
    var input = document.createElement("input");
    var list = document.createElement("ul");
    var status = document.createElement("p");
    var active = -1, items = [], timer = null, asked = 0;

    function boxes() { return Array.prototype.slice.call(box.querySelectorAll("input[type=checkbox][name='" + name + "']")); }
    function labelOf(cb) { return cb.closest("label") ? cb.closest("label").textContent.trim() : cb.value; }
    function boxFor(id) { return boxes().filter(function (cb) { return cb.value === id; })[0]; }

    chips.className = "chips";
    chips.setAttribute("aria-label", legend.textContent.trim());
    input.type = "text";
    input.id = box.id + "-input";
    input.className = "multiselect-input";
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-labelledby", legend.id);
    input.setAttribute("aria-describedby", box.id + "-hint");
    list.id = box.id + "-list";
    list.className = "typeahead";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-labelledby", legend.id);
    list.hidden = true;
    input.setAttribute("aria-controls", list.id);
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    var hint = document.createElement("p");
    hint.id = box.id + "-hint";
    hint.className = "muted";
    hint.textContent = box.dataset.labelInput;

    details.hidden = true;  // the checkboxes stay in the form; chips and the list drive them
    if (byName) byName.hidden = true;
    details.after(chips, input, hint, list, status);

    function renderChips() {
      chips.textContent = "";
      boxes().filter(function (cb) { return cb.checked; }).forEach(function (cb) {
        var li = document.createElement("li");
        var text = labelOf(cb);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "chip";
        remove.dataset.value = cb.value;
        remove.setAttribute("aria-label", box.dataset.labelRemove.replace("{value}", text));
        remove.textContent = text + " \u00d7";
        remove.addEventListener("click", function () {
          cb.checked = false;
          renderChips();
          status.textContent = remove.getAttribute("aria-label");
          input.focus();
        });
        li.appendChild(remove);
        chips.appendChild(li);
      });
    }

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var nodes = list.children;
      for (var i = 0; i < nodes.length; i++) nodes[i].setAttribute("aria-selected", String(i === index));
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", nodes[index].id);
        nodes[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function pick(item) {
      var cb = boxFor(item.id);
      if (!cb) {  // found by a name in another language, beyond the listed values
        cb = document.createElement("input");
        cb.type = "checkbox";
        cb.name = name;
        cb.value = item.id;
        var label = document.createElement("label");
        label.append(cb, " " + item.label);
        var li = document.createElement("li");
        li.appendChild(label);
        details.querySelector("ul.checks").appendChild(li);
      }
      cb.checked = true;
      input.value = "";
      renderChips();
      status.textContent = item.label;
      close();
    }

    function show(found) {
      list.textContent = "";
      items = found;
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-option-" + i;
        li.setAttribute("role", "option");
        li.dataset.value = item.id;
        li.textContent = item.label + (item.also ? " (" + item.also + ")" : "");
        li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(item); });
        list.appendChild(li);
      });
      status.textContent = found.length ? "" : box.dataset.labelNone;
      list.hidden = !found.length;
      input.setAttribute("aria-expanded", String(!!found.length));
      highlight(-1);
    }

    function local(q) {
      var wanted = fold(q);
      return boxes().filter(function (cb) {
        return !cb.checked && fold(labelOf(cb)).indexOf(wanted) !== -1;
      }).map(function (cb) { return { id: cb.value, label: labelOf(cb) }; });
    }

    function update() {
      clearTimeout(timer);
      var q = input.value.trim();
      var mine = ++asked;
      show(local(q));
      if (!q || !box.dataset.search) return;
      timer = setTimeout(function () {
        var url = box.dataset.search + (box.dataset.search.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(q);
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (body) {
            if (mine !== asked) return;
            var found = local(q);
            var seen = {};
            found.forEach(function (item) { seen[item.id] = true; });
            body.results.forEach(function (hit) {
              var cb = boxFor(hit.id);
              if (seen[hit.id] || (cb && cb.checked)) return;
              seen[hit.id] = true;
              found.push({ id: hit.id, label: hit.label, also: hit.match && hit.match.text !== hit.label ? hit.match.text : "" });
            });
            show(found);
          })
          .catch(function () {});
      }, 150);
    }

    input.addEventListener("input", update);
    input.addEventListener("focus", function () { if (!input.value) update(); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Backspace" && !input.value) {
        var chosen = boxes().filter(function (cb) { return cb.checked; });
        if (chosen.length) { chosen[chosen.length - 1].checked = false; renderChips(); }
        return;
      }
      if (event.key === "ArrowDown" && list.hidden) { update(); event.preventDefault(); return; }
      if (list.hidden) return;
      if (event.key === "ArrowDown") { highlight(Math.min(active + 1, items.length - 1)); event.preventDefault(); }
      else if (event.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); event.preventDefault(); }
      else if (event.key === "Enter" && active >= 0) { pick(items[active]); event.preventDefault(); }
      else if (event.key === "Escape") { close(); event.preventDefault(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    renderChips();
  });
})();
