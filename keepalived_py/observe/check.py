"""The check child's state as plain data: its part of the parent's view (--status, metrics).

The parent asks each child for a "snapshot" over ipc (core/control.py); the check child
answers with `check_view()`: each virtual server's quorum and destinations, each real
server's health (alive, failed checkers, in the table), configured and effective weight
and its checkers' probe durations, the reconcile counters, and the IPVS counters read from
the backend (observe/ipvs_counters.py). JSON-able; built from the pool and scheduler the
child runs on, so the numbers are the ones its decisions use (never a second copy).

Pure: reads the runtime's objects, does no I/O (the counters come in as an argument).
"""

from __future__ import annotations

from typing import Any

from keepalived_py.check import spec as specmod

VIEW_VERSION = 1


def _checkers_by_server(sched: Any) -> dict[tuple, list[dict[str, Any]]]:
    """Every checker's state and probe durations, by (vs key, rs key), in one pass."""
    out: dict[tuple, list[dict[str, Any]]] = {}
    for cid, s in sched.specs.items():
        state = sched.states.get(cid)
        last, total, count = sched.latency.get(cid, (None, 0.0, 0))
        out.setdefault((s.vs_key, s.rs_key), []).append(
            {"kind": s.kind.name, "up": state is None or bool(state.is_up),
             "latency": last, "latency_sum": total, "probes": count})
    return out


def _real_server(checkers: dict, vs: Any, rs: Any, pvs: Any, dests: dict) -> dict[str, Any]:
    key = specmod.rs_key(vs, rs)
    prs = pvs.rs.get(key) if pvs is not None else None
    configured = rs.weight if rs.weight is not None else vs.weight
    return {"name": specmod.rs_label(vs, rs), "address": key[0], "port": key[1],
            "alive": bool(prs.alive) if prs is not None else False,
            "weight": prs.effective if prs is not None else configured,
            "configured_weight": configured,
            "in_table": key in dests,
            "table_weight": dests.get(key),
            "failed_checkers": len(prs.failed) if prs is not None else 0,
            "checkers": checkers.get((specmod.vs_key(vs), key), [])}


def check_view(runtime: Any, ipvs: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The check child's answer to a snapshot request; `ipvs`: ipvs_counters.read()'s
    records (None when the backend gave none)."""
    out: dict[str, Any] = {"version": VIEW_VERSION, "role": "check", "reconciles": runtime.reconciles,
                           "ipvs_failures": runtime.failures, "virtual_servers": [], "ipvs": ipvs}
    if runtime.config is None or runtime.scheduler is None:
        return out
    pool = runtime.pool
    checkers = _checkers_by_server(runtime.scheduler)
    for vs in runtime.config.virtual_server:
        key = specmod.vs_key(vs)
        pvs = pool._vs.get(key)  # noqa: SLF001 - the pool is the state; check/dump.py reads it too
        try:
            dests = pool.destinations(key)
        except KeyError:
            continue
        out["virtual_servers"].append({
            "name": specmod.vs_label(vs), "quorum": pvs.quorum if pvs is not None else vs.quorum,
            "quorum_up": pool.quorum_up(key), "weight_sum": pool.weight_sum(key),
            "destinations": [{"address": a, "port": p, "weight": w} for (a, p), w in sorted(dests.items())],
            "real_servers": [_real_server(checkers, vs, rs, pvs, dests) for rs in vs.real_server
                             if rs.address is not None]})
    return out
