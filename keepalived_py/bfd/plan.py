"""bfd_instance models -> what the sessions and sockets need, pure.

keepalived keeps intervals in microseconds (the parser multiplies the milliseconds of
keepalived.conf by 1000) and stores `max_hops -1` as 255, meaning no hop check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keepalived_py.bfd.accept import runnable
from keepalived_py.bfd.demux import Endpoint
from keepalived_py.bfd.session import NO_HOP_CHECK, SessionConfig


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


def plan_all(instances: Any) -> dict[str, InstancePlan]:
    """Name -> plan of each runnable instance, in configuration order."""
    out: dict[str, InstancePlan] = {}
    for inst in runnable(instances):
        plan = plan_instance(inst)
        if plan is not None:
            out[plan.cfg.name] = plan
    return out
