"""What browser tests check on any page: the basemap drawn under a map, and accessibility (axe-core)."""

from __future__ import annotations

from pathlib import Path
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


# axe-core, installed by scripts/setup --test from this folder's package-lock.json.
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """(tags) => axe.run(document, { runOnly: { type: "tag", values: tags } }).then((result) =>
  result.violations.map((v) => v.id + ": " + v.help + " at " + v.nodes.map((n) => n.target.join(" "))))"""


def axe_violations(page: Page) -> list[str]:
    """The WCAG 2.1 A and AA rules axe-core finds broken on the page, each with where."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol: a <script> tag would be refused by the page's CSP.
        page.evaluate(AXE.read_text() + "\n;undefined")
    found: list[str] = page.evaluate(AXE_RUN, WCAG_21_AA)
    return found
