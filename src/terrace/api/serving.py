"""Mounting the serving APIs: the caller is resolved as everywhere else, errors render as everywhere else."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from starlette.routing import Mount

from terrace.api.deps import current_principal
from terrace.api.errors import install_serving_error_handlers
from terrace.api.http_cache import ServingCache
from terrace.platform.visibility import draft_cog
from terrace.serving.apps import ServingApps
from terrace.serving.visibility import Gate
from terrace.storage import Storage
from terrace.web.docs import install_docs


def mount_serving(app: FastAPI, storage: Storage, tile_cache_mb: int) -> ServingApps:
    """Mount `/features`, `/stac` and `/tiles` on `app` for its callers, with reviewer previews;
    open their pools with `connected`."""
    serving = ServingApps(
        Gate(lambda request: current_principal(request, app.state.pool, app.state.oidc)),
        storage,
        lambda principal, release_id, index: draft_cog(app.state.pool, principal, release_id, index),
        tile_cache_mb,
    )
    mount(app, serving)
    return serving


def mount(app: FastAPI, serving: ServingApps) -> None:
    """Mount the serving apps, their errors rendered and docs served as everywhere else, their
    answers with cache headers, validators and compression."""
    for prefix, mounted in serving.mounts.items():
        for sub in _apps(mounted):
            install_serving_error_handlers(sub)
            install_docs(sub)
        # Outside the error handlers, so that errors get their cache headers too.
        mounted.add_middleware(ServingCache)
        app.mount(prefix, mounted)


def _apps(app: FastAPI) -> Iterator[FastAPI]:
    """The app and the apps mounted inside it (the reviewer preview APIs)."""
    yield app
    for route in app.routes:
        if isinstance(route, Mount) and isinstance(route.app, FastAPI):
            yield from _apps(route.app)
