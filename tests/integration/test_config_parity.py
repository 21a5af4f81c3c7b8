"""Issue 2, acceptance 3: `keepalived -t` and `keepalived-py -t` agree on every config file."""

from __future__ import annotations

import pytest

from tests.envcheck import keepalived_binary, need_netns

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]


def test_config_test_exit_status_matches_keepalived():
    need_netns()
    keepalived_binary()
    from conformance import config_parity
    from conformance.lab import Lab, get

    cases = config_parity.collect()
    assert len(cases) >= 25 + 30, "examples, our parity cases and the Debian samples"
    with Lab(config_parity.TOPOLOGY) as lab:
        config_parity.prepare(lab)
        ref = config_parity.run_all(lab, get("keepalived"), cases)
        ours = config_parity.run_all(lab, get("keepalived-py"), cases)
    report = config_parity.table(cases, ref, ours)
    assert not config_parity.stale_expectations(cases, ref), report
    assert not config_parity.mismatches(cases, ref, ours), report
