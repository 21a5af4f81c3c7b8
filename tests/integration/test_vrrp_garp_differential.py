"""keepalived's gratuitous ARP bursts match our SendGarp schedule (root, netns, real keepalived; ~18 s).

The side without root (our schedule / our counters) is tested in
tests/unit/vrrp/test_garp_differential.py.
"""

from __future__ import annotations

import pytest

from conformance.packets.garp_differential import compare
from tests.envcheck import keepalived_binary, need_netns


@pytest.mark.root
@pytest.mark.keepalived
@pytest.mark.slow
def test_garp_schedule_matches_keepalived():
    need_netns()
    assert compare(keepalived_binary()) == []
