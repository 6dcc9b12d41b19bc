// The interactive partnership network (/network): fetches /network.json with the page's
// filters and draws it with Cytoscape.js (served from node_modules). Selecting a node
// opens its page. The tables below the graph carry the same data for keyboard and
// screen-reader users, so the drawing itself is hidden from assistive technology.
(function () {
  "use strict";
  var box = document.getElementById("network-graph");
  if (!box || typeof window.cytoscape !== "function") {
    return;
  }
  var COLOURS = { organisation: "#0b5cad", network: "#6a3d9a", partnership: "#b35c00" };
  var SHAPES = { organisation: "ellipse", network: "diamond", partnership: "rectangle" };

  function elements(data) {
    var found = [];
    data.nodes.forEach(function (node) {
      found.push({ group: "nodes", data: { id: node.id, label: node.label, kind: node.kind, page: node.page } });
    });
    data.edges.forEach(function (edge, i) {
      found.push({ group: "edges", data: { id: "e" + i, source: edge.source, target: edge.target, kind: edge.kind } });
    });
    return found;
  }

  function draw(data) {
    box.textContent = "";
    box.classList.add("network-graph-drawn");
    var many = data.nodes.length > 300;
    var cy = window.cytoscape({
      container: box,
      elements: elements(data),
      minZoom: 0.05,
      maxZoom: 4,
      wheelSensitivity: 0.3,
      style: [
        {
          selector: "node",
          style: {
            "background-color": function (n) { return COLOURS[n.data("kind")] || "#555"; },
            shape: function (n) { return SHAPES[n.data("kind")] || "ellipse"; },
            width: 14,
            height: 14,
            label: many ? "" : "data(label)",
            "font-size": 8,
            "text-wrap": "ellipsis",
            "text-max-width": 120,
            color: "#1b1f24",
            "text-valign": "bottom",
            "text-margin-y": 3
          }
        },
        { selector: "node[kind = 'partnership']", style: { label: "" } },
        { selector: "node:selected, node.hover", style: { label: "data(label)", "border-width": 3, "border-color": "#b35900" } },
        { selector: "edge", style: { width: 1, "line-color": "#9aa5b1", "curve-style": "straight" } },
        { selector: "edge[kind = 'member']", style: { "line-style": "dashed" } }
      ],
      layout: many
        ? { name: "concentric", concentric: function (n) { return n.degree(); }, animate: false }
        : { name: "cose", animate: false, randomize: false, nodeRepulsion: function () { return 8000; } }
    });
    cy.on("mouseover", "node", function (event) { event.target.addClass("hover"); box.title = event.target.data("label"); });
    cy.on("mouseout", "node", function (event) { event.target.removeClass("hover"); box.title = ""; });
    cy.on("tap", "node", function (event) {
      var page = event.target.data("page");
      if (page) {
        window.location.assign(page);
      }
    });
    box.dataset.state = "drawn";
    window.bigtentNetwork = cy; // for the browser tests and the curious
  }

  box.dataset.state = "loading";
  fetch(box.dataset.src, { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      return response.json();
    })
    .then(draw)
    .catch(function () {
      box.dataset.state = "failed";
    });
})();
