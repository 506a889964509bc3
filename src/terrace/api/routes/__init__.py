"""The routers of the Terrace API."""
