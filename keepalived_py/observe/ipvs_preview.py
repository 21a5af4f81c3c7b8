"""The IPVS side of a reload preview: what a HUP with a new configuration would do to the table.

Computed in the check child, which holds what the answer depends on: the checkers' states,
the pool (alive, weights, quorum) and the table in the kernel. It runs the steps
CheckRuntime.reload() / Scheduler.reload() run, on copies: check.reload.migrate_states()
and adopt() bring a new pool to the state a reload reaches, lvs.plan gives the desired
table, lvs.diff the operations against the actual table, with the ownership the runtime
would use. Nothing is applied; the running pool and states are not touched (adopt() mutates
the old pool: it gets a deep copy). tests/unit/observe/test_ipvs_preview.py compares the
preview with the operations a real reload then sends to the recording IPVS fake.

Pure: the actual table comes in as an argument.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any

from keepalived_py.check import hysteresis as hy
from keepalived_py.check import reload as reloading
from keepalived_py.check import spec as specmod
from keepalived_py.check.kinds import bfd as bfd_kind
from keepalived_py.check.quorum import Pool
from keepalived_py.check.runtime import live_state
from keepalived_py.lvs import plan
from keepalived_py.lvs.diff import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    Op,
    SetDest,
    SetService,
    diff,
)
from keepalived_py.lvs.table import Table

if TYPE_CHECKING:
    from keepalived_py.check.runtime import CheckRuntime
    from keepalived_py.config.model.root import KeepalivedConfig


def reload_ops(runtime: CheckRuntime, new_config: KeepalivedConfig, actual: Table) -> list[Op]:
    """The operations a reload to `new_config` would send, from the runtime's current state."""
    sched = runtime.scheduler
    assert sched is not None and runtime.config is not None
    servers, specs = specmod.build(new_config)
    new_specs = {s.id: s for s in specs}
    old_pool = copy.deepcopy(sched.pool)
    states = reloading.migrate_states(sched.specs, sched.states, new_specs, old_pool)
    for cid, spec in new_specs.items():
        if spec.kind is hy.Kind.FILE:
            states[cid] = hy.file_initial(spec.policy, states[cid].file_value)
    new_pool = Pool(servers, rs_init_notifies=old_pool.rs_init_notifies, no_checker_emails=old_pool.no_checker_emails)
    down: dict[tuple, set] = {}
    for cid, state in states.items():
        spec = new_specs[cid]
        if state.cur_weight:
            new_pool.weights(spec.vs_key, spec.rs_key, {cid: state.cur_weight})
        if not state.is_up:
            down.setdefault((spec.vs_key, spec.rs_key), set()).add(cid)
    reloading.adopt(new_pool, old_pool, down)
    for name, up in getattr(runtime, "bfd_states", {}).items():   # the runtime replays them (BFD_CHECK)
        bfd_kind.deliver(new_specs, states, new_pool, name, up)
    desired = plan.desired_table(new_config, live_state(new_config, new_pool))
    owned = runtime.owned() | plan.possible_entries(new_config)
    return diff(actual, desired, owned)


def _dest_text(d: Any) -> str:
    return f"{d.key} weight {d.weight}"


def describe(ops: list[Op], actual: Table) -> dict[str, Any]:
    """The operations as the preview reports them (texts in the table's own key form)."""
    out: dict[str, Any] = {"services_added": [], "services_removed": [], "services_changed": [],
                           "destinations_added": [], "destinations_removed": [], "destinations_reweighted": [],
                           "destinations_changed": []}
    for op in ops:
        if isinstance(op, AddService):
            out["services_added"].append(f"{op.service.key} {op.service.scheduler}")
        elif isinstance(op, SetService):
            out["services_changed"].append(f"{op.service.key} {op.service.scheduler}")
        elif isinstance(op, DelService):
            out["services_removed"].append(str(op.key))
        elif isinstance(op, AddDest):
            out["destinations_added"].append(f"{op.service} -> {_dest_text(op.dest)}")
        elif isinstance(op, DelDest):
            out["destinations_removed"].append(f"{op.service} -> {op.key}")
        elif isinstance(op, SetDest):
            old = actual.destinations(op.service).get(op.dest.key) if op.service in actual.services else None
            if old is not None and old.weight != op.dest.weight and \
                    dataclasses.replace(old, weight=op.dest.weight) == op.dest:
                out["destinations_reweighted"].append(f"{op.service} -> {op.dest.key} weight {old.weight} -> "
                                                      f"{op.dest.weight}")
            else:
                out["destinations_changed"].append(f"{op.service} -> {_dest_text(op.dest)}")
    out["changes"] = bool(ops)
    return out


def ipvs_preview(runtime: CheckRuntime, new_config: KeepalivedConfig, actual: Table) -> dict[str, Any]:
    """The check child's answer to a preview request."""
    return describe(reload_ops(runtime, new_config, actual), actual)
