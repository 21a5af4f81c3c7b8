"""VRRP timer arithmetic in integer microseconds, as keepalived computes it.

Why integers: keepalived keeps every VRRP interval in microseconds (TIMER_HZ) and truncates
at the same places; doing the same lets tests check deadlines to the microsecond against
its formulas rather than against floating point noise.

Skew_Time (RFC 3768 6.1 / RFC 5798 6.1):
  v2: (256 - priority) / 256 seconds -- independent of the advert interval, as RFC 3768
      and keepalived (VRRP_TIMER_SKEW_CALC) both define it;
  v3: ((256 - priority) * Master_Adver_Interval) / 256, with Master_Adver_Interval in
      centiseconds as learned from the master's adverts.
Master_Down_Interval = down_timer_adverts (3) * Master_Adver_Interval + Skew_Time.
"""

from __future__ import annotations

TIMER_HZ = 1_000_000
CENTI_US = 10_000


def seconds_to_us(seconds: float) -> int:
    return round(seconds * TIMER_HZ)


def us_to_seconds(us: int) -> float:
    return us / TIMER_HZ


def skew_time_us(version: int, priority: int, master_adver_int_us: int, pri_val: int | None = None) -> int:
    """Skew_Time for `priority`; `pri_val` overrides (256 - priority) like keepalived's _MIN."""
    val = 256 - priority if pri_val is None else pri_val
    if version == 3:
        # keepalived: pri_val * (adver_int / TIMER_CENTI_HZ) * 625 / 16, i.e. * 10000 / 256
        return (val * (master_adver_int_us // CENTI_US) * 625) // 16
    return (val * TIMER_HZ) // 256


def master_down_us(version: int, priority: int, master_adver_int_us: int,
                   down_timer_adverts: int = 3) -> int:
    """Master_Down_Interval in microseconds."""
    return down_timer_adverts * master_adver_int_us + skew_time_us(version, priority, master_adver_int_us)


def deadline(now: float, us: int) -> float:
    """The clock value `us` microseconds after `now`."""
    return now + us / TIMER_HZ


SLOT_US_MAX = 10_000  # the advert slot grid: 10 ms at most ...
SLOT_SHARE = 100  # ... and 1% of the advert interval


def slot_step_us(advert_int_us: int) -> int:
    """The advert slot grid's step: min(10 ms, advert_int / 100); 0 (no grid) below 100 us."""
    return min(SLOT_US_MAX, advert_int_us // SLOT_SHARE)


def slot_deadline(at: float, advert_int_us: int, skip: int = 0) -> float:
    """`at` moved later onto a grid of slot_step_us, then `skip` spill steps (a tenth of a
    grid step: 1 ms at advert_int 1 s) on when the slots before are full: the first advert
    deadline after a master transition (runtime._arm_deferred).
    Instances whose addresses were set within one grid step then share that deadline, and,
    the interval being the same, every later one: one timer wake-up serves them all (issue
    16: at 255 instances a wake-up costs more than an advert). keepalived anchors each
    instance on its own (vrrp_state_master_tx); the first interval here is up to one step
    (plus the spill steps) longer, the later ones are not (conformance/DIFFERENCES.md)."""
    step_us = slot_step_us(advert_int_us)
    if step_us <= 0:
        return at
    # in whole microseconds: a float grid would push a value already on it a step further
    slot_us = -(-round(at * TIMER_HZ) // step_us) * step_us  # ceil, integers (no math import in the core)
    return (slot_us + skip * max(1, step_us // 10)) / TIMER_HZ


def late_takeover_us(version: int, advert_int_us: int, other_priority: int) -> int:
    """keepalived 2.2.8's timer_expired_backup: how late past its due time a MASTER's advert
    may be before a router of `other_priority` has taken over. Upstream allows 3 intervals
    plus that router's skew after the last advert sent, i.e. 2 intervals plus the skew
    after the one now due (integer microseconds, as vrrp_thread_timeout_handler)."""
    skew = (256 - other_priority) * TIMER_HZ // 256 if version == 2 else (256 - other_priority) * advert_int_us // 256
    return 2 * advert_int_us + skew
