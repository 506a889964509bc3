"""Database: connection pools, the embedded cluster, and the schema generated from the models."""
