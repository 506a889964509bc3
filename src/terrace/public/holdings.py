"""What the public target holds, for a consistency check to compare with what is cleared public."""

from __future__ import annotations

from dataclasses import dataclass, field

from terrace.db.pool import connect
from terrace.db.queries import queries
from terrace.stac.pgstac import pgstac_search_path


@dataclass(frozen=True)
class HeldTable:
    name: str
    release_id: str | None  # None: a table no export made (its catalog row is missing or foreign)
    is_alias: bool  # a `_latest` view


@dataclass(frozen=True)
class HeldItem:
    collection_id: str
    item_id: str
    release_id: str | None


@dataclass(frozen=True)
class Holdings:
    tables: list[HeldTable] = field(default_factory=list)
    stac_items: list[HeldItem] = field(default_factory=list)


def holdings(database_url: str) -> Holdings:
    """Every relation of the target's `geo` (with the release its catalog row names) and every
    pgSTAC item (with the release it was exported from)."""
    q = queries("public")
    with connect(database_url) as conn:
        rows = {row["table_name"]: row for row in conn.execute(q["held_tables"])}
        relations = [row["name"] for row in conn.execute(q["held_relations"])]
        with pgstac_search_path(conn):
            items = [HeldItem(**row) for row in conn.execute(q["held_items"])]
    tables = [
        HeldTable(
            name, rows[name]["release_id"] if name in rows else None, bool(rows.get(name, {}).get("is_alias"))
        )
        for name in relations
    ]
    return Holdings(tables, items)
