"""Registering services of every kind through the API: type, title, layers and their count.

Live servers on 127.0.0.1: Terrace's own /features (tipg) and /stac (stac-fastapi-pgstac),
pygeoapi from PyPI, Debian's MapServer as WMS and WFS, a COG written here. No WMTS or ArcGIS
server installs from Debian or PyPI, so those answer with the documents in `recorded/`: written
for these tests after the layouts the OGC WMTS 1.0 standard and Esri's ArcGIS REST API reference
document (Map, Feature and Image Service resources), and served by a loopback http.server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import rasterio
from affine import Affine

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.data import write_points
from tests.e2e.services.servers import Loopback, Reply
from tests.e2e.serving.stac_data import collection, load
from tests.e2e.serving.test_features import publish

RECORDED = Path(__file__).parent / "recorded"


def register(api: httpx.Client, key: str, url: str, **extra: Any) -> dict[str, Any]:
    response = api.post("/api/services", json={"url": url, **extra}, headers=bearer(key))
    assert response.status_code == 201, response.text
    return response.json()


def test_terrace_own_features_and_stac(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    publish(platform_api, keys, write_points(tmp_path / "points.gpkg", 20), "jakarta", "public")
    load(database_url, [collection("relief", "public"), collection("rivers", "public")], [])
    key = keys[Role.submitter]
    base = str(platform_api.base_url).rstrip("/")

    features = register(platform_api, key, f"{base}/features")
    served = platform_api.get("/features/collections").json()["collections"]
    assert features["service_type"] == "ogcapi-features"
    assert (
        features["capabilities"]["title"]
        == platform_api.get("/features", follow_redirects=True).json()["title"]
    )
    assert features["capabilities"]["layer_count"] == len(served) >= 1
    assert "floods_jakarta_v1" in features["capabilities"]["layers"]
    assert features["status"] == "up" and features["checks"][0]["http_status"] == 200

    stac = register(platform_api, key, f"{base}/stac", name="Our STAC")
    assert stac["service_type"] == "stac-api"
    assert stac["name"] == "Our STAC"
    stac_landing = platform_api.get("/stac", follow_redirects=True).json()
    assert stac["capabilities"]["title"] == stac_landing["title"]
    assert sorted(stac["capabilities"]["layers"]) == ["floods", "relief", "rivers"]  # floods: the vector
    assert stac["capabilities"]["layer_count"] == 3
    assert (
        stac["capabilities"]["version"]
        == platform_api.get("/stac", follow_redirects=True).json()["stac_version"]
    )

    listed = platform_api.get("/api/services", headers=bearer(keys[Role.reader])).json()
    assert {s["service_type"] for s in listed} == {"ogcapi-features", "stac-api"}
    again = platform_api.post("/api/services", json={"url": f"{base}/stac"}, headers=bearer(key))
    assert again.status_code == 409


def test_pygeoapi(api: httpx.Client, keys: dict[Role, str], pygeoapi: str) -> None:
    service = register(api, keys[Role.submitter], pygeoapi + "/")
    assert service["service_type"] == "ogcapi-features"
    assert service["capabilities"]["title"] == "Terrace test pygeoapi"
    assert service["capabilities"]["layers"] == ["cities", "rivers"]
    assert service["capabilities"]["layer_count"] == 2
    assert service["capabilities"]["version"] == "1.0"
    assert service["capabilities"]["extent"] == [100.0, -8.0, 115.0, -5.0]


def test_mapserver_wms_and_wfs(api: httpx.Client, keys: dict[Role, str], mapserver: Loopback) -> None:
    key = keys[Role.submitter]
    wms = register(api, key, f"{mapserver.url}/ows?SERVICE=WMS&REQUEST=GetCapabilities")
    assert wms["service_type"] == "wms"
    assert wms["capabilities"]["title"] == "Terrace test MapServer"
    assert wms["capabilities"]["version"] == "1.3.0"
    assert "cities" in wms["capabilities"]["layers"]
    assert {"EPSG:4326", "EPSG:3857"} <= set(wms["capabilities"]["crs"])
    # A bare endpoint: found by asking for its capabilities as WMS (then WFS, WMTS).
    bare = register(api, key, f"{mapserver.url}/ows")
    assert bare["service_type"] == "wms"
    assert bare["check_url"] == f"{mapserver.url}/ows?SERVICE=WMS&REQUEST=GetCapabilities"
    wfs = register(api, key, f"{mapserver.url}/ows?SERVICE=WFS&REQUEST=GetCapabilities")
    assert wfs["service_type"] == "wfs"
    assert wfs["capabilities"]["layers"] == ["ms:cities"] and wfs["capabilities"]["layer_count"] == 1
    assert wfs["capabilities"]["extent"] == pytest.approx([106.8, -7.0, 110.4, -6.2])


def test_recorded_wmts_and_arcgis(api: httpx.Client, keys: dict[Role, str]) -> None:
    def document(name: str, kind: str) -> Reply:
        return Reply((RECORDED / name).read_bytes(), headers={"Content-Type": kind})

    routes = {
        "/wmts/1.0.0/WMTSCapabilities.xml": document("wmts.xml", "application/xml"),
        "/arcgis/rest/services/LandUse/MapServer": document("arcgis-mapserver.json", "application/json"),
        "/arcgis/rest/services/Hydrants/FeatureServer": document("arcgis-featureserver.json", "text/plain"),
        "/arcgis/rest/services/Elevation/ImageServer": document(
            "arcgis-imageserver.json", "application/json"
        ),
    }
    key = keys[Role.submitter]
    with Loopback(routes) as server:
        wmts = register(api, key, f"{server.url}/wmts/1.0.0/WMTSCapabilities.xml")
        mapserver = register(api, key, f"{server.url}/arcgis/rest/services/LandUse/MapServer")
        features = register(api, key, f"{server.url}/arcgis/rest/services/Hydrants/FeatureServer/")
        image = register(api, key, f"{server.url}/arcgis/rest/services/Elevation/ImageServer")
    assert wmts["service_type"] == "wmts"
    assert wmts["capabilities"]["title"] == "Recorded WMTS" and wmts["capabilities"]["layers"] == ["relief"]
    assert wmts["capabilities"]["extent"] == [95.0, -11.0, 141.0, 6.0]
    assert mapserver["service_type"] == "arcgis-mapserver"
    assert mapserver["capabilities"]["title"] == "Land use"
    assert mapserver["capabilities"]["layers"] == ["Parcels", "Roads", "Buildings"]
    assert mapserver["capabilities"]["crs"] == ["EPSG:3857"]
    west, south, east, north = mapserver["capabilities"]["extent"]
    assert 106 < west < east < 108 and -7 < south < north < -6
    assert mapserver["check_url"].endswith("/MapServer?f=json")
    assert features["service_type"] == "arcgis-featureserver" and features["capabilities"]["layer_count"] == 1
    assert image["service_type"] == "arcgis-imageserver" and image["capabilities"]["title"] == "Elevation"


def test_a_cloud_optimized_geotiff(api: httpx.Client, keys: dict[Role, str], tmp_path: Path) -> None:
    path = tmp_path / "dem.tif"
    profile = {"driver": "COG", "width": 256, "height": 256, "count": 2, "dtype": "uint8", "crs": "EPSG:4326"}
    with rasterio.open(path, "w", transform=Affine(0.01, 0, 106.0, 0, -0.01, -5.0), **profile) as cog:
        cog.write(np.zeros((2, 256, 256), dtype="uint8"))
    with Loopback(
        {"/data/dem.tif": Reply(path.read_bytes(), headers={"Content-Type": "image/tiff"})}
    ) as server:
        service = register(api, keys[Role.submitter], f"{server.url}/data/dem.tif")
    assert service["service_type"] == "cog"
    assert service["capabilities"]["version"] == "COG"
    assert service["capabilities"]["layer_count"] == 2
    assert service["capabilities"]["crs"] == ["EPSG:4326"]
    assert service["capabilities"]["extent"] == pytest.approx([106.0, -7.56, 108.56, -5.0])


def test_an_unrecognised_url_is_refused_and_not_registered(api: httpx.Client, keys: dict[Role, str]) -> None:
    with Loopback(
        {"/": Reply(b"<html><body>hello</body></html>", headers={"Content-Type": "text/html"})}
    ) as server:
        response = api.post(
            "/api/services", json={"url": server.url + "/"}, headers=bearer(keys[Role.submitter])
        )
    assert response.status_code == 400
    assert "not a service Terrace recognises" in response.json()["message"]
    assert api.get("/api/services", headers=bearer(keys[Role.reader])).json() == []


def test_malformed_documents_answer_400(api: httpx.Client, keys: dict[Role, str]) -> None:
    landing = b'{"title": "x", "conformsTo": ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"]}'
    bad_extent = b'{"collections": [{"id": "a", "extent": {"spatial": {"bbox": [["w", "s", "e", "n"]]}}}]}'
    extent = b'{"xmin": "x", "ymin": 0, "xmax": 1, "ymax": 1, "spatialReference": {"wkid": 4326}}'
    arcgis = b'{"currentVersion": 11, "layers": [], "fullExtent": ' + extent + b"}"
    routes = {
        "/": Reply(landing),
        "/collections": Reply(bad_extent),
        "/rest/services/Bad/MapServer": Reply(arcgis),
    }
    with Loopback(routes) as server:
        for path in ("/", "/rest/services/Bad/MapServer"):
            body = {"url": server.url + path}
            response = api.post("/api/services", json=body, headers=bearer(keys[Role.submitter]))
            assert response.status_code == 400, response.text
            assert "could not read" in response.json()["message"]
