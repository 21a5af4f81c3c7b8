"""The IPVS connection sync daemon, driven by the vrrp child as keepalived does.

Why: `lvs_sync_daemon IF INSTANCE ...` (or the deprecated `lvs_sync_daemon_interface IF` in
a vrrp_instance) ties the kernel's IPVS sync daemon to one VRRP instance: at start the
BACKUP daemon runs (vrrp_scheduler.c vrrp_init_state); entering MASTER stops it and starts
the MASTER daemon, leaving MASTER does the reverse (ipvswrapper.c ipvs_syncd_master /
ipvs_syncd_backup); at shutdown the daemon of the current state is stopped before the
instances are released (vrrp_daemon.c). Commands are IPVS generic netlink
IPVS_CMD_NEW_DAEMON / IPVS_CMD_DEL_DAEMON with libipvs's attributes; they go through the
kernel queue in order with the address work.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING, Any

from keepalived_py.lvs import netlink as nl

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

CMD_NEW_DAEMON, CMD_DEL_DAEMON = 9, 10
CMD_ATTR_DAEMON = 3
(ATTR_STATE, ATTR_MCAST_IFN, ATTR_SYNC_ID, ATTR_SYNC_MAXLEN, ATTR_MCAST_GROUP, ATTR_MCAST_GROUP6,
 ATTR_MCAST_PORT, ATTR_MCAST_TTL) = range(1, 9)
STATE_MASTER, STATE_BACKUP = 1, 2
NLA_F_NESTED = 0x8000


@dataclass(frozen=True)
class SyncdConfig:
    ifname: str
    instance: str
    syncid: int
    maxlen: int | None = None
    port: int | None = None
    ttl: int | None = None
    group: IPv4Address | IPv6Address | None = None


def syncd_config(config: KeepalivedConfig) -> SyncdConfig | None:
    """global lvs_sync_daemon, else the first vrrp_instance lvs_sync_daemon_interface (the
    parser's rule: the global one wins, later ones are ignored); None when its instance does
    not exist (keepalived clears the config then). syncid defaults to the named instance's
    VRID, to 0 with lvs_sync_daemon_interface (seen on keepalived 2.2.7 in the guest)."""
    g = config.global_defs
    sd = g.lvs_sync_daemon if g is not None else None
    insts = {i.name: i for i in config.vrrp_instance}
    if sd is not None:
        inst = insts.get(sd.instance or "")
        if inst is None:
            return None
        return SyncdConfig(sd.interface, inst.name, sd.syncid if sd.syncid is not None else
                           (inst.virtual_router_id or 0), sd.maxlen, sd.port, sd.ttl, sd.group)
    for inst in config.vrrp_instance:
        if inst.lvs_sync_daemon_interface:
            # the instance keyword names no instance, so vrrp.c's "syncid = VRID" default
            # (given to lvs_sync_daemon's named instance) does not apply: syncid 0
            return SyncdConfig(inst.lvs_sync_daemon_interface, inst.name, 0)
    return None


def start_attrs(cfg: SyncdConfig, state: int) -> bytes:
    """libipvs ipvs_start_daemon(): state, interface, sync id, and what is set."""
    body = nl.nla(ATTR_STATE, state.to_bytes(4, "little")) + nl.nla(ATTR_MCAST_IFN, cfg.ifname.encode() + b"\0")
    body += nl.nla(ATTR_SYNC_ID, cfg.syncid.to_bytes(4, "little"))
    if cfg.maxlen:
        body += nl.nla(ATTR_SYNC_MAXLEN, cfg.maxlen.to_bytes(2, "little"))
    if isinstance(cfg.group, IPv4Address):
        body += nl.nla(ATTR_MCAST_GROUP, cfg.group.packed)
    elif isinstance(cfg.group, IPv6Address):
        body += nl.nla(ATTR_MCAST_GROUP6, cfg.group.packed)
    if cfg.port:
        body += nl.nla(ATTR_MCAST_PORT, cfg.port.to_bytes(2, "big"))
    if cfg.ttl:
        body += nl.nla(ATTR_MCAST_TTL, cfg.ttl.to_bytes(1, "little"))
    return nl.nla(CMD_ATTR_DAEMON | NLA_F_NESTED, body)


def stop_attrs(state: int) -> bytes:
    """libipvs ipvs_stop_daemon(): the state only."""
    return nl.nla(CMD_ATTR_DAEMON | NLA_F_NESTED, nl.nla(ATTR_STATE, state.to_bytes(4, "little")))


def master_commands(cfg: SyncdConfig) -> list[tuple[int, bytes]]:
    return [(CMD_DEL_DAEMON, stop_attrs(STATE_BACKUP)), (CMD_NEW_DAEMON, start_attrs(cfg, STATE_MASTER))]


def backup_commands(cfg: SyncdConfig) -> list[tuple[int, bytes]]:
    return [(CMD_DEL_DAEMON, stop_attrs(STATE_MASTER)), (CMD_NEW_DAEMON, start_attrs(cfg, STATE_BACKUP))]


class NetlinkSyncd:
    """Sends the commands on the IPVS generic netlink family (lvs.kernel's socket)."""

    def __init__(self) -> None:
        from keepalived_py.lvs.kernel import NetlinkIpvs
        self._ipvs = NetlinkIpvs()

    async def __call__(self, cmd: int, attrs: bytes) -> None:
        await self._ipvs.command(cmd, attrs)

    async def close(self) -> None:
        await self._ipvs.close()


class SyncdFollower:
    """Keeps the sync daemon in step with its instance, through the kernel queue (`put`
    takes an ops.Syncd). `factory` makes the netlink sender the first time one is needed."""

    def __init__(self, kernel: Any, factory: Any = NetlinkSyncd) -> None:
        self.kernel = kernel
        self.factory = factory
        self.cfg: SyncdConfig | None = None
        self.master = False

    def _put(self, commands: list[tuple[int, bytes]]) -> None:
        from keepalived_py.vrrpd.ops import Syncd
        if self.kernel.syncd is None:
            self.kernel.syncd = self.factory()
        for cmd, attrs in commands:
            self.kernel.put(Syncd(cmd, attrs, self.cfg.instance if self.cfg else None))

    def configure(self, config: KeepalivedConfig, start: bool) -> None:
        cfg = syncd_config(config)
        if start:
            self.cfg, self.master = cfg, False
            if cfg is not None:
                self._put([(CMD_NEW_DAEMON, start_attrs(cfg, STATE_BACKUP))])
            return
        if cfg == self.cfg:
            return
        state = STATE_MASTER if self.master else STATE_BACKUP
        if self.cfg is not None:
            self._put([(CMD_DEL_DAEMON, stop_attrs(state))])
        self.cfg = cfg
        if cfg is not None:
            self._put([(CMD_NEW_DAEMON, start_attrs(cfg, state))])

    def states(self, changes: list[tuple[str, str]]) -> None:
        """Instance state changes (name, state) as the runtime executes them."""
        if self.cfg is None:
            return
        for name, state in changes:
            if name != self.cfg.instance:
                continue
            if state == "MASTER" and not self.master:
                self.master = True
                self._put(master_commands(self.cfg))
            elif state != "MASTER" and self.master:
                self.master = False
                self._put(backup_commands(self.cfg))

    def stop(self) -> None:
        """Before the instances are released: stop the daemon of the current state."""
        if self.cfg is not None:
            self._put([(CMD_DEL_DAEMON, stop_attrs(STATE_MASTER if self.master else STATE_BACKUP))])
        self.cfg = None
