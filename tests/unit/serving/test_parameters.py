"""The strict parameter readers accept what the standards allow and name what they refuse."""

from __future__ import annotations

import pytest

from terrace.errors import InvalidInput
from terrace.serving import parameters


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01",
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00.123+07:00",
        "2024-01-01t00:00:00z",
        "../2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z/..",
        "/2024-01-31",
        "2024-01-01/2024-01-31",
    ],
)
def test_datetimes_and_intervals_of_rfc_3339_are_read(text: str) -> None:
    assert parameters.datetime_interval(text) == text.split("/")


@pytest.mark.parametrize("text", ["2024-13-45", "x/y", "../..", "2024-01-01/2024-01-02/2024-01-03", "1 day"])
def test_other_datetimes_are_refused_by_name(text: str) -> None:
    with pytest.raises(InvalidInput, match="datetime"):
        parameters.datetime_interval(text)


def test_bboxes_of_four_or_six_finite_numbers_in_range_are_read() -> None:
    assert parameters.bbox("-180,-90,180,90") == [-180, -90, 180, 90]
    assert parameters.bbox("106.7,-6.3,0,106.9,-6.1,10") == [106.7, -6.3, 0, 106.9, -6.1, 10]
    for text in ("1,2,3", "1,2,3,x", "nan,0,1,1", "inf,0,1,1", "0,0,181,1", "0,-91,1,1", ""):
        with pytest.raises(InvalidInput, match="bbox"):
            parameters.bbox(text)


def test_stac_searches_name_properties_and_ids_as_stac_spells_them() -> None:
    parameters.check_stac_search(
        {
            "ids": "floods-jakarta-v1,relief_java.v2",
            "collections": ["floods", "relief"],
            "sortby": [{"field": "properties.eo:cloud_cover", "direction": "desc"}],
            "fields": {"include": ["id", "properties.datetime"], "exclude": ["assets"]},
            "bbox": [106.7, -6.3, 106.9, -6.1],
        }
    )
    parameters.check_stac_search({"sortby": "-datetime,+id", "fields": "id,-geometry", "bbox": "1,2,3,4"})
    for values in (
        {"ids": "a' OR '1'='1"},
        {"collections": ["x y"]},
        {"sortby": "(SELECT 1)"},
        {"fields": {"include": ["a;b"]}},
        {"bbox": [0, 0, float("nan"), 1]},
    ):
        with pytest.raises(InvalidInput, match=next(iter(values))):
            parameters.check_stac_search(values)
