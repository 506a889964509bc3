-- H3 grids (terrace.analytics.grids) and the cells their jobs write (terrace.analytics.jobs).

-- name: insert_grid
INSERT INTO h3.grids (name, resolutions, area, status, created_by)
VALUES (%(name)s, %(resolutions)s, %(area)s, 'building', %(created_by)s)
ON CONFLICT (name) DO NOTHING
RETURNING name;

-- name: set_job
UPDATE h3.grids SET job_id = %(job_id)s WHERE name = %(name)s;

-- name: grids
-- Grids the viewer may see: those of a bbox, and those of a release it may see.
SELECT g.name, g.resolutions::int[] AS resolutions, g.area, g.job_id, g.status, g.created_at, g.created_by,
       g.cell_counts
FROM h3.grids g
WHERE (%(name)s::text IS NULL OR g.name = %(name)s)
  AND (g.area ->> 'release_id' IS NULL
       OR app.release_visible_to(g.area ->> 'release_id', %(levels)s, %(roles)s, %(drafts)s, %(actor)s))
ORDER BY g.name;

-- name: resolutions
SELECT resolutions::int[] AS resolutions FROM h3.grids WHERE name = %(name)s;

-- name: lock_grid
-- The grid a job builds, locked; none if it was deleted or belongs to another job now.
SELECT name FROM h3.grids WHERE name = %(name)s AND job_id = %(job_id)s FOR UPDATE;

-- name: delete_grid
DELETE FROM h3.grids WHERE name = %(name)s RETURNING job_id, status;

-- name: count_cells
SELECT resolution, count(*) AS cells FROM h3.cells WHERE grid = %(name)s GROUP BY resolution;

-- name: grid_ready
UPDATE h3.grids SET status = 'ready', cell_counts = %(counts)s WHERE name = %(name)s AND job_id = %(job_id)s;

-- name: grid_failed
-- A failed build keeps its row (so its owner sees why) but none of its cells.
WITH failed AS (
  UPDATE h3.grids SET status = 'failed' WHERE name = %(name)s AND job_id = %(job_id)s RETURNING name
)
DELETE FROM h3.cells c USING failed WHERE c.grid = failed.name;

-- name: delete_chunk
-- Before a cells task writes, the cells an earlier attempt of it wrote: one index range per
-- resolution. Positional parameters (ADBC): grid, resolution, first and last cell id.
DELETE FROM h3.cells WHERE grid = $1 AND resolution = $2 AND cell_id BETWEEN $3 AND $4;

-- name: geometry_column
SELECT f_geometry_column AS column_name FROM geometry_columns
WHERE f_table_schema = %(schema)s AND f_table_name = %(table)s
ORDER BY f_geometry_column LIMIT 1;
