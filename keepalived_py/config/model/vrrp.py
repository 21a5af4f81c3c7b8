"""vrrp_instance and the blocks that feed it (keepalived.conf(5) 'VRRPD CONFIGURATION')."""

from __future__ import annotations

from keepalived_py.config.model.addresses import VirtualAddress, VirtualAddressEntry
from keepalived_py.config.schema import (
    Choice,
    Entries,
    Flag,
    Int,
    Model,
    Timer,
    Word,
    head,
    kw,
    model,
)


@model
class VrrpInstance(Model):
    block_keyword = "vrrp_instance"

    name: str = head(Word(), default="")
    state: str | None = kw(Choice("MASTER", "BACKUP"))
    interface: str | None = kw(Word())
    virtual_router_id: int | None = kw(Int(1, 255))
    priority: int = kw(Int(1, 255), default=100)
    advert_int: float = kw(Timer(), default=1.0)
    preempt: bool = kw(Flag(), default=True, alts={"nopreempt": False})
    virtual_ipaddress: tuple[VirtualAddress, ...] = kw(Entries(VirtualAddressEntry()))


@model
class VrrpSyncGroup(Model):
    block_keyword = "vrrp_sync_group"

    name: str = head(Word(), default="")
    group: tuple[str, ...] = kw(Entries(Word()))


@model
class GarpGroup(Model):
    block_keyword = "garp_group"

    garp_interval: float | None = kw(Timer())
