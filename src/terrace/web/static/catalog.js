// The catalog's map: every matching asset's footprint over the basemap, fitted to them all at first.
// Dragging or zooming lists what lies in view (unless "Only what the map shows" is off); selecting a
// footprint opens its panel, as its name in the list does. Copy buttons copy their field's URL.
(function () {
  "use strict";
  const element = document.getElementById("catalog-map");
  const form = document.getElementById("catalog-search");
  const box = document.getElementById("bbox");
  const inView = document.getElementById("in-view");
  const map = Terrace.createMap(element, null);
  let shown = null;

  function view() {
    const b = map.getBounds();
    const clamp = function (v, low, high) { return Math.min(Math.max(v, low), high).toFixed(4); };
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
            clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)].join(",");
  }

  function extent(collection) {
    const bounds = new maplibregl.LngLatBounds();
    collection.features.forEach(function (f) {
      if (f.geometry.type === "Polygon") { f.geometry.coordinates[0].forEach(function (c) { bounds.extend(c); }); }
    });
    return bounds;
  }

  // The footprints of what the filters match, anywhere: refetched when the filters change.
  function footprints(url, fit) {
    if (url === shown) { return; }
    shown = url;
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      map.getSource("footprints").setData(data);
      if (fit && data.features.length) { map.fitBounds(extent(data), { padding: 40, maxZoom: 12, duration: 0 }); }
    });
  }

  function search() {
    box.disabled = !inView.checked;
    if (inView.checked) { box.value = view(); }
    htmx.trigger(form, "mapmoved");
  }

  map.on("load", function () {
    Terrace.addFeatures(map, "footprints", { type: "FeatureCollection", features: [] });
    footprints(element.dataset.footprints, true);
    map.on("moveend", search);
    ["footprints-fill", "footprints-point"].forEach(function (layer) {
      map.on("click", layer, function (event) {
        const asset = event.features[0].properties;
        htmx.ajax("GET", "/interface/catalog/assets/" + asset.dataset_id + "/" + asset.resource_id,
                  { target: "#detail", swap: "innerHTML" });
      });
      map.on("mouseenter", layer, function () { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", layer, function () { map.getCanvas().style.cursor = ""; });
    });
  });
  Terrace.markRendered(map, element, "footprints");
  inView.addEventListener("change", search);

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "results") { footprints(document.getElementById("result-count").dataset.footprints, false); }
    if (event.target.id === "detail") { event.target.focus(); }
  });
  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("button.copy") : null;
    if (!button) { return; }
    const field = document.getElementById(button.dataset.copy);
    navigator.clipboard.writeText(field.value).then(
      function () { button.textContent = "Copied"; },
      function () { field.select(); button.textContent = "Press Ctrl+C"; });
  });
})();
