"""A shapefile is a .shp with sidecar files beside it: which files belong to it, and whether the
ones GDAL cannot do without are in storage."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from terrace.errors import InvalidInput

if TYPE_CHECKING:
    from terrace.storage import Storage

SIDECAR_SUFFIXES = (".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".qpj")
REQUIRED_SUFFIXES = (".shx", ".dbf")


def is_shapefile(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() == ".shp"


def sidecar_name(shp: str, name: str) -> str | None:
    """The name `name` takes beside the .shp `shp` if it is one of its sidecars (same stem and a
    sidecar extension, both case-insensitively), spelled as GDAL looks for it: the .shp's stem
    and its extension's case; None if it is not a sidecar of `shp`."""
    shp_path, path = PurePosixPath(shp), PurePosixPath(name)
    suffix = path.suffix.lower()
    if path.stem.lower() != shp_path.stem.lower() or suffix not in SIDECAR_SUFFIXES:
        return None
    return shp_path.stem + (suffix.upper() if shp_path.suffix.isupper() else suffix)


def sidecars(storage: Storage, container: str, shp: str) -> list[str]:
    """The sidecar objects present beside the .shp `shp` in `container`."""
    stem = shp[: -len(".shp")]
    found = []
    for suffix in SIDECAR_SUFFIXES:
        for spelling in (suffix, suffix.upper()):
            if storage.exists(container, stem + spelling):
                found.append(stem + spelling)
                break
    return found


def require_sidecars(storage: Storage, container: str, shp: str) -> list[str]:
    """The sidecars present beside `shp`; InvalidInput naming a required one (.shx, .dbf) missing."""
    found = sidecars(storage, container, shp)
    present = {PurePosixPath(path).suffix.lower() for path in found}
    for suffix in REQUIRED_SUFFIXES:
        if suffix not in present:
            name = PurePosixPath(shp).stem + suffix
            folder = str(PurePosixPath(container, shp).parent)
            raise InvalidInput(
                f"The shapefile {container}/{shp} has no {name} beside it: a shapefile needs its "
                f".shx and .dbf files.",
                f"Upload {name} beside the .shp (PUT /api/storage/{folder}/{name}) and submit again; "
                "`terrace submit` and the web UI upload the sidecars chosen with the .shp.",
            )
    return found
