"""keepalived 2.2.7's no_accept / vrrp_strict nftables ruleset beside keepalived_py.net.nft's.

In namespaces of our own: router A (kpnA) and a peer B (kpnB) on one veth pair. For each
config, real keepalived runs on A alone (it becomes MASTER), is reloaded (one VIP fewer), is
pushed to BACKUP by a higher-priority keepalived on B, then stopped; at each step the ruleset
of A is captured as `nft -j list ruleset` and as nft's netlink bytecode (`--debug=netlink`).
Then keepalived_py.net.nft, driven in a process of its own as the vrrp child would drive it,
goes through the same states (with a kill -9 and a respawn while MASTER); the captures must be
equal, handles and counter values aside. Traffic from B to the VIPs on a MASTER A is dropped
or accepted the same way under both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.lab.poll import wait_until
from tests.envcheck import keepalived_binary, need_netns

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent
SUFFIX = f"{os.getpid() % 100000}"
NS_A, NS_B = f"kpynft{SUFFIX}a", f"kpynft{SUFFIX}b"
IF_A, IF_B = f"kpnA{SUFFIX}", f"kpnB{SUFFIX}"
PORT = 8765


def need_nftables() -> None:
    """nft (for reading rulesets) and libnftables.so.1 (the adapter): Debian's nftables package."""
    need_netns()
    if not shutil.which("nft"):
        pytest.skip("needs nftables' `nft` (apt-get install nftables; `make install` does it)")
    try:
        import ctypes
        ctypes.CDLL("libnftables.so.1")
    except OSError as e:
        pytest.skip(f"needs libnftables.so.1 (apt-get install nftables): {e}")
    probe = subprocess.run(["unshare", "-n", "nft", "list", "ruleset"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"nf_tables unusable in a network namespace: {probe.stderr.strip()}")


# ---------------------------------------------------------------- configs

STRICT = """
global_defs {{
  router_id {rid}
  vrrp_strict
}}
vrrp_instance V4 {{
  state BACKUP
  interface {ifname}
  virtual_router_id 51
  priority {prio}
  advert_int 1
  version 3
  virtual_ipaddress {{
    192.0.2.100/24
{extra_vip}  }}
  virtual_ipaddress_excluded {{
    2001:db8::100/64
    fe80::100/64
  }}
}}
vrrp_instance V6 {{
  state BACKUP
  interface {ifname}
  virtual_router_id 52
  priority {prio}
  advert_int 1
  virtual_ipaddress {{
    fe80::52/64
    2001:db8::52/64
  }}
}}
"""

NO_ACCEPT_NAMED = """
global_defs {{
  router_id {rid}
  nftables kpy_t
  nftables_priority 5
  nftables_counters
}}
vrrp_instance V6 {{
  state BACKUP
  interface {ifname}
  dont_track_primary
  no_accept
  virtual_router_id 52
  priority {prio}
  advert_int 1
  virtual_ipaddress {{
    fe80::52/64
    fe80::53/64 dev lo
    2001:db8::52/64
{extra_vip}  }}
}}
vrrp_instance A4 {{
  state BACKUP
  interface {ifname}
  virtual_router_id 53
  priority {prio}
  advert_int 1
  no_accept
  virtual_ipaddress {{
    192.0.2.53/24
  }}
}}
"""

VMAC_STRICT = """
global_defs {{
  router_id {rid}
  vrrp_strict
}}
vrrp_instance V4 {{
  state BACKUP
  interface {ifname}
  use_vmac
  virtual_router_id 51
  priority {prio}
  advert_int 1
  version 3
  virtual_ipaddress {{
    192.0.2.100/24
{extra_vip}  }}
  virtual_ipaddress_excluded {{
    2001:db8::100/64
  }}
}}
vrrp_instance V6 {{
  state BACKUP
  interface {ifname}
  use_vmac vrrp6.52
  dont_track_primary
  virtual_router_id 52
  priority {prio}
  advert_int 1
  virtual_ipaddress {{
    fe80::52/64
    2001:db8::52/64
  }}
}}
"""

ACCEPT = """
global_defs {{
  router_id {rid}
}}
vrrp_instance V4 {{
  state BACKUP
  interface {ifname}
  virtual_router_id 51
  priority {prio}
  advert_int 1
  virtual_ipaddress {{
    192.0.2.100/24
{extra_vip}  }}
}}
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    template: str
    table: str
    instances: tuple[str, ...]
    extra_vip: str  # present at start, gone after the reload
    probes: tuple[str, ...]  # VIPs B connects to while A is MASTER
    dropped: bool  # traffic to them is dropped on a MASTER A
    vmacs: tuple[str, ...] = ()  # macvlans keepalived makes on A (our test makes them for ours)

    def conf(self, node: str, reload: bool = False) -> str:
        ifname, prio = (IF_A, 100) if node == "a" else (IF_B, 200)
        extra = "" if reload else f"    {self.extra_vip}\n"
        return self.template.format(rid=node, ifname=ifname, prio=prio, extra_vip=extra)


SCENARIOS = [
    Scenario("strict", STRICT, "keepalived", ("V4", "V6"), "192.0.2.101/32 dev lo",
             ("192.0.2.100", "2001:db8::52", "2001:db8::100"), True),
    Scenario("no_accept_named", NO_ACCEPT_NAMED, "kpy_t", ("V6", "A4"), "2001:db8::54/64",
             ("192.0.2.53", "2001:db8::52"), True),
    Scenario("vmac_strict", VMAC_STRICT, "keepalived", ("V4", "V6"), "192.0.2.102/24",
             ("192.0.2.100", "2001:db8::52"), True, ("vrrp.51", "vrrp6.52")),
    Scenario("accept", ACCEPT, "keepalived", ("V4",), "192.0.2.101/24", ("192.0.2.100",), False),
]


# ---------------------------------------------------------------- namespaces and processes

def sh(*args: str, check: bool = True, ns: str | None = None) -> subprocess.CompletedProcess:
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=30)


def setup_namespaces() -> None:
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", IF_A, "netns", NS_A, "type", "veth", "peer", "name", IF_B, "netns", NS_B)
    for ns, ifname, v4, v6 in ((NS_A, IF_A, "192.0.2.1/24", "2001:db8::1/64"),
                               (NS_B, IF_B, "192.0.2.2/24", "2001:db8::2/64")):
        sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "addr", "add", v4, "dev", ifname, ns=ns)
        sh("ip", "addr", "add", v6, "dev", ifname, "nodad", ns=ns)
        sh("ip", "link", "set", ifname, "up", ns=ns)


def teardown_namespaces() -> None:
    for ns in (NS_A, NS_B):
        sh("ip", "netns", "del", ns, check=False)


def stop_process(p: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


class Keepalived:
    def __init__(self, ns: str, workdir: Path, name: str, conf: str):
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "keepalived.conf"
        self.conf.write_text(conf)
        self.log = self.dir / "log"
        cmd = ["ip", "netns", "exec", ns, keepalived_binary(), "-n", "-l", "-D", "--vrrp", "-f", str(self.conf),
               "-p", str(self.dir / "k.pid"), "-r", str(self.dir / "v.pid")]
        self.proc = subprocess.Popen(cmd, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.text(), re.M))

    def reload(self, conf: str) -> None:
        self.conf.write_text(conf)
        self.proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        stop_process(self.proc)


DRIVER = r"""
import sys
from keepalived_py.config import load_text
from keepalived_py.net.nft import NftFirewall
from keepalived_py.net.nft_libnftables import LibNftables
fw = NftFirewall(LibNftables())
for line in sys.stdin:
    cmd, *args = line.split()
    if cmd == "start":
        fw.start(load_text(open(args[0]).read()).config)
    elif cmd == "reload":
        fw.reload(load_text(open(args[0]).read()).config)
    elif cmd == "state":
        fw.instance_state(args[0], args[1])
    elif cmd == "stop":
        fw.stop()
    print("ok", flush=True)
"""


class Driver:
    """keepalived_py.net.nft in a process in namespace A, driven as the vrrp child would."""

    def __init__(self, ns: str):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", DRIVER],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=ROOT)

    def __call__(self, *words: str) -> None:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(" ".join(words) + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        assert reply == "ok\n", f"{words}: {reply!r} {self.proc.stderr.read() if self.proc.poll() else ''}"

    def close(self, sig: int = signal.SIGTERM) -> None:
        stop_process(self.proc, sig)


# ---------------------------------------------------------------- captures, normalised independently of nft.py

def listing(ns: str) -> dict:
    return json.loads(sh("nft", "-j", "list", "ruleset", ns=ns).stdout)


def elements(ns: str) -> int:
    """Elements in the vips* sets: 0 means no VIP is filtered."""
    return sum(len(i["set"].get("elem", ())) for i in listing(ns)["nftables"]
               if "set" in i and i["set"]["name"].startswith("vips"))


def normal_json(doc: dict) -> list:
    out = []
    for item in doc["nftables"]:
        (kind, body), = item.items()
        if kind == "metainfo":
            continue
        body = {k: v for k, v in body.items() if k != "handle"}
        if kind == "set" and "elem" in body:
            body["elem"] = sorted(json.dumps(e, sort_keys=True) for e in body["elem"])
        if kind == "rule":
            body["expr"] = [{"counter": None} if "counter" in x else x for x in body["expr"]]
        out.append(json.dumps({kind: body}, sort_keys=True))
    return sorted(out, key=lambda x: '"family": "ip6"' in x)  # per table; tables in either order


def bytecode(ns: str) -> list[str]:
    """nft --debug=netlink: the expressions as the kernel holds them; rule handles/positions
    and counter values dropped, set elements sorted (their order is the kernel's)."""
    text = sh("nft", "--debug=netlink", "list", "ruleset", ns=ns).stdout
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("table "):
            break  # the listing that follows is compared as JSON
        if not line.strip():
            continue
        if line[0] not in " \t":
            line = re.sub(r"^(ip6? \S+ [\w-]+)( \d+)+$", r"\1", line)
            blocks.append([line])
        else:
            blocks[-1].append(re.sub(r"counter pkts \d+ bytes \d+", "counter", line.strip()))
    names = {str(i["ifindex"]): i["ifname"] for i in json.loads(sh("ip", "-j", "link", ns=ns).stdout)}
    flat = []
    for b in blocks:
        body = b[1:]
        if re.search(r"@vmac_(map|set)$", b[0]):
            # interface indexes: our VMACs are made anew for our run, so compare their names
            body = [re.sub(r"\b[0-9a-f]{8}\b", lambda m: names.get(str(int(m[0], 16)), m[0]), x) for x in body]
        if "@" in b[0]:
            body = sorted(body)  # set elements
        elif any("oifkind" in x for x in body):
            # keepalived's VMAC rules use register 2 where nft picks 1, and load the dup
            # address before the oifkind compare where nft loads it after: the same
            # expressions, compared without data register numbers (and, with dup, order)
            body = [re.sub(r"reg [1-9]\d*", "reg _", x) for x in body]
            if any(x.startswith("[ dup ") for x in body):
                body = sorted(body)
        flat.append(b[0] + "|" + "|".join(body))
    return sorted(flat, key=lambda x: x.startswith("ip6 "))  # per table; tables in either order


def snapshot(ns: str) -> tuple[list, list[str]]:
    return normal_json(listing(ns)), bytecode(ns)


# ---------------------------------------------------------------- traffic

LISTENER = r"""
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.close()
"""

CONNECT = r"""
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5).close()
    print("accepted")
except OSError as e:
    print("dropped" if isinstance(e, TimeoutError) else f"error {e}")
"""


def reach(vips: tuple[str, ...]) -> dict[str, str]:
    """From B, a TCP connect to each VIP on A: accepted, dropped (timeout) or error."""
    return {v: sh(sys.executable, "-c", CONNECT, v, str(PORT), ns=NS_B).stdout.strip() for v in vips}


# ---------------------------------------------------------------- the runs

def run_keepalived(sc: Scenario, work: Path) -> dict[str, object]:
    caps: dict[str, object] = {}
    a = Keepalived(NS_A, work, "ka-a", sc.conf("a"))
    b = None
    try:
        wait_until(lambda: a.count(r"Entering BACKUP STATE \(init\)$") >= len(sc.instances), 20, step=0.1, what="keepalived start")
        time.sleep(0.3)
        caps["start"] = snapshot(NS_A)
        if sc.dropped:
            wait_until(lambda: a.count(r"setting firewall drop rule$") >= len(sc.instances), 20, step=0.1, what="keepalived MASTER")
            wait_until(lambda: elements(NS_A) > 0, 5, step=0.1, what="keepalived's VIPs in the sets")
        else:
            wait_until(lambda: a.count(r"Entering MASTER STATE$") >= len(sc.instances), 20, step=0.1, what="keepalived MASTER")
        time.sleep(0.5)  # VIPs and sets settle (all in the same event, but be safe)
        caps["master"] = snapshot(NS_A)
        caps["reach"] = reach(sc.probes)
        n = elements(NS_A)
        a.reload(sc.conf("a", reload=True))
        wait_until(lambda: a.count(r"Reload finished|Reloading") >= 1, 10, step=0.1, what="keepalived reload")
        if sc.dropped:
            wait_until(lambda: elements(NS_A) == n - 1, 10, step=0.1, what="keepalived reload dropping one element")
        time.sleep(0.5)
        caps["reload"] = snapshot(NS_A)
        b = Keepalived(NS_B, work, "ka-b", sc.conf("b", reload=True))
        wait_until(lambda: a.count(r"\) Entering BACKUP STATE$") >= len(sc.instances), 20, step=0.1, what="keepalived BACKUP")
        if sc.dropped:
            wait_until(lambda: elements(NS_A) == 0, 10, step=0.1, what="keepalived removing the elements")
        time.sleep(0.5)
        caps["backup"] = snapshot(NS_A)
        a.stop()
        caps["stop"] = snapshot(NS_A)
        assert a.proc.returncode == 0, a.text()[-3000:]
    finally:
        a.stop()
        if b is not None:
            b.stop()
    return caps


def probe_vips(op: str, sc: Scenario) -> None:
    """The vrrp runtime's part for the probed VIPs (our module only touches nft)."""
    for v in sc.probes:
        extra = ["nodad"] if ":" in v and op == "add" else []
        sh("ip", "addr", op, f"{v}/{24 if '.' in v else 64}", "dev", IF_A, *extra, ns=NS_A)


def run_ours(sc: Scenario, work: Path) -> dict[str, object]:
    caps: dict[str, object] = {}
    work.mkdir(parents=True, exist_ok=True)
    conf, conf2 = work / "py.conf", work / "py-reload.conf"
    conf.write_text(sc.conf("a"))
    conf2.write_text(sc.conf("a", reload=True))
    for vmac in sc.vmacs:  # the runtime makes the VMACs before starting the firewall
        sh("ip", "link", "add", vmac, "link", IF_A, "type", "macvlan", "mode", "private", ns=NS_A)
        sh("ip", "link", "set", vmac, "up", ns=NS_A)
    drv = Driver(NS_A)
    try:
        drv("start", str(conf))
        for name in sc.instances:
            drv("state", name, "BACKUP")  # initial state, as keepalived starts in BACKUP
        caps["start"] = snapshot(NS_A)
        for name in sc.instances:
            drv("state", name, "MASTER")
        probe_vips("add", sc)
        time.sleep(0.3)
        caps["master"] = snapshot(NS_A)
        caps["reach"] = reach(sc.probes)
        # the vrrp child crashes while MASTER and is respawned: the table is adopted as is
        drv.close(signal.SIGKILL)
        drv = Driver(NS_A)
        drv("start", str(conf))
        caps["respawn"] = snapshot(NS_A)
        drv("reload", str(conf2))
        caps["reload"] = snapshot(NS_A)
        probe_vips("del", sc)
        for name in sc.instances:
            drv("state", name, "BACKUP")
        caps["backup"] = snapshot(NS_A)
        drv("stop")
        caps["stop"] = snapshot(NS_A)
    finally:
        drv.close()
        for vmac in sc.vmacs:
            sh("ip", "link", "del", vmac, ns=NS_A, check=False)
    return caps


@pytest.fixture
def namespaces():
    need_nftables()
    keepalived_binary()
    teardown_namespaces()
    setup_namespaces()
    try:
        yield
    finally:
        teardown_namespaces()


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_ruleset_and_traffic_match_keepalived(namespaces, tmp_path, sc: Scenario):
    listener = subprocess.Popen(["ip", "netns", "exec", NS_A, sys.executable, "-c", LISTENER, str(PORT)],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout and listener.stdout.readline() == "ready\n"
        ka = run_keepalived(sc, tmp_path / "ka")
        assert normal_json(listing(NS_A)) == [], "keepalived left rules behind"
        ours = run_ours(sc, tmp_path / "py")
    finally:
        stop_process(listener)

    # keepalived's own behaviour, so that an empty comparison cannot pass by accident
    master_json = ka["master"][0]
    if sc.dropped:
        assert any(f'"{sc.table}"' in x and '"elem"' in x for x in master_json), master_json
        assert set(ka["reach"].values()) == {"dropped"}, ka["reach"]
    else:
        assert master_json == [] and set(ka["reach"].values()) == {"accepted"}, (master_json, ka["reach"])
    assert ka["stop"] == ([], [])

    for step in ("start", "master", "reload", "backup", "stop"):
        assert ours[step][0] == ka[step][0], f"{step}: JSON listing differs"
        assert ours[step][1] == ka[step][1], f"{step}: netlink bytecode differs"
    assert ours["respawn"] == ours["master"], "a respawned child must adopt the table unchanged"
    assert ours["reach"] == ka["reach"]


def test_stop_leaves_other_tables_alone(namespaces, tmp_path):
    sh("nft", "add", "table", "inet", "keepalived", ns=NS_A)  # same name, another family: not ours
    sh("nft", "add", "table", "ip", "mine", ns=NS_A)
    conf = tmp_path / "k.conf"
    conf.write_text(SCENARIOS[0].conf("a"))
    drv = Driver(NS_A)
    try:
        drv("start", str(conf))
        drv("state", "V4", "MASTER")
        names = {(i["table"]["family"], i["table"]["name"]) for i in listing(NS_A)["nftables"] if "table" in i}
        assert {("ip", "keepalived"), ("ip6", "keepalived")} <= names
        drv("stop")
    finally:
        drv.close()
    names = {(i["table"]["family"], i["table"]["name"]) for i in listing(NS_A)["nftables"] if "table" in i}
    assert names == {("inet", "keepalived"), ("ip", "mine")}


ATOMIC = r"""
from keepalived_py.net.nft import NftFirewall
from keepalived_py.net.nft_libnftables import LibNftables, NftError
from keepalived_py.net.nft_ruleset import Member
lib = LibNftables()
assert lib.list_table("ip6", "keepalived") is None
fw = NftFirewall(lib)
from keepalived_py.config import load_text
import sys
fw.start(load_text(open(sys.argv[1]).read()).config)
fw.instance_state("V4", "MASTER")
before = lib.list_table("ip6", "keepalived")
fw.addresses["V6"] = (Member("ip6", "vips_link_local", ("fe80::9", "nosuchif0")),)
try:
    fw.instance_state("V6", "MASTER")
except NftError as e:
    print("refused:", e)
assert lib.list_table("ip6", "keepalived") == before, "a failed transaction changed the table"
print("unchanged")
"""


def test_a_refused_transaction_changes_nothing(namespaces, tmp_path):
    conf = tmp_path / "k.conf"
    conf.write_text(SCENARIOS[0].conf("a"))
    r = sh(sys.executable, "-c", ATOMIC, str(conf), ns=NS_A, check=False)
    assert r.returncode == 0, r.stderr
    assert "refused:" in r.stdout and "Interface does not exist" in r.stdout, r.stdout
    assert r.stdout.rstrip().endswith("unchanged")
