"""What the check reports: one finding per object and kind, written to app.catalog_findings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict

from terrace.db.pool import Connection
from terrace.db.queries import queries

Kind = Literal[
    "missing_table",  # a release table or catalog row names a table that does not exist
    "missing_latest_view",  # an asset's `_latest` alias is absent or reads another table
    "missing_stac_item",  # a served release's item is not in pgSTAC
    "missing_stac_collection",  # a served release's collection is not in pgSTAC
    "missing_blob",  # a COG, thumbnail or other output a row names is absent from storage
    "orphan_table",  # a table or view in geo / geo_draft that no release owns
    "orphan_staging_table",  # a staging table of a job that is no longer running
    "orphan_stac_item",  # a pgSTAC item no served release published
    "orphan_stac_collection",  # a pgSTAC collection no served release publishes into
    "orphan_blob",  # an object in silver that no release, row or running job owns
    "release_outputs_missing",  # a release whose outputs are (partly) gone: resubmit it
    "stuck_job",  # a job running past its type's timeout
    "failed_cleanup",  # a failed job whose cleanup failed and was not repaired since
]
KINDS: tuple[str, ...] = get_args(Kind)
BATCH = 500
T = TypeVar("T")


class Finding(BaseModel):
    """One inconsistency: what is wrong with which object, and how it is (or is not) repaired."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    object: str
    release_id: str | None = None
    detail: str
    repair: str


def batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    """`items` in lists of up to `size`, read lazily."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def record(conn: Connection, job_id: str, source: str, findings: Iterable[Finding]) -> int:
    """Replace the findings `source` made in this run (a retried task starts over); returns how many."""
    conn.execute(queries("consistency")["clear_findings"], {"job_id": job_id, "source": source})
    count = 0
    columns = (
        "COPY app.catalog_findings (job_id, source, kind, object, release_id, detail, repair) FROM STDIN"
    )
    for batch in batches(findings):
        with conn.cursor().copy(columns) as copy:
            for f in batch:
                copy.write_row((job_id, source, f.kind, f.object, f.release_id, f.detail, f.repair))
        count += len(batch)
    return count
