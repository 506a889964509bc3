// Terrace maps: the one module every page with a map uses. Each map starts from the basemap the
// page names in <meta name="terrace-basemap"> (Terrace's offline Natural Earth style unless
// TERRACE_BASEMAP_STYLE names another), and data goes on top through the helpers on window.Terrace:
// features (GeoJSON), an image, raster tiles, and vector tiles coloured by a property with a legend.
// An element with class "map" and data-geojson, data-image or data-tiles starts by itself, fitted to
// data-bounds [west, south, east, north], and sets data-rendered="true" once its data is drawn.
// Terrace.maps lists the maps (browser tests read it).
(function () {
  "use strict";
  const WORLD = [-170, -60, 170, 75];
  // Five classes of viridis, a sequential scale readable with colour-blindness.
  const PALETTE = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];
  const POLYGONS = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]];
  const LINES = ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString", "Polygon", "MultiPolygon"]]];
  const POINTS = ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]];

  // Tile templates keep their {z}/{x}/{y}: joined to the origin, not parsed (URL() would escape the braces).
  function absolute(path) {
    return path.startsWith("/") ? window.location.origin + path : path;
  }

  function createMap(element, bounds) {
    const map = new maplibregl.Map({
      container: element,
      style: document.querySelector('meta[name="terrace-basemap"]').content,
      bounds: bounds || WORLD,
      fitBoundsOptions: { padding: 20, maxZoom: 14 },
      attributionControl: { compact: true },
    });
    map.addControl(new maplibregl.NavigationControl());
    Terrace.maps.push(map);
    return map;
  }

  function addFeatures(map, id, data, colour) {
    map.addSource(id, { type: "geojson", data: data });
    map.addLayer({ id: id + "-fill", type: "fill", source: id, filter: POLYGONS,
                   paint: { "fill-color": colour || "#2b7a78", "fill-opacity": 0.4 } });
    map.addLayer({ id: id + "-line", type: "line", source: id, filter: LINES,
                   paint: { "line-color": "#17252a", "line-width": 1 } });
    map.addLayer({ id: id + "-point", type: "circle", source: id, filter: POINTS,
                   paint: { "circle-color": "#def2f1", "circle-stroke-color": "#17252a", "circle-stroke-width": 1,
                            "circle-radius": 4 } });
  }

  function addImage(map, id, url, bounds) {
    const [w, s, e, n] = bounds;
    map.addSource(id, { type: "image", url: absolute(url), coordinates: [[w, n], [e, n], [e, s], [w, s]] });
    map.addLayer({ id: id + "-image", type: "raster", source: id });
  }

  function addRasterTiles(map, id, template, bounds) {
    map.addSource(id, { type: "raster", tiles: [absolute(template)], tileSize: 256, bounds: bounds || undefined });
    map.addLayer({ id: id + "-tiles", type: "raster", source: id });
  }

  // Vector tiles (a served table's tile template) with polygons coloured by `property` in classes
  // broken at `breaks` (ascending; one colour more than breaks), and their legend in `legend`.
  function addChoropleth(map, options) {
    const colours = options.colours || PALETTE.slice(0, options.breaks.length + 1);
    const colour = ["step", ["to-number", ["get", options.property], 0], colours[0]];
    options.breaks.forEach(function (limit, i) { colour.push(limit, colours[i + 1]); });
    map.addSource(options.id, { type: "vector", tiles: [absolute(options.tiles)], bounds: options.bounds });
    map.addLayer({ id: options.id + "-fill", type: "fill", source: options.id, "source-layer": options.sourceLayer,
                   paint: { "fill-color": colour, "fill-opacity": 0.75 } });
    map.addLayer({ id: options.id + "-line", type: "line", source: options.id, "source-layer": options.sourceLayer,
                   paint: { "line-color": "#17252a", "line-width": 0.3 } });
    if (options.legend) { drawLegend(options.legend, options.title || options.property, options.breaks, colours); }
  }

  function drawLegend(element, title, breaks, colours) {
    const heading = document.createElement("p");
    heading.className = "legend-title";
    heading.textContent = title;
    const list = document.createElement("ul");
    list.className = "legend";
    colours.forEach(function (colour, i) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = colour;
      const low = i === 0 ? null : breaks[i - 1];
      const high = i < breaks.length ? breaks[i] : null;
      const label = low === null ? "below " + high : high === null ? low + " and above" : low + " to " + high;
      item.append(swatch, document.createTextNode(label));
      list.append(item);
    });
    element.replaceChildren(heading, list);
  }

  // data-rendered="true" on the element once the source is loaded and drawn.
  function markRendered(map, element, source) {
    map.on("idle", function () {
      if (map.getSource(source) && map.isSourceLoaded(source)) { element.dataset.rendered = "true"; }
    });
  }

  function start(element) {
    const bounds = JSON.parse(element.dataset.bounds || "null");
    const map = createMap(element, bounds);
    map.on("load", function () {
      if (element.dataset.tiles) {
        addRasterTiles(map, "data", element.dataset.tiles, bounds);
      } else if (element.dataset.image) {
        addImage(map, "data", element.dataset.image, bounds);
      } else {
        addFeatures(map, "data", element.dataset.geojson);
      }
    });
    markRendered(map, element, "data");
  }

  window.Terrace = {
    maps: [],
    createMap: createMap,
    addFeatures: addFeatures,
    addImage: addImage,
    addRasterTiles: addRasterTiles,
    addChoropleth: addChoropleth,
    markRendered: markRendered,
  };
  window.terraceMaps = Terrace.maps;
  document.querySelectorAll(".map[data-geojson], .map[data-image], .map[data-tiles]").forEach(start);
})();
