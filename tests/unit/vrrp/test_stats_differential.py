"""The same bad adverts to real keepalived and to our instance move the same counters (root)."""

from __future__ import annotations

import pytest

from conformance.packets.stats_differential import KNOWN_EXTRA, cases, compare, ours
from tests.envcheck import keepalived_binary, need_netns


def test_our_side_without_root():
    # the documented extras are exactly where we count and keepalived does not
    for name, extra in KNOWN_EXTRA.items():
        assert extra <= ours(cases()[name])
    assert ours(cases()["good_lower_priority"]) == {"advert_rcvd", "advert_sent"}


@pytest.mark.root
@pytest.mark.keepalived
@pytest.mark.slow
def test_counters_match_keepalived():
    need_netns()
    assert compare(keepalived_binary()) == []
