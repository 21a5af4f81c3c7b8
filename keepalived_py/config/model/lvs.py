"""virtual_server_group, virtual_server, real_server (keepalived.conf(5) 'LVS CONFIGURATION')."""

from __future__ import annotations

from keepalived_py.config.model.checkers import TcpCheck
from keepalived_py.config.schema import (
    Choice,
    Int,
    Model,
    Nested,
    Port,
    Timer,
    Word,
    head,
    kw,
    model,
)


@model
class RealServer(Model):
    block_keyword = "real_server"

    address: str = head(Word(), default="")
    port: int | None = head(Port(), optional=True)
    weight: int = kw(Int(0, 2147483647), default=1)
    tcp_check: tuple[TcpCheck, ...] = kw(Nested(TcpCheck), name="TCP_CHECK", multi=True)


@model
class VirtualServerGroup(Model):
    block_keyword = "virtual_server_group"

    name: str = head(Word(), default="")


@model
class VirtualServer(Model):
    block_keyword = "virtual_server"

    address: str = head(Word(), default="")
    port: int | None = head(Port(), optional=True)
    delay_loop: float = kw(Timer(), default=60.0)
    lb_algo: str = kw(Choice("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "mh", "dh", "fo", "ovf",
                             "sed", "nq", "twos"), default="wlc", aliases=("lvs_sched",))
    lb_kind: str = kw(Choice("NAT", "DR", "TUN"), default="NAT", aliases=("lvs_method",))
    protocol: str | None = kw(Choice("TCP", "UDP", "SCTP"))
    real_server: tuple[RealServer, ...] = kw(Nested(RealServer), multi=True)
