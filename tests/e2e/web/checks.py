"""What browser tests check on any page: the basemap drawn under a map, and accessibility (axe-core)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

# The land colour of the offline basemap's style (static/basemap.json).
LAND = (0xF2, 0xEF, 0xE4)
# Reads the map's pixels in its render event, while WebGL's drawing buffer still holds the frame.
BASEMAP_PIXELS = """([index, land]) => new Promise((resolve) => {
  const map = window.Terrace.maps[index];
  map.once("render", () => {
    const gl = map.getCanvas().getContext("webgl2") || map.getCanvas().getContext("webgl");
    const pixels = new Uint8Array(gl.drawingBufferWidth * gl.drawingBufferHeight * 4);
    gl.readPixels(0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    let count = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if ([0, 1, 2].every((c) => Math.abs(pixels[i + c] - land[c]) <= 2)) { count++; }
    }
    resolve({ land: count, pixels: pixels.length / 4,
              features: map.queryRenderedFeatures({ layers: ["basemap-land"] }).length });
  });
  map.triggerRepaint();
})"""


def basemap_drawn(page: Page, index: int = 0) -> dict[str, Any]:
    """The land pixels of the map's canvas and the basemap's land features rendered in it."""
    found: dict[str, Any] = page.evaluate(BASEMAP_PIXELS, [index, list(LAND)])
    return found
