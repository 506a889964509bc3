"""The corpus manifest: which real public files, from which registry artifact, exercise what."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

MANIFEST = Path(__file__).with_name("manifest.toml")
REGISTRIES = ("pypi", "debian", "npm")
EXPECTS = ("load", "refuse")
# What a file can exercise, by kind: the cases issue 15 asks the corpus to cover.
EXERCISES = {
    "vector": frozenset(
        """
        antimeridian polar invalid-self-intersection bow-tie wrong-orientation unclosed-ring too-few-points
        spike duplicate-vertices mixed-single-multi geojson-numeric-id geojson-string-id null-geometry
        empty-geometry 3d measured curved geometry-collection dbf-cpg dbf-no-cpg-latin1
        reserved-column-names duplicate-column-names long-column-names non-ascii-column-names wide-table
        date time datetime boolean binary int64 multi-layer-gpkg kmz-folders csv-delimiter csv-bom csv-wkt
        """.split()
    ),
    "raster": frozenset(
        """
        palette int16 uint16 float32 float64 nodata no-nodata nan-nodata multi-band rgba jpeg jpeg2000
        erdas-img gcps rotated 1x1 non-square-pixels global antimeridian-extent crs-without-epsg
        """.split()
    ),
}


@dataclass(frozen=True)
class Source:
    """One upstream artifact, pinned by version and sha256."""

    name: str
    registry: str
    package: str
    version: str
    artifact: str
    sha256: str
    licence: str
    home: str


@dataclass(frozen=True)
class Entry:
    """One corpus file (with its sidecars) inside a source's artifact."""

    id: str
    kind: str
    source: Source
    member: str
    sidecars: tuple[str, ...]
    layer: str | None
    data_licence: str | None
    exercises: tuple[str, ...]
    expect: str
    refusal: str | None
    crs: str | None = None  # the job's `crs` option, for a file that carries no CRS of its own

    def member_paths(self) -> list[str]:
        """The archive members this entry needs: the file, then each sidecar beside it."""
        stem = self.member[: -len(PurePosixPath(self.member).suffix) or None]
        return [self.member, *(stem + suffix for suffix in self.sidecars)]

    def path(self, root: Path | None = None) -> Path:
        """The local file: `<root>/<source name>/<member>`."""
        return (root or corpus_root()) / self.source.name / self.member

    def files(self, root: Path | None = None) -> list[Path]:
        """The file and those of its sidecars that are present."""
        base = (root or corpus_root()) / self.source.name
        return [base / m for m in self.member_paths() if (base / m).exists()]


def corpus_root() -> Path:
    """$TERRACE_CORPUS_DIR, else ~/.cache/terrace/corpus."""
    configured = os.environ.get("TERRACE_CORPUS_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "terrace" / "corpus"


def _safe_member(member: str) -> str:
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"manifest member {member!r} must be a relative path inside its artifact")
    return member


def _checked(entry: Entry) -> Entry:
    """The entry, or a ValueError naming the field of the manifest that is wrong."""
    if entry.kind not in EXERCISES:
        raise ValueError(f"{entry.id}: kind {entry.kind!r} is not one of {sorted(EXERCISES)}")
    if unknown := set(entry.exercises) - EXERCISES[entry.kind]:
        raise ValueError(f"{entry.id}: unknown {entry.kind} exercises {sorted(unknown)}")
    if entry.expect not in EXPECTS or (entry.expect == "refuse") != (entry.refusal is not None):
        raise ValueError(f"{entry.id}: expect must be 'load', or 'refuse' together with a refusal code")
    if entry.source.registry not in REGISTRIES:
        raise ValueError(f"{entry.id}: registry {entry.source.registry!r} is not one of {REGISTRIES}")
    return entry


@cache
def _load() -> tuple[dict[str, Source], tuple[Entry, ...]]:
    data = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    sources = {name: Source(name=name, **fields) for name, fields in data["sources"].items()}
    entries = tuple(
        _checked(
            Entry(
                id=row["id"],
                kind=row["kind"],
                source=sources[row["source"]],
                member=_safe_member(row["member"]),
                sidecars=tuple(row.get("sidecars", ())),
                layer=row.get("layer"),
                data_licence=row.get("data_licence"),
                exercises=tuple(row.get("exercises", ())),
                expect=row.get("expect", "load"),
                refusal=row.get("refusal"),
                crs=row.get("crs"),
            )
        )
        for row in data["files"]
    )
    return sources, entries


def sources() -> list[Source]:
    """Every upstream artifact the manifest names."""
    return list(_load()[0].values())


def entries(kind: str | None = None) -> list[Entry]:
    """Every corpus file, or those of one kind (vector | raster)."""
    return [e for e in _load()[1] if kind is None or e.kind == kind]
