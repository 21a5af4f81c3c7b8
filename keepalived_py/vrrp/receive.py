"""Receiving adverts, a part of the VRRP machine (a mixin of machine.VrrpInstance), sans-IO.

Why apart: one concept per module. This is keepalived 2.2.7's receive path (vrrp.c
vrrp_check_packet / vrrp_state_backup / vrrp_state_master_rx): decoding and the checks that
count each drop reason, then what a BACKUP and a MASTER do with an accepted advert (RFC 3768
6.4.2 / 6.4.3, RFC 5798 6.4). The transitions it calls (leave_master, the timers, sending)
stay in machine.py.
"""

from __future__ import annotations

from keepalived_py.errors import PacketError
from keepalived_py.vrrp import checks
from keepalived_py.vrrp.actions import PacketDropped
from keepalived_py.vrrp.ah import open_ah_datagram
from keepalived_py.vrrp.checks import DropReason
from keepalived_py.vrrp.events import RxMeta
from keepalived_py.vrrp.packet import (
    IPPROTO_AH,
    IPPROTO_VRRP,
    VRRP_MCAST4,
    AuthType,
    Family,
    VrrpAdvert,
    decode,
    parse_ipv4,
)
from keepalived_py.vrrp.params import PRIO_OWNER
from keepalived_py.vrrp.state import ADVERT_TIMER, LOWER_PRIO_GARP_TIMER, State
from keepalived_py.vrrp.timers import deadline


class ReceiveMixin:
    """Uses the machine's params, state, counters, timers and action helpers."""
    def _decode(self, data: bytes, meta: RxMeta) -> VrrpAdvert | None:
        """Decode for this instance, counting codec failures on it; handles keepalived's
        automatic switch to the old (pre-1.3.6) VRRPv3 unicast checksum."""
        if self.state not in (State.BACKUP, State.MASTER):
            return None
        p = self.params
        try:
            as_v2 = p.v3_checksum_as_v2 and p.version == 3 and p.family is Family.INET
            return decode(data, p.family, meta.src, meta.dst,
                          verify_checksum=not (meta.checksum_verified or as_v2))
        except PacketError as err:
            if (err.reason == "chk_err" and p.unicast and p.version == 3
                    and p.family is Family.INET and p.old_unicast_checksum != "never"
                    and meta.dst != VRRP_MCAST4):
                try:
                    adv = decode(data, p.family, meta.src, VRRP_MCAST4)
                except PacketError:
                    pass
                else:
                    if not self.old_checksum:
                        self.old_checksum = True
                        self._log("Setting unicast VRRPv3 checksum to old version")
                    return adv
            self._dropped(DropReason(err.reason), f"dropped advert from {meta.src}: {err}")
            return None

    def _open_datagram(self, datagram: bytes, multicast: bool | None) -> tuple[RxMeta, bytes] | None:
        """Strip (and for AH verify) the IPv4 header of a raw datagram."""
        if self.state not in (State.BACKUP, State.MASTER):
            return None
        p = self.params
        try:
            if p.auth_type == AuthType.AH:
                info, ah, vrrp = open_ah_datagram(datagram, p.auth_key, p.unicast)
                if ah.next_header != IPPROTO_VRRP:
                    return None  # AH for another protocol: not ours, not counted
                if ah.seq <= self.ah_seq:
                    raise PacketError("auth_failure", f"IPSEC-AH sequence number {ah.seq} already "
                                                      f"processed (local {self.ah_seq})")
                self.ah_seq = ah.seq
            else:
                info, vrrp = parse_ipv4(datagram)
                if info.protocol == IPPROTO_AH:
                    raise PacketError("authtype_mismatch", "received AH header but auth type not AH")
        except PacketError as err:
            self._dropped(DropReason(err.reason), f"dropped datagram: {err}")
            return None
        return RxMeta(info.src, info.dst, info.ttl, multicast, info.protocol), vrrp

    def lower_prio_link_update(self, now: float) -> None:
        """garp_lower_prio_repeat GARP / NA now, again after garp_lower_prio_delay."""
        p = self.params
        if p.lower_prio_repeat and self.vipset:
            self._link_update(p.lower_prio_repeat)
            if p.lower_prio_delay_s > 0:
                self._set_timer(LOWER_PRIO_GARP_TIMER, deadline(now, round(p.lower_prio_delay_s * 1e6)))

    def _dropped(self, reason: DropReason, text: str) -> None:
        self.stats = self.stats.plus(reason.value)
        self._emit(PacketDropped(self.name, reason, f"({self.name}) {text}"))

    def _drop(self, reason: DropReason, meta: RxMeta) -> None:
        self._dropped(reason, f"dropped advert from {meta.src}: {reason}")

    def _receive(self, adv: VrrpAdvert, meta: RxMeta, now: float) -> None:
        p = self.params
        if self.state == State.BACKUP:
            check_addr = not p.skip_check_adv_addr or self.master_saddr != meta.src
        else:
            check_addr = True
        reason = (checks.check_protocol(p, adv, meta) or checks.check_count(p, adv, check_addr)
                  or checks.check_cast(p, meta))
        if reason:
            self._drop(reason, meta)
            return
        if p.owner_ignore_adverts and self.effective_priority == PRIO_OWNER:
            self._dropped(DropReason.OWNER_IGNORED, f"Dropping packet(s) from {meta.src} since we are address owner")
            return
        self._count("advert_rcvd")
        reason = checks.check_addresses(p, adv, meta, check_addr)
        if reason:
            self._drop(reason, meta)
            return
        if adv.priority == 0:
            self.stats = self.stats.plus("pri_zero_rcvd")
        if self.state == State.BACKUP:
            self._backup_rx(adv, meta, now)
        else:
            self._master_rx(adv, meta, now)

    def _backup_rx(self, adv: VrrpAdvert, meta: RxMeta, now: float) -> None:
        p = self.params
        if self.resuming:
            # another router speaks for this VRID: its mastership is not ours to resume
            self.resume_fallback(now, f"advert from {meta.src} (priority {adv.priority}) heard")
            if self.state != State.BACKUP:
                return
        delay_on = p.preempt_delay_s > 0 and (self.preempt_time is None or self.preempt_time > now)
        if adv.priority == 0:
            # RFC 3768 6.4.2: Master_Down_Timer = Skew_Time
            self.ms_down_timer_us = self._skew()
            self._set_timer(ADVERT_TIMER, deadline(now, self.ms_down_timer_us))
        elif p.nopreempt or adv.priority >= self.effective_priority or delay_on:
            if p.version == 3:
                self.master_adver_int_us = adv.advert_int_cs * 10_000
            self.ms_down_timer_us = self._master_down()
            self._set_timer(ADVERT_TIMER, deadline(now, self.ms_down_timer_us))
            self.master_saddr = meta.src
            self.master_priority = adv.priority
            if p.preempt_delay_s > 0:
                if adv.priority >= self.effective_priority:
                    self.preempt_time = None
                elif self.preempt_time is None:
                    self._log(f"start preempt delay ({p.preempt_delay_s})")
                    self.preempt_time = deadline(now, round(p.preempt_delay_s * 1e6))
            self.wantstate = State.BACKUP
        else:
            self._log(f"received lower priority ({adv.priority}) advert from {meta.src} - discarding")
            self.master_saddr = meta.src

    def _master_rx(self, adv: VrrpAdvert, meta: RxMeta, now: float) -> None:
        p = self.params
        cmp = checks.compare_addresses(meta.src, p.primary_address)
        higher = adv.priority > self.effective_priority or (
            adv.priority == self.effective_priority and cmp > 0)
        if adv.priority == 0 or (p.higher_prio_send_advert and higher):
            self._send_advert(self.effective_priority)
            if adv.priority == 0:
                return
        if adv.priority == self.effective_priority:
            if cmp == 0:
                self._log("WARNING - equal priority advert received from remote host with our IP address.")
            elif self.effective_priority == PRIO_OWNER:
                # RFC: the owner must not see another owner. keepalived reports it and steps
                # down to 254 so that the two can elect one master.
                self.stats = self.stats.plus("owner_conflict")
                self._log("CONFIGURATION ERROR: local instance and a remote instance are both "
                          "configured as address owner, please fix - reducing local priority")
                self.base_priority = self.effective_priority = PRIO_OWNER - 1
                self.ms_down_timer_us = self._master_down()
        if adv.priority < self.effective_priority or (adv.priority == self.effective_priority and cmp < 0):
            self._log(f"Received advert from {meta.src} with lower priority {adv.priority}, ours "
                      f"{self.effective_priority}{'' if p.lower_prio_no_advert else ', forcing new election'}")
            if p.auth_type == AuthType.AH:
                self._log("IPSEC-AH : Syncing seq_num - Increment seq")
                self.ah_seq += 1  # keepalived: their (already recorded) sequence + 1
            if not p.lower_prio_no_advert:
                self._send_advert(self.effective_priority)
            self.lower_prio_link_update(now)
            self._notify("MASTER_RX_LOWER_PRI")
            if self.sync is not None:
                self.sync.lower_prio_garp(self, now)
            return
        if adv.priority > self.effective_priority or (adv.priority == self.effective_priority and cmp > 0):
            if adv.priority > self.effective_priority:
                self._log(f"Master received advert from {meta.src} with higher priority "
                          f"{adv.priority}, ours {self.effective_priority}")
            else:
                self._log(f"Master received advert from {meta.src} with same priority "
                          f"{adv.priority} but higher IP address than ours")
            if p.version == 3:
                self.master_adver_int_us = adv.advert_int_cs * 10_000
            self.master_priority = adv.priority
            self.master_saddr = meta.src
            self.leave_master(now, State.BACKUP, False)
