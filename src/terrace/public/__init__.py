"""The public zone (SPEC §14): releases cleared `public`, exported to a database and storage of their own."""
