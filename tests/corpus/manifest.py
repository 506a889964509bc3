"""The corpus manifest: which real public files, from which registry artifact, exercise what."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

MANIFEST = Path(__file__).with_name("manifest.toml")
REGISTRIES = ("pypi", "debian", "npm")
KINDS = ("vector", "raster")
EXPECTS = ("load", "refuse")


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


@cache
def _load() -> tuple[dict[str, Source], tuple[Entry, ...]]:
    data = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    sources = {name: Source(name=name, **fields) for name, fields in data["sources"].items()}
    entries = tuple(
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
