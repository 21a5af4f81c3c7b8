"""The ipvlan link keepalived makes for `use_ipvlan` (vrrp_vmac.c netlink_link_add_ipvlan),
as one rtnetlink request (pure: bytes only).

Why an ipvlan: where a switch port accepts one MAC only, a VMAC (macvlan) cannot be used;
an ipvlan shares its base interface's MAC and carries the instance's own address, VIPs
and adverts. keepalived creates it up, on the instance's interface, in L2 mode (so that it
receives frames: ARP, multicast adverts), with the configured flags (bridge - the default
- private or vepa), named like a VMAC unless `use_ipvlan NAME` names it; the address given
on the line is added to it and is the instance's source address. pyroute2's ipvlan plugin
knows no IFLA_IPVLAN_FLAGS, hence the request built here.
"""

from __future__ import annotations

import struct

from keepalived_py.net.rtnl import NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, Request, attr

RTM_NEWLINK = 16
IFF_UP = 0x1
IFLA_IFNAME, IFLA_LINK, IFLA_LINKINFO = 3, 5, 18
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_IPVLAN_MODE, IFLA_IPVLAN_FLAGS = 1, 2
IPVLAN_MODE_L2 = 0
IPVLAN_FLAGS = {"bridge": 0, "private": 1, "vepa": 2}  # IPVLAN_F_PRIVATE, IPVLAN_F_VEPA


def ipvlan_request(name: str, base_index: int, mode: str | None) -> Request:
    """RTM_NEWLINK for an ipvlan `name` on interface `base_index`, L2, up."""
    ifinfo = struct.pack("=BxHiII", 0, 0, 0, IFF_UP, IFF_UP)
    data = (attr(IFLA_IPVLAN_MODE, struct.pack("=H", IPVLAN_MODE_L2))
            + attr(IFLA_IPVLAN_FLAGS, struct.pack("=H", IPVLAN_FLAGS[mode or "bridge"])))
    linkinfo = attr(IFLA_INFO_KIND, b"ipvlan") + attr(IFLA_INFO_DATA, data)
    payload = (ifinfo + attr(IFLA_LINK, struct.pack("=I", base_index))
               + attr(IFLA_IFNAME, name.encode() + b"\0") + attr(IFLA_LINKINFO, linkinfo))
    return Request(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, payload)
