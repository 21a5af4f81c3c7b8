"""BFD_CHECK: a real server follows a bfd_instance's session (keepalived 2.2.7 check_bfd.c).

There is no probe and no run: the bfd child reports each session's Up/Down (ipc BfdState,
forwarded by the parent), and every BFD_CHECK naming that bfd_instance moves with it. Pure:
the scheduler keeps the checker states and the pool; `deliver()` turns one event into new
states and the pool's decisions, `on_event()` does it for one checker.

keepalived's rules, which this follows:
- configuration (check/spec.py, after check_bfd.c bfd_name_handler and bfd_parser.c): the
  name must be a bfd_instance reporting to the checker process (`checker`, or neither
  `checker` nor `vrrp`); a second BFD_CHECK of the same instance on one real server is
  dropped; alpha comes from the checker, else the real server, else the virtual server;
- start: an alpha checker starts down (out of the pool), any other up; the bfd child sends
  every session's state when it starts (Down until the session comes Up), so a non-alpha
  real server leaves the pool until its session is Up;
- an event (bfd_check_handle_event) is ignored by a checker that has run and is already in
  that state; otherwise "BFD check of [name] RS(rs) is UP|DOWN" is logged and
  update_svr_checker_state() runs (the pool: "Adding/Removing service ...", notifies,
  quorum); the smtp alert is "=> BFD CHECK name succeeded|failed on service <=".
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import replace
from typing import Any

from keepalived_py.check.hysteresis import CheckerState, Kind, Policy, Step, Verdict
from keepalived_py.check.quorum import Decision, Log, Pool


def alert(name: str, up: bool) -> str:
    return f"=> BFD CHECK {name} {'succeeded' if up else 'failed'} on service <="


def on_event(policy: Policy, state: CheckerState, name: str, up: bool) -> Step | None:
    """One BFD_CHECK on `name` hears that the session is `up`; None: nothing to do."""
    if state.has_run and state.is_up == up:
        return None
    verdict = Verdict(up=up, was_up=state.is_up, first=not state.has_run, alert=alert(name, up))
    line = f"BFD check of [{name}] RS({policy.rs_label}) is {'UP' if up else 'DOWN'}"
    return Step(replace(state, is_up=up, has_run=True), 0.0, verdict, logs=(line,))


def deliver(specs: dict[Hashable, Any], states: dict[Hashable, CheckerState], pool: Pool,
            name: str, up: bool) -> list[Decision]:
    """Every BFD_CHECK on `name` (configuration order) hears the event: `states` updated in
    place, the pool told; returns keepalived's decisions."""
    out: list[Decision] = []
    for cid, spec in _on(specs, name):
        state = states.get(cid)
        if state is None:
            continue
        step = on_event(spec.policy, state, name, up)
        if step is None:
            continue
        states[cid] = step.state
        out += [Log(text) for text in step.logs]
        assert step.verdict is not None
        out += pool.checker(spec.vs_key, spec.rs_key, cid, step.verdict, alpha=spec.policy.alpha)
    return out


def _on(specs: dict[Hashable, Any], name: str) -> Iterable[tuple[Hashable, Any]]:
    for cid, spec in specs.items():
        if spec.kind is Kind.BFD and getattr(spec.params, "name", None) == name:
            yield cid, spec
