"""The corpus manifest is well formed: unique ids, pinned artifacts, every source used, the
coverage issue 15 asks for, and nothing from the packages reserved for independent checks."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path, PurePosixPath

from tests.corpus.fetch import RESERVED_DEBIAN_SECTION, debian_section
from tests.corpus.manifest import (
    DERIVED_DIR,
    EXERCISES,
    Derivation,
    by_id,
    corpus_root,
    entries,
    sources,
)

# Cases with no file, upstream or derived, that Terrace loads (the README says why). A file found
# later, or a format Terrace learns, moves its case out of this set.
NO_LOADABLE_FILE: dict[str, set[str]] = {"vector": {"wide-table"}, "raster": set()}
ARTIFACT_SUFFIXES = {"pypi": (".tar.gz", ".zip", ".whl"), "debian": (".deb",), "npm": (".tgz",)}


def test_ids_are_unique_and_usable_as_pytest_ids() -> None:
    ids = [e.id for e in entries()]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert [i for i in ids if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", i)] == []


def test_every_source_is_pinned_and_used() -> None:
    used = {e.source.name for e in entries()}
    for source in sources():
        assert source.name in used, f"source {source.name} has no file"
        assert re.fullmatch(r"[0-9a-f]{64}", source.sha256), source.name
        assert source.version and source.version in source.artifact, source.name
        assert source.artifact.endswith(ARTIFACT_SUFFIXES[source.registry]), source.name
        assert source.licence and source.home.startswith("https://"), source.name


def test_no_debian_source_is_an_r_package() -> None:
    """R packages' data is reserved for independent checks: every Debian artifact fetched is
    checked for its archive section (fetch refuses them too)."""
    debian = [s for s in sources() if s.registry == "debian"]
    artifacts = [corpus_root() / ".artifacts" / s.artifact for s in debian]
    assert debian and all(a.exists() for a in artifacts), "run scripts/setup --test"
    assert {
        a.name: debian_section(a) for a in artifacts if debian_section(a) == RESERVED_DEBIAN_SECTION
    } == {}


def test_sizes_and_sources_the_issue_asks_for() -> None:
    assert len(entries("vector")) >= 60
    assert len(entries("raster")) >= 25
    assert len(sources()) >= 6
    assert {s.registry for s in sources()} == {"pypi", "debian", "npm"}


def test_each_member_and_layer_is_one_entry() -> None:
    keys = Counter((e.source.name, e.member, e.layer) for e in entries())
    assert [k for k, n in keys.items() if n > 1] == []


def test_refusals_name_an_error_code() -> None:
    for entry in entries():
        assert (entry.expect == "refuse") == (entry.refusal is not None), entry.id
        if entry.refusal is not None:
            assert re.fullmatch(r"[A-Z_]+", entry.refusal), entry.id


def test_a_given_crs_is_an_epsg_code_for_a_file_to_load() -> None:
    for entry in entries():
        if entry.crs is not None:
            assert re.fullmatch(r"EPSG:[0-9]+", entry.crs), entry.id
            assert entry.expect == "load", entry.id


def test_coverage_of_the_cases_in_issue_15() -> None:
    for kind, cases in EXERCISES.items():
        loadable = {tag for e in entries(kind) if e.expect == "load" for tag in e.exercises}
        missing = NO_LOADABLE_FILE[kind]
        assert cases - missing - loadable == set(), f"{kind} cases without a loadable file"
        assert missing & loadable == set(), f"{kind} cases now loadable: take them out of NO_LOADABLE_FILE"


def test_a_derived_file_is_made_from_an_upstream_file_of_its_kind_by_a_recipe() -> None:
    derived = [e for e in entries() if e.derived is not None]
    assert derived
    for made in derived:
        assert made.derived is not None
        origin = by_id(made.derived.origin)
        assert origin.derived is None and origin.kind == made.kind, made.id
        assert made.source == origin.source, made.id
        assert PurePosixPath(made.member).parts[0] == DERIVED_DIR, made.id
        assert made.id.startswith("derived-"), made.id
        assert any("{src}" in arg for step in made.derived.steps for arg in step), made.id


def test_a_recipe_names_the_origin_the_file_made_and_the_scratch_directory() -> None:
    steps = (("gdal_translate", "-of", "HFA", "{src}", "{dst}"), ("cp", "{work}/a", "b"))
    recipe = Derivation(origin="x", steps=steps)
    commands = recipe.commands(Path("/c/in.tif"), Path("/t/out.img"), Path("/t"))
    assert commands == [["gdal_translate", "-of", "HFA", "/c/in.tif", "/t/out.img"], ["cp", "/t/a", "b"]]
