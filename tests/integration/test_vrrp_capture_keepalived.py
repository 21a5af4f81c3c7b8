"""Re-capture from the real keepalived and compare with the committed vectors (root only).

The unit tests replay the committed hex without root; this one proves the committed hex
is still what keepalived sends (same parameters, fresh netns, fresh capture).
"""

from __future__ import annotations

import json

import pytest

from conformance.packets.capture_keepalived import SPECS, VECTOR_DIR, capture
from tests.envcheck import keepalived_binary, need_netns

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]


def test_recapture_matches_committed_vectors():
    need_netns()
    binary = keepalived_binary()
    wanted = tuple(s for s in SPECS if s.name in (
        "v2_ipv4_pass_p200_2vip", "v3_ipv4_p100_1vip", "v3_ipv6_p200_3vip_int0.25"))
    fresh = capture(wanted, binary)
    for spec in wanted:
        committed = json.loads((VECTOR_DIR / f"{spec.name}.json").read_text())
        for kind in ("advert", "priority_zero"):
            assert fresh[spec.name][kind]["vrrp_hex"] == committed[kind]["vrrp_hex"], (spec.name, kind)
            assert fresh[spec.name][kind]["src"] == committed[kind]["src"]
