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
# The programs a derivation may run (gdal-bin's, and cp/sed for a text edit GDAL cannot make).
DERIVE_TOOLS = frozenset({"gdal_translate", "gdalwarp", "gdal_edit.py", "rgb2pct.py", "ogr2ogr", "cp", "sed"})
DERIVED_DIR = "derived"
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
class Derivation:
    """How a derived file is made from a corpus file: commands run in order, with `{src}` the
    origin's path, `{dst}` the file made and `{work}` a scratch directory."""

    origin: str
    steps: tuple[tuple[str, ...], ...]

    def commands(self, src: Path, dst: Path, work: Path) -> list[list[str]]:
        names = {"src": str(src), "dst": str(dst), "work": str(work)}
        return [[arg.format_map(names) for arg in step] for step in self.steps]


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
    derived: Derivation | None = None  # None: the member is an upstream file of the source's artifact

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
    if (entry.derived is not None) != (PurePosixPath(entry.member).parts[0] == DERIVED_DIR):
        raise ValueError(f"{entry.id}: a derived file, and only one, has its member under {DERIVED_DIR}/")
    if entry.derived is not None:
        steps = entry.derived.steps
        if not steps or any(not step or step[0] not in DERIVE_TOOLS for step in steps):
            raise ValueError(f"{entry.id}: derive steps must each run one of {sorted(DERIVE_TOOLS)}")
        if not any("{dst}" in arg for step in entry.derived.steps for arg in step):
            raise ValueError(f"{entry.id}: no derive step writes {{dst}}")
    return entry


def _derivation(row: dict[str, object]) -> Derivation | None:
    recipe = row.get("derive")
    if recipe is None:
        return None
    assert isinstance(recipe, dict)
    return Derivation(origin=recipe["from"], steps=tuple(tuple(step) for step in recipe["steps"]))


def _source_of(
    row: dict[str, object], sources: dict[str, Source], rows: dict[str, dict[str, object]]
) -> Source:
    """A file's source; a derived file's is its origin's (whose licence and provenance it carries)."""
    recipe = row.get("derive")
    if recipe is None:
        return sources[str(row["source"])]
    assert isinstance(recipe, dict)
    origin = rows.get(recipe["from"])
    if origin is None or "derive" in origin:
        raise ValueError(f"{row['id']}: derive from {recipe['from']!r}, which is not an upstream corpus file")
    return sources[str(origin["source"])]


@cache
def _load() -> tuple[dict[str, Source], tuple[Entry, ...]]:
    data = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    sources = {name: Source(name=name, **fields) for name, fields in data["sources"].items()}
    rows = {row["id"]: row for row in data["files"]}
    entries = tuple(
        _checked(
            Entry(
                id=row["id"],
                kind=row["kind"],
                source=_source_of(row, sources, rows),
                member=_safe_member(row["member"]),
                sidecars=tuple(row.get("sidecars", ())),
                layer=row.get("layer"),
                data_licence=row.get("data_licence"),
                exercises=tuple(row.get("exercises", ())),
                expect=row.get("expect", "load"),
                refusal=row.get("refusal"),
                crs=row.get("crs"),
                derived=_derivation(row),
            )
        )
        for row in data["files"]
    )
    return sources, entries


def sources() -> list[Source]:
    """Every upstream artifact the manifest names."""
    return list(_load()[0].values())


def by_id(entry_id: str) -> Entry:
    """One corpus file by its id."""
    (found,) = [e for e in _load()[1] if e.id == entry_id]
    return found


def entries(kind: str | None = None) -> list[Entry]:
    """Every corpus file, or those of one kind (vector | raster)."""
    return [e for e in _load()[1] if kind is None or e.kind == kind]
