"""keepalived's gratuitous ARP bursts match our SendGarp schedule (root, ~18 s)."""

from __future__ import annotations

import pytest

from conformance.packets.garp_differential import compare, ours
from tests.envcheck import keepalived_binary, need_netns


def test_our_schedule():
    bursts = ours(12.5)
    assert [round(t, 6) for t, _ in bursts] == [0.0, 4.0, 5.0, 8.0, 12.0]
    assert bursts[0][1] == ["192.0.2.100", "192.0.2.101"] * 3
    assert bursts[1][1] == ["192.0.2.100", "192.0.2.101"] * 2


@pytest.mark.root
@pytest.mark.keepalived
@pytest.mark.slow
def test_garp_schedule_matches_keepalived():
    need_netns()
    assert compare(keepalived_binary()) == []
