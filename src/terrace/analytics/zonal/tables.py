"""The zonal job's tables: the staging table its chunks fill, and the queries over its zones."""

from __future__ import annotations

from psycopg import sql

from terrace.analytics.zonal.inputs import WGS84, ZoneTable
from terrace.analytics.zonal.stats import StatColumn
from terrace.db.pool import Connection


def staging_name(job_id: str) -> str:
    """Named after the job, as vector loads are: the consistency check knows it for a staging table."""
    return f"stg_{job_id[:12]}_zonal"


def create_staging(conn: Connection, schema: str, name: str, columns: list[StatColumn]) -> None:
    """Unlogged and unindexed: chunks COPY into it, and the final table is made from it once."""
    definitions = [
        sql.SQL("chunk integer NOT NULL"),
        sql.SQL("zone_id bigint NOT NULL"),
        sql.SQL("geom geometry NOT NULL"),
        *(sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type)) for c in columns),
    ]
    conn.execute(
        sql.SQL("CREATE UNLOGGED TABLE {} ({})").format(
            sql.Identifier(schema, name), sql.SQL(", ").join(definitions)
        )
    )


def count_query(zones: ZoneTable) -> sql.Composed:
    return sql.SQL("SELECT count(*) AS zones FROM {relation} WHERE {where}").format(
        relation=zones.relation, where=zones.where
    )


def zones_query(zones: ZoneTable, srid: int) -> sql.Composed:
    """The zones at positions `%(first)s` to `%(last)s` from south to north (by centroid, then id),
    so that a chunk is a band of the raster: id, WKB geometry in EPSG:4326, and (when the raster
    has another CRS) the geometry in the raster's CRS as `projected`."""
    geometry = sql.Identifier(zones.geometry_column)
    projected = (
        sql.SQL("")
        if srid == WGS84
        else sql.SQL(", ST_AsBinary(ST_Transform(geom, {})) AS projected").format(sql.Literal(srid))
    )
    return sql.SQL(
        "SELECT zone_id, ST_AsBinary(geom) AS geom{projected} FROM ("
        "SELECT {id} AS zone_id, {geometry} AS geom, "
        "row_number() OVER (ORDER BY ST_Y(ST_Centroid({geometry})), {id}) AS position "
        "FROM {relation} WHERE {where}) AS ordered "
        "WHERE position BETWEEN %(first)s AND %(last)s ORDER BY zone_id"
    ).format(
        id=sql.Identifier(zones.id_column),
        geometry=geometry,
        projected=projected,
        relation=zones.relation,
        where=zones.where,
    )
