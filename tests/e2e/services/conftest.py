"""The registry's e2e fixtures: the live API allowed to reach 127.0.0.1, and real servers there."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from terrace.api.app import AppConfig
from terrace.db.cluster import free_port
from terrace.outbound import OutboundPolicy
from tests.e2e.services.servers import Loopback, cgi

ROOT = Path(__file__).parents[3]
PYGEOAPI = ROOT / ".cache" / "pygeoapi-venv" / "bin"
POINTS = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": n}, "geometry": {"type": "Point", "coordinates": xy}}
            for n, xy in (("a", [106.8, -6.2]), ("b", [110.4, -7.0]))
        ],
    }
)


@pytest.fixture
def app_config(app_config: AppConfig) -> AppConfig:
    """The test API, allowed to contact 127.0.0.1 (and nothing else internal) with short time-outs."""
    return replace(app_config, outbound=OutboundPolicy(allow=("127.0.0.1",), timeout_seconds=5))


@pytest.fixture
def mapserver(tmp_path: Path) -> Iterator[Loopback]:
    """Debian's MapServer (`mapserv`, run as CGI per request) serving one point layer as WMS and WFS."""
    program = shutil.which("mapserv")
    if program is None:
        pytest.skip("MapServer is not installed: run scripts/setup --test")
    (tmp_path / "points.geojson").write_text(POINTS)
    mapfile = tmp_path / "test.map"
    mapfile.write_text(MAPFILE.replace("POINTS", str(tmp_path / "points.geojson")))
    config = tmp_path / "mapserver.conf"
    config.write_text(f'CONFIG\n  ENV\n    MS_MAPFILE "{mapfile}"\n  END\nEND\n')
    with Loopback({"/ows": cgi(program, {"MAPSERVER_CONFIG_FILE": str(config)})}) as server:
        yield server


MAPFILE = """MAP
  NAME "terrace_test"
  EXTENT 95 -11 141 6
  SIZE 256 256
  PROJECTION "init=epsg:4326" END
  WEB
    METADATA
      "ows_title" "Terrace test MapServer"
      "ows_onlineresource" "http://127.0.0.1/ows?"
      "ows_srs" "EPSG:4326 EPSG:3857"
      "ows_enable_request" "*"
    END
  END
  LAYER
    NAME "cities"
    TYPE POINT
    STATUS ON
    CONNECTIONTYPE OGR
    CONNECTION "POINTS"
    PROJECTION "init=epsg:4326" END
    METADATA "ows_title" "Cities" "gml_include_items" "all" END
    CLASS STYLE COLOR 200 0 0 SIZE 6 END END
  END
END
"""


@pytest.fixture(scope="module")
def pygeoapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pygeoapi from PyPI (its own venv, made by scripts/setup --test) on a loopback port, serving
    two GeoJSON collections; yields its base URL."""
    if not (PYGEOAPI / "pygeoapi").exists():
        pytest.skip("pygeoapi is not installed: run scripts/setup --test")
    folder = tmp_path_factory.mktemp("pygeoapi")
    (folder / "points.geojson").write_text(POINTS)
    port = free_port()
    config = folder / "config.yml"
    config.write_text(PYGEOAPI_CONFIG.format(port=port, data=folder / "points.geojson"))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(folder / "openapi.yml")}
    subprocess.run(
        [PYGEOAPI / "pygeoapi", "openapi", "generate", config, "--output-file", folder / "openapi.yml"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    serve = (
        "from werkzeug.serving import run_simple; from pygeoapi.flask_app import APP; "
        f"run_simple('127.0.0.1', {port}, APP, threaded=True)"
    )
    process = subprocess.Popen(
        [PYGEOAPI / "python", "-c", serve],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "pygeoapi.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, process, folder / "pygeoapi.log")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pygeoapi exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/?f=json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"pygeoapi did not start: {log.read_text()[-2000:]}")


PYGEOAPI_CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {{default_items: 10, max_items: 50}}
  map:
    url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png"
    attribution: OSM
logging: {{level: ERROR}}
metadata:
  identification:
    title: Terrace test pygeoapi
    description: pygeoapi on loopback
    keywords: [test]
    keywords_type: theme
    terms_of_service: https://creativecommons.org/licenses/by/4.0/
    url: https://example.org
  license: {{name: CC-BY 4.0, url: "https://creativecommons.org/licenses/by/4.0/"}}
  provider: {{name: Terrace, url: "https://example.org"}}
  contact: {{name: Tester, email: tester@example.org, url: "https://example.org", role: pointOfContact}}
resources:
  cities:
    type: collection
    title: Cities
    description: Two cities
    keywords: [cities]
    extents:
      spatial: {{bbox: [106.8, -7.0, 110.4, -6.2], crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    providers:
      - {{type: feature, name: GeoJSON, data: "{data}", id_field: name}}
  rivers:
    type: collection
    title: Rivers
    description: The same points again
    keywords: [rivers]
    extents:
      spatial: {{bbox: [100, -8, 115, -5], crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    providers:
      - {{type: feature, name: GeoJSON, data: "{data}", id_field: name}}
"""
