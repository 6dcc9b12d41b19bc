/* Bigtent query editor: turns the plain query form of /query into YASGUI (YASQE editor +
 * YASR results), served locally from node_modules. Without this script, or without
 * YASGUI, the plain form keeps working: it posts the query to the SPARQL endpoint.
 *
 * Nothing here talks to another host: prefix completion uses this catalogue's prefixes,
 * and YASQE's completers that ask Linked Open Vocabularies are switched off. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("editor-config").textContent);
  var Yasgui = window.Yasgui;
  if (!Yasgui || !Yasgui.Yasqe || !Yasgui.Yasr) {
    return; // the plain form stays
  }
  var Yasqe = Yasgui.Yasqe;
  var Yasr = Yasgui.Yasr;
  var ENTITY_ID = /^[QP][1-9][0-9]*$/;

  var form = document.getElementById("query-form");
  var textarea = document.getElementById("query");
  var editorEl = document.getElementById("editor");
  var picker = document.getElementById("example");
  var pickerDescription = document.getElementById("example-description");
  var resultsSection = document.getElementById("results-section");
  var statusEl = document.getElementById("query-status");
  var truncatedEl = document.getElementById("truncated");
  var shareInput = document.getElementById("share-link");
  var copyButton = document.getElementById("copy-link");
  var downloadItems = document.querySelectorAll("#download-links li");

  // Messages come from the page, which renders them in the reader's interface language.
  function message(name, values) {
    var text = statusEl.getAttribute("data-" + name) || "";
    return text.replace(/%\((\w+)\)s/g, function (whole, key) {
      return values && key in values ? String(values[key]) : whole;
    });
  }
  var lang = document.documentElement.lang || "en";
  var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;
  function countMessage(count, ms) {
    var one = plurals ? plurals.select(count) === "one" : count === 1;
    return message(one ? "one" : "many", { count: count.toLocaleString(lang), ms: ms });
  }

  var examplesById = {};
  config.examples.forEach(function (example) {
    examplesById[example.id] = example;
  });

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function entityId(binding) {
    if (!binding || binding.type !== "uri") return null;
    if (binding.value.indexOf(config.entityNamespace) !== 0) return null;
    var local = binding.value.substring(config.entityNamespace.length);
    return ENTITY_ID.test(local) ? local : null;
  }

  // --- completion: this catalogue's prefixes, nothing fetched from elsewhere ------------
  var prefixLines = Object.keys(config.prefixes).sort().map(function (name) {
    return name + ": <" + config.prefixes[name] + ">";
  });
  Yasqe.forkAutocompleter(
    "prefixes",
    { name: "bigtent-prefixes", persistenceId: null, get: prefixLines },
    false
  );
  // YASQE merges arrays index by index, so the list of completers is replaced here.
  Yasqe.defaults.autocompleters = ["variables", "bigtent-prefixes"];

  // --- results table: entities shown by label, linked to their pages --------------------
  var BaseTable = Yasr.plugins.table;
  class EntityTable extends BaseTable {
    getColumns() {
      var columns = super.getColumns();
      var variables = this.yasr.results.getVariables();
      var position = {};
      variables.forEach(function (name, i) {
        position[name] = i + 1; // row arrays start with the row number
      });
      variables.forEach(function (name, i) {
        var column = columns[i + 1];
        var labelAt = position[name + "Label"];
        if (name.slice(-5) === "Label" && position[name.slice(0, -5)] !== undefined) {
          column.visible = false; // shown in the column of the entity it labels
        }
        var plain = column.render;
        column.render = function (cell, type, row, meta) {
          var id = entityId(cell);
          if (!id) return plain(cell, type, row, meta);
          var labelCell = labelAt === undefined ? "" : row[labelAt];
          var label = labelCell && labelCell.value ? labelCell.value : id;
          if (type === "filter" || type === "sort" || !type) return label + " " + id;
          return (
            '<div><a class="entity-link" href="' +
            escapeHtml(config.pagePath + id) +
            '">' +
            escapeHtml(label) +
            '</a> <span class="id">(' +
            id +
            ")</span></div>"
          );
        };
      });
      return columns;
    }
  }
  Yasr.registerPlugin("table", EntityTable);
  Yasr.defaults.pluginOrder = ["table", "response"];

  // --- the editor --------------------------------------------------------------------------
  function queryFromHash() {
    var match = /(?:^#|&)query=([^&]*)/.exec(window.location.hash);
    if (!match) return null;
    try {
      return decodeURIComponent(match[1].replace(/\+/g, " "));
    } catch (e) {
      return null;
    }
  }

  function shareLink(query) {
    var base = window.location.origin + config.editorPath;
    var link = base + "?query=" + encodeURIComponent(query);
    return link.length <= config.maxUrlLength ? link : base + "#query=" + encodeURIComponent(query);
  }

  var initial = queryFromHash();
  if (initial !== null) textarea.value = initial;

  textarea.hidden = true;
  editorEl.hidden = false;
  document.getElementById("editor-keys").hidden = false;
  document.getElementById("plain-format").hidden = true;
  document.getElementById("query-label").removeAttribute("for");

  var yasqe = new Yasqe(editorEl, {
    value: textarea.value,
    persistenceId: null,
    consumeShareLink: null,
    createShareableLink: function (instance) {
      return shareLink(instance.getValue());
    },
    requestConfig: {
      endpoint: config.endpoint,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json, application/json;q=0.5",
      acceptHeaderGraph: "text/turtle, application/json;q=0.5",
    },
    resizeable: true,
    editorHeight: "24rem",
  });
  var input = yasqe.getInputField();
  input.setAttribute("aria-labelledby", "query-label");
  input.setAttribute("aria-describedby", "editor-keys");

  var yasr = new Yasr(document.getElementById("results"), {
    persistenceId: null,
    prefixes: config.prefixes,
  });

  // --- keeping the page in step with the query --------------------------------------------
  function isGraphQuery() {
    var kind = yasqe.getQueryType();
    return kind === "CONSTRUCT" || kind === "DESCRIBE";
  }

  function downloadHref(query, format) {
    return config.endpoint + "?" + new URLSearchParams({ query: query, format: format }).toString();
  }

  function refresh() {
    var query = yasqe.getValue();
    textarea.value = query;
    shareInput.value = shareLink(query);
    var kind = isGraphQuery() ? "graph" : "solutions";
    downloadItems.forEach(function (item) {
      item.hidden = item.getAttribute("data-kind") !== kind;
      var link = item.querySelector("a");
      link.href = downloadHref(query, link.getAttribute("data-format"));
    });
  }

  var pending = null;
  yasqe.on("change", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(refresh, 150);
  });
  refresh();

  // Downloads of queries too long for an address are fetched with POST instead.
  downloadItems.forEach(function (item) {
    item.querySelector("a").addEventListener("click", function (event) {
      var link = event.currentTarget;
      refresh();
      if (link.href.length <= config.maxUrlLength) return;
      event.preventDefault();
      var body = new URLSearchParams({ query: yasqe.getValue() });
      var url = config.endpoint + "?format=" + encodeURIComponent(link.getAttribute("data-format"));
      fetch(url, { method: "POST", body: body })
        .then(function (response) {
          if (!response.ok) throw new Error("the endpoint answered " + response.status);
          return response.blob();
        })
        .then(function (blob) {
          var save = document.createElement("a");
          save.href = URL.createObjectURL(blob);
          save.download = link.getAttribute("download");
          document.body.appendChild(save);
          save.click();
          save.remove();
          window.setTimeout(function () {
            URL.revokeObjectURL(save.href);
          }, 10000);
        })
        .catch(function (error) {
          statusEl.textContent = message("download-failed", { error: error.message });
        });
    });
  });

  // --- examples --------------------------------------------------------------------------
  function openExample(id) {
    var example = examplesById[id];
    if (!example) return;
    yasqe.setValue(example.query);
    pickerDescription.textContent = example.description;
    refresh();
    yasqe.focus();
  }
  picker.addEventListener("change", function () {
    openExample(picker.value);
  });
  document.getElementById("open-example").hidden = true;

  // --- running ---------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    yasqe.query().catch(function () {
      /* shown by the queryResponse handler */
    });
  });

  yasqe.on("query", function () {
    resultsSection.hidden = false;
    statusEl.textContent = message("running");
    truncatedEl.hidden = true;
  });

  function errorMessage(error) {
    var text = error && error.message ? error.message : String(error);
    try {
      var parsed = JSON.parse(text);
      if (parsed && parsed.error) return (parsed.title ? parsed.title + ": " : "") + parsed.error;
    } catch (e) {
      /* not JSON: the text as it came */
    }
    return text;
  }

  yasqe.on("queryResponse", function (instance, response, duration) {
    if (response instanceof Error) {
      var failure = errorMessage(response);
      statusEl.textContent = message("failed", { error: failure });
      yasr.setResponse(new Error(failure), duration);
      return;
    }
    yasr.setResponse(response, duration);
    var rows = yasr.results && yasr.results.getBindings();
    var count = rows ? rows.length : null;
    statusEl.textContent =
      count === null ? message("done", { ms: duration }) : countMessage(count, duration);
    var truncated = (response.headers.get("Bigtent-Truncated") || "").toLowerCase() === "true";
    truncatedEl.hidden = !truncated;
    if (truncated) document.getElementById("truncated-rows").textContent = count === null ? "" : count;
    window.history.replaceState(null, "", shareLink(yasqe.getValue()));
  });

  // --- share -----------------------------------------------------------------------------
  var copyLabel = copyButton.textContent;
  copyButton.hidden = false;
  copyButton.addEventListener("click", function () {
    refresh();
    shareInput.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(shareInput.value).then(
        function () {
          copyButton.textContent = copyButton.getAttribute("data-copied");
        },
        function () {
          copyButton.textContent = copyLabel;
        }
      );
    }
  });
})();
