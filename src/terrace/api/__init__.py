"""HTTP: the app factory, routers, auth dependencies and the mounted serving APIs."""
