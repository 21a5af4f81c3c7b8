"""Per-instance counters under keepalived's names (vrrp_stats in include/vrrp.h).

Counters named after keepalived's are counted where keepalived counts them; a few of
keepalived's SNMP-only counters (chk_err, vers_err, vrid_err) are always kept here, and
`unicast_src_err`, `owner_conflict` and `interval_mismatch` are ours (keepalived only logs
those cases: a VRRPv2 advert with another interval is dropped without touching its
`advert_interval_err`, which therefore stays 0 as in keepalived's dumps).

The value is frozen: the machine replaces it when it is read after a count (machine._count
keeps the counts until then), so a snapshot can hold the counters as they were without
copying them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True, slots=True)
class VrrpStats:
    advert_rcvd: int = 0
    advert_sent: int = 0
    become_master: int = 0
    release_master: int = 0
    packet_len_err: int = 0
    advert_interval_err: int = 0
    ip_ttl_err: int = 0
    invalid_type_rcvd: int = 0
    addr_list_err: int = 0
    invalid_authtype: int = 0
    authtype_mismatch: int = 0
    auth_failure: int = 0
    pri_zero_rcvd: int = 0
    pri_zero_sent: int = 0
    chk_err: int = 0
    vers_err: int = 0
    vrid_err: int = 0
    unicast_src_err: int = 0
    owner_conflict: int = 0
    interval_mismatch: int = 0
    owner_ignored: int = 0  # ours: adverts an address owner dropped (owner_ignore_adverts)

    def plus(self, counter: str) -> VrrpStats:
        """These counters with one more under `counter` (a receive check's or a
        PacketError's reason, or any other field name)."""
        if counter not in self.__dataclass_fields__:
            raise KeyError(f"no VRRP counter named {counter!r}")
        return replace(self, **{counter: getattr(self, counter) + 1})

    def plus_many(self, counts: dict[str, int]) -> VrrpStats:
        """These counters with `counts` added (the machine's pending counts, machine._count)."""
        for counter in counts:
            if counter not in self.__dataclass_fields__:
                raise KeyError(f"no VRRP counter named {counter!r}")
        return replace(self, **{k: getattr(self, k) + n for k, n in counts.items()})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

