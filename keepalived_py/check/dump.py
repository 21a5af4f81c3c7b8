"""keepalived_check.data (SIGUSR1): the virtual servers section, from the running state.

A view of the runtime's state, built here only. It follows the shape of keepalived 2.2.7's
check_data.c dump_check_data() ("------< LVS Topology >------", a block per virtual server
with its real servers) with the values that matter to operators: scheduler, forwarding,
quorum state, each real server's alive state, weight and checkers. It is not yet line for
line keepalived's (the many per-checker settings are not repeated here).
"""

from __future__ import annotations

from typing import Any

from keepalived_py.check import spec as specmod


def data_text(runtime: Any) -> str:
    config = runtime.config
    lines = ["------< LVS Topology >------", " System is compiled with LVS v1.2.1"]
    if config is None or runtime.scheduler is None:
        return "\n".join(lines) + "\n"
    pool = runtime.pool
    checkers: dict[tuple, list[str]] = {}
    for s in runtime.scheduler.specs.values():
        state = runtime.scheduler.states.get(s.id)
        checkers.setdefault((s.vs_key, s.rs_key), []).append(
            f"   {s.kind.name}_CHECK {'up' if state is None or state.is_up else 'down'}")
    for vs in config.virtual_server:
        vkey = specmod.vs_key(vs)
        try:
            dests = pool.destinations(vkey)
            quorum = "up" if pool.quorum_up(vkey) else "down"
        except KeyError:
            continue
        lines.append(f" VS = {specmod.vs_label(vs)}")
        lines.append(f"   delay_loop = {vs.delay_loop:g}, lb_algo = {vs.scheduler}")
        lines.append(f"   forwarding = {vs.forwarding.method}, quorum {quorum}, weight sum {pool.weight_sum(vkey)}")
        for rs in vs.real_server:
            if rs.address is None:
                continue
            rkey = specmod.rs_key(vs, rs)
            alive = pool.alive(vkey, rkey) if pool.has_server(vkey, rkey) else False
            weight = dests.get(rkey)
            lines.append(f"   RS = {specmod.rs_label(vs, rs)}, {'alive' if alive else 'down'}, "
                         f"{'weight ' + str(weight) if weight is not None else 'not in table'}")
            lines += checkers.get((vkey, rkey), [])
        if vs.sorry_server is not None:
            lines.append(f"   sorry server = [{vs.sorry_server.address}]:{vs.sorry_server.port or 0}")
    return "\n".join(lines) + "\n"
