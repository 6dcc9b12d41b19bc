/* Bigtent query editor: turns the plain query form of /query into YASGUI (YASQE editor +
 * YASR results with the views of query-views.js), served locally from node_modules.
 * Without this script, or without YASGUI, the plain form keeps working: it posts the
 * query to the SPARQL endpoint.
 *
 * - The endpoint's predefined prefixes (wd:, wdt:, p:, …) are known to the editor, so no
 *   valid query is flagged and no PREFIX line needs adding.
 * - Completion: prefixes, variables, and after wd:/wdt:/p:/ps:/pq:/pr: entities and
 *   properties by label in the reader's language (GET completePath), inserted as the id
 *   with the label in a comment at the end of the line, as WDQS does.
 * - Share links `/query#<query>` open and run the query in its view; the share icon and
 *   the Copy button only make the link. The embed code frames `/embed#<query>`.
 * - Errors: one message with line and column, the offending part marked in the editor,
 *   no download links.
 * - Words come from the page (the JSON block `editor-config`), in the reader's language.
 *
 * Nothing here talks to another host: YASQE's completers that ask Linked Open
 * Vocabularies are switched off. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("editor-config").textContent);
  var Yasgui = window.Yasgui;
  var Views = window.BigtentViews;
  if (!Yasgui || !Yasgui.Yasqe || !Yasgui.Yasr || !Views) {
    return; // the plain form stays
  }
  var Yasqe = Yasgui.Yasqe;
  var Yasr = Yasgui.Yasr;
  var lang = document.documentElement.lang || "en";
  var say = Views.setup(Yasr, config, null);

  var form = document.getElementById("query-form");
  var runButton = document.getElementById("run");
  var textarea = document.getElementById("query");
  var editorEl = document.getElementById("editor");
  var picker = document.getElementById("example");
  var pickerDescription = document.getElementById("example-description");
  var resultsSection = document.getElementById("results-section");
  var resultsEl = document.getElementById("results");
  var statusEl = document.getElementById("query-status");
  var truncatedEl = document.getElementById("truncated");
  var switcher = document.getElementById("view-switcher");
  var downloads = document.getElementById("downloads");
  var shareInput = document.getElementById("share-link");
  var copyButton = document.getElementById("copy-link");
  var embedShare = document.getElementById("embed-share");
  var embedCode = document.getElementById("embed-code");
  var copyEmbed = document.getElementById("copy-embed");
  var downloadItems = document.querySelectorAll("#download-links li");

  var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;
  function countMessage(count, ms) {
    var one = plurals ? plurals.select(count) === "one" : count === 1;
    return say(one ? "one" : "many", { count: count.toLocaleString(lang), ms: ms });
  }

  var examplesById = {};
  config.examples.forEach(function (example) {
    examplesById[example.id] = example;
  });

  // --- the built-in prefixes: known to the editor's grammar from the first line ---------
  // YASQE flags `wdt:P1` as "Prefix 'wdt' is not defined" unless the query declares it;
  // the endpoint predefines these prefixes, so every parse starts with them declared.
  var sparqlMode = Yasqe.modes.sparql11;
  Yasqe.defineMode("sparql11", function (cmConfig, modeConfig) {
    var mode = sparqlMode(cmConfig, modeConfig);
    var startState = mode.startState;
    mode.startState = function () {
      var state = startState.apply(this, arguments);
      Object.keys(config.prefixes).forEach(function (name) {
        state.prefixes[name] = config.prefixes[name];
      });
      return state;
    };
    return mode;
  });

  // --- completion: this catalogue's prefixes and entities, nothing from elsewhere -------
  var prefixLines = Object.keys(config.prefixes)
    .sort()
    .map(function (name) {
      return name + ": <" + config.prefixes[name] + ">";
    });
  Yasqe.forkAutocompleter("prefixes", { name: "bigtent-prefixes", persistenceId: null, get: prefixLines }, false);

  var ENTITY_TOKEN = /^(wd|wdt|p|ps|psv|pq|pqv|pr|prv|wdno):([^\s<>"{}()|^`\\]*)$/;
  var found = {}; // "wdt:P131" → {id, label, description}, from the last answers
  var answers = {}; // request URL → promise of the answer
  function completions(prefix, text) {
    var url =
      config.completePath +
      "?" +
      new URLSearchParams({ prefix: prefix, q: text, uselang: lang }).toString();
    if (!answers[url]) {
      answers[url] = fetch(url, { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .catch(function () {
          delete answers[url];
          return [];
        });
    }
    return answers[url];
  }
  function renderHint(element, self, hint) {
    var item = found[hint.text];
    if (!item) {
      element.textContent = hint.text;
      return;
    }
    var label = document.createElement("span");
    label.className = "hint-label";
    label.textContent = item.label || item.id;
    var id = document.createElement("span");
    id.className = "hint-id";
    id.textContent = " " + hint.text;
    element.appendChild(label);
    element.appendChild(id);
    if (item.description) {
      var description = document.createElement("span");
      description.className = "hint-description";
      description.textContent = item.description;
      element.appendChild(description);
    }
  }
  /** Puts the id in place and its label in a comment at the end of the line (extending
   * the line's comment when it has one); the cursor stays after the id. */
  function pickHint(cm, data, hint) {
    // a pick by mouse leaves the focus on the list; typing goes on in the editor at once
    cm.focus();
    cm.replaceRange(hint.text, hint.from || data.from, hint.to || data.to, "complete");
    var item = found[hint.text];
    if (!item || !item.label) return;
    var cursor = cm.getCursor();
    var line = cursor.line;
    var end = cm.getLine(line).length;
    var last = cm.getTokenAt({ line: line, ch: end }, true);
    var inComment = !!(last.type && last.type.indexOf("comment") >= 0 && last.end === end);
    var label = item.label.replace(/[\r\n]+/g, " ");
    cm.replaceRange((inComment ? ", " : " # ") + label, { line: line, ch: end }, undefined, "complete");
    cm.setCursor(cursor);
  }
  Yasqe.registerAutocompleter(
    {
      name: "bigtent-entities",
      bulk: false,
      autoShow: true,
      persistenceId: null,
      isValidCompletionPosition: function (yasqe) {
        var token = yasqe.getCompleteToken();
        return ENTITY_TOKEN.test(token.string);
      },
      get: function (yasqe, token) {
        var match = ENTITY_TOKEN.exec(token.string);
        if (!match) return Promise.resolve([]);
        var prefix = match[1];
        return completions(prefix, match[2]).then(function (items) {
          return (Array.isArray(items) ? items : []).map(function (item) {
            var text = prefix + ":" + item.id;
            found[text] = item;
            return text;
          });
        });
      },
      postprocessHints: function (yasqe, hints) {
        hints.forEach(function (hint) {
          hint.render = renderHint;
          hint.hint = pickHint;
        });
        return hints;
      },
    },
    false
  );
  // YASQE merges arrays index by index, so the list of completers is replaced here.
  Yasqe.defaults.autocompleters = ["variables", "bigtent-prefixes", "bigtent-entities"];

  // --- the editor --------------------------------------------------------------------------
  var shared = Views.queryFromHash(window.location.hash);
  if (shared !== null) textarea.value = shared;

  textarea.hidden = true;
  editorEl.hidden = false;
  document.getElementById("editor-keys").hidden = false;
  document.getElementById("plain-format").hidden = true;
  document.getElementById("query-label").removeAttribute("for");

  function editorBase() {
    return window.location.origin + config.editorPath;
  }
  function currentView() {
    return yasr && yasr.drawnPlugin && resultsShown ? yasr.drawnPlugin : null;
  }
  /** The link that opens and runs the query, in the view shown now. */
  function shareLink() {
    var query = yasqe.getValue();
    var view = currentView();
    return Views.shareLink(editorBase(), view ? Views.withView(query, view) : query);
  }

  var yasqe = new Yasqe(editorEl, {
    value: textarea.value,
    persistenceId: null,
    consumeShareLink: null,
    createShareableLink: function () {
      return shareLink();
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

  var resultsShown = false;
  var yasr = new Yasr(resultsEl, {
    persistenceId: null,
    prefixes: config.prefixes,
  });
  Views.translateWidget([editorEl, resultsEl], config.yasgui || {});

  // YASGUI's buttons sit inside the form: a <button> without a type would submit it (and
  // run the query) — its share icon did. Only the Run button submits.
  function typeButtons(root) {
    root.querySelectorAll("button:not([type])").forEach(function (button) {
      button.type = "button";
    });
  }
  typeButtons(editorEl);
  new MutationObserver(function () {
    typeButtons(editorEl);
  }).observe(editorEl, { childList: true, subtree: true });

  // --- keeping the page in step with the query --------------------------------------------
  function isGraphQuery() {
    var kind = yasqe.getQueryType();
    return kind === "CONSTRUCT" || kind === "DESCRIBE";
  }

  function downloadHref(query, format) {
    return config.endpoint + "?" + new URLSearchParams({ query: query, format: format }).toString();
  }

  function embedSnippet() {
    var query = yasqe.getValue();
    var view = currentView();
    var src = Views.shareLink(window.location.origin + config.embedPath, view ? Views.withView(query, view) : query);
    return (
      '<iframe style="width: 80vw; height: 50vh; border: none;" src="' +
      src.replace(/&/g, "&amp;").replace(/"/g, "&quot;") +
      '" referrerpolicy="origin" sandbox="allow-scripts allow-same-origin allow-popups"></iframe>'
    );
  }

  function refresh() {
    var query = yasqe.getValue();
    textarea.value = query;
    shareInput.value = shareLink();
    embedCode.value = embedSnippet();
    var kind = isGraphQuery() ? "graph" : "solutions";
    downloadItems.forEach(function (item) {
      item.hidden = item.getAttribute("data-kind") !== kind;
      var link = item.querySelector("a");
      link.href = downloadHref(query, link.getAttribute("data-format"));
    });
  }

  var errorMark = null;
  function clearError() {
    if (errorMark) errorMark.clear();
    errorMark = null;
    downloads.hidden = false;
  }

  var pending = null;
  yasqe.on("change", function () {
    clearError();
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
          statusEl.textContent = say("download-failed", { error: error.message });
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

  // --- views -------------------------------------------------------------------------------
  var chosenView = null; // picked in the switcher, for queries with the same #defaultView
  var chosenFor = null;
  function wantedView() {
    var asked = Views.defaultViewOf(yasqe.getValue());
    if (chosenView && chosenFor === asked) return chosenView;
    chosenView = null;
    return asked || "table";
  }
  function updateSwitcher() {
    var drawn = currentView();
    var any = false;
    switcher.querySelectorAll("button[data-view]").forEach(function (button) {
      var plugin = yasr.plugins[button.getAttribute("data-view")];
      var usable = !!(resultsShown && plugin && plugin.canHandleResults());
      button.disabled = !usable;
      button.setAttribute("aria-pressed", String(button.getAttribute("data-view") === drawn));
      any = any || usable;
    });
    switcher.hidden = !any;
  }
  switcher.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-view]");
    if (!button || button.disabled) return;
    chosenView = button.getAttribute("data-view");
    chosenFor = Views.defaultViewOf(yasqe.getValue());
    yasr.selectPlugin(chosenView);
  });
  yasr.on("drawn", function () {
    updateSwitcher();
    refresh();
  });

  // --- running ---------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (event.submitter && event.submitter !== runButton) return;
    run();
  });
  function run() {
    yasqe.query().catch(function () {
      /* shown by the queryResponse handler */
    });
  }

  yasqe.on("query", function () {
    resultsSection.hidden = false;
    statusEl.textContent = say("running");
    truncatedEl.hidden = true;
    clearError();
  });

  /** {message, line, column} of a failed query: the endpoint's JSON error body (title,
   * error, line, column), or its text. One line, never a parser dump. */
  function failure(error) {
    var text = error && error.message ? error.message : String(error);
    var result = { message: text, line: null, column: null };
    try {
      var parsed = JSON.parse(text);
      if (parsed && typeof parsed === "object") {
        if (parsed.error) result.message = String(parsed.error);
        if (parsed.line) result.line = Number(parsed.line);
        if (parsed.column) result.column = Number(parsed.column);
      }
    } catch (e) {
      if (/^\s*</.test(text)) result.message = text.replace(/<[^>]*>/g, " ");
    }
    if (result.line === null) {
      var at =
        /\bline\s+(\d+)\s*,?\s*col(?:umn)?\s+(\d+)/i.exec(result.message) ||
        /\bat\s+(\d+):(\d+)\b/.exec(result.message);
      if (at) {
        result.line = Number(at[1]);
        result.column = Number(at[2]);
      }
    }
    var lines = result.message.split(/\r?\n/).filter(function (l) {
      return l.trim();
    });
    result.message = (lines[0] || "").trim();
    if (result.message.length > 300) result.message = result.message.slice(0, 297) + "…";
    return result;
  }

  /** Marks the part of the query the error points at: the word at line:column. */
  function markError(line, column) {
    var doc = yasqe.getDoc();
    var at = Math.min(Math.max(line - 1, 0), doc.lastLine());
    var text = doc.getLine(at);
    var ch = Math.min(Math.max(column - 1, 0), text.length);
    var start = ch;
    var end = ch;
    while (end < text.length && !/\s/.test(text.charAt(end))) end++;
    if (end === start) {
      // at the end of a line: the last word before it
      while (start > 0 && /\s/.test(text.charAt(start - 1))) start--;
      end = start;
      while (start > 0 && !/\s/.test(text.charAt(start - 1))) start--;
    }
    if (end === start) end = Math.min(start + 1, text.length);
    if (end === start) return;
    errorMark = doc.markText(
      { line: at, ch: start },
      { line: at, ch: end },
      { className: "query-error-mark", attributes: { title: statusEl.textContent } }
    );
    yasqe.scrollIntoView({ line: at, ch: start }, 40);
  }

  yasqe.on("queryResponse", function (instance, response, duration) {
    if (response instanceof Error) {
      var fail = failure(response);
      statusEl.textContent =
        fail.line !== null && fail.column !== null && !/\bline\s+\d/i.test(fail.message)
          ? say("failed-at", { line: fail.line, column: fail.column, error: fail.message })
          : say("failed", { error: fail.message });
      statusEl.classList.add("query-failed");
      // Shown once: in the status line, not again in the results; nothing to download.
      resultsShown = false;
      resultsEl.hidden = true;
      downloads.hidden = true;
      updateSwitcher();
      if (fail.line !== null && fail.column !== null) markError(fail.line, fail.column);
      return;
    }
    statusEl.classList.remove("query-failed");
    resultsShown = true;
    resultsEl.hidden = false;
    yasr.selectedPlugin = wantedView(); // drawn by setResponse (or the best it can)
    yasr.setResponse(response, duration);
    var rows = yasr.results && yasr.results.getBindings();
    var count = rows ? rows.length : null;
    statusEl.textContent = count === null ? say("done", { ms: duration }) : countMessage(count, duration);
    var truncated = (response.headers.get("Bigtent-Truncated") || "").toLowerCase() === "true";
    truncatedEl.hidden = !truncated;
    if (truncated) document.getElementById("truncated-rows").textContent = count === null ? "" : count;
    embedShare.hidden = false;
    window.history.replaceState(null, "", shareLink());
  });

  // --- share -----------------------------------------------------------------------------
  function copier(button, field) {
    var label = button.textContent;
    button.addEventListener("click", function () {
      refresh();
      field.select();
      if (!navigator.clipboard) return;
      navigator.clipboard.writeText(field.value).then(
        function () {
          button.textContent = say("copied");
          window.setTimeout(function () {
            button.textContent = label;
          }, 2000);
        },
        function () {
          button.textContent = label;
        }
      );
    });
  }
  copyButton.hidden = false;
  copier(copyButton, shareInput);
  copier(copyEmbed, embedCode);

  // A share link runs its query as soon as the page opens (an address with ?query= only
  // opens it for editing).
  if (shared !== null) run();
  window.addEventListener("hashchange", function () {
    var query = Views.queryFromHash(window.location.hash);
    if (query === null || query === yasqe.getValue()) return;
    yasqe.setValue(query);
    refresh();
    run();
  });
})();
