"""vrrp_instance and the blocks that feed it (keepalived.conf(5) 'VRRPD CONFIGURATION')."""

from __future__ import annotations

from keepalived_py.config.model.addresses import VirtualAddress, VirtualAddressEntry
from keepalived_py.config.schema import (
    Choice,
    Entries,
    Flag,
    Int,
    Model,
    Script,
    Timer,
    Word,
    head,
    kw,
    model,
)


@model
class VrrpScript(Model):
    block_keyword = "vrrp_script"

    name: str = head(Word(), default="")
    script: str | None = kw(Script())
    interval: float = kw(Timer(), default=1.0)
    weight: int = kw(Int(-253, 253), default=0)


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
