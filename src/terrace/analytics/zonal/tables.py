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


def chunks_query(zones: ZoneTable) -> sql.Composed:
    """Runs of `%(chunk)s` zones by id: first and last id and count of each, in id order."""
    return sql.SQL(
        "SELECT min(id) AS first_id, max(id) AS last_id, count(*) AS zones FROM ("
        "SELECT {id} AS id, (row_number() OVER (ORDER BY {id}) - 1) / %(chunk)s AS chunk "
        "FROM {relation} WHERE {where}) AS numbered GROUP BY chunk ORDER BY chunk"
    ).format(id=sql.Identifier(zones.id_column), relation=zones.relation, where=zones.where)


def zones_query(zones: ZoneTable, srid: int) -> sql.Composed:
    """The zones of one run of ids: id, WKB geometry in EPSG:4326, and (when the raster has
    another CRS) the geometry in the raster's CRS as `projected`."""
    geometry = sql.Identifier(zones.geometry_column)
    projected = (
        sql.SQL("")
        if srid == WGS84
        else sql.SQL(", ST_AsBinary(ST_Transform({}, {})) AS projected").format(geometry, sql.Literal(srid))
    )
    return sql.SQL(
        "SELECT {id} AS zone_id, ST_AsBinary({geometry}) AS geom{projected} FROM {relation} "
        "WHERE {where} AND {id} BETWEEN %(first_id)s AND %(last_id)s ORDER BY {id}"
    ).format(
        id=sql.Identifier(zones.id_column),
        geometry=geometry,
        projected=projected,
        relation=zones.relation,
        where=zones.where,
    )
