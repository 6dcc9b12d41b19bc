// The edit form's map picker: under each coordinate fieldset (data-coordinate-field) a
// small Leaflet map (served from node_modules, no tiles: the land outlines come from
// /map/land.geojson) shows the point as a circle marker. Clicking or tapping the map fills
// the latitude and longitude fields, rounded to the chosen precision (four decimals when
// "as written"); typing in them moves the marker. The number fields stay the way to enter
// a coordinate with the keyboard or a screen reader: the map is hidden from assistive
// technology and takes no focus. Without this script (or Leaflet) the fields work alone.
(function () {
  "use strict";
  var L = window.L;
  var script = document.currentScript;
  var fieldsets = document.querySelectorAll("[data-coordinate-field]");
  if (!L || !script || !fieldsets.length) {
    return;
  }
  var WORLD = [[-60, -180], [84, 180]];
  var DEFAULT_DECIMALS = 4;
  var land = null;

  function landOutlines() {
    if (!land) {
      land = fetch(script.dataset.land, { headers: { Accept: "application/geo+json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(script.dataset.land + ": " + response.status);
          }
          return response.json();
        });
    }
    return land;
  }

  // Decimals for a precision in degrees: 0.0001 -> 4, 1 -> 0, "" -> the default.
  function decimals(precision) {
    var step = Number(precision);
    if (!precision || !isFinite(step) || step <= 0) {
      return DEFAULT_DECIMALS;
    }
    return Math.min(9, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
  }

  function rounded(number, places) {
    var text = number.toFixed(places);
    return Number(text) === 0 ? (0).toFixed(places) : text; // never "-0.0000"
  }

  function reading(input, limit) {
    var text = input.value.trim();
    if (text === "") {
      return null;
    }
    var number = Number(text);
    return isFinite(number) && Math.abs(number) <= limit ? number : null;
  }

  function setValue(input, text) {
    input.value = text;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function setUp(fieldset) {
    var lat = fieldset.querySelector('[data-coordinate="latitude"]');
    var lon = fieldset.querySelector('[data-coordinate="longitude"]');
    var precision = fieldset.querySelector('[data-coordinate="precision"]');
    if (!lat || !lon) {
      return;
    }
    var picker = document.createElement("div");
    picker.className = "coordinate-picker";
    // The number fields above are the accessible way in; the map repeats them by pointer.
    picker.setAttribute("aria-hidden", "true");
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = script.dataset.hint || "";
    var holder = document.createElement("div");
    holder.className = "coordinate-map";
    picker.appendChild(hint);
    picker.appendChild(holder);
    fieldset.appendChild(picker);

    var map = L.map(holder, {
      crs: L.CRS.EPSG4326,
      zoomSnap: 0.5,
      minZoom: -1,
      maxZoom: 12,
      keyboard: false, // no tabindex on the map: the fields take the keyboard
      scrollWheelZoom: false, // scrolling the form must not zoom the map
      doubleClickZoom: false, // a double click sets the point twice, not zooms
      maxBounds: [[-100, -220], [100, 220]]
    });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Leaflet · Natural Earth");
    // Nothing inside an aria-hidden region may take focus (the zoom buttons are links).
    holder.querySelectorAll("a, button").forEach(function (control) {
      control.setAttribute("tabindex", "-1");
    });
    map.createPane("land").style.zIndex = "200";
    var marker = null;

    function point() {
      var y = reading(lat, 90);
      var x = reading(lon, 180);
      return y === null || x === null ? null : L.latLng(y, x);
    }

    function show(pan) {
      var where = point();
      if (!where) {
        if (marker) {
          marker.remove();
          marker = null;
        }
        fieldset.dataset.mapPoint = "";
        return;
      }
      if (marker) {
        marker.setLatLng(where);
      } else {
        marker = L.circleMarker(where, {
          radius: 7, color: "#fff", weight: 2, fillColor: "#b35c00", fillOpacity: 0.95,
          interactive: false
        }).addTo(map);
      }
      fieldset.dataset.mapPoint = where.lat + "," + where.lng;
      if (pan && !map.getBounds().contains(where)) {
        map.panTo(where);
      }
    }

    map.on("click", function (event) {
      var where = event.latlng.wrap();
      var places = decimals(precision ? precision.value : "");
      setValue(lat, rounded(Math.max(-90, Math.min(90, where.lat)), places));
      setValue(lon, rounded(where.lng, places));
      show(false);
    });
    lat.addEventListener("input", function () { show(true); });
    lon.addEventListener("input", function () { show(true); });

    function frame() {
      var start = point();
      if (start) {
        map.setView(start, 3);
      } else {
        map.fitBounds(WORLD);
      }
    }
    frame();
    show(false);
    // A qualifier's or source's map starts inside a closed <details>, with no size.
    var details = fieldset.closest("details");
    if (details) {
      details.addEventListener("toggle", function () {
        if (details.open) {
          map.invalidateSize();
          frame();
        }
      });
    }
    landOutlines().then(function (outlines) {
      L.geoJSON(outlines, {
        pane: "land",
        interactive: false,
        style: { color: "#9aa5b1", weight: 0.7, fillColor: "#f4f1ea", fillOpacity: 1 }
      }).addTo(map);
      fieldset.dataset.map = "drawn";
    }).catch(function () {
      fieldset.dataset.map = "no-land"; // the point can still be picked on a blank map
    });
    fieldset.dataset.map = "ready";
  }

  Array.prototype.forEach.call(fieldsets, setUp);
})();
