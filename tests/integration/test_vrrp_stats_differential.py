"""The same bad adverts to real keepalived and to our instance move the same counters (root, netns, real keepalived).

The side without root (our schedule / our counters) is tested in
tests/unit/vrrp/test_stats_differential.py.
"""

from __future__ import annotations

import pytest

from conformance.packets.stats_differential import compare
from tests.envcheck import keepalived_binary, need_netns


@pytest.mark.root
@pytest.mark.keepalived
@pytest.mark.slow
def test_counters_match_keepalived():
    need_netns()
    assert compare(keepalived_binary()) == []
