"""What the stages of process_vector hand each other: each task's input and result."""

from __future__ import annotations

from terrace.ingest.release import JobWarning, Location
from terrace.ingest.vector.columns import Column
from terrace.ingest.vector.sources import Part
from terrace.orchestration.definitions import Contract


class SourceFile(Contract):
    file: str
    format: str
    layer: str | None
    crs: str


class DigestedSource(SourceFile):
    sha256: str


class Inspection(Contract):
    """What inspect learnt about the file; kept in silver for the stage task."""

    source: SourceFile
    columns: list[Column]
    warnings: list[JobWarning]


class Inspected(Inspection):
    parts: list[Part]


class PrepareTask(Contract):
    part: Part
    index: int
    columns: list[Column]
    crs: str


class Chunk(Contract):
    """An Arrow IPC file in silver holding rows of one geometry family."""

    path: str
    family: int
    rows: int


class Prepared(Contract):
    """What one part held: rows read, repairs by code, non-null values by column, features and
    bounds by geometry family, the chunks written, the path of its repair report rows."""

    rows: int
    counts: dict[str, int]
    non_null: dict[str, int]
    families: dict[int, int]
    bounds: dict[int, list[float]]
    chunks: list[Chunk]
    report: str | None


class StageTask(Contract):
    parts: list[Prepared]


class StagingTable(Contract):
    family: int
    suffix: str
    table_name: str
    staging: str
    expected: int
    bbox: list[float]
    geometry_type: str


class Summary(Contract):
    """What the stage task decided; kept in silver for the finalize task."""

    tables: list[StagingTable]
    columns: list[Column]
    warnings: list[JobWarning]
    repair_report: Location | None
    source: SourceFile
    chunks: list[Chunk]


class Staged(Contract):
    chunks: list[Chunk]
    columns: list[str]
    geometry_column: str
    tables: dict[int, str]  # staging table by geometry family


class LoadTask(Contract):
    chunk: str
    staging: str
    first_objectid: int
    columns: list[str]
    geometry_column: str


class Loaded(Contract):
    staging: str
    rows: int
    batch: str


class ProducedTable(Contract):
    """A table or view the release serves once approved."""

    table_name: str
    schema_name: str
    geometry_type: str
    feature_count: int
    table_role: str
    table_suffix: str


class Outputs(Contract):
    repair_report: Location | None
    source: DigestedSource


class Published(Contract):
    """The job's result: what its completion hook records on the release, and how the source's
    fields became the tables' columns."""

    tables: list[ProducedTable]
    columns: list[Column]
    warnings: list[JobWarning]
    outputs: Outputs
