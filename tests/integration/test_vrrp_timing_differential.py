"""keepalived's takeover times on a real wire match our machine's deadlines (root, ~30 s).

Both times come from capture timestamps (conformance/packets/timing_differential.py), so
only keepalived's own scheduling latency separates them. Seen on the development machine:
keepalived acts 1-8 ms (once, under load, more) after the deadline our instance computes,
never before. Acting early is a formula error and fails at once; acting late can be load
on a shared 2-core machine, so a late result is measured once more before it fails (a wrong
formula is off by >= 100 ms every time, load is not).
"""

from __future__ import annotations

import pytest

from conformance.packets.timing_differential import SCENARIOS, run_scenario
from tests.envcheck import keepalived_binary, need_netns

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]

EARLY = -0.002  # capture timestamp granularity
LATE = 0.080  # keepalived's scheduler latency on a loaded machine; formula errors are >= 0.1 s
ATTEMPTS = 2


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_takeover_time_matches_keepalived(scenario):
    need_netns()
    seen = []
    for _ in range(ATTEMPTS):
        real, ours = run_scenario(scenario, keepalived_binary())
        seen.append((real, ours, real - ours))
        assert real - ours >= EARLY, seen  # keepalived never acts before the deadline
        if real - ours <= LATE:
            return
    pytest.fail(f"keepalived took over later than our deadline in every attempt: {seen}")
