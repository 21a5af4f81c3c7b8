"""Virtual server state as keepalived 2.2.7's ipwrapper.c keeps it (pure, no I/O).

A `Pool` holds every virtual server's real servers, their checkers' up/down and weight
offsets, the quorum state and the sorry server. Events go in (`start()`, `checker()` with a
hysteresis Verdict, `weight()`, `stop()`); decisions come out: keepalived's log lines,
notify requests (notify_up/down, quorum_up/down scripts and the FIFO lines), smtp alerts,
and `DestChanged` whenever the desired IPVS destination of a real server or sorry server
changes. `destinations(vs)` is the desired table for one virtual server at any time.

keepalived's rules, which this follows:
- a real server is alive when none of its checkers is down (a real server without checkers
  is alive from the start); an alpha checker starts down, so its server starts out of the
  pool (ipwrapper.c init_service_rs, update_svr_checker_state, set_checker_state);
- its weight is the configured weight plus the offsets of MISC_CHECK misc_dynamic and
  FILE_CHECK weights, clamped to 0..INT32_MAX (real_weight);
- quorum: the sum of alive weights; gained when >= quorum + hysteresis, lost when it falls
  to 0 or below quorum - hysteresis (update_quorum_state, update_vs_notifies);
- while quorum is down and a sorry server is set, the sorry server is the only live
  destination (the alive real servers are removed from the pool, perform_quorum_state);
- inhibit_on_failure keeps a failed real server in the table with weight 0 instead of
  removing it (ipvswrapper.c ipvs_cmd); sorry_server_inhibit does the same for the sorry
  server, which is then in the table from the start with weight 0;
- on stop, every destination goes; with omega, the down notifies and quorum_down run too.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from keepalived_py.check.hysteresis import Verdict

WEIGHT_LIMIT = 2**31 - 1


def real_weight(effective: int) -> int:
    """ipvs weight from an effective weight (check_data.h real_weight)."""
    return 0 if effective < 0 else min(effective, WEIGHT_LIMIT)


# --------------------------------------------------------------------------- configuration
@dataclass(frozen=True, slots=True)
class RsConfig:
    """A real (or sorry) server: `key` is what the IPVS plan knows it by ((address, port)),
    `label` keepalived's FMT_RS ("[192.0.2.1]:tcp:80"), `checkers` its checker ids."""

    key: Hashable
    label: str
    weight: int = 1
    inhibit: bool = False
    smtp_alert: bool = False
    checkers: tuple[Hashable, ...] = ()


@dataclass(frozen=True, slots=True)
class VsConfig:
    key: Hashable
    label: str
    real_servers: tuple[RsConfig, ...] = ()
    quorum: int = 1
    hysteresis: int = 0
    omega: bool = False
    smtp_alert: bool = False
    sorry: RsConfig | None = None


def effective_quorum(quorum: int, hysteresis: int, weights: list[int] | tuple[int, ...]) -> tuple[int, int]:
    """check_data.c: quorum is cut to the sum of the real servers' weights, hysteresis to
    quorum - 1 (keepalived warns about both when it reads the configuration)."""
    total = sum(weights)
    if quorum > total:
        quorum = total
    if hysteresis >= quorum:
        hysteresis = max(quorum - 1, 0)
    return quorum, hysteresis


# --------------------------------------------------------------------------- decisions
@dataclass(frozen=True, slots=True)
class Log:
    text: str


@dataclass(frozen=True, slots=True)
class DestChanged:
    """The desired IPVS destination `rs` of virtual server `vs`: its weight, None: absent."""

    vs: Hashable
    rs: Hashable
    weight: int | None


@dataclass(frozen=True, slots=True)
class NotifyRs:
    """Run the real server's notify_up / notify_down and write "RS <rs> <vs> UP|DOWN" to the
    notify FIFOs; `stopping`: at shutdown (keepalived then kills the script after 1 s)."""

    vs: Hashable
    rs: Hashable
    up: bool
    stopping: bool = False
    fifo_line: str = ""


@dataclass(frozen=True, slots=True)
class NotifyVs:
    """Run quorum_up / quorum_down and write "VS <vs> UP|DOWN" to the notify FIFOs."""

    vs: Hashable
    up: bool
    stopping: bool = False
    fifo_line: str = ""


@dataclass(frozen=True, slots=True)
class SmtpAlert:
    """An smtp_alert as keepalived sends it: `subject_kind` 'rs' (a checker's message),
    'rs_shut' (a server removed at shutdown) or 'vs' (quorum)."""

    subject_kind: str
    vs: Hashable
    rs: Hashable | None
    state: str | None
    message: str


@dataclass(frozen=True, slots=True)
class QuorumChanged:
    vs: Hashable
    up: bool
    init: bool
    threshold: int
    weight_sum: int


Decision = Log | DestChanged | NotifyRs | NotifyVs | SmtpAlert | QuorumChanged


# --------------------------------------------------------------------------- state
@dataclass(slots=True)
class _Rs:
    cfg: RsConfig
    alive: bool = False
    #: in the IPVS table (keepalived's rs->set)
    in_table: bool = False
    failed: set = field(default_factory=set)
    offsets: dict = field(default_factory=dict)
    #: configured weight + the checkers' offsets (keepalived's effective_weight)
    effective: int = 0

    def __post_init__(self) -> None:
        self.effective = self.cfg.weight

    def set_offset(self, cid: Hashable, offset: int) -> None:
        self.offsets[cid] = offset
        self.effective = self.cfg.weight + sum(self.offsets.values())


@dataclass(slots=True)
class _Vs:
    cfg: VsConfig
    rs: dict
    sorry: _Rs | None
    quorum: int
    hysteresis: int
    quorum_up: bool = False
    stopped: bool = False


class Pool:
    """Every virtual server's state; see the module docstring. Mutable, but pure: no I/O,
    no clock. `rs_init_notifies`, `no_checker_emails`: the global_defs options."""

    def __init__(self, servers: list[VsConfig] | tuple[VsConfig, ...], *, rs_init_notifies: bool = False,
                 no_checker_emails: bool = False) -> None:
        self.rs_init_notifies = rs_init_notifies
        self.no_checker_emails = no_checker_emails
        self._vs: dict[Hashable, _Vs] = {}
        for cfg in servers:
            q, h = effective_quorum(cfg.quorum, cfg.hysteresis, [r.weight for r in cfg.real_servers])
            self._vs[cfg.key] = _Vs(cfg, {r.key: _Rs(r) for r in cfg.real_servers},
                                    _Rs(cfg.sorry) if cfg.sorry else None, q, h)

    # ------------------------------------------------------------------ views
    def destinations(self, vs_key: Hashable) -> dict[Hashable, int]:
        """The desired IPVS destinations of a virtual server: {rs key: weight}."""
        vs = self._vs[vs_key]
        out: dict[Hashable, int] = {}
        if vs.stopped:
            return out
        sorry_live = self._sorry_live(vs)
        for key, rs in vs.rs.items():
            weight = self._dest(rs, vs.quorum_up, sorry_live)
            if weight is not None:
                out[key] = weight
        if vs.sorry is not None:
            weight = self._sorry_dest(vs)
            if weight is not None and (weight or vs.sorry.cfg.key not in out):
                out[vs.sorry.cfg.key] = weight
        return out

    @staticmethod
    def _sorry_live(vs: _Vs) -> bool:
        return vs.sorry is not None and vs.sorry.alive

    @staticmethod
    def _dest(rs: _Rs, quorum_up: bool, sorry_live: bool) -> int | None:
        """One real server's desired weight (None: not in the table) for a quorum state."""
        if rs.alive and (quorum_up or not sorry_live):
            return real_weight(rs.effective)
        if rs.cfg.inhibit and rs.in_table:
            return 0
        return None

    @staticmethod
    def _sorry_dest(vs: _Vs) -> int | None:
        sorry = vs.sorry
        if sorry is None or vs.stopped:
            return None
        if sorry.alive:
            return real_weight(sorry.effective)
        if sorry.cfg.inhibit and sorry.in_table:
            return 0
        return None

    def table(self) -> dict[Hashable, dict[Hashable, int]]:
        return {key: self.destinations(key) for key in self._vs}

    def quorum_up(self, vs_key: Hashable) -> bool:
        return self._vs[vs_key].quorum_up

    def alive(self, vs_key: Hashable, rs_key: Hashable) -> bool:
        return self._vs[vs_key].rs[rs_key].alive

    def has_server(self, vs_key: Hashable, rs_key: Hashable) -> bool:
        vs = self._vs.get(vs_key)
        return vs is not None and rs_key in vs.rs

    def weight_sum(self, vs_key: Hashable) -> int:
        return self._weigh_live(self._vs[vs_key])

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _weigh_live(vs: _Vs) -> int:
        return sum(real_weight(rs.effective) for rs in vs.rs.values() if rs.alive)

    def _tracking_all(self, vs: _Vs, out: list[Decision]):
        """Run a mutation touching every server; add DestChanged for each destination that moved."""
        before = self.destinations(vs.cfg.key)

        def finish() -> None:
            after = self.destinations(vs.cfg.key)
            for key in before.keys() | after.keys():
                if before.get(key) != after.get(key):
                    out.append(DestChanged(vs.cfg.key, key, after.get(key)))
        return finish

    def _tracking(self, vs: _Vs, touched: _Rs, out: list[Decision]):
        """The same for an event on one real server, in time independent of the number of
        servers unless the quorum or sorry server state moves (then every server is looked at)."""
        q0, s0 = vs.quorum_up, self._sorry_live(vs)
        touched_before = self._dest(touched, q0, s0)
        sorry_before = self._sorry_dest(vs)

        def finish() -> None:
            q1, s1 = vs.quorum_up, self._sorry_live(vs)
            if (q0, s0) != (q1, s1):
                for rs in vs.rs.values():
                    if rs is touched:
                        continue
                    before, after = self._dest(rs, q0, s0), self._dest(rs, q1, s1)
                    if before != after:
                        out.append(DestChanged(vs.cfg.key, rs.cfg.key, after))
            after = self._dest(touched, q1, s1)
            if after != touched_before:
                out.append(DestChanged(vs.cfg.key, touched.cfg.key, after))
            sorry_after = self._sorry_dest(vs)
            if vs.sorry is not None and sorry_after != sorry_before:
                out.append(DestChanged(vs.cfg.key, vs.sorry.cfg.key, sorry_after))
        return finish

    def _rs_notifies(self, vs: _Vs, rs: _Rs, out: list[Decision], stopping: bool = False) -> None:
        state = "UP" if rs.alive else "DOWN"
        out.append(NotifyRs(vs.cfg.key, rs.cfg.key, rs.alive, stopping,
                            f"RS {rs.cfg.label} {vs.cfg.label} {state}\n"))

    def _vs_notifies(self, vs: _Vs, init: bool, threshold: int, weight_sum: int, out: list[Decision],
                     stopping: bool = False) -> None:
        if stopping and not vs.cfg.omega:
            return
        up = vs.quorum_up
        out.append(NotifyVs(vs.cfg.key, up, stopping, f"VS {vs.cfg.label} {'UP' if up else 'DOWN'}\n"))
        if vs.cfg.smtp_alert:
            if stopping:
                message = "=> Shutting down <="
            else:
                what = (("Starting with quorum up" if init else "Gained quorum") if up
                        else ("Starting with quorum down" if init else "Lost quorum"))
                message = f"=> {what} {vs.quorum}+{vs.hysteresis}={threshold} <= {weight_sum} <="
            out.append(SmtpAlert("vs", vs.cfg.key, None, "UP" if up else "DOWN", message))

    def _update_quorum(self, vs: _Vs, init: bool, out: list[Decision]) -> None:
        """update_quorum_state()."""
        weight_sum = self._weigh_live(vs)
        threshold = vs.quorum + (-1 if vs.quorum_up else 1) * vs.hysteresis
        label = vs.cfg.label
        if not vs.quorum_up and weight_sum >= threshold:
            vs.quorum_up = True
            out.append(Log(f"Gained quorum {vs.quorum}+{vs.hysteresis}={threshold} <= {weight_sum} for VS {label}"))
            out.append(QuorumChanged(vs.cfg.key, True, init, threshold, weight_sum))
            if vs.sorry is not None and vs.sorry.alive:
                verb = "Disabling" if vs.sorry.cfg.inhibit else "Removing"
                out.append(Log(f"{verb} sorry server {vs.sorry.cfg.label} from VS {label}"))
                vs.sorry.alive = False
                out.append(Log(f"Adding alive servers to the pool for VS {label}"))
            self._vs_notifies(vs, init, threshold, weight_sum, out)
        elif (vs.quorum_up and (not weight_sum or weight_sum < threshold)) or \
                (init and not vs.quorum_up and vs.sorry is not None and not vs.sorry.alive):
            vs.quorum_up = False
            what = "Starting with quorum down" if init else "Lost quorum"
            out.append(Log(f"{what} {vs.quorum}-{vs.hysteresis}={threshold} > {weight_sum} for VS {label}"))
            out.append(QuorumChanged(vs.cfg.key, False, init, threshold, weight_sum))
            if vs.sorry is not None and not vs.sorry.alive:
                verb = "Enabling" if vs.sorry.cfg.inhibit else "Adding"
                out.append(Log(f"{verb} sorry server {vs.sorry.cfg.label} to VS {label}"))
                out.append(Log(f"Removing alive servers from the pool for VS {label}"))
                vs.sorry.alive = True
                vs.sorry.in_table = True
            self._vs_notifies(vs, init, threshold, weight_sum, out)

    def _perform_svr_state(self, vs: _Vs, rs: _Rs, alive: bool, out: list[Decision]) -> None:
        """perform_svr_state(): a real server goes into or out of the pool."""
        if rs.alive == alive:
            return
        inhibit = rs.cfg.inhibit
        verb = ("Enabl" if inhibit else "Add") if alive else ("Disabl" if inhibit else "Remov")
        prep = "of" if inhibit else ("to" if alive else "from")
        out.append(Log(f"{verb}ing service {rs.cfg.label} {prep} VS {vs.cfg.label}"))
        if vs.quorum_up or vs.sorry is None or not vs.sorry.alive:
            rs.in_table = alive or inhibit
        rs.alive = alive
        self._rs_notifies(vs, rs, out)
        self._update_quorum(vs, False, out)

    # ------------------------------------------------------------------ events
    def start(self, initially_down: dict[Hashable, set] | None = None) -> list[Decision]:
        """init_services(): `initially_down` maps (vs, rs) to the ids of its checkers that start
        down (alpha checkers, FILE_CHECKs in fault)."""
        out: list[Decision] = []
        initially_down = initially_down or {}
        for vs in self._vs.values():
            finish = self._tracking_all(vs, out)
            for rs in vs.rs.values():
                rs.failed = set(initially_down.get((vs.cfg.key, rs.cfg.key), ()))
                if not rs.failed and not rs.alive:
                    rs.alive = True
                    rs.in_table = True
                    if self.rs_init_notifies:
                        self._rs_notifies(vs, rs, out)
                elif rs.cfg.inhibit:
                    rs.in_table = True
            self._update_quorum(vs, True, out)
            if vs.sorry is not None and vs.sorry.cfg.inhibit:
                vs.sorry.in_table = True
            finish()
        return out

    def weights(self, vs_key: Hashable, rs_key: Hashable, offsets: dict[Hashable, int]) -> None:
        """Set checkers' initial weight offsets before start() (set_effective_weights())."""
        rs = self._vs[vs_key].rs[rs_key]
        for cid, offset in offsets.items():
            rs.set_offset(cid, offset)

    def checker(self, vs_key: Hashable, rs_key: Hashable, cid: Hashable, verdict: Verdict, *,
                alpha: bool = False, smtp_alert: bool | None = None) -> list[Decision]:
        """update_svr_checker_state(): a checker of (vs, rs) reports `verdict`."""
        out: list[Decision] = []
        vs = self._vs[vs_key]
        rs = vs.rs[rs_key]
        if vs.stopped:
            return out
        finish = self._tracking(vs, rs, out)
        rs_was_alive = rs.alive
        was_up = cid not in rs.failed
        if was_up == verdict.up:
            if verdict.first and (alpha or not verdict.up):
                self._rs_notifies(vs, rs, out)
        else:
            if verdict.up:
                if len(rs.failed) <= 1:
                    self._perform_svr_state(vs, rs, True, out)
                rs.failed.discard(cid)
            else:
                if not rs.failed:
                    self._perform_svr_state(vs, rs, False, out)
                rs.failed.add(cid)
        alerting = rs.cfg.smtp_alert if smtp_alert is None else smtp_alert
        if verdict.alert and alerting and verdict.was_up != verdict.up and \
                (rs_was_alive != rs.alive or not self.no_checker_emails):
            out.append(SmtpAlert("rs", vs_key, rs_key, None, verdict.alert))
        finish()
        return out

    def weight(self, vs_key: Hashable, rs_key: Hashable, cid: Hashable, offset: int, *,
               quiet: bool = False) -> list[Decision]:
        """A checker's weight offset changed (update_svr_wgt(); `quiet`: keepalived adjusts
        the weight without logging, editing the kernel or re-checking quorum)."""
        out: list[Decision] = []
        vs = self._vs[vs_key]
        rs = vs.rs[rs_key]
        if vs.stopped:
            return out
        finish = self._tracking(vs, rs, out)
        old = real_weight(rs.effective)
        rs.set_offset(cid, offset)
        new = real_weight(rs.effective)
        if new != old and not quiet:
            out.append(Log(f"Changing weight from {old} to {new} for {'' if rs.alive else 'in'}active service "
                           f"{rs.cfg.label} of VS {vs.cfg.label}"))
            self._update_quorum(vs, False, out)
        finish()
        return out

    def stop(self) -> list[Decision]:
        """clear_services() (lvs_flush_onstop off): every destination removed, "Shutting down
        service ..." logged, and with omega the down notifies and quorum_down."""
        out: list[Decision] = []
        for vs in self._vs.values():
            finish = self._tracking_all(vs, out)
            if vs.sorry is not None:
                vs.sorry.alive = False
                vs.sorry.in_table = False
            for rs in vs.rs.values():
                prefix = "(inhibited) " if rs.cfg.inhibit and not rs.alive else ""
                out.append(Log(f"Shutting down {prefix}service {rs.cfg.label} from VS {vs.cfg.label}"))
                if not rs.in_table:
                    continue
                rs.in_table = False
                if not rs.alive:
                    continue
                rs.alive = False
                if not vs.cfg.omega:
                    continue
                self._rs_notifies(vs, rs, out, stopping=True)
                if rs.cfg.smtp_alert:
                    out.append(SmtpAlert("rs_shut", vs.cfg.key, rs.cfg.key, "DOWN", "=> Shutting down <="))
            weight_sum = self._weigh_live(vs)
            vs.quorum_up = False
            self._vs_notifies(vs, False, vs.quorum - vs.hysteresis, weight_sum, out, stopping=True)
            vs.stopped = True
            finish()
        return out
