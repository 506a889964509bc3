// Terrace map previews: every element with class "map" becomes a MapLibre map of its GeoJSON
// (data-geojson), image (data-image) or raster tiles (data-tiles) fitted to data-bounds [west, south, east, north].
// No basemap: nothing is loaded from outside Terrace. Each map sets data-rendered="true" once its
// data is drawn, and window.terraceMaps lists the maps (browser tests read both).
(function () {
  "use strict";
  window.terraceMaps = [];
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f1" } }],
  };

  function addData(map, element, bounds) {
    if (element.dataset.tiles) {
      map.addSource("data", { type: "raster", tiles: [element.dataset.tiles], tileSize: 256, bounds: bounds });
      map.addLayer({ id: "tiles", type: "raster", source: "data" });
      return;
    }
    if (element.dataset.image) {
      const [w, s, e, n] = bounds;
      map.addSource("data", { type: "image", url: element.dataset.image, coordinates: [[w, n], [e, n], [e, s], [w, s]] });
      map.addLayer({ id: "image", type: "raster", source: "data" });
      return;
    }
    map.addSource("data", { type: "geojson", data: element.dataset.geojson });
    map.addLayer({ id: "fill", type: "fill", source: "data", filter: ["==", ["geometry-type"], "Polygon"],
                   paint: { "fill-color": "#2b7a78", "fill-opacity": 0.4 } });
    map.addLayer({ id: "line", type: "line", source: "data", filter: ["!=", ["geometry-type"], "Point"],
                   paint: { "line-color": "#17252a", "line-width": 1 } });
    map.addLayer({ id: "point", type: "circle", source: "data", filter: ["==", ["geometry-type"], "Point"],
                   paint: { "circle-color": "#def2f1", "circle-stroke-color": "#17252a", "circle-stroke-width": 1,
                            "circle-radius": 4 } });
  }

  function start(element) {
    const bounds = JSON.parse(element.dataset.bounds || "null");
    const map = new maplibregl.Map({ container: element, style: style, bounds: bounds || undefined,
                                     fitBoundsOptions: { padding: 20 }, attributionControl: false });
    map.addControl(new maplibregl.NavigationControl());
    window.terraceMaps.push(map);
    map.on("load", function () { addData(map, element, bounds); });
    map.on("idle", function () {
      if (map.getSource("data") && map.isSourceLoaded("data")) { element.dataset.rendered = "true"; }
    });
  }

  document.querySelectorAll(".map").forEach(start);
})();
