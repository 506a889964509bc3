"""Collects every corpus test's Outcome; the report goes to the terminal and to
test-artifacts/corpus-report.json, which `scripts/corpus-report` prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus.outcome import Outcome, table, write

OUTCOMES: list[Outcome] = []


@pytest.fixture
def outcomes() -> list[Outcome]:
    """Append the Outcome of the file under test, whatever it is, before asserting."""
    return OUTCOMES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not OUTCOMES:
        return
    terminalreporter.section("real-world corpus")
    terminalreporter.write_line(table(OUTCOMES))
    report = Path(config.rootpath, "test-artifacts", "corpus-report.json")
    report.parent.mkdir(exist_ok=True)
    write(OUTCOMES, report)
