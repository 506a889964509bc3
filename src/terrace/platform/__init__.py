"""Platform use cases: submit, status, approve/reject/revoke, unpublish, catalog resolution."""
