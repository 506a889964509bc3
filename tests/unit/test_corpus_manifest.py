"""The corpus manifest is well formed: unique ids, pinned artifacts, every source used, the
coverage issue 15 asks for, and nothing from the packages reserved for independent checks."""

from __future__ import annotations

import re
import tomllib
from collections import Counter

from tests.corpus.manifest import EXERCISES, MANIFEST, entries, sources

# Cases with no file that Terrace loads under its current rules: no registry artifact carries one,
# or the only ones are in formats Terrace refuses (the README says which). A file found later, or
# a format Terrace learns, moves its case out of this set.
NO_LOADABLE_FILE = {
    "vector": {"duplicate-column-names", "wide-table", "time", "binary", "csv-delimiter", "csv-bom"},
    "raster": {"palette", "nan-nodata", "rgba", "jpeg", "jpeg2000", "erdas-img", "gcps", "rotated"}
    | {"float64", "antimeridian-extent"},
}
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


def test_no_reserved_debian_r_packages() -> None:
    raw = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    assert [n for n, s in raw["sources"].items() if s["package"].startswith("r-cran-")] == []
    assert "r-cran-" not in MANIFEST.read_text(encoding="utf-8")


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
