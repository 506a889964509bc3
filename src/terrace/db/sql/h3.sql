-- The `h3` schema (SPEC §2, §13): H3 grids and their cells. Applied as a whole by `ensure` as the
-- owner; every statement is idempotent. `rebuild` never touches it, so nothing here references
-- `app` (job_id is the id of the job that built the grid, kept as text).

CREATE SCHEMA IF NOT EXISTS h3;

CREATE TABLE IF NOT EXISTS h3.grids (
  name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  resolutions smallint[] NOT NULL,
  area jsonb NOT NULL,
  job_id text,
  status text,
  created_at timestamptz DEFAULT now(),
  created_by text,
  -- {"<resolution>": cells}, recorded when the grid is ready
  cell_counts jsonb
);

-- parent_id: the cell's parent at the grid's next coarser resolution (an H3 parent, which need
-- not be a cell of the grid itself), null at the coarsest.
CREATE TABLE IF NOT EXISTS h3.cells (
  grid text REFERENCES h3.grids (name) ON DELETE CASCADE,
  resolution smallint,
  cell_id bigint,
  parent_id bigint,
  geom geometry(MultiPolygon, 4326) NOT NULL,
  PRIMARY KEY (grid, resolution, cell_id)
);

CREATE INDEX IF NOT EXISTS cells_geom_idx ON h3.cells USING gist (geom);
