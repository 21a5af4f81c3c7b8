"""VRRP virtual MAC addresses and the macvlan keepalived makes for `use_vmac`.

RFC 5798 7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6. keepalived
names the macvlan vrrp.VRID (either family; global vmac_prefix replaces "vrrp") unless
`use_vmac NAME` names it, creates it in private mode on the instance's interface, and sends
and receives on it (with `vmac_xmit_base` it sends on the base interface instead).

It also sets the sysctls of vrrp_if_config.c set_interface_parameters_sysctl(): on the VMAC
arp_ignore 1, accept_local 1, rp_filter 0, promote_secondaries 1; on the base interface
arp_ignore 1 and arp_filter 1 (so the base does not answer ARP for the VIP with its own
MAC), restored when the last VMAC on it goes.
"""

from __future__ import annotations

import contextlib
from typing import Any

from keepalived_py.net.ports import AddressSpec


def vmac_address(vrid: int, family: int) -> bytes:
    if not 1 <= vrid <= 255:
        raise ValueError(f"VRID {vrid} not in 1..255")
    return bytes((0x00, 0x00, 0x5E, 0x00, 0x01 if family == 4 else 0x02, vrid))


def vmac_name(vrid: int, family: int, configured: str | None = None, prefix: str | None = None) -> str:
    if configured:
        return configured
    return f"{prefix or 'vrrp'}.{vrid}"[:15]


async def make_link(net: Any, vmac: Any) -> None:
    """Create (or bring up) an instance's VMAC or ipvlan (plan.VmacPlan) through the NetPort;
    an ipvlan gets the address use_ipvlan gives it (net/ipvlan.py)."""
    if vmac.kind == "ipvlan":
        await net.add_ipvlan(vmac.name, vmac.base, vmac.mode)
        if not vmac.ipv6:
            set_ipv6_disabled(vmac.name, True)
        if vmac.address is not None:
            await net.add_address(AddressSpec(vmac.name, vmac.address))
    else:
        await net.add_macvlan(vmac.name, vmac.base, vmac.mac)


def set_ipv6_disabled(ifname: str, disabled: bool) -> bool:
    """keepalived's link_set_ipv6(): net.ipv6.conf.IF.disable_ipv6."""
    try:
        with open(f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6", "w") as f:
            f.write("1" if disabled else "0")
    except OSError:
        return False
    return True


def _sysctl_path(ifname: str, key: str) -> str:
    return f"/proc/sys/net/ipv4/conf/{ifname}/{key}"


def get_sysctl(ifname: str, key: str) -> int | None:
    try:
        with open(_sysctl_path(ifname, key)) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def set_sysctl(ifname: str, key: str, value: int) -> bool:
    try:
        with open(_sysctl_path(ifname, key), "w") as f:
            f.write(str(value))
    except OSError:
        return False
    return True


class VmacSysctls:
    """Sets keepalived's VMAC sysctls and restores the base interface's when done."""

    def __init__(self) -> None:
        self._base_saved: dict[str, dict[str, int]] = {}
        self._users: dict[str, int] = {}

    def apply(self, vmac: str, base: str) -> None:
        for key, value in (("arp_ignore", 1), ("accept_local", 1), ("rp_filter", 0),
                           ("promote_secondaries", 1)):
            set_sysctl(vmac, key, value)
        if self._users.get(base):
            self._users[base] += 1
            return
        saved = {}
        for key in ("arp_ignore", "arp_filter"):
            old = get_sysctl(base, key)
            if old is not None and old != 1:
                saved[key] = old
                set_sysctl(base, key, 1)
        self._base_saved[base] = saved
        self._users[base] = 1

    def release(self, base: str) -> None:
        n = self._users.get(base, 0)
        if n > 1:
            self._users[base] = n - 1
            return
        self._users.pop(base, None)
        for key, old in self._base_saved.pop(base, {}).items():
            with contextlib.suppress(OSError):
                set_sysctl(base, key, old)


class PromoteSecondaries:
    """`promote_secondaries` of a vrrp_instance (vrrp.c): keepalived sets the interface's
    net.ipv4.conf.IF.promote_secondaries to 1 when it was 0, so that removing a VIP that is
    the primary address of its subnet does not take the secondaries with it, and sets it
    back to 0 when the last instance using it goes."""

    def __init__(self) -> None:
        self._users: dict[str, int] = {}

    def apply(self, ifname: str) -> None:
        if self._users.get(ifname):
            self._users[ifname] += 1
            return
        if get_sysctl(ifname, "promote_secondaries") == 0 and set_sysctl(ifname, "promote_secondaries", 1):
            self._users[ifname] = 1

    def release(self, ifname: str) -> None:
        n = self._users.get(ifname, 0)
        if n > 1:
            self._users[ifname] = n - 1
        elif n == 1:
            del self._users[ifname]
            with contextlib.suppress(OSError):
                set_sysctl(ifname, "promote_secondaries", 0)


def mac_text(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)
