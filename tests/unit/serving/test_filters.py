"""The CQL2 guard and whitelist: limits measured before parsing, spec operators only, known properties."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from terrace.errors import InvalidInput
from terrace.serving import filters

COLUMNS = {"name", "value", "geom", "observed", "tags"}.__contains__


def allowed(text: str, lang: filters.FilterLang | None = None) -> Any:
    tree = filters.parse(text, lang)
    filters.require_allowed(tree, COLUMNS)
    return tree


def refused(text: str, lang: filters.FilterLang | None = None) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        allowed(text, lang)
    return caught.value


@pytest.mark.parametrize(
    "text",
    [
        "name = 'x'",
        "value > 3 AND value < 10",
        "name LIKE 'a%' OR name NOT LIKE 'b%'",
        "value BETWEEN 1 AND 2",
        "name IN ('a', 'b') AND name NOT IN ('c')",
        "name IS NULL OR name IS NOT NULL",
        "NOT (value = 1)",
        "S_INTERSECTS(geom, BBOX(106.7, -6.3, 106.9, -6.1))",
        "S_WITHIN(geom, POLYGON((0 0, 1 0, 1 1, 0 0))) AND S_DISJOINT(geom, POINT(5 5))",
        "T_AFTER(observed, TIMESTAMP('2024-01-01T00:00:00Z'))",
        "T_DURING(observed, INTERVAL('2024-01-01', '2024-02-01'))",
        "CASEI(name) = casei('X')",
        "value * 2 + 1 > 3 AND value % 2 = 0 AND value ^ 2 > 1 AND value div 2 = 1",
        "A_CONTAINS(tags, ('a', 'b'))",
        "\"name\" = ')))((( '' \"'",
        "name = '" + "(" * 100 + "'",
        "((((value = 1))))",
    ],
)
def test_cql2_text_of_the_standard_is_allowed(text: str) -> None:
    allowed(text)


def test_cql2_json_is_read_by_language_or_by_its_brace() -> None:
    body = {"op": "=", "args": [{"property": "name"}, "x"]}
    assert allowed(json.dumps(body), "cql2-json") == allowed(json.dumps(body)) == body


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            "int4(concat(query_to_xml('select string_agg(key_hash, '','') from app.api_keys',"
            " true, true, ''))) = 1",
            "int4, concat, query_to_xml",
        ),
        ("pg_read_file('/etc/hostname') = 'x'", "pg_read_file"),
        ("lo_export(1, '/tmp/x') = 1", "lo_export"),
        ("pg_sleep(10) IS NULL", "pg_sleep"),
        ("S_INTERSECTS(geom, st_transform(geom, 3857))", "st_transform"),
        ("ACCENTI(name) = accenti('é')", "accenti"),
    ],
)
def test_other_functions_are_refused_by_name(text: str, named: str) -> None:
    error = refused(text)
    assert error.code == "FILTER_REFUSED" and named in error.message


def test_functions_hidden_in_json_literals_are_found() -> None:
    point = {"type": "Point", "coordinates": [1, 2], "op": "pg_sleep", "args": [10]}
    body = {"op": "s_intersects", "args": [{"property": "geom"}, point]}
    tree = filters.normalized(body)
    with pytest.raises(InvalidInput, match="pg_sleep"):
        filters.require_allowed(tree, COLUMNS)


def test_keys_cql2_does_not_read_are_dropped() -> None:
    body = {"op": "=", "args": [{"property": "name"}, "x"], "filter": {"op": "pg_sleep", "args": [1]}}
    assert filters.normalized(body) == {"op": "=", "args": [{"property": "name"}, "x"]}


def test_properties_outside_the_columns_are_refused_by_name() -> None:
    error = refused('secret = 1 AND value = 2 AND "other col" IS NULL')
    assert "secret, other col" in error.message and "value" not in error.message


@pytest.mark.parametrize(
    "name", ["id", "collection", "datetime", "eo:cloud_cover", "properties.platform", "proj:epsg"]
)
def test_stac_properties_are_named_as_stac_names_them(name: str) -> None:
    assert filters.stac_property(name)


@pytest.mark.parametrize("name", ["", "a'b", "x) OR (1=1", "content->>'x'", "1abc"])
def test_other_stac_property_names_are_refused(name: str) -> None:
    assert not filters.stac_property(name)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 33 + "value = 1" + ")" * 33,
        "value = 1 AND " + "(" * 2000 + "value = 1" + ")" * 2000,
        # Stray closers cannot lower the count and hide the openers after them.
        "value = 1)" + ")" * 500 + " AND " + "(" * 40 + "value = 1" + ")" * 40,
        # Brackets in strings do not count, but an unterminated string does not hide them.
        "name = ')' AND " + "(" * 40 + "value = 1" + ")" * 40 + " AND name = '",
        # Prefix operators nest without parentheses.
        "value = " + "-" * 4000 + "1",
        "NOT " * 33 + "value = 1",
        "(" * 20 + "NOT " * 13 + "value = 1" + ")" * 20,
    ],
)
def test_text_nested_too_deep_is_refused_before_parsing(text: str) -> None:
    error = refused(text)
    assert error.code == "FILTER_TOO_DEEP" and "32" in error.message


def test_json_nested_too_deep_is_refused_before_parsing() -> None:
    text = '{"op": "not", "args": [' * 2000 + '{"property": "value"}' + "]}" * 2000
    error = refused(text[:4000], "cql2-json")
    assert error.code == "FILTER_TOO_DEEP" and "64" in error.message


def test_a_chain_of_operators_deep_without_parentheses_is_refused() -> None:
    error = refused("value = 1" + "-1" * 2000)
    assert error.code == "FILTER_TOO_DEEP"


def test_a_json_tree_is_measured_without_recursion() -> None:
    tree: Any = {"property": "value"}
    for _ in range(100_000):
        tree = {"op": "not", "args": [tree]}
    with pytest.raises(InvalidInput, match="64"):
        filters.normalized(tree)


def test_long_filters_are_refused() -> None:
    error = refused("name IN (" + ", ".join(["'abcdefgh'"] * 400) + ")")
    assert error.code == "FILTER_TOO_LONG" and "4096" in error.message
    with pytest.raises(InvalidInput, match="4096"):
        filters.normalized({"op": "in", "args": [{"property": "name"}, ["abcdefgh"] * 500]})


def test_malformed_filters_are_refused() -> None:
    assert "cql2-text" in refused("value = ").message
    assert "cql2-json" in refused('{"op": 1}').message


def test_the_worst_filter_under_the_limits_is_parsed_in_a_fresh_process() -> None:
    """The limits keep cql2's recursion far from the stack: no crash, just a 400-worthy error."""
    probe = (
        "from terrace.serving import filters\n"
        "for text in ['(' * 2000 + 'a = 1' + ')' * 2000, 'a = 1' + '-1' * 2040, '-' * 4090 + '1']:\n"
        "    try:\n"
        "        filters.parse(text, None)\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["InvalidInput"] * 3
