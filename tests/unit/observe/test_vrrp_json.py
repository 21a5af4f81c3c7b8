"""keepalived.json as keepalived 2.2.7's vrrp_json.c writes it, from the runtime's snapshots.

The expected key order, value forms and address lines were taken from the real binary's
file for the same configuration (compact JSON, '/' escaped, %g doubles, "%f"
last_transition, optional keys only when set, VIPs as format_ipaddress() lines with " set"
once installed). The lab test tests/integration/test_observe_json_parity.py compares a live
keepalived with keepalived-py; these pin the form without root, on a fake clock."""

from __future__ import annotations

import asyncio
import json

from keepalived_py.observe.vrrp import (
    JSON_STATS,
    format_address,
    json_objects,
    json_text,
)
from keepalived_py.observe.vrrp_settings import runtime_snapshots
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.snapshot import AddressView
from tests.unit.vrrpd.test_dump_views import WALL_OFFSET, WallRig
from tests.unit.vrrpd.test_runtime import _advert, conf

#: vrrp_json.c's data keys, in its order, that every instance has
ALWAYS = ["iname", "dont_track_primary", "skip_check_adv_addr", "strict_mode", "vmac_ifname",
          "ifp_ifname", "master_priority", "last_transition", "garp_delay", "garp_refresh",
          "garp_rep", "garp_refresh_rep", "garp_lower_prio_delay", "garp_lower_prio_rep",
          "lower_prio_no_advert", "higher_prio_send_advert", "vrid", "base_priority",
          "effective_priority", "vipset", "promote_secondaries", "adver_int", "master_adver_int",
          "accept", "nopreempt", "preempt_delay", "state", "wantstate", "version", "smtp_alert",
          "notify_deleted"]

EXTRA = """
    authentication {
        auth_type PASS
        auth_pass secret12345
    }
    virtual_ipaddress_excluded {
        192.0.2.150/24
        2001:db8::5/64
    }
    garp_master_delay 2
    garp_master_repeat 3
    notify_master "/bin/true master"
    nopreempt
"""


def _run(extra: str, inject: int | None = None, advance: float = 1.0):
    async def go():
        r = WallRig()
        rt = await r.start(conf(prio=100, extra=extra))
        await r.advance(advance)
        if inject is not None:
            r.sock().inject(_advert(inject))
            await r.settle()
        return rt, runtime_snapshots(rt)
    return asyncio.run(go())


def test_key_tree_order_and_forms_as_keepalived_writes_them():
    rt, snaps = _run(EXTRA, inject=200)
    text = json_text(snaps, rt.wall_offset())
    assert text.startswith('[{"data":{"iname":"VI_1","dont_track_primary":0,')
    assert not text.endswith("\n")
    tree = json.loads(text)
    data, stats = tree[0]["data"], tree[0]["stats"]
    assert list(data)[:len(ALWAYS)] == ALWAYS
    assert list(data)[len(ALWAYS):] == ["vips", "evips", "auth_type", "auth_data"]
    assert list(stats) == list(JSON_STATS)
    # the injected advert carries no password: dropped and counted, never heard as master
    assert data["state"] == 1 and data["master_priority"] == 0 and data["vipset"] is False
    assert stats["authtype_mismatch"] == 1 and stats["advert_rcvd"] == 0
    # keepalived: auth_pass keeps 8 characters; a BACKUP's VIPs are not "set"
    assert data["auth_type"] == 1 and data["auth_data"] == "secret12"
    assert data["vips"] == ["192.0.2.100/24 brd 192.0.2.255 dev eth0 scope global label eth0:vip"]
    # the other family's excluded address is still listed (keepalived keeps evips of both)
    assert data["evips"] == ["192.0.2.150/24 dev eth0 scope global",
                             "2001:db8::5/64 dev eth0 scope global preferred_lft forever"]
    # the lower-priority GARP values fall back to the global garp delay/repeat (5, 5), not
    # the instance's garp_master_* (keepalived's vrrp.c; the lab test found this)
    assert (data["garp_delay"], data["garp_rep"], data["garp_lower_prio_delay"],
            data["garp_lower_prio_rep"]) == (2, 3, 5, 5)
    assert data["nopreempt"] is True and data["accept"] == 1
    # %g doubles: whole seconds come out as integers, as in keepalived's file
    assert '"adver_int":1,' in text and '"garp_delay":2,' in text
    assert type(data["last_transition"]) is float


def test_master_lines_say_set_and_script_keys_appear_only_when_configured():
    rt, snaps = _run(EXTRA, advance=5.0)
    assert snaps[0].state == State.MASTER
    data = json.loads(json_text(snaps, rt.wall_offset()))[0]["data"]
    assert data["vips"][0].endswith(" set") and all(e.endswith(" set") for e in data["evips"])
    # no Notifier given: no prepared script, so no script_* key (keepalived writes a key
    # only for a script it has)
    assert not [k for k in data if k.startswith("script")]
    rt2, plain = _run("", advance=5.0)
    d2 = json.loads(json_text(plain, rt2.wall_offset()))[0]["data"]
    assert list(d2)[len(ALWAYS):] == ["vips", "auth_type"] and d2["auth_type"] == 0
    assert d2["last_transition"] == plain[0].last_transition + WALL_OFFSET


def test_last_transition_prints_microseconds_with_percent_f():
    rt, snaps = _run("")
    objs = json_objects(snaps, rt.wall_offset())
    us = int(objs[0]["data"]["last_transition"])
    text = json_text(snaps, rt.wall_offset())
    assert f'"last_transition":{us // 10**6}.{us % 10**6:06d},' in text


def test_address_line_options_in_format_ipaddress_order():
    a = AddressView("2001:db8::1/64", "vrrp6.51", base_dev="eth0", scope="link", label=None,
                    flags=("home", "-nodad"), no_track=True, track_group="tg",
                    preferred_lft="deprecated")
    assert format_address(a, True) == ("2001:db8::1/64 dev vrrp6.51@eth0 scope link home -nodad "
                                       "no_track track_group tg deprecated set")


def test_strings_escaped_as_json_writer():
    from keepalived_py.observe.vrrp import _jstr
    assert _jstr("'/usr/bin/x' \"a\"\t") == '"\'\\/usr\\/bin\\/x\' \\"a\\"\\t"'


KA_TOPOLOGY_MASTER = """\
 VRRP Instance = VI_1
   VRRP Version = 2
   State = MASTER
   Flags:
   Wantstate = MASTER
   Number of config faults = 0
   Number of interface and track script faults = 0
   Number of track scripts init = 0
   Last transition = *
   Read timeout = *
   Master down timer = 3609375 usecs
   Interface = eth0
   Using src_ip = 192.0.2.1
   Multicast address 224.0.0.18
   Gratuitous ARP delay = 2
   Gratuitous ARP repeat = 3
   Gratuitous ARP refresh = 0
   Gratuitous ARP refresh repeat = 1
   Gratuitous ARP lower priority delay = 5
   Gratuitous ARP lower priority repeat = 5
   Down timer adverts = 3
   Send advert after receive lower priority advert = true
   Send advert after receive higher priority advert = false
   Virtual Router ID = 51
   Priority = 100
   Effective priority = 100
   Total priority = 100
   Advert interval = 1 sec
   Accept = enabled
   Preempt = disabled
   Promote_secondaries = disabled
   Authentication type = SIMPLE_PASSWORD
   Password = secret12
   Virtual IP (1):
     192.0.2.100/24 brd 192.0.2.255 dev eth0 scope global label eth0:vip set
   Virtual IP Excluded :
     192.0.2.150/24 dev eth0 scope global set
     2001:db8::5/64 dev eth0 scope global preferred_lft forever set
   Using smtp notification = no
   Notify deleted = Fault
   Notify priority changes = false
"""


def test_data_topology_lines_in_dump_vrrp_order():
    """The order and words of keepalived 2.2.7's dump_vrrp() (checked against its
    keepalived.data for a like config; socket fds left out), times masked. 'Flags:' with
    nothing after it: nopreempt sets a flag bit, and only unicast ones are named."""
    from keepalived_py.observe.vrrp import data_text
    rt, snaps = _run(EXTRA, advance=5.0)
    lines = data_text(snaps, rt.wall_offset()).splitlines()[1:]
    masked = [ln.split(" = ")[0] + " = *" if ln.startswith(("   Last transition", "   Read timeout")) else ln
              for ln in lines]
    assert "\n".join(masked) + "\n" == KA_TOPOLOGY_MASTER


def test_backup_that_heard_no_master_prints_null_as_keepalived():
    from keepalived_py.observe.vrrp import data_text
    rt, snaps = _run("", advance=0.5)
    assert "   Master router = (null)\n   Master priority = 0\n" in data_text(snaps, rt.wall_offset())


def test_scripts_section_as_dump_vscript():
    from keepalived_py.observe.vrrp import scripts_text
    rt, snaps = _run("", advance=1.0)  # an instance that tracks no script
    scripts = {"chk": {"command": "'/usr/bin/true'", "interval": 1, "timeout": 0, "weight": 0,
                       "weight_reverse": False, "rise": 1, "fall": 1, "result": 1, "insecure": "no",
                       "init_state": "unknown", "status": "GOOD", "uid": 0, "gid": 0, "state": "idle"}}
    text = scripts_text(scripts, snaps)
    assert text.splitlines() == [
        "------< VRRP Scripts >------", " VRRP Script = chk", "   Command = '/usr/bin/true'",
        "   Interval = 1 sec", "   Timeout = 0 sec", "   Weight = 0", "   Rise = 1", "   Fall = 1",
        "   Result = 1", "   Insecure = no", "   Init state = unknown", "   Status = GOOD",
        "   Script uid:gid = 0:0", "   VRRP instances :", "   State = idle"]
    assert scripts_text({}, snaps) == ""
