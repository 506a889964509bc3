"""Sign-in to the web UI through a real OpenID provider in a real browser: authorization code with
PKCE, back to a session holding the ID token's `sub` and role; the approval made in the UI is
recorded under that `sub`; an answer carrying another sign-in's `state` signs nobody in."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.e2e.test_oidc import awaiting_review
from tests.e2e.web.test_browser import browser
from tests.oidc.provider import OidcPlatform, oidc_platform

from terrace.auth import Role

__all__ = ["browser", "oidc_platform"]


def loopback_only(context: BrowserContext) -> None:
    """The provider's development pages link web fonts; nothing leaves the machine."""
    context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), lambda route: route.abort())


def through_the_provider(page: Page, login: str) -> None:
    page.goto("/interface/")
    expect(page).to_have_url(re.compile(r"/interface/login"))
    page.click("text=Sign in with your organisation")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    page.click("button:has-text('Continue')")


def test_sign_in_through_the_provider_and_approve_as_the_subject(
    oidc_platform: OidcPlatform, keys: dict[Role, str], browser: Browser, database_url: str, tmp_path: Path
) -> None:
    api = oidc_platform.api
    awaiting_review(api, keys[Role.submitter], tmp_path)
    context = browser.new_context(base_url=str(api.base_url))
    loopback_only(context)
    page = context.new_page()
    through_the_provider(page, "alice")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.locator("header .who")).to_contain_text("alice · reviewer")

    page.goto("/interface/review")
    page.click("text=floods/jakarta")
    page.fill("input[name=version_id]", "v1")
    page.click("#approve")
    expect(page).to_have_url(re.compile(r"/interface/assets/floods/jakarta$"))
    with psycopg.connect(database_url) as conn:
        audit = conn.execute("SELECT action::text, actor FROM app.approval_audit").fetchall()
    assert ("approve", "oidc:alice") in audit

    page.click("text=Sign out")
    expect(page).to_have_url(re.compile(r"/interface/login"))
    page.goto("/interface/")
    expect(page).to_have_url(re.compile(r"/interface/login"))
    context.close()


def test_an_answer_with_another_sign_ins_state_signs_nobody_in(
    oidc_platform: OidcPlatform, browser: Browser
) -> None:
    """Login CSRF: an attacker's own answer from the provider (code and state), opened in the
    victim's browser, whether or not the victim started a sign-in there."""
    base = str(oidc_platform.api.base_url)
    attacker = browser.new_context(base_url=base)
    loopback_only(attacker)
    answers: list[str] = []
    page = attacker.new_page()
    page.on(
        "request", lambda request: answers.append(request.url) if "/oidc/callback" in request.url else None
    )
    through_the_provider(page, "mallory")
    expect(page.locator("h1")).to_have_text("Overview")
    attacker.close()
    assert len(answers) == 1

    victim = browser.new_context(base_url=base)
    loopback_only(victim)
    page = victim.new_page()
    page.goto("/interface/login")
    page.click("text=Sign in with your organisation")
    expect(page.locator("input[name=login]")).to_be_visible()
    answer = page.goto(answers[0])
    assert answer is not None and answer.status == 403
    expect(page.locator("main")).to_contain_text("state mismatch")
    page.goto("/interface/")
    expect(page).to_have_url(re.compile(r"/interface/login"))
    victim.close()

    fresh = browser.new_context(base_url=base)
    answer = fresh.new_page().goto(answers[0])
    assert answer is not None and answer.status == 403
    fresh.close()
