"""A reload: carry checker and server state from the old configuration to the new (pure).

What keepalived 2.2.7 does on SIGHUP (keepalived/check/ipwrapper.c clear_diff_services,
clear_diff_rs, migrate_checkers, check_new_rs_state, init_service_rs; check_misc.c
migrate_misc_check):
- a checker of a real server that is still there keeps its state when the new one is the
  same kind with the same settings that matter to it (keepalived's per-kind compare:
  connection options, urls, script, ...): is_up and has_run; retry_it is kept but cut to
  retry - 1; MISC_CHECK misc_dynamic keeps its last exit status and weight (keepalived's
  arithmetic, exit 0 included: it then gives -weight);
- other checkers start as new ones do on a reload: up, not run, retry_it 0; for a real
  server with a failed checker, or not alive with no checker that has run, the checkers that
  have not run start down if alpha and count one failure as enough;
- a real server still there keeps alive / in the table, its weight is the new configured
  weight plus the checkers' offsets ("Changing weight ..." when it differs); without failed
  checkers and not alive it is added; with failed ones it leaves the table (or gets weight 0
  with inhibit_on_failure);
- a real server no longer there: "service [..] no longer exist", then removed as at a failure;
  a virtual server no longer there: "Removing Virtual Server [..]", its servers removed;
- a new real server's alpha checkers start down (check_new_rs_state);
- quorum state is kept and re-evaluated as at start-up; every checker's next run is
  scheduled afresh (BOOTSTRAP_DELAY + warmup), as keepalived re-registers its threads.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import fields, is_dataclass, replace
from typing import Any

from keepalived_py.check import hysteresis as hy
from keepalived_py.check.quorum import Decision, DestChanged, Log, NotifyRs, Pool, _Rs, _Vs

_POSITION_FIELDS = frozenset({"pos", "kw_pos", "end_pos", "kw_end"})
#: what keepalived's compare functions look at, beyond the connection (endpoint)
_TIMING_FIELDS = frozenset({"retry", "delay_before_retry", "warmup", "delay_loop", "alpha", "log_all_failures"})


def _same(a: Any, b: Any) -> bool:
    """Config values equal, ignoring source positions and the timing keywords keepalived's
    compare functions do not look at."""
    if is_dataclass(a) and is_dataclass(b):
        if type(a) is not type(b):
            return False
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a)
                   if f.name not in _POSITION_FIELDS and f.name not in _TIMING_FIELDS)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def same_checker(old_spec, new_spec) -> bool:
    """keepalived's checker compare: the same kind, connection and kind settings."""
    return (old_spec.kind is new_spec.kind and old_spec.endpoint == new_spec.endpoint
            and old_spec.file_path == new_spec.file_path and _same(old_spec.params, new_spec.params))


def fresh(policy: hy.Policy) -> hy.CheckerState:
    """A checker created by a reload (queue_checker's defaults; no alpha, retry_it 0)."""
    return hy.CheckerState(is_up=True)


def migrate(old_policy: hy.Policy, old: hy.CheckerState, new_policy: hy.Policy) -> hy.CheckerState:
    """migrate_checkers() for one matched checker."""
    state = fresh(new_policy)
    if old.has_run:
        state = replace(state, is_up=old.is_up)
    state = replace(state, has_run=old.has_run)
    if old.retry_it and new_policy.retry:
        state = replace(state, retry_it=new_policy.retry - 1 if old.retry_it >= new_policy.retry else old.retry_it)
    if new_policy.kind is hy.Kind.MISC:
        state = replace(state, last_exit=old.last_exit)
        if new_policy.misc_dynamic and old.last_exit != 1:
            state = replace(state, cur_weight=old.last_exit - (2 if old.last_exit else 0) - new_policy.iweight)
    if new_policy.kind is hy.Kind.FILE:
        state = replace(old)
    return state


def migrate_states(old_specs: dict, old_states: dict, new_specs: dict, old_pool: Pool) -> dict[Hashable, hy.CheckerState]:
    """New checker states: matched checkers migrated, the rest fresh, alpha rules applied."""
    by_rs: dict[tuple, list] = {}
    for cid, spec in old_specs.items():
        by_rs.setdefault((spec.vs_key, spec.rs_key), []).append(cid)
    states: dict[Hashable, hy.CheckerState] = {}
    new_by_rs: dict[tuple, list] = {}
    for cid, spec in new_specs.items():
        new_by_rs.setdefault((spec.vs_key, spec.rs_key), []).append(cid)
    for rs_id, cids in new_by_rs.items():
        reloaded = old_pool.has_server(*rs_id)
        candidates = list(by_rs.get(rs_id, ()))
        for cid in cids:
            spec = new_specs[cid]
            match = next((o for o in candidates if same_checker(old_specs[o], spec)), None)
            if match is not None:
                candidates.remove(match)
                states[cid] = migrate(old_specs[match].policy, old_states[match], spec.policy)
            else:
                states[cid] = fresh(spec.policy)
        if not reloaded:
            for cid in cids:   # check_new_rs_state()
                if new_specs[cid].policy.alpha:
                    states[cid] = replace(states[cid], is_up=False)
            continue
        failed = any(states[c].has_run and not states[c].is_up for c in cids)
        ran = any(states[c].has_run for c in cids)
        if failed or (not old_pool.alive(*rs_id) and not ran):
            for cid in cids:
                if not states[cid].has_run:
                    policy = new_specs[cid].policy
                    states[cid] = replace(states[cid], is_up=not policy.alpha and states[cid].is_up,
                                          retry_it=policy.retry)
    return states


def adopt(new: Pool, old: Pool, down: dict[tuple, set]) -> list[Decision]:
    """Bring the new pool to the state keepalived reaches after a reload; `down` maps (vs, rs)
    to the ids of its checkers that are down after migrate_states()."""
    out: list[Decision] = []
    before = {key: old.destinations(key) for key in old._vs}
    for key, ovs in old._vs.items():
        nvs = new._vs.get(key)
        if nvs is None:
            out.append(Log(f"Removing Virtual Server {ovs.cfg.label}"))
            for rs in ovs.rs.values():
                _remove(old, ovs, rs, out)
            continue
        nvs.quorum_up = ovs.quorum_up
        for rkey, ors in ovs.rs.items():
            if rkey not in nvs.rs:
                out.append(Log(f"service {ors.cfg.label} no longer exist"))
                _remove(old, ovs, ors, out)
        if ovs.sorry is not None and nvs.sorry is not None and ovs.sorry.cfg.key == nvs.sorry.cfg.key:
            nvs.sorry.alive, nvs.sorry.in_table = ovs.sorry.alive, ovs.sorry.in_table
    for key, nvs in new._vs.items():
        ovs = old._vs.get(key)
        for rkey, rs in nvs.rs.items():
            rs.failed = set(down.get((key, rkey), ()))
            ors = ovs.rs.get(rkey) if ovs is not None else None
            if ors is None:
                if not rs.failed:
                    rs.alive = rs.in_table = True
                elif rs.cfg.inhibit:
                    rs.in_table = True
                continue
            # the weight is the new configured one plus the (migrated) checkers' offsets,
            # which the caller set with Pool.weights() (set_effective_weights)
            rs.alive, rs.in_table = ors.alive, ors.in_table
            if rs.alive and rs.effective != ors.effective:
                old_w, new_w = max(min(ors.effective, 2**31 - 1), 0), max(min(rs.effective, 2**31 - 1), 0)
                if old_w != new_w:
                    out.append(Log(f"Changing weight from {old_w} to {new_w} for active service {rs.cfg.label} "
                                   f"of VS {nvs.cfg.label}"))
            if not rs.failed and not rs.alive:
                new._perform_svr_state(nvs, rs, True, out)
            elif rs.failed:
                if rs.alive:
                    rs.alive = False
                rs.in_table = rs.cfg.inhibit
        new._update_quorum(nvs, True, out)
        if nvs.sorry is not None and nvs.sorry.cfg.inhibit:
            nvs.sorry.in_table = True
    for key in before.keys() | new._vs.keys():
        was = before.get(key, {})
        now = new.destinations(key) if key in new._vs else {}
        for rkey in was.keys() | now.keys():
            if was.get(rkey) != now.get(rkey):
                out.append(DestChanged(key, rkey, now.get(rkey)))
    return out


def _remove(old: Pool, vs: _Vs, rs: _Rs, out: list[Decision]) -> None:
    """clear_service_rs(vs, rs, stopping=False)."""
    if rs.in_table:
        prefix = "(inhibited) " if rs.cfg.inhibit and not rs.alive else ""
        out.append(Log(f"Removing {prefix}service {rs.cfg.label} from VS {vs.cfg.label}"))
    if not rs.in_table:
        return
    rs.in_table = False
    if not rs.alive:
        return
    rs.alive = False
    out.append(NotifyRs(vs.cfg.key, rs.cfg.key, False, False, f"RS {rs.cfg.label} {vs.cfg.label} DOWN\n"))
