"""Our side of the GARP differential: the SendGarp burst schedule, without root (the
comparison with real keepalived is tests/integration/test_vrrp_garp_differential.py)."""

from __future__ import annotations

from conformance.packets.garp_differential import ours


def test_our_schedule():
    bursts = ours(12.5)
    assert [round(t, 6) for t, _ in bursts] == [0.0, 4.0, 5.0, 8.0, 12.0]
    assert bursts[0][1] == ["192.0.2.100", "192.0.2.101"] * 3
    assert bursts[1][1] == ["192.0.2.100", "192.0.2.101"] * 2
