"""The VRRP timers of the same daemon while its userspace dataplane takes a storm (issue 18,
acceptance 2: "the VRRP timers of the same host unaffected").

One keepalived-py daemon is MASTER of a VRRP instance and balances a virtual server on its
VIP with the userspace dataplane (its check child); a second keepalived-py is BACKUP. A
client opens and abandons 10,000 connections to the VIP (RST, half of them after sending
1,000 bytes) through the MASTER's balancer to a real server. On the bridge capture's
timestamps, the MASTER's adverts keep coming: no gap beyond the BACKUP's
Master_Down_Interval (RFC 3768 6.4.2: the bound at which it would take over), the BACKUP
never advertises and the VIP never moves; the balancer still serves afterwards. The leak
side of the same abuse (fds, memory, tables) is test_dataplane_leaks.py.
"""

from __future__ import annotations

import json
import resource
import sys
import textwrap
from pathlib import Path

import pytest

from conformance.lab import vrrp_adverts
from tests.envcheck import need_netns
from tests.integration.test_vrrp_runtime_support import master_down

pytestmark = [pytest.mark.root, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TOPO = """
bridge lan 192.0.2.0/24
router d1 lan
router d2 lan
client c lan
backend b1 lan
"""
VIP = "192.0.2.100"
TOTAL, BATCH = 10_000, 500
PRIO_MASTER, PRIO_BACKUP = 150, 100

SERVER = textwrap.dedent(r"""
    import asyncio, uvloop
    async def serve(reader, writer):
        writer.write(b"hi\n")
        try:
            await reader.read()
        except ConnectionError:
            pass
        writer.close()
    async def main():
        server = await asyncio.start_server(serve, "0.0.0.0", 8080, backlog=4096)
        print("listening", flush=True)
        await server.serve_forever()
    uvloop.run(main())
""")

STORM = textwrap.dedent(r"""
    import asyncio, json, sys, time, uvloop
    vip, total, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    async def main():
        opened = hellos = 0
        await asyncio.sleep(1.5)             # an advert (every 1 s) on the capture first
        t0 = time.time()
        for start in range(0, total, batch):
            writers = []
            for i in range(batch):
                try:
                    r, w = await asyncio.wait_for(asyncio.open_connection(vip, 80), 5)
                except (OSError, asyncio.TimeoutError):
                    continue
                opened += 1
                writers.append((r, w))
                if i % 2:
                    w.write(b"x" * 1000)
            await asyncio.sleep(0.05)
            for r, w in writers:
                w.transport.abort()          # the client vanishes (RST)
        t1 = time.time()
        await asyncio.sleep(1)
        for _ in range(5):                   # still serving
            r, w = await asyncio.wait_for(asyncio.open_connection(vip, 80), 5)
            hellos += await asyncio.wait_for(r.readline(), 5) == b"hi\n"
            w.close()
        print(json.dumps({"opened": opened, "hellos": hellos, "start": t0, "end": t1}))
    uvloop.run(main())
""")


def conf(prio: int, backend: str, balance: bool) -> str:
    vs = f"""
virtual_server {VIP} 80 {{
    delay_loop 2
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server {backend} 8080 {{
        TCP_CHECK {{
            connect_timeout 2
        }}
    }}
}}
""" if balance else ""
    return f"""global_defs {{
    router_id d{prio}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {prio}
    advert_int 1
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
{vs}"""


def test_master_adverts_keep_time_while_its_dataplane_takes_a_storm(lab, implementation):
    need_netns()
    py = implementation("keepalived-py", features=("vrrp", "ipvs"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 8192:  # inherited by the daemons and the storm client started below
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    la = lab(TOPO)
    backend = la.addr("b1")
    la.spawn("b1", [sys.executable, "-c", SERVER], what="server")
    vips = la.watch_addresses(["d1", "d2"])
    extra = ("--lvs-backend=userspace",)
    d1 = la.start_daemon("d1", py, conf(PRIO_MASTER, backend, True), extra=extra)
    assert vips.wait_for(VIP, node="d1", timeout=60) is not None
    d2 = la.start_daemon("d2", py, conf(PRIO_BACKUP, backend, False), extra=extra)
    assert d2.wait_pidfiles(timeout=60)
    cap = la.capture("lan", "vrrp")
    t_cap = la.note("capture")

    r = la.exec("c", [sys.executable, "-c", STORM, VIP, str(TOTAL), str(BATCH)], timeout=240,
                cwd=str(ROOT))
    storm = json.loads(r.stdout.strip().splitlines()[-1])
    frames = cap.stop()
    assert d1.alive() and d2.alive()
    assert storm["opened"] >= 0.95 * TOTAL and storm["hellos"] == 5, storm

    ads = vrrp_adverts(frames)
    master = [a.ts for a in ads if a.src == la.addr("d1") and a.priority == PRIO_MASTER]
    backup = [a for a in ads if a.src == la.addr("d2")]
    # the capture covers the storm, with adverts before and after it
    assert master and master[0] < storm["start"] and master[-1] > storm["end"], (master, storm)
    gaps = [b - a for a, b in zip(master, master[1:], strict=False)]
    bound = master_down(PRIO_BACKUP)
    print(f"storm {storm['opened']} connections in {storm['end'] - storm['start']:.1f} s; "
          f"{len(master)} master adverts, gaps {min(gaps):.3f}..{max(gaps):.3f} s "
          f"(mean {(master[-1] - master[0]) / len(gaps):.3f} s; takeover bound {bound:.3f} s)")
    assert max(gaps) < bound, gaps
    assert not backup, f"the BACKUP advertised (took over) during the storm: {backup[:3]}"
    assert vips.holders(VIP) == {"d1"}
    assert not [e for e in vips.history(VIP) if e.mono >= t_cap], vips.history(VIP)
