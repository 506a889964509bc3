"""The corpus tests' `outcomes`: what each file's test records; tests/conftest.py writes them to
test-artifacts/corpus-report/ and prints the table."""

from __future__ import annotations

import pytest

from tests.corpus.outcome import RECORDED, Outcome


@pytest.fixture
def outcomes() -> list[Outcome]:
    """Append the Outcome of the file under test, whatever it is, before asserting."""
    return RECORDED
