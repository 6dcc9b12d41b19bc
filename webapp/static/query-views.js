/* Bigtent result views: YASR plugins for the query editor (/query) and the embed page
 * (/embed). Besides YASR's table: a map, bar/line/pie charts, a graph, a timeline and an
 * image grid, chosen by a view switcher or by a `#defaultView:Name` comment, the way the
 * Wikidata Query Service writes it.
 *
 * Libraries (Leaflet, topojson-client, Chart.js, Cytoscape) are loaded from this server's
 * /vendor/ URLs the first time a view needs them; the map's basemap is the land outline
 * of world-atlas, drawn by Leaflet without tiles. Nothing is fetched from another host:
 * images of other hosts are shown as links, never loaded. */
(function () {
  "use strict";

  // Our plugin names, WDQS's view names (as in `#defaultView:BarChart`).
  var VIEWS = [
    ["table", "Table"],
    ["map", "Map"],
    ["barchart", "BarChart"],
    ["linechart", "LineChart"],
    ["piechart", "PieChart"],
    ["graph", "Graph"],
    ["timeline", "Timeline"],
    ["imagegrid", "ImageGrid"],
  ];
  var BY_WDQS = {};
  var BY_NAME = {};
  VIEWS.forEach(function (pair) {
    BY_WDQS[pair[1].toLowerCase()] = pair[0];
    BY_NAME[pair[0]] = pair[1];
  });

  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var NUMERIC = [
    "integer", "decimal", "double", "float", "int", "long", "short", "byte",
    "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
    "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte",
  ].map(function (name) {
    return XSD + name;
  });
  var DATES = ["dateTime", "date", "gYear", "gYearMonth", "dateTimeStamp"].map(function (name) {
    return XSD + name;
  });
  var WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";
  var POINT = /^\s*(?:<[^>]*>\s*)?Point\s*\(\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s+([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s*\)\s*$/i;
  var IMAGE = /\.(?:png|jpe?g|gif|svg|webp|tiff?)$|\/Special:FilePath\//i;
  var ENTITY_ID = /^[QP][1-9][0-9]*$/;
  var PALETTE = ["#2c6e9b", "#c2185b", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#8d6e63", "#546e7a"];

  /** The view a query asks for with `#defaultView:Name` (our plugin name), or null. */
  function defaultViewOf(query) {
    var match = /^\s*#\s*defaultView\s*:\s*([A-Za-z]+)/m.exec(query || "");
    if (!match) return null;
    return BY_WDQS[match[1].toLowerCase()] || null;
  }

  var loaded = {};
  function loadScript(url) {
    if (!loaded[url]) {
      loaded[url] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = url;
        script.onload = resolve;
        script.onerror = function () {
          reject(new Error(url + " could not be loaded"));
        };
        document.head.appendChild(script);
      });
    }
    return loaded[url];
  }
  function loadCss(url) {
    if (!loaded[url]) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = url;
      loaded[url] = new Promise(function (resolve) {
        link.onload = resolve;
        link.onerror = resolve; // the view still works unstyled
      });
      document.head.appendChild(link);
    }
    return loaded[url];
  }

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  /**
   * Installs the views into Yasr. `options`: entityNamespace, pagePath, vendor (asset name
   * → URL), messages (translated words), lang, linkTarget (where entity links open).
   */
  function install(Yasr, options) {
    var messages = options.messages || {};
    var lang = options.lang || "en";
    function say(name, values) {
      var text = messages[name] || name;
      return text.replace(/%\((\w+)\)s/g, function (whole, key) {
        return values && key in values ? String(values[key]) : whole;
      });
    }

    function entityId(cell) {
      if (!cell || cell.type !== "uri") return null;
      if (cell.value.indexOf(options.entityNamespace) !== 0) return null;
      var local = cell.value.substring(options.entityNamespace.length);
      return ENTITY_ID.test(local) ? local : null;
    }
    function isNumber(cell) {
      return !!cell && cell.type === "literal" && NUMERIC.indexOf(cell.datatype) >= 0;
    }
    function isDate(cell) {
      return !!cell && cell.type === "literal" && DATES.indexOf(cell.datatype) >= 0;
    }
    function pointOf(cell) {
      if (!cell || cell.type !== "literal") return null;
      if (cell.datatype && cell.datatype !== WKT && cell.datatype !== XSD + "string") return null;
      var match = POINT.exec(cell.value);
      if (!match) return null;
      var lon = parseFloat(match[1]);
      var lat = parseFloat(match[2]);
      if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return null;
      return [lat, lon];
    }
    function isImage(cell) {
      return !!cell && cell.type === "uri" && IMAGE.test(cell.value.split(/[?#]/)[0]);
    }

    /** Each variable with the kind all its values share: item, number, date, point,
     * image, uri, text; `label` for ?xLabel beside ?x. */
    function columns(yasr) {
      var results = yasr.results;
      if (!results || !results.getVariables) return [];
      var names = results.getVariables() || [];
      var rows = results.getBindings() || [];
      var tests = [
        ["item", entityId],
        ["number", isNumber],
        ["date", isDate],
        ["point", pointOf],
        ["image", isImage],
      ];
      return names.map(function (name) {
        var kind = null;
        if (/Label$/.test(name) && names.indexOf(name.slice(0, -5)) >= 0) {
          kind = "label";
        } else {
          var values = rows
            .map(function (row) {
              return row[name];
            })
            .filter(Boolean);
          tests.forEach(function (test) {
            if (!kind && values.length && values.every(function (v) {
              return !!test[1](v);
            })) kind = test[0];
          });
          if (!kind) kind = values.length && values[0].type === "uri" ? "uri" : "text";
        }
        return { name: name, kind: kind };
      });
    }
    function rowsOf(yasr) {
      return (yasr.results && yasr.results.getBindings()) || [];
    }
    function first(cols, kinds) {
      for (var i = 0; i < cols.length; i++) if (kinds.indexOf(cols[i].kind) >= 0) return cols[i];
      return null;
    }
    function all(cols, kind) {
      return cols.filter(function (c) {
        return c.kind === kind;
      });
    }
    /** What a cell shows: an entity's label (from ?xLabel) or its id, or the value. */
    function shown(row, name) {
      var cell = row[name];
      if (!cell) return "";
      var label = row[name + "Label"];
      if (label && label.value) return label.value;
      return entityId(cell) || cell.value;
    }
    /** Pairs of latitude/longitude columns, by name (?lat ?lon, ?latitude ?longitude). */
    function coordinatePair(cols) {
      var lat = null;
      var lon = null;
      cols.forEach(function (c) {
        if (c.kind !== "number") return;
        if (/^lat(itude)?$/i.test(c.name)) lat = c.name;
        if (/^(lon|lng|long|longitude)$/i.test(c.name)) lon = c.name;
      });
      return lat && lon ? [lat, lon] : null;
    }
    function entityLink(row, name) {
      var id = entityId(row[name]);
      var a = element("a", "entity-link", shown(row, name));
      a.href = id ? options.pagePath + id : row[name].value;
      if (options.linkTarget) a.target = options.linkTarget;
      return a;
    }
    function describeRow(row, cols) {
      var box = element("div", "view-popup");
      cols.forEach(function (c) {
        if (c.kind === "label" || c.kind === "point" || !row[c.name]) return;
        var line = element("div");
        line.appendChild(element("span", "view-var", "?" + c.name + " "));
        if (row[c.name].type === "uri") line.appendChild(entityLink(row, c.name));
        else line.appendChild(document.createTextNode(shown(row, c.name)));
        box.appendChild(line);
      });
      return box;
    }
    function container(yasr, className, label) {
      var box = element("div", "result-view " + className);
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", label);
      yasr.resultsEl.appendChild(box);
      return box;
    }

    class View {
      constructor(yasr) {
        this.yasr = yasr;
        this.priority = 1;
      }
      getIcon() {
        return element("span", "view-icon");
      }
    }

    // --- map ----------------------------------------------------------------------------
    var landData = null;
    function land() {
      if (!landData) {
        landData = fetch(options.vendor["land-110m.json"]).then(function (response) {
          if (!response.ok) throw new Error("land outlines: " + response.status);
          return response.json();
        });
      }
      return landData;
    }
    /** The land with rings that cross the antimeridian (Fiji, Chukotka) made continuous,
     * so Leaflet draws no line across the world; rings around a pole stay as they are. */
    function unwrapped(shape) {
      function ring(points) {
        var out = [points[0].slice()];
        var shift = 0;
        for (var i = 1; i < points.length; i++) {
          var step = points[i][0] - points[i - 1][0];
          if (step > 180) shift -= 360;
          else if (step < -180) shift += 360;
          out.push([points[i][0] + shift, points[i][1]]);
        }
        if (shift !== 0) return points; // a ring around a pole: unchanged
        var sum = 0;
        out.forEach(function (point) {
          sum += point[0];
        });
        var back = 360 * Math.round(sum / out.length / 360); // most of it in -180…180
        return out.map(function (point) {
          return [point[0] - back, point[1]];
        });
      }
      shape.features.forEach(function (feature) {
        var g = feature.geometry;
        if (g.type === "Polygon") g.coordinates = g.coordinates.map(ring);
        else if (g.type === "MultiPolygon") {
          g.coordinates = g.coordinates.map(function (polygon) {
            return polygon.map(ring);
          });
        }
      });
      return shape;
    }
    class MapView extends View {
      constructor(yasr) {
        super(yasr);
        this.label = say("Map");
      }
      points() {
        var cols = columns(this.yasr);
        var rows = rowsOf(this.yasr);
        var found = [];
        var wkt = all(cols, "point");
        var pair = coordinatePair(cols);
        rows.forEach(function (row) {
          wkt.forEach(function (c) {
            var at = pointOf(row[c.name]);
            if (at) found.push({ at: at, row: row });
          });
          if (pair && row[pair[0]] && row[pair[1]]) {
            found.push({ at: [parseFloat(row[pair[0]].value), parseFloat(row[pair[1]].value)], row: row });
          }
        });
        return { points: found, cols: cols };
      }
      canHandleResults() {
        var cols = columns(this.yasr);
        return !!first(cols, ["point"]) || !!coordinatePair(cols);
      }
      draw() {
        var self = this;
        var data = this.points();
        var box = container(this.yasr, "result-map", say("Map of the results"));
        return Promise.all([
          loadCss(options.vendor["leaflet.css"]),
          loadScript(options.vendor["leaflet.js"]),
          loadScript(options.vendor["topojson-client.min.js"]),
        ])
          .then(land)
          .then(function (world) {
            var L = window.L;
            var map = L.map(box, { worldCopyJump: true, attributionControl: true, minZoom: 1 });
            map.attributionControl.setPrefix(false);
            map.attributionControl.addAttribution("Natural Earth");
            self.map = map;
            var shape = unwrapped(window.topojson.feature(world, world.objects.land));
            L.geoJSON(shape, {
              interactive: false,
              style: { color: "#9aa6ad", weight: 1, fillColor: "#f3f1ea", fillOpacity: 1 },
            }).addTo(map);
            var markers = L.featureGroup();
            data.points.forEach(function (point) {
              L.circleMarker(point.at, {
                radius: 7,
                color: "#ffffff",
                weight: 2,
                fillColor: PALETTE[0],
                fillOpacity: 0.9,
                className: "result-marker",
              })
                .bindPopup(describeRow(point.row, data.cols))
                .addTo(markers);
            });
            markers.addTo(map);
            if (data.points.length) map.fitBounds(markers.getBounds(), { maxZoom: 6, padding: [30, 30] });
            else map.setView([20, 0], 1);
            box.setAttribute("data-markers", String(data.points.length));
          });
      }
      destroy() {
        if (this.map) this.map.remove();
        this.map = null;
      }
    }

    // --- charts ---------------------------------------------------------------------------
    function makeChart(kind, label) {
      return class ChartView extends View {
        constructor(yasr) {
          super(yasr);
          this.label = label;
        }
        canHandleResults() {
          var cols = columns(this.yasr);
          return !!first(cols, ["number"]) && rowsOf(this.yasr).length > 0;
        }
        draw() {
          var self = this;
          var cols = columns(this.yasr);
          var rows = rowsOf(this.yasr);
          var category = first(cols, kind === "line" ? ["date", "item", "text", "uri"] : ["item", "text", "uri", "date"]);
          var numbers = all(cols, "number");
          if (kind === "pie") numbers = numbers.slice(0, 1);
          var box = container(this.yasr, "result-chart", label);
          var canvas = element("canvas");
          canvas.setAttribute("role", "img");
          canvas.setAttribute("aria-label", label);
          box.appendChild(canvas);
          return loadScript(options.vendor["chart.umd.min.js"]).then(function () {
            var labels = rows.map(function (row, i) {
              return category ? shown(row, category.name) : String(i + 1);
            });
            var datasets = numbers.map(function (c, i) {
              var color = PALETTE[i % PALETTE.length];
              return {
                label: c.name,
                data: rows.map(function (row) {
                  return row[c.name] ? parseFloat(row[c.name].value) : null;
                }),
                backgroundColor: kind === "pie" ? PALETTE : color,
                borderColor: kind === "pie" ? "#ffffff" : color,
              };
            });
            self.chart = new window.Chart(canvas, {
              type: kind,
              data: { labels: labels, datasets: datasets },
              options: {
                animation: false,
                responsive: true,
                maintainAspectRatio: false,
                locale: lang,
                plugins: { legend: { display: kind === "pie" || datasets.length > 1 } },
              },
            });
          });
        }
        destroy() {
          if (this.chart) this.chart.destroy();
          this.chart = null;
        }
      };
    }

    // --- graph ----------------------------------------------------------------------------
    class GraphView extends View {
      constructor(yasr) {
        super(yasr);
        this.label = say("Graph");
      }
      canHandleResults() {
        return all(columns(this.yasr), "item").length > 0;
      }
      draw() {
        var self = this;
        var items = all(columns(this.yasr), "item");
        var rows = rowsOf(this.yasr);
        var nodes = {};
        var edges = {};
        rows.forEach(function (row) {
          var present = items.filter(function (c) {
            return row[c.name];
          });
          present.forEach(function (c) {
            var iri = row[c.name].value;
            if (!nodes[iri]) nodes[iri] = { data: { id: iri, label: shown(row, c.name), page: options.pagePath + entityId(row[c.name]) } };
          });
          for (var i = 0; i + 1 < present.length; i++) {
            var from = row[present[i].name].value;
            var to = row[present[i + 1].name].value;
            if (from === to) continue;
            var key = from + " " + to;
            if (!edges[key]) edges[key] = { data: { id: "e" + Object.keys(edges).length, source: from, target: to } };
          }
        });
        var list = Object.keys(nodes).map(function (k) {
          return nodes[k];
        });
        var links = Object.keys(edges).map(function (k) {
          return edges[k];
        });
        var box = container(
          this.yasr,
          "result-graph",
          say("Graph of %(nodes)s entities and %(edges)s links", { nodes: list.length, edges: links.length })
        );
        box.setAttribute("data-nodes", String(list.length));
        return loadScript(options.vendor["cytoscape.min.js"]).then(function () {
          self.cy = window.cytoscape({
            container: box,
            elements: list.concat(links),
            layout: { name: list.length > 60 ? "concentric" : "cose", animate: false, randomize: false },
            style: [
              {
                selector: "node",
                style: {
                  label: "data(label)",
                  "background-color": PALETTE[0],
                  "font-size": 11,
                  "text-valign": "bottom",
                  "text-margin-y": 4,
                  width: 18,
                  height: 18,
                },
              },
              {
                selector: "edge",
                style: {
                  width: 1.5,
                  "line-color": "#8a99a6",
                  "target-arrow-color": "#8a99a6",
                  "target-arrow-shape": "triangle",
                  "curve-style": "bezier",
                },
              },
            ],
          });
          self.cy.on("tap", "node", function (event) {
            var page = event.target.data("page");
            if (page) window.open(page, options.linkTarget || "_self");
          });
        });
      }
      destroy() {
        if (this.cy) this.cy.destroy();
        this.cy = null;
      }
    }

    // --- timeline -------------------------------------------------------------------------
    function dateValue(cell) {
      var text = cell.value;
      var negative = text.charAt(0) === "-";
      var parts = /^-?(\d{1,9})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(text);
      if (!parts) return NaN;
      var date = new Date(0);
      date.setUTCFullYear((negative ? -1 : 1) * parseInt(parts[1], 10), parts[2] ? parseInt(parts[2], 10) - 1 : 0, parts[3] ? parseInt(parts[3], 10) : 1);
      return date.getTime();
    }
    function dateText(cell) {
      var ms = dateValue(cell);
      if (isNaN(ms)) return cell.value;
      var type = cell.datatype || "";
      var format = { year: "numeric", timeZone: "UTC" };
      if (type === XSD + "gYearMonth") format.month = "long";
      else if (type !== XSD + "gYear" && !/-01-01T00:00:00Z?$/.test(cell.value)) {
        format.month = "long";
        format.day = "numeric";
      }
      try {
        return new Intl.DateTimeFormat(lang, format).format(new Date(ms));
      } catch (e) {
        return cell.value;
      }
    }
    class TimelineView extends View {
      constructor(yasr) {
        super(yasr);
        this.label = say("Timeline");
      }
      canHandleResults() {
        return !!first(columns(this.yasr), ["date"]);
      }
      draw() {
        var cols = columns(this.yasr);
        var dates = all(cols, "date");
        var what = first(cols, ["item", "text", "uri"]);
        var events = [];
        rowsOf(this.yasr).forEach(function (row) {
          dates.forEach(function (c) {
            if (!row[c.name]) return;
            var ms = dateValue(row[c.name]);
            if (!isNaN(ms)) events.push({ ms: ms, cell: row[c.name], row: row, column: c.name });
          });
        });
        events.sort(function (a, b) {
          return a.ms - b.ms;
        });
        var box = container(this.yasr, "result-timeline", say("Timeline of the results"));
        if (!events.length) return;
        var start = events[0].ms;
        var span = events[events.length - 1].ms - start || 1;
        var list = element("ol", "timeline");
        events.forEach(function (event) {
          var item = element("li", "timeline-item");
          item.style.setProperty("--at", ((100 * (event.ms - start)) / span).toFixed(2) + "%");
          var when = element("time", "timeline-date", dateText(event.cell));
          when.setAttribute("datetime", event.cell.value);
          item.appendChild(when);
          var body = element("span", "timeline-what");
          if (what && event.row[what.name]) {
            if (event.row[what.name].type === "uri") body.appendChild(entityLink(event.row, what.name));
            else body.textContent = shown(event.row, what.name);
          }
          if (dates.length > 1) body.appendChild(element("span", "view-var", " ?" + event.column));
          item.appendChild(body);
          list.appendChild(item);
        });
        box.appendChild(list);
      }
    }

    // --- image grid -------------------------------------------------------------------------
    class ImageGridView extends View {
      constructor(yasr) {
        super(yasr);
        this.label = say("Image grid");
      }
      canHandleResults() {
        return !!first(columns(this.yasr), ["image"]);
      }
      draw() {
        var cols = columns(this.yasr);
        var images = all(cols, "image");
        var what = first(cols, ["item", "text"]);
        var box = container(this.yasr, "result-images", say("Images in the results"));
        var grid = element("ul", "image-grid");
        rowsOf(this.yasr).forEach(function (row) {
          images.forEach(function (c) {
            if (!row[c.name]) return;
            var url = row[c.name].value;
            var caption = what && row[what.name] ? shown(row, what.name) : url.split("/").pop();
            var tile = element("li", "image-tile");
            var figure = element("figure");
            var link = element("a");
            link.href = url;
            if (options.linkTarget) link.target = options.linkTarget;
            var local = false;
            try {
              local = new URL(url, window.location.href).origin === window.location.origin;
            } catch (e) {
              local = false;
            }
            if (local) {
              var img = element("img");
              img.src = url;
              img.alt = caption;
              img.loading = "lazy";
              link.appendChild(img);
            } else {
              // Never loaded from another host (privacy, offline, the page's policy).
              link.className = "image-elsewhere";
              link.textContent = say("Image on %(host)s", { host: new URL(url).host });
            }
            figure.appendChild(link);
            var figcaption = element("figcaption");
            if (what && row[what.name] && row[what.name].type === "uri") figcaption.appendChild(entityLink(row, what.name));
            else figcaption.textContent = caption;
            figure.appendChild(figcaption);
            tile.appendChild(figure);
            grid.appendChild(tile);
          });
        });
        box.appendChild(grid);
      }
    }

    var plugins = {
      map: MapView,
      barchart: makeChart("bar", say("Bar chart")),
      linechart: makeChart("line", say("Line chart")),
      piechart: makeChart("pie", say("Pie chart")),
      graph: GraphView,
      timeline: TimelineView,
      imagegrid: ImageGridView,
    };
    Object.keys(plugins).forEach(function (name) {
      Yasr.registerPlugin(name, plugins[name]);
    });
    Yasr.defaults.pluginOrder = VIEWS.map(function (pair) {
      return pair[0];
    }).concat(["response"]);
  }

  // --- what /query and /embed share ----------------------------------------------------

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  /** Fills `%(name)s` placeholders of a translated message. */
  function fill(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (whole, key) {
      return values && key in values ? String(values[key]) : whole;
    });
  }

  /** YASGUI writes its words in English: each piece of its text (a text node, a title,
   * an aria-label, a placeholder) that is exactly one of the words in `words` is replaced
   * by its translation, now and whenever YASGUI draws again. Never inside the query, the
   * completion list or result values. */
  function translateWidget(roots, words) {
    var exact = {};
    var patterns = [];
    Object.keys(words).forEach(function (english) {
      if (english.indexOf("%(") < 0) {
        exact[english] = words[english];
        return;
      }
      var names = [];
      var source = english.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/%\\\((\w+)\\\)s/g, function (m, name) {
        names.push(name);
        return "(.+?)";
      });
      patterns.push({ re: new RegExp("^" + source + "$"), names: names, text: words[english] });
    });
    function translated(value) {
      if (!value) return null;
      var trimmed = value.trim();
      if (!trimmed) return null;
      var found = null;
      if (Object.prototype.hasOwnProperty.call(exact, trimmed)) found = exact[trimmed];
      else {
        patterns.some(function (p) {
          var m = p.re.exec(trimmed);
          if (!m) return false;
          var values = {};
          p.names.forEach(function (name, i) {
            values[name] = m[i + 1];
          });
          found = fill(p.text, values);
          return true;
        });
      }
      if (found === null || found === trimmed) return null;
      return value.replace(trimmed, found);
    }
    var SKIP = ".CodeMirror-lines, .CodeMirror-hints, tbody, .result-view, .yasr_response";
    function visit(node) {
      if (node.nodeType === 3) {
        var parent = node.parentElement;
        if (!parent || parent.closest(SKIP)) return;
        var text = translated(node.nodeValue);
        if (text !== null) node.nodeValue = text;
        return;
      }
      if (node.nodeType !== 1 || node.closest(SKIP)) return;
      ["title", "aria-label", "placeholder"].forEach(function (name) {
        var text = translated(node.getAttribute(name));
        if (text !== null) node.setAttribute(name, text);
      });
      for (var child = node.firstChild; child; child = child.nextSibling) visit(child);
    }
    var observer = new MutationObserver(function (records) {
      records.forEach(function (record) {
        if (record.type === "attributes" || record.type === "characterData") visit(record.target);
        else record.addedNodes.forEach(visit);
      });
    });
    roots.forEach(function (root) {
      visit(root);
      observer.observe(root, {
        childList: true,
        subtree: true,
        characterData: true,
        attributes: true,
        attributeFilter: ["title", "aria-label", "placeholder"],
      });
    });
    return observer;
  }

  /**
   * Sets up Yasr for Bigtent: the entity table (entities shown by label, linked to their
   * pages; label columns folded into their entity's column), the views, DataTables' words.
   * Returns `say(name, values)`, the translated message `name`.
   */
  function setup(Yasr, config, linkTarget) {
    var messages = config.messages || {};
    var lang = document.documentElement.lang || "en";
    function say(name, values) {
      return fill(name in messages ? messages[name] : name, values);
    }
    function entityId(binding) {
      if (!binding || binding.type !== "uri") return null;
      if (binding.value.indexOf(config.entityNamespace) !== 0) return null;
      var local = binding.value.substring(config.entityNamespace.length);
      return ENTITY_ID.test(local) ? local : null;
    }

    var BaseTable = Yasr.plugins.table;
    BaseTable.defaults.openIriInNewWindow = !!linkTarget;
    BaseTable.defaults.tableConfig.language = {
      info: say("table-info"),
      infoEmpty: say("table-info-empty"),
      infoFiltered: say("table-info-filtered"),
      emptyTable: say("table-empty"),
      zeroRecords: say("table-zero"),
      paginate: { first: "«", previous: "‹", next: "›", last: "»" },
      aria: {
        sortAscending: say("table-sort-ascending"),
        sortDescending: say("table-sort-descending"),
        paginate: {
          first: say("table-first"),
          previous: say("table-previous"),
          next: say("table-next"),
          last: say("table-last"),
        },
      },
    };
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
              '"' +
              (linkTarget ? ' target="' + escapeHtml(linkTarget) + '"' : "") +
              ">" +
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
    install(Yasr, {
      entityNamespace: config.entityNamespace,
      pagePath: config.pagePath,
      vendor: config.vendor,
      messages: messages,
      lang: lang,
      linkTarget: linkTarget,
    });
    return say;
  }

  /** The query in the fragment of a share link (`#<query>`, or the older `#query=<query>`),
   * or null when the fragment is no query (an anchor of the page). */
  function queryFromHash(hash) {
    var text = (hash || "").replace(/^#/, "");
    if (!text) return null;
    var old = /^query=([^&]*)/.exec(text);
    try {
      if (old) return decodeURIComponent(old[1].replace(/\+/g, " "));
      text = decodeURIComponent(text);
    } catch (e) {
      return null;
    }
    // An element id of the page (#main) is an anchor; a query has a space or a brace.
    if (!/[\s{]/.test(text) || document.getElementById(text)) return null;
    return text;
  }

  /** `base#<query>`, the query percent-encoded but for the characters a fragment keeps
   * as they are (so links stay short and readable). */
  function shareLink(base, query) {
    var encoded = encodeURIComponent(query).replace(/%(2F|3A|40|21|24|27|28|29|2A|2C|3B|3D|3F)/g, function (m, hex) {
      return String.fromCharCode(parseInt(hex, 16));
    });
    return base + "#" + encoded;
  }

  /** The query with its `#defaultView:` comment naming `view` (a plugin name). */
  function withView(query, view) {
    var name = BY_NAME[view];
    var asked = defaultViewOf(query) || "table";
    if (!name || asked === view) return query;
    var line = "#defaultView:" + name;
    if (/^\s*#\s*defaultView\s*:/m.test(query)) return query.replace(/^(\s*)#\s*defaultView\s*:\s*[A-Za-z]+/m, "$1" + line);
    return line + "\n" + query;
  }

  window.BigtentViews = {
    setup: setup,
    translateWidget: translateWidget,
    queryFromHash: queryFromHash,
    shareLink: shareLink,
    withView: withView,
    install: install,
    defaultViewOf: defaultViewOf,
    /** Every view: [plugin name, WDQS name]. */
    views: VIEWS,
    wdqsName: function (name) {
      return BY_NAME[name] || null;
    },
  };
})();
