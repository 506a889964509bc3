"""Catalog consistency (SPEC §12): the check that finds drift between catalog, data and storage,
and the repair that heals what can be healed."""
