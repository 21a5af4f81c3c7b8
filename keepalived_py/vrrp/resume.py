"""Resuming a predecessor's MASTER state (issue 16), a part of the VRRP machine (a mixin of
machine.VrrpInstance), sans-IO.

Why apart: the machine proper is keepalived's protocol; this is keepalived-py's addition
for a vrrp child respawned after a crash or an in-place restart (vrrpd/adopt.py decides
when it is safe): listen briefly, then MASTER again without a transition, or fall back to
keepalived's start when another router speaks for the VRID or a tracked object fails.
"""

from __future__ import annotations

from keepalived_py.vrrp.actions import AddAddresses, AddRoutes, AddRules
from keepalived_py.vrrp.params import PRIO_OWNER
from keepalived_py.vrrp.state import ADVERT_TIMER, State
from keepalived_py.vrrp.timers import deadline


class ResumeMixin:
    """Uses the machine's params, state, timers and action helpers."""

    resuming: bool = False

    def begin_resume(self, now: float, listen_us: int) -> None:
        """Instead of Start, for an instance whose predecessor (a crashed or restarted vrrp
        child) was MASTER and left its addresses: listen `listen_us` for another router
        speaking for the VRID, sending nothing, then resume as MASTER without a transition
        (vrrpd/adopt.py decides when this is safe). Internally BACKUP so adverts are heard;
        the addresses found are ours (vipset), so a fallback releases them."""
        if self.state not in (State.INIT, State.STOP):
            return
        self.started = True
        self.resuming = True
        self.state = State.BACKUP
        self.wantstate = State.MASTER
        self.vipset = True
        self.master_adver_int_us = self.params.advert_int_us
        self._log(f"Resuming: addresses of the previous vrrp process in place, listening "
                  f"{listen_us / 1e6:g}s for another master")
        self._set_timer(ADVERT_TIMER, deadline(now, listen_us))

    def resume_master(self, now: float) -> None:
        """End the listen now, MASTER again: a sync group's member when another member's
        listen ended first with no master heard (they listened from one start)."""
        if self.resuming:
            self._resume_master(now)

    def _resume_master(self, now: float) -> None:
        """MASTER again, as before the restart: an advert at once and every advert_int from
        it; the addresses, routes and rules are (re)asserted (adding what is present is a
        no-op) but no GARP burst and no notify: nothing changed on the network."""
        p = self.params
        self.resuming = False
        self.wantstate = State.MASTER
        self.state = State.MASTER
        self.last_transition = now
        self._log("Resumed MASTER STATE (addresses adopted, no transition)")
        self._send_advert(self.effective_priority)
        addrs = p.virtual_ipaddress + p.virtual_ipaddress_excluded
        if addrs:
            self._emit(AddAddresses(self.name, p.interface, addrs))
        if p.virtual_routes:
            self._emit(AddRoutes(self.name, p.virtual_routes))
        if p.virtual_rules:
            self._emit(AddRules(self.name, p.virtual_rules))
        self.vipset = True
        self.garp_refresh_at = (deadline(now, round(p.garp_master_refresh_s * 1e6))
                                if p.garp_master_refresh_s > 0 else None)
        self.garp_extra_at = (deadline(now, round(p.garp_extra_if_s * 1e6))
                              if p.garp_extra_if_s > 0 and p.garp_extra_if else None)
        self._set_timer(ADVERT_TIMER, deadline(now, p.advert_int_us))

    def resume_fallback(self, now: float, why: str) -> None:
        """Resuming is unsafe after all: do what keepalived does at start - release what
        the predecessor left (no priority 0: we never spoke) and start as BACKUP."""
        if not self.resuming:
            return
        self.resuming = False
        self._log(f"{why} - not resuming MASTER: releasing the addresses found and starting "
                  f"as keepalived does")
        self.vipset = True
        self._restore_interface(False)
        self.state = State.INIT
        self.wantstate = State.MASTER if self.base_priority == PRIO_OWNER else State.BACKUP
        self._enter_running(now, " (init)")
