"""What the review and catalog pages show of a table: features for the map, a sample of rows,
its columns, and how a draft compares with the release currently served for the same asset."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from terrace.catalog.releases import Release, release_tables
from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.ingest.vector.columns import STANDARD_COLUMNS

MAP_FEATURES = 5000
SAMPLE_ROWS = 20
# The data owner's columns; the standard ones every table has (but the key) stay out of the sample.
HIDDEN_COLUMNS = set(STANDARD_COLUMNS) - {"objectid"}


def primary_table(conn: Connection, release_id: str) -> dict[str, Any] | None:
    """The release's first table (not a view), or None for rasters and failed drafts."""
    tables = [t for t in release_tables(conn, release_id) if t["table_role"] != "view"]
    return tables[0] if tables else None


def geometry_column(conn: Connection, schema: str, table: str) -> str:
    row = conn.execute(queries("web")["geometry_column"], {"schema": schema, "table": table}).fetchone()
    if row is None:
        raise NotFound(f"No spatial table {schema}.{table}.", "It may have been revoked or unpublished.")
    return str(row["column_name"])


def features(conn: Connection, schema: str, table: str) -> dict[str, Any]:
    """Up to MAP_FEATURES features as a GeoJSON FeatureCollection (geometry only, for the map)."""
    column = sql.Identifier(geometry_column(conn, schema, table))
    query = sql.SQL(
        "SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg("
        "json_build_object('type', 'Feature', 'properties', json_build_object(), "
        "'geometry', ST_AsGeoJSON(t.{column}, 6)::json)), '[]'::json)) AS collection "
        "FROM (SELECT {column} FROM {table} LIMIT %(limit)s) AS t"
    ).format(column=column, table=sql.Identifier(schema, table))
    return dict(fetch_one(conn, query, {"limit": MAP_FEATURES})["collection"])


def sample(conn: Connection, schema: str, table: str) -> tuple[list[str], list[list[Any]]]:
    """The column names and the first SAMPLE_ROWS rows, without geometry and bookkeeping columns."""
    names = [c["name"] for c in columns(conn, schema, table) if c["name"] not in HIDDEN_COLUMNS]
    query = sql.SQL("SELECT {} FROM {} ORDER BY 1 LIMIT %(limit)s").format(
        sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(schema, table)
    )
    rows = conn.execute(query, {"limit": SAMPLE_ROWS}).fetchall()
    return names, [[row[name] for name in names] for row in rows]


def columns(conn: Connection, schema: str, table: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(queries("web")["columns"], {"schema": schema, "table": table})]


def extent(conn: Connection, schema: str, table: str) -> list[float] | None:
    column = sql.Identifier(geometry_column(conn, schema, table))
    query = sql.SQL(
        "SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n "
        "FROM (SELECT ST_Extent({column}) AS e FROM {table}) AS x"
    ).format(column=column, table=sql.Identifier(schema, table))
    row = fetch_one(conn, query, {})
    return None if row["w"] is None else [round(row[k], 6) for k in ("w", "s", "e", "n")]


def comparison(conn: Connection, draft: Release) -> dict[str, Any] | None:
    """The draft beside the latest served release of its asset: counts, extents, schemas."""
    served = conn.execute(queries("releases")["latest_served"], {"asset_id": draft.asset_id}).fetchone()
    if served is None:
        return None
    theirs = primary_table(conn, served["release_id"])
    ours = primary_table(conn, draft.release_id)
    if theirs is None or ours is None:
        return None
    mine = {c["name"]: c["type"] for c in columns(conn, ours["schema_name"], ours["table_name"])}
    other = {c["name"]: c["type"] for c in columns(conn, theirs["schema_name"], theirs["table_name"])}
    return {
        "version_id": served["version_id"],
        "feature_count": (ours["feature_count"], theirs["feature_count"]),
        "extent": (
            extent(conn, ours["schema_name"], ours["table_name"]),
            extent(conn, theirs["schema_name"], theirs["table_name"]),
        ),
        "added": sorted(set(mine) - set(other)),
        "removed": sorted(set(other) - set(mine)),
        "retyped": sorted(n for n in set(mine) & set(other) if mine[n] != other[n]),
    }
