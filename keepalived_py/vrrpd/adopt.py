"""Restarts without a failover: may a fresh vrrp child resume an instance as MASTER?

keepalived does not do this: a respawned vrrp child removes the VIPs its predecessor left
and starts as BACKUP, so a BACKUP peer takes over and the restarted router wins the VIP
back a master down interval later (issue 16). A child started with ChildContext.resume
(respawned after a crash, or an in-place restart) asks here, per instance, whether the
predecessor was MASTER with the same configuration, from what survives it:

- the state file (`StateFile`): `<vrrp pid file>.state`, JSON written atomically at each
  state change: {"version": 1, "instances": {name: {"state": ..., "config": sha256,
  "group": "G:m1,m2" for a sync group member}}};
  the digest covers the instance's parameters (vrp/params.py: VRID, priority, interval,
  VIPs, routes, rules, peers, auth ...), so a changed instance is not resumed;
- the addresses on the interfaces: every VIP of the instance present (a predecessor that
  was not MASTER, or was stopped with release, left none);
- for a vrrp_sync_group member, the group too: its record names the group and its members
  (`group_key`), and the group resumes as a whole or not at all (`decide_group`): one
  member that may not resume - changed, not MASTER, a VIP missing - sends every member
  to keepalived's start, since a group half MASTER is what the sync group exists to avoid.

`decide` and `decide_group` are pure; the runtime then listens briefly for another master
before resuming (machine.begin_resume; a group's members together, vrrp/sync_group.py) and
falls back to keepalived's behaviour, with a log line, when one is heard.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1


def config_digest(params: Any) -> str:
    """A digest of an instance's parameters (a frozen dataclass: its repr is stable)."""
    return hashlib.sha256(repr(params).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Decision:
    adopt: bool
    why: str


def group_key(name: str, members: Any) -> str:
    """A sync group as its members' records name it: its name and its members, sorted (a
    member moved into, out of or between groups is a changed configuration)."""
    return f"{name}:{','.join(sorted(members))}"


def decide(record: dict[str, Any] | None, digest: str, vips: frozenset, present: frozenset, *,
           fault: bool, group: str | None = None) -> Decision:
    """Resume as MASTER? `record`: the predecessor's line of the state file (None: no
    file, or no line for this instance); `vips`: the instance's addresses, `present` those
    found on their interfaces; `group`: group_key() of its sync group, None outside one."""
    found = len(vips & present)
    if fault:
        return Decision(False, "in fault at start")
    if record is not None:
        if record.get("config") != digest or record.get("group") != group:
            return Decision(False, "configuration changed since the previous vrrp process")
        if record.get("state") != "MASTER":
            return Decision(False, f"previous vrrp process was {record.get('state')}")
        if found < len(vips):
            return Decision(False, f"only {found} of {len(vips)} addresses found")
        return Decision(True, f"previous vrrp process was MASTER, {found} addresses found")
    if vips and found == len(vips):
        return Decision(True, f"no state record, all {found} addresses found")
    return Decision(False, "no state record and not all addresses found" if vips
                    else "no state record and no addresses to judge by")


def decide_group(name: str, members: dict[str, Decision]) -> Decision:
    """A sync group resumes only when every member may (member order kept in the why)."""
    refused = [(m, d) for m, d in members.items() if not d.adopt]
    if not members:
        return Decision(False, f"sync group {name} has no members")
    if refused:
        m, d = refused[0]
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        return Decision(False, f"sync group {name}: member {m} may not resume: {d.why}{more}")
    return Decision(True, f"sync group {name}: all {len(members)} members may resume")


class StateFile:
    """The vrrp child's record of each instance's state, for its successor."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last: dict[str, dict[str, Any]] | None = None

    @classmethod
    def beside(cls, pid_file: str | os.PathLike) -> StateFile:
        return cls(Path(f"{os.fspath(pid_file)}.state"))

    def load(self) -> dict[str, dict[str, Any]]:
        """The predecessor's records; {} when there is no usable file."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            return {}
        inst = data.get("instances")
        return {k: v for k, v in inst.items() if isinstance(v, dict)} if isinstance(inst, dict) else {}

    def write(self, records: dict[str, dict[str, Any]]) -> None:
        """Atomically (temporary file, rename); skipped when nothing changed. A failure
        costs the successor its resume, not this process its run: ignored."""
        if records == self._last:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps({"version": FORMAT_VERSION, "instances": records}, sort_keys=True))
            os.replace(tmp, self.path)
            self._last = dict(records)
