"""Timer formulas (keepalived's integer microseconds) and tracking arithmetic."""

from __future__ import annotations

import pytest

from keepalived_py.vrrp.timers import master_down_us, skew_time_us
from keepalived_py.vrrp.tracking import (
    TrackedObject,
    Tracking,
    clamp_priority,
    contribution,
    is_fault,
)


@pytest.mark.parametrize(("prio", "adv_us", "skew"), [
    (100, 1_000_000, 609_375), (255, 1_000_000, 3_906), (1, 5_000_000, 996_093),
])
def test_v2_skew_is_independent_of_interval(prio, adv_us, skew):
    # RFC 3768 6.1: Skew_Time = (256 - Priority) / 256 seconds
    assert skew_time_us(2, prio, adv_us) == skew


@pytest.mark.parametrize(("prio", "adv_us", "skew"), [
    (100, 1_000_000, 609_375), (200, 500_000, 109_375), (1, 40_950_000, 40_790_039),
])
def test_v3_skew_scales_with_master_interval(prio, adv_us, skew):
    # RFC 5798 6.1: ((256 - Priority) * Master_Adver_Interval) / 256
    assert skew_time_us(3, prio, adv_us) == skew


def test_master_down_interval():
    assert master_down_us(2, 100, 1_000_000) == 3_609_375
    assert master_down_us(3, 100, 500_000, 3) == 1_500_000 + 304_687
    assert master_down_us(2, 100, 2_000_000, down_timer_adverts=5) == 10_609_375


def test_clamp():
    assert clamp_priority(100, 500) == 254
    assert clamp_priority(100, -500) == 1
    assert clamp_priority(255, -100) == 255
    assert clamp_priority(100, 20) == 120


@pytest.mark.parametrize(("weight", "reverse", "ok", "expect"), [
    (10, False, True, 10), (10, False, False, 0), (-10, False, True, 0), (-10, False, False, -10),
    (10, True, True, -10), (10, True, False, 0), (-10, True, False, 10),
])
def test_script_weights(weight, reverse, ok, expect):
    obj = TrackedObject("script", "s", weight, reverse)
    from keepalived_py.vrrp.tracking import TrackStatus

    assert contribution(obj, TrackStatus(ok)) == expect
    assert not is_fault(obj, TrackStatus(ok))


def test_unweighted_faults_and_reverse():
    from keepalived_py.vrrp.tracking import TrackStatus

    assert is_fault(TrackedObject("interface", "eth1"), TrackStatus(False))
    assert not is_fault(TrackedObject("interface", "eth1"), TrackStatus(True))
    assert is_fault(TrackedObject("script", "s", 0, True), TrackStatus(True))


def test_track_file_value_times_weight_and_fault():
    t = Tracking((TrackedObject("file", "f", 2), TrackedObject("file", "g", 0)))
    t.update("file", "f", value=5)
    assert t.total_weight() == 10 and not t.faults()
    t.update("file", "f", value=-127)
    assert t.faults() == ["file f"]
    t.update("file", "f", value=0)
    t.update("file", "g", value=3)
    assert t.faults() == ["file g"]


def test_pending_until_first_report():
    t = Tracking((TrackedObject("script", "s", 0, initially_ok=None),
                  TrackedObject("script", "w", 10, initially_ok=None)))
    assert t.pending() == ["script s"] and t.total_weight() == 0
    t.update("script", "s", ok=True)
    t.update("script", "w", ok=True)
    assert not t.pending() and t.total_weight() == 10
    assert not t.update("script", "unknown", ok=False)
