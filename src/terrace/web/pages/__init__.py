"""The UI's pages, one module per area: overview, jobs, submit, review, assets, catalog."""
