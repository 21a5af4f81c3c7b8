"""keepalived.json under global_defs `json_version 2` (keepalived 2.2.8, newer than 2.2.7).

Version 1 (the default, and 2.2.7's only form) is the bare array of instances that
observe/vrrp.py writes. Version 2 wraps it in an object: `{"vrrp": [...]}`, followed by
`"track_process": [...]` when the configuration has vrrp_track_process blocks, each with
upstream's fields (vrrp_json.c vrrp_json_vprocess_dump) in its order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from keepalived_py.observe.vrrp import _jvalue

JSON_VERSION_1 = 1
JSON_VERSION_2 = 2


def track_process_objects(processes: Sequence[Any], state: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One object per vrrp_track_process (config order): its settings from the model, its
    count, quorum and pending delay from the trackers' snapshot (`state`, by name)."""
    out: list[dict[str, Any]] = []
    for proc in processes:
        now = state.get(proc.name, {})
        words = tuple(proc.process or ())
        entry: dict[str, Any] = {"process": words[0] if words else ""}
        if len(words) > 1:
            entry["parameters"] = " ".join(words[1:])
        entry["param_match"] = proc.effective_param_match or "none"
        entry["min_processes"] = int(proc.quorum)
        if proc.quorum_max is not None:
            entry["max_processes"] = int(proc.quorum_max)
        entry["current_processes"] = int(now.get("count", 0))
        entry["have_quorum"] = bool(now.get("have_quorum", False))
        weight, reverse = proc.weight
        entry["weight"] = -weight if reverse else weight
        delay = proc.delay or 0.0
        entry["terminate_delay"] = float(proc.terminate_delay if proc.terminate_delay is not None else delay)
        entry["fork_delay"] = float(proc.fork_delay if proc.fork_delay is not None else delay)
        entry["fork_delay_timer_running"] = now.get("pending") == "fork"
        entry["terminate_delay_timer_running"] = now.get("pending") == "terminate"
        entry["full_command"] = bool(proc.full_command)
        out.append(entry)
    return out


def json_text_v2(instances_text: str, processes: Sequence[dict[str, Any]]) -> str:
    """The version 2 document around version 1's array text (keepalived's compact writer)."""
    text = '{"vrrp":' + instances_text
    if processes:
        text += ',"track_process":' + _jvalue(list(processes))
    return text + "}"
