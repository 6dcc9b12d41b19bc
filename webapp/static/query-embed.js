/* Bigtent embed page (/embed#<query>): runs the query of the fragment on this server's
 * endpoint and shows its results in one view — the one its `#defaultView:` comment names,
 * else the table — without the editor, for a frame on another site. Links open in a new
 * window, out of the frame. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("editor-config").textContent);
  var Yasgui = window.Yasgui;
  var Views = window.BigtentViews;
  var statusEl = document.getElementById("query-status");
  if (!Yasgui || !Yasgui.Yasr || !Views) return;
  var Yasr = Yasgui.Yasr;
  var say = Views.setup(Yasr, config, "_blank");
  var resultsEl = document.getElementById("results");
  var openLink = document.getElementById("embed-open");

  var yasr = new Yasr(resultsEl, { persistenceId: null, prefixes: config.prefixes });
  Views.translateWidget([resultsEl], config.yasgui || {});

  function show() {
    var query = Views.queryFromHash(window.location.hash);
    if (query === null) return;
    openLink.href = Views.shareLink(window.location.origin + config.editorPath, query);
    statusEl.textContent = say("running");
    var started = Date.now();
    var body = new URLSearchParams({ query: query });
    fetch(config.endpoint, {
      method: "POST",
      body: body,
      headers: { Accept: "application/sparql-results+json, text/turtle;q=0.9, application/json;q=0.5" },
    })
      .then(function (response) {
        return response.text().then(function (text) {
          if (!response.ok) throw new Error(text || response.statusText);
          return {
            ok: true,
            status: response.status,
            statusText: response.statusText,
            headers: response.headers,
            type: response.type,
            content: text,
          };
        });
      })
      .then(function (response) {
        var duration = Date.now() - started;
        yasr.selectedPlugin = Views.defaultViewOf(query) || "table";
        yasr.setResponse(response, duration);
        statusEl.textContent = "";
      })
      .catch(function (error) {
        var text = error && error.message ? error.message : String(error);
        try {
          var parsed = JSON.parse(text);
          if (parsed && parsed.error) text = String(parsed.error);
        } catch (e) {
          /* the text as it came */
        }
        statusEl.textContent = say("failed", { error: text.split(/\r?\n/)[0] });
      });
  }
  window.addEventListener("hashchange", show);
  show();
})();
