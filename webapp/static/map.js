// The interactive map (/map): replaces the server-drawn SVG with a Leaflet map (served from
// node_modules, no tiles: the land outlines come from /map/land.geojson), organisations and
// networks as clustered circle markers, partnerships as lines, territories as squares with
// the number of people counted there. Every marker's popup links to its page. The tables
// below the map carry the same data for keyboard and screen-reader users.
(function () {
  "use strict";
  var box = document.getElementById("map-box");
  var L = window.L;
  if (!box || !L || typeof L.markerClusterGroup !== "function") {
    return;
  }
  var COLOURS = { organisation: "#0b5cad", network: "#6a3d9a", territory: "#2e7d32", partnership: "#b35c00" };
  var WORLD = [[-60, -180], [84, 180]];

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/geo+json" } }).then(function (response) {
      if (!response.ok) {
        throw new Error(url + ": " + response.status);
      }
      return response.json();
    });
  }

  function line(text) {
    var p = document.createElement("p");
    p.textContent = text;
    return p;
  }

  function popup(props) {
    var div = document.createElement("div");
    div.className = "map-popup";
    var link = document.createElement("a");
    link.href = props.page;
    link.textContent = props.label;
    if (props.lang) {
      link.lang = props.lang;
    }
    var title = document.createElement("strong");
    title.appendChild(link);
    div.appendChild(title);
    if (props.type === "territory") {
      div.appendChild(line(box.dataset.labelPeople + ": " + props.people));
      div.appendChild(line(box.dataset.labelOrganisations + ": " + props.organisations));
    } else if (props.type !== "partnership") {
      div.appendChild(line(box.dataset.labelPartnerships + ": " + props.partnerships));
    }
    return div;
  }

  function latLng(position) {
    return [position[1], position[0]];
  }

  function draw(results) {
    var data = results[0];
    var land = results[1];
    var holder = document.createElement("div");
    holder.className = "map-leaflet";
    holder.setAttribute("role", "region");
    holder.setAttribute("aria-label", box.dataset.labelMap);
    box.textContent = "";
    box.appendChild(holder);
    var map = L.map(holder, {
      crs: L.CRS.EPSG4326,
      zoomSnap: 0.25,
      minZoom: -1,
      maxZoom: 10,
      maxBounds: [[-100, -220], [100, 220]]
    });
    // Land lowest, then territories, then lines and organisations, then clusters on top.
    map.createPane("land").style.zIndex = "200";
    map.createPane("territories").style.zIndex = "390";
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Leaflet · Natural Earth");
    L.geoJSON(land, {
      pane: "land",
      interactive: false,
      style: { color: "#9aa5b1", weight: 0.7, fillColor: "#f4f1ea", fillOpacity: 1 }
    }).addTo(map);
    var lines = L.layerGroup().addTo(map);
    var territories = L.layerGroup().addTo(map);
    var clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
    var bounds = L.latLngBounds([]);
    var markers = 0;
    data.features.forEach(function (feature) {
      var props = feature.properties;
      var geometry = feature.geometry;
      if (geometry.type === "LineString") {
        L.polyline(geometry.coordinates.map(latLng), {
          color: COLOURS.partnership, weight: 1.5, opacity: 0.75
        }).bindPopup(popup(props)).addTo(lines);
        return;
      }
      var where = latLng(geometry.coordinates);
      if (props.type === "territory") {
        var people = Number(props.people) || 0;
        L.marker(where, {
          pane: "territories",
          title: props.label,
          keyboard: false,
          icon: L.divIcon({
            className: "map-territory-icon",
            html: people ? String(people) : "",
            iconSize: people > 99 ? [26, 16] : [18, 16]
          })
        }).bindPopup(popup(props)).addTo(territories);
        return;
      }
      var marker = L.circleMarker(where, {
        radius: 7, color: "#fff", weight: 1.5, fillColor: COLOURS[props.type] || "#555", fillOpacity: 0.95
      });
      marker.feature = feature;
      marker.bindPopup(popup(props));
      clusters.addLayer(marker);
      bounds.extend(where);
      markers += 1;
    });
    map.addLayer(clusters);
    if (markers > 1) {
      map.fitBounds(bounds.pad(0.15), { maxZoom: 5 });
    } else if (markers === 1) {
      map.setView(bounds.getCenter(), 4);
    } else {
      map.fitBounds(WORLD);
    }
    box.dataset.state = "drawn";
    box.dataset.markers = String(markers);
    window.bigtentMap = { map: map, clusters: clusters, lines: lines, territories: territories };
  }

  box.dataset.state = "loading";
  Promise.all([getJSON(box.dataset.src), getJSON(box.dataset.land)])
    .then(draw)
    .catch(function () {
      box.dataset.state = "failed"; // the server-drawn map stays
    });
})();
