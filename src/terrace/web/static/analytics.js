// The Analytics page's map: a served aggregate's vector tiles coloured by the chosen statistic.
(function () {
  "use strict";
  const element = document.getElementById("aggregate-map");
  if (!element) { return; }
  const bounds = JSON.parse(element.dataset.bounds || "null");
  const map = Terrace.createMap(element, bounds);
  map.on("load", function () {
    Terrace.addChoropleth(map, {
      id: "aggregate",
      tiles: element.dataset.vectorTiles,
      sourceLayer: "default",
      property: element.dataset.property,
      breaks: JSON.parse(element.dataset.breaks),
      bounds: bounds || undefined,
      legend: document.getElementById("legend"),
    });
  });
  Terrace.markRendered(map, element, "aggregate");
})();
