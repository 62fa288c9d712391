"""Shared fixtures: a moto server process for the whole session; closing notes after the summary."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.support.motoserver import MotoServer

# A few dozen examples per property keeps the suite inside its budget;
# HYPOTHESIS_PROFILE=deep runs many more locally.
settings.register_profile("ci", max_examples=30, deadline=None)
settings.register_profile("deep", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def moto_server():
    """One moto server process shared by the session's integration tests."""
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    """Print what tests recorded as ``record_property("closing_note", ...)`` (figures such as checkov's)."""
    notes = [value for outcome in ("passed", "failed") for report in terminalreporter.stats.get(outcome, [])
             for name, value in getattr(report, "user_properties", ()) if name == "closing_note"]
    if notes:
        terminalreporter.section("closing notes")
        for note in notes:
            terminalreporter.write_line(str(note))
