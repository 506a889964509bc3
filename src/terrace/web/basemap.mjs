// Writes the offline basemap's GeoJSON from Natural Earth (world-atlas, 1:50m): land, whose outline
// is the coastline, and the borders between countries. scripts/setup runs it here after `npm ci`:
//   node basemap.mjs <output folder>
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { feature, mesh } from "topojson-client";

const folder = process.argv[2];
const world = JSON.parse(readFileSync("node_modules/world-atlas/countries-50m.json", "utf8"));
// Four decimals (about 10 m) are finer than a 1:50m source and halve the files.
const rounded = (_, value) => (typeof value === "number" ? Math.round(value * 1e4) / 1e4 : value);
const layers = {
  land: feature(world, world.objects.land),
  borders: { type: "Feature", properties: {}, geometry: mesh(world, world.objects.countries, (a, b) => a !== b) },
};
mkdirSync(folder, { recursive: true });
for (const [name, geojson] of Object.entries(layers)) {
  writeFileSync(join(folder, `${name}.geojson`), JSON.stringify(geojson, rounded));
}
