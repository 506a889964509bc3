"""The external service registry (SPEC §14): probe, detect, summarise and health-check services."""
