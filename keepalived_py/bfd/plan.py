"""bfd_instance models -> what the sessions and sockets need, pure.

keepalived keeps intervals in microseconds (the parser multiplies the milliseconds of
keepalived.conf by 1000) and stores `max_hops -1` as 255, meaning no hop check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keepalived_py.bfd.demux import Endpoint
from keepalived_py.bfd.session import NO_HOP_CHECK, SessionConfig

#: the longest bfd_instance name keepalived takes (sizeof bfd_t.iname - 1); the same value
#: as config/model/bfd.py's, repeated because the core imports no configuration code
BFD_INAME_MAX = 31


@dataclass(frozen=True, slots=True)
class InstancePlan:
    cfg: SessionConfig
    endpoint: Endpoint
    notify_vrrp: bool
    notify_checker: bool


def _us(ms: float) -> int:
    return int(round(ms * 1000))


def plan_instance(inst: Any) -> InstancePlan | None:
    """One BfdInstance (config/model/bfd.py); None when it has no neighbour (ignored)."""
    neighbor = getattr(inst, "neighbor_ip", None)
    if neighbor is None:
        return None
    max_hops = int(getattr(inst, "max_hops", 0))
    cfg = SessionConfig(
        name=str(inst.name),
        min_tx_us=_us(inst.min_tx), min_rx_us=_us(inst.min_rx),
        idle_tx_us=_us(inst.idle_tx), multiplier=int(inst.multiplier),
        passive=bool(inst.passive), ttl=int(inst.effective_ttl),
        max_hops=NO_HOP_CHECK if max_hops < 0 else max_hops)
    return InstancePlan(cfg, Endpoint(neighbor, getattr(inst, "source_ip", None)),
                        bool(inst.notify_vrrp), bool(inst.notify_checker))


def runnable(instances: Any) -> list[Any]:
    """The bfd_instance blocks keepalived's bfd process runs, in configuration order: it
    ignores a name longer than 31 characters or already configured (the first wins,
    alloc_bfd), and at the block's end one without a neighbour, with a source of the other
    family, or whose neighbour (and source, when both give one) an earlier instance has
    (bfd_end_handler, find_bfd_by_addr). config/validate/bfd.py reports each of these."""
    out: list[Any] = []
    names: set[str] = set()
    for inst in instances or ():
        name = str(inst.name)
        if len(name) > BFD_INAME_MAX or name in names:
            continue
        names.add(name)
        nbr, src = getattr(inst, "neighbor_ip", None), getattr(inst, "source_ip", None)
        if nbr is None or (src is not None and src.version != nbr.version):
            continue
        if any(o.neighbor_ip == nbr and (o.source_ip is None or src is None or o.source_ip == src) for o in out):
            continue
        out.append(inst)
    return out


def plan_all(instances: Any) -> dict[str, InstancePlan]:
    """Name -> plan of each runnable instance, in configuration order."""
    out: dict[str, InstancePlan] = {}
    for inst in runnable(instances):
        plan = plan_instance(inst)
        if plan is not None:
            out[plan.cfg.name] = plan
    return out
