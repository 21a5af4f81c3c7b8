"""Our side of the counters differential, without root (the comparison with real keepalived
is tests/integration/test_vrrp_stats_differential.py)."""

from __future__ import annotations

from conformance.packets.stats_differential import KNOWN_EXTRA, cases, ours


def test_our_side_without_root():
    # the documented extras are exactly where we count and keepalived does not
    for name, extra in KNOWN_EXTRA.items():
        assert extra <= ours(cases()[name])
    assert ours(cases()["good_lower_priority"]) == {"advert_rcvd", "advert_sent"}
