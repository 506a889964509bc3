"""What process_vector's stages hand each other survives JSON, and its planners are exact."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from terrace.ingest.release import JobWarning, Location
from terrace.ingest.vector.columns import Column
from terrace.ingest.vector.contracts import (
    Chunk,
    DigestedSource,
    Inspected,
    LoadTask,
    Outputs,
    Prepared,
    PrepareTask,
    ProducedTable,
    Published,
    Staged,
    StageTask,
    StagingTable,
    Summary,
)
from terrace.ingest.vector.load import plan_loads
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.prepare import plan_parts
from terrace.ingest.vector.sources import Part
from terrace.ingest.vector.staging import add_up, plan_staging

PARAMS = VectorParams(
    path="in/roads.gpkg", dataset_id="roads", resource_id="java", release_id="0" * 32, version_ordinal=2
)
SOURCE = DigestedSource(
    file="in/roads.gpkg", format="GPKG", layer="roads", crs="EPSG:32748", sha256="ab" * 32
)
COLUMNS = [Column("Name", "name", "text"), Column("lanes", "lanes", "smallint")]
RENAMED = JobWarning(code="COLUMN_RENAMED", count=1, message="Name → name")
INSPECTED = Inspected(
    source=SOURCE.model_dump(exclude={"sha256"}),
    columns=COLUMNS,
    warnings=[RENAMED],
    parts=[
        Part(fid_from=1, fid_to=101),
        Part(fid_from=101, fid_to=150),
        Part(row_groups=[0, 1], first_row=7),
    ],
)


def prepared(rows: int, chunks: list[Chunk], report: str | None = None) -> Prepared:
    """A part's result: the rows in no chunk had null geometries; each family's box is as wide as
    it has features."""
    families = {f: sum(c.rows for c in chunks if c.family == f) for f in sorted({c.family for c in chunks})}
    return Prepared(
        rows=rows,
        counts={"GEOMETRY_REPAIRED": 1, "NULL_GEOMETRY_DROPPED": rows - sum(families.values())},
        non_null={"name": rows, "lanes": 0},
        families=families,
        bounds={family: [0.0, 0.0, float(n), 1.0] for family, n in families.items()},
        chunks=chunks,
        report=report,
    )


PARTS = [
    prepared(
        100,
        [
            Chunk(path="c/line-00000-000.arrow", family=1, rows=60),
            Chunk(path="c/line-00000-001.arrow", family=1, rows=39),
        ],
        "p/r0.csv",
    ),
    prepared(
        50,
        [
            Chunk(path="c/line-00001-000.arrow", family=1, rows=20),
            Chunk(path="c/polygon-00001-000.arrow", family=2, rows=30),
        ],
    ),
]
STAGED = Staged(
    chunks=[c for part in PARTS for c in part.chunks],
    columns=["name"],
    geometry_column="geom",
    tables={1: "stg_abc_line", 2: "stg_abc_polygon"},
)
TABLE = StagingTable(
    family=1,
    suffix="_line",
    table_name="roads_java_ord2_line",
    staging="stg_abc_line",
    expected=119,
    bbox=[0.0, 0.0, 99.0, 1.0],
    geometry_type="MULTILINESTRING",
)
PUBLISHED = Published(
    tables=[
        ProducedTable(
            table_name="roads_java_ord2_line",
            schema_name="geo_draft",
            geometry_type="MULTILINESTRING",
            feature_count=119,
            table_role="geometry_split",
            table_suffix="_line",
        )
    ],
    columns=COLUMNS[:1],
    warnings=[RENAMED],
    outputs=Outputs(repair_report=None, source=SOURCE),
)
CONTRACTS: list[BaseModel] = [
    INSPECTED,
    *plan_parts(PARAMS, [INSPECTED]),
    *PARTS,
    *plan_staging(PARAMS, PARTS),
    Summary(
        tables=[TABLE],
        columns=COLUMNS[:1],
        warnings=[RENAMED],
        repair_report=Location(container="silver", path="ingest/x/repair-report.csv"),
        source=SOURCE.model_dump(exclude={"sha256"}),
        chunks=STAGED.chunks,
    ),
    STAGED,
    *plan_loads(PARAMS, [STAGED]),
    PUBLISHED,
]


@pytest.mark.parametrize("contract", CONTRACTS, ids=[type(c).__name__ for c in CONTRACTS])
def test_every_contract_survives_a_trip_through_jsonb(contract: BaseModel) -> None:
    stored = json.loads(json.dumps(contract.model_dump(mode="json")))  # as app.tasks keeps it
    assert type(contract).model_validate(stored) == contract


def test_the_job_result_keeps_the_shape_releases_record() -> None:
    assert PUBLISHED.model_dump(mode="json") == {
        "tables": [
            {
                "table_name": "roads_java_ord2_line",
                "schema_name": "geo_draft",
                "geometry_type": "MULTILINESTRING",
                "feature_count": 119,
                "table_role": "geometry_split",
                "table_suffix": "_line",
            }
        ],
        "columns": [{"source": "Name", "name": "name", "pg_type": "text"}],
        "warnings": [{"code": "COLUMN_RENAMED", "count": 1, "message": "Name → name"}],
        "outputs": {
            "repair_report": None,
            "source": {
                "file": "in/roads.gpkg",
                "format": "GPKG",
                "layer": "roads",
                "crs": "EPSG:32748",
                "sha256": "ab" * 32,
            },
        },
    }


def test_each_part_becomes_a_prepare_task_with_the_inspected_columns() -> None:
    tasks = plan_parts(PARAMS, [INSPECTED])
    assert tasks == [
        PrepareTask(part=part, index=index, columns=COLUMNS, crs="EPSG:32748")
        for index, part in enumerate(INSPECTED.parts)
    ]


def test_objectids_run_on_per_table_in_chunk_order() -> None:
    loads = plan_loads(PARAMS, [STAGED])
    assert [(t.staging, t.first_objectid) for t in loads] == [
        ("stg_abc_line", 1),
        ("stg_abc_line", 61),
        ("stg_abc_line", 100),
        ("stg_abc_polygon", 1),
    ]
    assert all(isinstance(t, LoadTask) and t.columns == ["name"] for t in loads)


def test_the_parts_add_up() -> None:
    totals = add_up(plan_staging(PARAMS, PARTS)[0].parts)
    assert totals.rows == 150
    assert totals.families == {1: 119, 2: 30}
    assert totals.counts == {"GEOMETRY_REPAIRED": 2, "NULL_GEOMETRY_DROPPED": 1}
    assert totals.non_null == {"name": 150, "lanes": 0}
    assert totals.bounds == {1: [0.0, 0.0, 99.0, 1.0], 2: [0.0, 0.0, 30.0, 1.0]}


def test_a_stage_task_refuses_what_it_does_not_know() -> None:
    stored = StageTask(parts=PARTS[:1]).model_dump(mode="json")
    stored["parts"][0]["rowz"] = 1
    with pytest.raises(ValueError, match="rowz"):
        StageTask.model_validate(stored)
