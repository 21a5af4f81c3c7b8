"""The no_accept / vrrp_strict filter (net/nft.py) following the instances' states.

Why here: keepalived sets an instance's drop rule before its VIPs are added on entering
MASTER and removes it after they are removed on leaving MASTER (vrrp.c
vrrp_handle_accept_mode()); so the filter's calls go through the kernel queue with the
address work, in that order. The filter (libnftables, blocking) is made the first time a
configuration needs one; at start it adopts what a crashed predecessor left, then every
instance's first state (BACKUP / FAULT) clears what is stale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from keepalived_py.net.nft import settings_from_config
from keepalived_py.track.events import RunNotify
from keepalived_py.vrrpd.kernel_queue import KernelQueue
from keepalived_py.vrrpd.ops import FirewallConfig, FirewallState, FirewallStop

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

MASTER = "MASTER"
STATES = frozenset({"MASTER", "BACKUP", "FAULT", "STOP", "DELETED"})


class FirewallFollower:
    """`factory` makes the NftFirewall; `filters(name)` says whether an instance is
    filtered at all (neither owner nor accepting), for keepalived's -D log lines."""

    def __init__(self, kernel: KernelQueue, log: logging.Logger, factory: Callable[[], Any] | None,
                 filters: Callable[[str], bool], log_detail: bool = False) -> None:
        self.kernel = kernel
        self.log = log
        self.factory = factory
        self.filters = filters
        self.log_detail = log_detail
        self.masters: set[str] = set()

    @property
    def active(self) -> bool:
        return self.kernel.firewall is not None

    def configure(self, config: KeepalivedConfig, start: bool, masters: Iterable[str] = ()) -> None:
        """At start (adopt) or a reload (re-read). A filter first needed at a reload is
        told which instances are MASTER already."""
        created = False
        if self.kernel.firewall is None:
            if self.factory is None or settings_from_config(config) is None:
                return
            try:
                self.kernel.firewall = self.factory()
            except Exception as exc:  # noqa: BLE001 - no libnftables: say so once, go on
                self.log.error(f"nftables unavailable - no_accept/vrrp_strict VIPs are not filtered: {exc}")
                self.factory = None
                return
            created = True
        self.kernel.put(FirewallConfig(config, start or created))
        if created and not start:
            for name in masters:
                self.state(name, MASTER)

    def states(self, actions: Iterable[Any]) -> list[tuple[str, str]]:
        """The instance state changes in a batch of actions."""
        return [(a.name, a.state) for a in actions
                if isinstance(a, RunNotify) and a.kind == "INSTANCE" and a.state in STATES]

    def before(self, changes: list[tuple[str, str]]) -> None:
        for name, state in changes:
            if state == MASTER:
                self.state(name, state)

    def after(self, changes: list[tuple[str, str]]) -> None:
        for name, state in changes:
            if state != MASTER:
                self.state(name, state)

    def state(self, name: str, state: str) -> None:
        if not self.active:
            return
        master = state == MASTER
        if self.log_detail and self.filters(name) and master != (name in self.masters):
            self.log.info(f"({name}) {'sett' if master else 'remov'}ing firewall drop rule")
        if master:
            self.masters.add(name)
        else:
            self.masters.discard(name)
        self.kernel.put(FirewallState(name, state))

    def stop(self) -> None:
        """firewall_fini(): our tables go (with -V too), after everything queued before."""
        if self.active:
            self.kernel.put(FirewallStop())
