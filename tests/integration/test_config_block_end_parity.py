"""Issue 13: keepalived-py's `-t` says what keepalived's says, on the line keepalived names.

Runs the parity configurations that ask for the same diagnostics (`# expect: same
diagnostics`: the end-of-block cases among them, where keepalived names the block's closing
'}') through real `keepalived -t` and `keepalived-py -t` in one namespace, and compares the
sets of diagnostic lines with their line numbers.
"""

from __future__ import annotations

import pytest

from tests.envcheck import keepalived_binary, need_netns

pytestmark = [pytest.mark.root, pytest.mark.keepalived]


def test_same_diagnostics_on_the_same_lines():
    need_netns()
    keepalived_binary()
    from conformance import config_parity
    from conformance.lab import Lab, get

    cases = [c for c in config_parity.collect() if c.same_diagnostics]
    assert {c.name for c in cases} >= {"configs/vrrp/block_end_conf", "configs/lvs/block_end_conf",
                                       "configs/bfd/block_end_conf"}
    with Lab(config_parity.TOPOLOGY) as lab:
        config_parity.prepare(lab)
        ref = config_parity.run_all(lab, get("keepalived"), cases)
        ours = config_parity.run_all(lab, get("keepalived-py"), cases)
    for case in cases:  # the comparison means something only if keepalived did report
        assert ref[case.name].diagnostics, case.name
    assert not config_parity.stale_expectations(cases, ref)
    assert not config_parity.mismatches(cases, ref, ours), config_parity.table(cases, ref, ours, True)
    assert not config_parity.diagnostic_mismatches(cases, ref, ours), config_parity.table(cases, ref, ours, True)
