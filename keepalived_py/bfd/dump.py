"""keepalived_bfd.data (USR1): keepalived's dump_bfd lines, built from session snapshots.

Pure: the runtime passes what it holds (plans, sessions, counters, the wall-clock offset
of the monotonic clock) and gets text back. Lines after keepalived's are ours: per
session counters and the receive drops by reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from keepalived_py.bfd.plan import InstancePlan
from keepalived_py.bfd.session import US, Session


@dataclass(frozen=True, slots=True)
class SessionView:
    plan: InstancePlan
    session: Session
    send_error: bool
    tx_errors: int


def _sands(now_us: int, at: int | None) -> str:
    if at is None:
        return "[disabled]"
    left = max(0, at - now_us)
    return f"{left // US}.{left % US:06d}"


def session_lines(view: SessionView, now_us: int) -> list[str]:
    p, s = view.plan, view.session
    cfg, ep = p.cfg, p.endpoint
    lines = [f" BFD Instance = {cfg.name}", f"   Neighbor IP = {ep.neighbor}"]
    if ep.source is not None:
        lines.append(f"   Source IP = {ep.source}")
    lines += [
        f"   Required min RX interval = {cfg.min_rx_us} us",
        f"   Desired min TX interval = {cfg.min_tx_us} us",
        f"   Desired idle TX interval = {cfg.idle_tx_us} us",
        f"   Detection multiplier = {cfg.multiplier}",
        f"   {'TTL' if ep.neighbor.version == 4 else 'hoplimit'} = {cfg.ttl}",
        f"   max_hops = {cfg.max_hops}",
        f"   passive = {'true' if cfg.passive else 'false'}",
        f"   send event to VRRP process = {'Yes' if p.notify_vrrp else 'No'}",
        f"   send event to checker process = {'Yes' if p.notify_checker else 'No'}",
        f"   sands_out = {_sands(now_us, s.tx_at)}",
        f"   sands_exp = {_sands(now_us, s.expire_at)}",
        f"   sands_rst = {_sands(now_us, s.reset_at)}",
        f"   send error = {'true' if view.send_error else 'false'}",
        f"   local state = {s.state.label}",
        f"   remote state = {s.remote_state.label}",
        f"   local discriminator = 0x{s.local_discr:x}",
        f"   remote discriminator = 0x{s.remote_discr:x}",
        f"   local diag = {s.local_diag.text}",
        f"   remote diag = {s.remote_diag.text}",
        f"   remote min tx intv = {s.remote_min_tx_us} us",
        f"   remote min rx intv = {s.remote_min_rx_us} us",
        "   local demand = 0",
        f"   remote demand = {int(s.remote_demand)}",
        f"   remote detect multiplier = {s.remote_mult}",
        f"   {'' if s.poll else '!'}poll, {'' if s.final else '!'}final",
        f"   local tx intv = {s.local_tx_us} us",
        f"   remote tx intv = {s.remote_tx_us} us",
        f"   local detection time = {s.detect_us} us",
        f"   remote detection time = {s.remote_detect_us} us",
    ]
    if s.last_rx is None:
        lines.append("   last_seen = [never]")
    else:
        lines.append(f"   last seen = {(now_us - s.last_rx) / US:.6f} seconds ago")
    c = s.counters
    lines.append(f"   packets rx = {c.rx}, tx = {c.tx} (final {c.tx_final}), tx errors = {view.tx_errors}, "
                 f"up events = {c.up_events}, down events = {c.down_events}, "
                 f"polls = {c.polls_started} started / {c.polls_done} done")
    return lines


def data_text(views: Iterable[SessionView], drops: Mapping[str, int], rx_datagrams: int, now_us: int) -> str:
    lines = ["------< BFD Topology >------"]
    for view in views:
        lines += session_lines(view, now_us)
    lines.append("------< BFD receive drops >------")
    lines.append(f" Datagrams received = {rx_datagrams}")
    for reason, n in drops.items():
        lines.append(f" {reason} = {n}")
    return "\n".join(lines) + "\n"
