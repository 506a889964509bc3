-- name: upsert_cog
-- A row of another release is never replaced: then nothing is returned.
INSERT INTO app.cog_metadata (
    container, path, job_id, release_id, dataset_id, resource_id, collection_id, part, source_container,
    source_path, kind, tier, rewritten, width, height, band_count, dtype, nodata, crs, epsg, transform,
    resolution, bbox, bbox_4326, footprint, overviews, block_size, compression, resampling, bands,
    statistics, rescale, colormap, thumbnail_path, size_bytes, sha256, acquired_at)
VALUES (
    %(container)s, %(path)s, %(job_id)s, %(release_id)s, %(dataset_id)s, %(resource_id)s,
    %(collection_id)s, %(part)s, %(source_container)s, %(source_path)s, %(kind)s, %(tier)s,
    %(rewritten)s, %(width)s, %(height)s, %(band_count)s, %(dtype)s, %(nodata)s, %(crs)s, %(epsg)s,
    %(transform)s, %(resolution)s, %(bbox)s, %(bbox_4326)s, %(footprint)s, %(overviews)s,
    %(block_size)s, %(compression)s, %(resampling)s, %(bands)s, %(statistics)s, %(rescale)s,
    %(colormap)s, %(thumbnail_path)s, %(size_bytes)s, %(sha256)s, %(acquired_at)s)
ON CONFLICT (container, path) DO UPDATE SET
    job_id = EXCLUDED.job_id, release_id = EXCLUDED.release_id, dataset_id = EXCLUDED.dataset_id,
    resource_id = EXCLUDED.resource_id, collection_id = EXCLUDED.collection_id, part = EXCLUDED.part,
    source_container = EXCLUDED.source_container, source_path = EXCLUDED.source_path,
    kind = EXCLUDED.kind, tier = EXCLUDED.tier, rewritten = EXCLUDED.rewritten, width = EXCLUDED.width,
    height = EXCLUDED.height, band_count = EXCLUDED.band_count, dtype = EXCLUDED.dtype,
    nodata = EXCLUDED.nodata, crs = EXCLUDED.crs, epsg = EXCLUDED.epsg, transform = EXCLUDED.transform,
    resolution = EXCLUDED.resolution, bbox = EXCLUDED.bbox, bbox_4326 = EXCLUDED.bbox_4326,
    footprint = EXCLUDED.footprint, overviews = EXCLUDED.overviews, block_size = EXCLUDED.block_size,
    compression = EXCLUDED.compression, resampling = EXCLUDED.resampling, bands = EXCLUDED.bands,
    statistics = EXCLUDED.statistics, rescale = EXCLUDED.rescale, colormap = EXCLUDED.colormap,
    thumbnail_path = EXCLUDED.thumbnail_path, size_bytes = EXCLUDED.size_bytes,
    sha256 = EXCLUDED.sha256, acquired_at = EXCLUDED.acquired_at
WHERE app.cog_metadata.release_id = EXCLUDED.release_id
RETURNING path;

-- name: cogs_of_job
SELECT * FROM app.cog_metadata WHERE job_id = %(job_id)s ORDER BY part;

-- name: delete_cogs_of_job
DELETE FROM app.cog_metadata WHERE job_id = %(job_id)s RETURNING container, path, thumbnail_path;

-- name: foreign_cog_in_folder
SELECT path, release_id FROM app.cog_metadata
WHERE container = %(container)s AND starts_with(path, %(folder)s)
    AND release_id IS DISTINCT FROM %(release_id)s
LIMIT 1;
