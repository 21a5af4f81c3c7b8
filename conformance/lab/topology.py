"""Topology descriptions: routers, clients and backends on one or more bridges.

A topology is data only; `Lab` (lab.py) turns it into namespaces, a bridge namespace and
veth pairs.  It can be written in Python or parsed from a short text::

    bridge lan 192.0.2.0/24 2001:db8:0:1::/64
    bridge back 198.51.100.0/24
    router r1 lan back
    router r2 lan back
    client c1 lan
    backend b1 back=198.51.100.50

Every node gets one interface per bridge it names, ``eth0``, ``eth1``... in that order.
Addresses are allocated per bridge in declaration order (host 1, 2, 3...), unless given
explicitly as ``bridge=ADDR`` (IPv4 and/or IPv6, comma separated; the prefix length
comes from the bridge's network).  Only documentation ranges are accepted, so a
topology can never address anything outside the lab.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

ROLES = ("router", "client", "backend", "host")

# RFC 5737 and RFC 3849: the only networks a lab may use.
DOC_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)

_NAME = re.compile(r"^[a-z][a-z0-9]{0,7}$")


def is_documentation(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return any(net.version == d.version and net.subnet_of(d) for d in DOC_NETS)


class TopologyError(ValueError):
    pass


@dataclass(frozen=True)
class Bridge:
    name: str
    v4: ipaddress.IPv4Network | None = None
    v6: ipaddress.IPv6Network | None = None


@dataclass(frozen=True)
class Port:
    """One interface of a node: `ifname` inside the node, `peer` inside the bridge namespace."""

    node: str
    bridge: str
    ifname: str
    peer: str
    v4: ipaddress.IPv4Interface | None = None
    v6: ipaddress.IPv6Interface | None = None


@dataclass(frozen=True)
class Node:
    name: str
    role: str
    ports: tuple[Port, ...] = ()

    def port(self, bridge: str | None = None) -> Port:
        for p in self.ports:
            if bridge is None or p.bridge == bridge:
                return p
        raise KeyError(f"node {self.name} has no port on bridge {bridge}")


@dataclass
class Topology:
    bridges: dict[str, Bridge] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    _next_host: dict[str, int] = field(default_factory=dict, repr=False)

    # -- building ---------------------------------------------------------------------
    def bridge(self, name: str, v4: str | None = None, v6: str | None = None) -> Topology:
        _check_name(name, "bridge")
        if name in self.bridges:
            raise TopologyError(f"duplicate bridge {name}")
        nets = {}
        for fam, text in (("v4", v4), ("v6", v6)):
            if text is None:
                nets[fam] = None
                continue
            net = ipaddress.ip_network(text, strict=True)
            if (fam == "v4") != (net.version == 4):
                raise TopologyError(f"bridge {name}: {text} is not an {fam} network")
            if not is_documentation(net):
                raise TopologyError(f"bridge {name}: {text} is not a documentation range")
            nets[fam] = net
        self.bridges[name] = Bridge(name, nets["v4"], nets["v6"])
        self._next_host[name] = 1
        return self

    def node(self, name: str, role: str, *bridges: str, addrs: dict[str, str] | None = None) -> Topology:
        """Add a node with one port per bridge; `addrs` maps a bridge to "ADDR[,ADDR6]"."""
        _check_name(name, "node")
        if role not in ROLES:
            raise TopologyError(f"node {name}: role {role!r} is not one of {ROLES}")
        if name in self.nodes or name == "sw":
            raise TopologyError(f"duplicate or reserved node name {name}")
        addrs = addrs or {}
        ports = []
        for i, bname in enumerate(bridges):
            if bname not in self.bridges:
                raise TopologyError(f"node {name}: unknown bridge {bname}")
            br = self.bridges[bname]
            v4 = v6 = None
            explicit = [a for a in addrs.get(bname, "").split(",") if a]
            if explicit:
                for a in explicit:
                    ip = ipaddress.ip_address(a.split("/")[0])
                    net = br.v4 if ip.version == 4 else br.v6
                    if net is None or ip not in net:
                        raise TopologyError(f"node {name}: {a} is not in bridge {bname}'s networks")
                    iface = ipaddress.ip_interface(f"{ip}/{net.prefixlen}")
                    if ip.version == 4:
                        v4 = iface
                    else:
                        v6 = iface
            else:
                host = self._next_host[bname]
                self._next_host[bname] = host + 1
                if br.v4 is not None:
                    v4 = ipaddress.ip_interface(f"{br.v4.network_address + host}/{br.v4.prefixlen}")
                if br.v6 is not None:
                    v6 = ipaddress.ip_interface(f"{br.v6.network_address + host}/{br.v6.prefixlen}")
            peer = f"{name}-{bname}"[:15]
            ports.append(Port(name, bname, f"eth{i}", peer, v4, v6))
        self.nodes[name] = Node(name, role, tuple(ports))
        return self

    def router(self, name: str, *bridges: str, **kw) -> Topology:
        return self.node(name, "router", *bridges, **kw)

    def client(self, name: str, *bridges: str, **kw) -> Topology:
        return self.node(name, "client", *bridges, **kw)

    def backend(self, name: str, *bridges: str, **kw) -> Topology:
        return self.node(name, "backend", *bridges, **kw)

    # -- text form --------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Topology:
        topo = cls()
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            try:
                if words[0] == "bridge":
                    v4 = v6 = None
                    for w in words[2:]:
                        if ":" in w:
                            v6 = w
                        else:
                            v4 = w
                    topo.bridge(words[1], v4, v6)
                elif words[0] in ROLES:
                    if len(words) < 3:
                        raise TopologyError("a node needs a name and at least one bridge")
                    bridges, addrs = [], {}
                    for w in words[2:]:
                        b, _, a = w.partition("=")
                        bridges.append(b)
                        if a:
                            addrs[b] = a
                    topo.node(words[1], words[0], *bridges, addrs=addrs)
                else:
                    raise TopologyError(f"unknown keyword {words[0]!r}")
            except (TopologyError, ValueError) as e:
                raise TopologyError(f"line {lineno}: {e}") from None
        if not topo.nodes:
            raise TopologyError("topology has no nodes")
        return topo

    # -- queries ----------------------------------------------------------------------
    def routers(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.role == "router"]


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        raise TopologyError(f"{what} name {name!r}: use 1-8 lower-case letters/digits, starting with a letter")
