"""The Jinja2 environment of the UI (autoescaped) and the one way pages render."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from terrace import __version__
from terrace.auth import Role
from terrace.dependencies import get_pool
from terrace.web.session import csrf_token, current_user

FOLDER = Path(__file__).parent


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


environment = Environment(
    loader=FileSystemLoader(FOLDER / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
environment.filters["when"] = _when
templates = Jinja2Templates(env=environment)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page or partial with what every template may use: the user, their roles, the CSRF token,
    the basemap style of its maps."""
    user = context.pop("user", None) or current_user(request, get_pool(request))
    can = {role.value: bool(user and user.has(role)) for role in Role}
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "can": can,
            "csrf": csrf_token(request),
            "version": __version__,
            "basemap": request.app.state.basemap_style,
            **context,
        },
        status_code=status_code,
    )
