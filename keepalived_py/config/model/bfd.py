"""bfd_instance (keepalived.conf(5) 'BFD CONFIGURATION')."""

from __future__ import annotations

from keepalived_py.config.schema import Address, Int, Model, Word, head, kw, model


@model
class BfdInstance(Model):
    block_keyword = "bfd_instance"

    name: str = head(Word(), default="")
    neighbor_ip: object | None = kw(Address())
    min_rx: int = kw(Int(1, 1000), default=10)
    min_tx: int = kw(Int(1, 1000), default=10)
    multiplier: int = kw(Int(1, 255), default=5)
