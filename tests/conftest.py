"""Shared test plumbing.

Environment skips (no root, no netns, no keepalived binary, no qemu guest) are fine on a
developer's machine but must never hide a failure in CI: with KPY_REQUIRE_ALL set (CI sets
it in .ci/run) every skip is reported as a failure instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.envcheck import require_all  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if require_all() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under KPY_REQUIRE_ALL (CI must run this test): {reason}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def pytest_report_header(config):
    return f"KPY_REQUIRE_ALL={os.environ.get('KPY_REQUIRE_ALL', '')!r} uid={os.getuid()}"
