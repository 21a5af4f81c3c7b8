"""BFD sessions across a bfd child respawn or an in-place restart (issue 16), pure.

keepalived does not do this, and neither did we: a new bfd process draws new
discriminators and starts Down, so its first packet (State Down) tells a peer that was Up
"Neighbor Signaled Session Down" (diag 3), or the peer's detection time runs out first
(diag 1); either way the peer and whatever tracks the session on both sides see a flap.
Measured beside keepalived 2.2.7 (README "Restarts without a failover").

What the successor needs to carry an Up session on is what identifies it on the wire and
what was negotiated: its local and the remote discriminator and the peer's advertised
timers. The bfd child records them for each Up session (`record`) in
`<bfd pid file>.state` (vrrpd/adopt.py's StateFile: JSON, rewritten atomically when a
record changes); the successor resumes (`resume`) a session whose record is Up and whose
configuration is unchanged (`digest`): Up at once with those discriminators, a packet
sent at once so the peer's detection time is fed, the event reported Up (children that
restarted with it learn the state; a repeated Up changes nothing for those that did not).
Nothing is assumed beyond that: if the peer went Down meanwhile, its next packet (Down,
or a Your Discriminator we no longer match) brings this session Down by RFC 5880 6.8.6,
and silence expires it after the detection time, as for any Up session.
"""

from __future__ import annotations

from typing import Any

from keepalived_py.bfd.packet import Diag, State
from keepalived_py.bfd.session import Action, Log, Report, Session

#: a record's fields besides "state" and "config", all integers
FIELDS = ("local_discr", "remote_discr", "remote_min_tx_us", "remote_min_rx_us", "remote_mult")


def digest(plan: Any) -> str:
    """The session's configuration (timers, endpoint, ttl, passive) as text (frozen
    dataclasses: a stable repr): a changed one is not resumed, as the peer agreed to the
    old one."""
    return repr((plan.cfg, plan.endpoint))


def record(session: Session, config: str) -> dict[str, Any] | None:
    """What a successor needs to resume `session`; None unless it is Up and knows its peer."""
    if session.state != State.UP or not session.remote_discr or not session.remote_mult:
        return None
    rec: dict[str, Any] = {"state": "UP", "config": config}
    rec.update({f: int(getattr(session, f)) for f in FIELDS})
    return rec


def may_resume(rec: Any, config: str) -> tuple[bool, str]:
    """Resume from this record? (yes/no, why)."""
    if not isinstance(rec, dict) or rec.get("state") != "UP":
        return False, "it was not Up"
    if rec.get("config") != config:
        return False, "its configuration changed"
    if not all(isinstance(rec.get(f), int) and rec[f] > 0 for f in FIELDS):
        return False, "its record is incomplete"
    return True, "it was Up with the same configuration"


def resume(session: Session, rec: dict[str, Any], now: int) -> list[Action]:
    """Instead of Session.start: Up with the predecessor's discriminators and the peer's
    timers as last heard, a packet at once, then every transmit interval; the detection
    timer runs from now (the peer's next packet refreshes it)."""
    for f in FIELDS:
        setattr(session, f, int(rec[f]))
    cfg = session.cfg
    session.state = State.UP
    session.remote_state = State.UP
    session.local_diag = Diag.NONE
    session.remote_diag = Diag.NONE
    session.local_tx_us = max(cfg.min_tx_us, session.remote_min_rx_us)
    session.remote_tx_us = max(cfg.min_rx_us, session.remote_min_tx_us)
    session.detect_us = session.remote_mult * session.remote_tx_us
    session.remote_detect_us = cfg.multiplier * session.local_tx_us
    session.reset_at = None
    session.last_rx = now
    session.expire_at = now + session.detect_us
    session.counters.up_events += 1
    out: list[Action] = [Log("info", f"({session.name}) Resumed Up state (discriminators of the "
                                     f"previous bfd process, detection time {session.detect_us} us)"),
                         Report(session.name, True)]
    if not cfg.passive:
        out.append(session._transmit())
        session._schedule_tx(now)
    return out
