"""Shared pieces for the VRRP runtime and interop lab tests (no tests here).

Timings are measured the way the acceptance states them: from the backup's reference
advert (the master's last advert before a kill -9, or its priority 0 advert on TERM; pcap
time) to the backup taking over. Two measures: `delay` to the VIP appearing (netlink
observer time: read by a thread of the test process, so a stall of the test process on a
busy machine shows up in it), and `advert_delay` to the new master's first advert (pcap
time, stamped by the kernel on the bridge: immune to such stalls). The new master sends that
advert and then adds its VIP, in that order (keepalived's vrrp_state_goto_master).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.lab import read_pcap, vrrp_adverts
from conformance.lab.poll import wait_until  # noqa: F401 - the tests import it from here

TWO_ROUTERS = """
bridge lan 192.0.2.0/24 2001:db8:0:1::/64
router r1 lan
router r2 lan
"""
VIP = "192.0.2.100"
VIP6 = "2001:db8:0:1::100"


def vrrp_conf(*, name: str = "VI_1", prio: int, vrid: int = 51, vips: tuple[str, ...] = (f"{VIP}/24",),
              version: int | None = None, advert: float = 1, unicast_src: str | None = None,
              peers: tuple[str, ...] = (), nopreempt: bool = False, iface: str = "eth0",
              extra: str = "", global_extra: str = "", router_id: str = "r") -> str:
    lines = [f"global_defs {{\n    router_id {router_id}\n{global_extra}}}\n",
             f"vrrp_instance {name} {{",
             "    state BACKUP",
             f"    interface {iface}",
             f"    virtual_router_id {vrid}",
             f"    priority {prio}",
             f"    advert_int {advert}"]
    if version is not None:
        lines.append(f"    version {version}")
    if nopreempt:
        lines.append("    nopreempt")
    if unicast_src:
        lines.append(f"    unicast_src_ip {unicast_src}")
    if peers:
        lines.append("    unicast_peer {")
        lines += [f"        {p}" for p in peers]
        lines.append("    }")
    lines.append("    virtual_ipaddress {")
    lines += [f"        {v}" for v in vips]
    lines.append("    }")
    if extra:
        lines.append(extra)
    lines.append("}")
    return "\n".join(lines) + "\n"


def master_down(prio: int, advert: float = 1.0, version: int = 2) -> float:
    if version == 3:
        return 3 * advert + ((256 - prio) * int(round(advert * 100))) / 25600
    return 3 * advert + (256 - prio) / 256


def skew(prio: int, advert: float = 1.0, version: int = 2) -> float:
    if version == 3:
        return ((256 - prio) * int(round(advert * 100))) / 25600
    return (256 - prio) / 256


#: how late a new master's first advert may be after its down interval: its scheduling
#: latency on a loaded 2-core machine. The down interval itself is exact on the fake clock
#: (tests/unit/vrrp) and matches keepalived's (test_vrrp_timing_differential.py).
LATE = 0.15


def stop_capture_after_takeover(cap, master_ip: str, takeover) -> list:
    """Stop `cap` once the file holds the new master's first advert (tcpdump writes each
    packet at once, -U, and the file is read as it grows) instead of after a fixed sleep."""
    if takeover is not None:
        wait_until(lambda: any(a.src != master_ip and a.priority > 0 for a in vrrp_adverts(read_pcap(cap.path))),
                   5, what="the new master's first advert in the capture")
    return cap.stop()


@dataclass
class Takeover:
    delay: float | None  # reference advert -> VIP on the new master (netlink, test process)
    after_fault: float | None  # fault -> VIP on the new master
    reference: str
    advert_delay: float | None = None  # reference advert -> new master's first advert (pcap)


def measure(lab, frames, takeover, t_fault: float, master_ip: str, prio0: bool) -> Takeover:
    """Delays from the reference advert to `takeover` (an AddrEvent) and to the new
    master's first advert."""
    t_fault_wall = next(w for m, w, _ in lab.journal if m == t_fault)
    adverts = vrrp_adverts(frames)
    if prio0:
        ref = [a.ts for a in adverts if a.ts >= t_fault_wall - 0.01 and a.src == master_ip and a.priority == 0]
        what = "priority 0 advert"
    else:
        # the last advert the master sent before it was frozen and killed
        ref = [a.ts for a in adverts if a.ts < t_fault_wall and a.src == master_ip][-1:]
        what = "last advert before the kill"
    if takeover is None or not ref:
        return Takeover(None, None, what)
    first_new = [a.ts for a in adverts if a.ts > ref[0] and a.src != master_ip and a.priority > 0][:1]
    return Takeover(takeover.wall - ref[0], takeover.mono - t_fault, what,
                    first_new[0] - ref[0] if first_new else None)
