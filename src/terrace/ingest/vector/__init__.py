"""Vector ingest: read → clean → chunk → COPY → finalize, as the `process_vector` job."""
