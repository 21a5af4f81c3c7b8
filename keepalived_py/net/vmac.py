"""VRRP virtual MAC addresses and the macvlan keepalived makes for `use_vmac`.

RFC 5798 7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6. keepalived
names the macvlan vrrp.VRID (vrrp6.VRID for IPv6) unless `use_vmac NAME` names it, creates
it in private mode on the instance's interface, and sends and receives on it (with
`vmac_xmit_base` it sends on the base interface instead).
"""

from __future__ import annotations


def vmac_address(vrid: int, family: int) -> bytes:
    if not 1 <= vrid <= 255:
        raise ValueError(f"VRID {vrid} not in 1..255")
    return bytes((0x00, 0x00, 0x5E, 0x00, 0x01 if family == 4 else 0x02, vrid))


def vmac_name(vrid: int, family: int, configured: str | None = None) -> str:
    if configured:
        return configured
    return f"vrrp{'' if family == 4 else '6'}.{vrid}"


def mac_text(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)
