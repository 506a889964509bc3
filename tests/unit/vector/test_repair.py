"""Geometry repair cannot fail the job: a feature GEOS raises on is repaired or dropped alone."""

from __future__ import annotations

import numpy as np
import shapely

from terrace.ingest.vector.geometry import Cleaned, _split_at_antimeridian, _step, clean

# drawn across the antimeridian, from 170°E eastwards to 170°W
SQUARE = shapely.Polygon([(170, 0), (-170, 0), (-170, 10), (170, 10), (170, 0)])


def no_curves(wkb: list[bytes]) -> list[bytes]:
    raise AssertionError("no curved geometry expected")


def fresh(n: int) -> Cleaned:
    return Cleaned(
        np.empty(0, dtype=object),
        np.empty(0, dtype=np.int8),
        np.ones(n, dtype=bool),
        np.arange(n),
        np.zeros(n, dtype=bool),
    )


def test_a_feature_geos_raises_on_is_repaired_and_the_others_kept() -> None:
    def clip(geoms: np.ndarray) -> np.ndarray:
        return shapely.intersection(geoms, shapely.box(-100, -100, 100, 100))

    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    geoms = np.array([shapely.box(0, 0, 1, 1), bowtie], dtype=object)
    try:
        clip(geoms)
        raise AssertionError("GEOS was expected to raise on the bow-tie")
    except shapely.errors.GEOSException:
        pass
    result = fresh(2)
    _step(result, geoms, np.array([2, 2], dtype=np.int8), np.ones(2, dtype=bool), clip)
    assert result.kept.all() and shapely.is_valid(geoms).all()
    assert shapely.area(geoms[0]) == 1
    assert shapely.area(geoms[1]) == 50  # the bow-tie's two triangles
    assert shapely.get_type_id(geoms[1]) == 6


def test_a_bowtie_drawn_across_the_antimeridian_is_repaired_where_it_is_drawn() -> None:
    bowtie = shapely.Polygon([(170, 0), (-170, 10), (-170, 0), (170, 10), (170, 0)])
    (cut,) = _split_at_antimeridian(np.array([bowtie], dtype=object))
    assert shapely.is_valid(cut) and shapely.area(cut) == 100
    assert shapely.bounds(cut).tolist() == [-180, 0, 180, 10]


def test_a_feature_no_repair_saves_is_dropped_with_a_report_row() -> None:
    def failing(geoms: np.ndarray) -> np.ndarray:
        if any(shapely.intersects(g, shapely.box(-1, -1, 1, 1)) for g in geoms):
            raise shapely.errors.GEOSException("TopologyException: side location conflict")
        return geoms

    geoms = np.array(
        [shapely.box(5, 5, 6, 6), shapely.box(0, 0, 1, 1), shapely.box(7, 7, 8, 8)], dtype=object
    )
    result = fresh(3)
    _step(result, geoms, np.full(3, 2, dtype=np.int8), np.ones(3, dtype=bool), failing)
    assert result.kept.tolist() == [True, False, True]
    assert result.report == [(1, "GEOMETRY_UNREPAIRABLE_DROPPED")]
    assert result.counts == {"GEOMETRY_UNREPAIRABLE_DROPPED": 1}


def test_antimeridian_crossings_are_cut_and_cut_or_polar_geometries_left_alone() -> None:
    fiji = shapely.MultiPolygon([shapely.box(177, -18, 180, -16), shapely.box(-180, -17, -179, -16)])
    antarctica = shapely.Polygon([(-180, -90), (-180, -80), (0, -70), (180, -80), (180, -90), (-180, -90)])
    wkb = shapely.to_wkb(np.array([SQUARE, fiji, antarctica], dtype=object))
    cleaned = clean(wkb, None, False, no_curves)
    assert cleaned.report == [(0, "ANTIMERIDIAN_FIXED")]
    cut = cleaned.geometries[0]
    assert shapely.area(cut) == 200
    assert shapely.bounds(cut).tolist() == [-180, 0, 180, 10]
    assert shapely.equals(cleaned.geometries[1], fiji) and shapely.equals(cleaned.geometries[2], antarctica)
    assert shapely.is_valid(cleaned.geometries).all()


def test_a_collection_holding_a_multi_keeps_its_family() -> None:
    collection = shapely.GeometryCollection(
        [shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]), shapely.box(4, 4, 5, 5)]
    )
    cleaned = clean(shapely.to_wkb(np.array([collection], dtype=object)), None, False, no_curves)
    assert cleaned.families.tolist() == [2]
    assert shapely.get_num_geometries(cleaned.geometries[0]) == 3


def test_clean_repairs_a_bowtie_drawn_across_the_antimeridian_where_it_lies() -> None:
    bowtie = shapely.Polygon([(170, 0), (-170, 10), (-170, 0), (170, 10), (170, 0)])
    cleaned = clean(shapely.to_wkb(np.array([bowtie], dtype=object)), None, False, no_curves)
    (cut,) = cleaned.geometries
    assert shapely.is_valid(cut) and shapely.area(cut) == 100
    assert cleaned.report == [(0, "ANTIMERIDIAN_FIXED")]
