"""Keywords keepalived added after 2.2.7 (docs/newer-keywords.md): accepted with upstream's
syntax, noted once by -t without changing the exit status, and the VRRP / dump ones acted on."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from ipaddress import ip_address
from pathlib import Path

import pytest

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.loader import load_text
from keepalived_py.config.model.bfd import BfdInstance
from keepalived_py.config.model.checkers import HttpGet, SslGet, SslUrl
from keepalived_py.config.model.global_defs import GlobalDefs
from keepalived_py.config.model.newer_types import AuthHmac, HmacKey
from keepalived_py.config.model.vrrp import VrrpInstance
from keepalived_py.config.schema import newer_keywords
from keepalived_py.config.support import ACTED_ON
from keepalived_py.config.writer import write_config
from keepalived_py.observe import dumps
from keepalived_py.observe.vrrp_json_v2 import json_text_v2, track_process_objects
from keepalived_py.vrrp.actions import SendAdvert
from keepalived_py.vrrp.checks import DropReason
from keepalived_py.vrrp.events import PacketReceived, RxMeta, Start, TimerExpired
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.machine import VrrpInstance as Machine
from keepalived_py.vrrp.packet import (
    VRRP_MCAST4,
    VrrpAdvert,
    checksum_as_v2,
    encode,
    inet_checksum,
    pseudo_header,
)
from keepalived_py.vrrp.params import VrrpInstanceParams

UPSTREAM = "/work/.mirror/acassen+keepalived/repo"

#: keyword -> the keepalived release that added it (checked against upstream's tags)
EXPECTED = {
    "v3_checksum_as_v2": "2.2.8", "json_version": "2.2.8", "no_virtual_ipaddress": "2.2.8",
    "timer_expired_backup": "2.2.8", "tls_compliant": "2.2.8", "multihop": "2.2.8",
    "use_symlink_paths": "2.3.0", "dbus_no_interface_name": "2.3.0",
    "snmp_vs_stats_update_interval": "2.3.0", "snmp_rs_stats_update_interval": "2.3.0",
    "iproute_usr_dir": "2.3.2", "iproute_etc_dir": "2.3.2", "thread_timer_expired": "2.3.2",
    "vrrp_owner_ignore_adverts": "2.3.3", "owner_ignore_adverts": "2.3.3", "state_dump_file": "2.3.3",
    "stats_dump_file": "2.3.3", "json_dump_file": "2.3.3",
    "vrrp_delay_after_boot": "2.4.0", "auth_hmac": "2.4.0", "key": "2.4.0", "active_key": "2.4.0",
    "time_window": "2.4.0", "anti_replay": "2.4.0", "mode": "2.4.0",
    "set_supplementary_groups": "main (after 2.4.3)", "sni_name": "main (after 2.4.3)",
}

KEY32 = "0123456789abcdef0123456789abcdef"

ALL = f"""
global_defs {{
    vrrp_delay_after_boot 15.23
    vrrp_owner_ignore_adverts
    v3_checksum_as_v2
    json_version 2
    state_dump_file /run/kpy/
    stats_dump_file my.stats
    json_dump_file /run/kpy/ka.json
    iproute_usr_dir /usr/share/iproute2
    iproute_etc_dir /etc/iproute2
    use_symlink_paths
    set_supplementary_groups false
    dbus_no_interface_name vrrp_none
    snmp_vs_stats_update_interval 2
    snmp_rs_stats_update_interval 0.5
}}
vrrp_instance VI_1 {{
    interface eth0
    state BACKUP
    virtual_router_id 51
    priority 100
    nopreempt
    no_virtual_ipaddress
    v3_checksum_as_v2 true
    timer_expired_backup 200
    auth_hmac {{
        key 1 {KEY32}
        key 2 hex:{'0f' * 32}
        key 3 file:/etc/keepalived/hmac.key
        active_key 1
        time_window 30
        anti_replay monotonic
        mode permissive
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52
    priority 255
    owner_ignore_adverts
    virtual_ipaddress {{
        192.0.2.11/24
    }}
}}
vrrp_instance VI_3 {{
    interface eth0
    virtual_router_id 53
    priority 100
    nopreempt
    thread_timer_expired
    virtual_ipaddress {{
        192.0.2.12/24
    }}
}}
bfd_instance B1 {{
    neighbor_ip 192.0.2.50
    multihop
}}
virtual_server 192.0.2.100 443 {{
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.101 443 {{
        SSL_GET {{
            sni_name www.example.com
            tls_compliant
            url {{
                path /
                tls_compliant false
            }}
        }}
        HTTP_GET {{
            sni_name
            url {{
                path /
            }}
        }}
    }}
}}
"""


def notes(result) -> dict[str, list]:
    found: dict[str, list] = {}
    for d in result.diagnostics:
        if "not in 2.2.7" in d.message:
            assert d.code == ConfigErr.OK
            word = d.message.split("'")[1]
            found.setdefault(word, []).append(d)
    return found


# --------------------------------------------------------------------------- -t
def test_every_newer_keyword_passes_t_with_one_note():
    result = load_text(ALL)
    problems = [str(d) for d in result.diagnostics if d.code != ConfigErr.OK]
    # upstream's own words for its renamed keyword are its only complaint
    assert problems == ["(keepalived.conf: Line 51) (VI_3) thread_timer_expired - please replace with keyword "
                        "'timer_expired_backup'"]
    assert result.exit_status == 5  # that message is a GENERAL_ERROR in upstream too
    found = notes(result)
    assert set(found) == set(EXPECTED)
    for word, items in found.items():
        assert len(items) == 1, word  # once per keyword, even when used again (tls_compliant)
        assert items[0].message == f"'{word}' is a keepalived {EXPECTED[word]} keyword, not in 2.2.7 - accepted"
    assert str(found["json_version"][0]) == ("(keepalived.conf: Line 6) 'json_version' is a keepalived 2.2.8 "
                                             "keyword, not in 2.2.7 - accepted")


def test_a_clean_config_with_newer_keywords_keeps_exit_status_0():
    result = load_text(ALL.replace("    thread_timer_expired\n", "    timer_expired_backup\n"))
    assert [str(d) for d in result.diagnostics if d.code != ConfigErr.OK] == []
    assert result.exit_status == 0
    assert notes(result)


def test_a_2_2_7_config_gets_no_note():
    result = load_text("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n priority 100\n"
                       " virtual_ipaddress {\n 192.0.2.1/24\n }\n}\n")
    assert not notes(result)
    assert result.exit_status == 0


def test_the_declared_newer_keywords_are_the_expected_ones():
    declared: set[str] = set()
    for cls in (GlobalDefs, VrrpInstance, AuthHmac, BfdInstance, HttpGet, SslGet, SslUrl):
        declared |= newer_keywords(cls)
    assert declared == set(EXPECTED)


def _upstream_keywords(rev: str) -> set[str] | None:
    try:
        out = subprocess.run(["git", "-C", UPSTREAM, "grep", "-h", "-o", "-E", r'install_[a-z_]*\("[^"]+"', rev,
                              "--", "keepalived", "lib"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {line.split('"')[1] for line in out.splitlines()}


def test_every_keyword_upstream_added_since_2_2_7_is_declared():
    old, new = _upstream_keywords("v2.2.7"), _upstream_keywords("HEAD")
    if not old or not new:
        pytest.skip("no upstream mirror (a developer convenience; EXPECTED is the same list)")
    # 'key' (auth_hmac) was a word of other blocks already, so the set difference misses it
    assert (new - old) | {"key"} == set(EXPECTED)


def test_the_config_round_trips():
    result = load_text(ALL)
    again = load_text(write_config(result.config))
    assert again.config == result.config


# --------------------------------------------------------------------------- values
def test_values_as_upstream_reads_them():
    cfg = load_text(ALL).config
    g = cfg.global_defs
    assert g.vrrp_delay_after_boot == pytest.approx(15.23) and g.vrrp_owner_ignore_adverts
    assert g.json_version == 2 and g.state_dump_file == "/run/kpy/" and g.stats_dump_file == "my.stats"
    assert g.snmp_rs_stats_update_interval == pytest.approx(0.5) and g.set_supplementary_groups is False
    vi1, vi2, vi3 = cfg.vrrp_instance
    assert vi1.no_virtual_ipaddress and vi1.v3_checksum_as_v2 is True and vi1.timer_expired_backup == 200
    assert vi1.effective_timer_expired_backup == 200
    assert vi3.thread_timer_expired == 254 and vi3.effective_timer_expired_backup == 254
    ah = vi1.auth_hmac
    assert ah.key[0] == HmacKey(1, KEY32) and ah.key[2].from_file == "/etc/keepalived/hmac.key"
    assert (ah.active_key, ah.time_window, ah.anti_replay, ah.mode) == (1, 30, "monotonic", "permissive")
    assert vi2.owner_ignore_adverts is True
    assert cfg.bfd_instance[0].multihop
    rs = cfg.virtual_server[0].real_server[0]
    assert rs.ssl_get[0].sni_name == "www.example.com" and rs.ssl_get[0].tls_compliant is True
    assert rs.ssl_get[0].url[0].tls_compliant is False and rs.http_get[0].sni_name == ""


@pytest.mark.parametrize("line,message", [
    ("json_version 3", "Invalid JSON version"),
    ("state_dump_file \"\"", "state_dump_file requires a non-empty path"),
    ("json_dump_file a b", "json_dump_file requires a non-empty path"),
    ("iproute_usr_dir", "iproute_usr_dir requires path"),
    ("vrrp_owner_ignore_adverts maybe", "Invalid value 'vrrp_owner_ignore_adverts' for global maybe specified"),
    ("vrrp_delay_after_boot 0", "vrrp_delay_after_boot '0' is invalid"),
    ("snmp_rs_stats_update_interval 31", "snmp stats vs update interval '31' invalid - ignoring"),
])
def test_global_value_errors_are_upstreams(line, message):
    result = load_text(f"global_defs {{\n {line}\n}}\n")
    assert message in [d.message for d in result.diagnostics if d.code == ConfigErr.GENERAL_ERROR]


@pytest.mark.parametrize("line,message", [
    ("owner_ignore_adverts maybe", "(VI_1) invalid owner_ignore_adverts maybe specified"),
    ("timer_expired_backup 255", "(VI_1) timer_expired_backup highest_other_priority not valid! must be "
                                 "between 1 & 254"),
    ("auth_hmac {\n key 1 short\n }", "(VI_1) auth_hmac key 1 length 5 not in range [32, 64]"),
    ("auth_hmac {\n key 256 " + KEY32 + "\n }", "(VI_1) auth_hmac key id '256' must be between 1 and 255"),
    ("auth_hmac {\n mode strict\n }", "(VI_1) auth_hmac mode 'strict' must be enforce, permissive or receive-only"),
    ("auth_hmac {\n time_window 301\n }", "(VI_1) auth_hmac time_window '301' must be between 1 and 300 seconds"),
])
def test_instance_value_errors_are_upstreams(line, message):
    result = load_text(f"vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n {line}\n"
                       " virtual_ipaddress {\n 192.0.2.1/24\n }\n}\n")
    assert message in [d.message for d in result.diagnostics if d.code == ConfigErr.GENERAL_ERROR]


# --------------------------------------------------------------------------- owner_ignore_adverts
def _inst(extra: str = "", priority: int = 255, strict: str = "") -> tuple[VrrpInstance, list[str]]:
    result = load_text(f"global_defs {{\n{strict}}}\nvrrp_instance VI_1 {{\n interface eth0\n"
                       f" virtual_router_id 1\n priority {priority}\n{extra}"
                       " virtual_ipaddress {\n 192.0.2.1/24\n }\n}\n")
    return result.config.vrrp_instance[0], [d.message for d in result.diagnostics if d.code != ConfigErr.OK]


@pytest.mark.parametrize("extra,priority,global_flag,strict,expected", [
    ("", 255, False, False, False),
    ("", 255, True, False, True),
    ("", 255, False, True, True),        # strict mode: an owner ignores adverts
    ("owner_ignore_adverts\n", 255, False, False, True),
    ("owner_ignore_adverts false\n", 255, False, False, True),  # upstream forces it on
    ("owner_ignore_adverts\n", 100, True, False, False),        # not an owner: never
])
def test_effective_owner_ignore_adverts(extra, priority, global_flag, strict, expected):
    vi, _ = _inst(extra, priority)
    assert vi.effective_owner_ignore_adverts(global_flag, strict) is expected


def test_owner_ignore_adverts_on_a_non_owner_is_reported():
    _, problems = _inst("owner_ignore_adverts\n", 100)
    assert "(VI_1) ignoring owner_ignore_adverts since priority is not 255" in problems
    _, problems = _inst("owner_ignore_adverts false\n", 255)
    assert "(VI_1) strict_mode with priority 255 requires owner_ignore_adverts" in problems
    _, problems = _inst("owner_ignore_adverts\n", 255)
    assert problems == []


ME, PEER = ip_address("192.0.2.1"), ip_address("192.0.2.2")
VIP = ip_address("192.0.2.100")
T0 = 1000.0


def _owner(ignore: bool) -> Machine:
    p = VrrpInstanceParams("VI_1", "eth0", 51, ME, priority=255, virtual_ipaddress=(VIP,),
                           owner_ignore_adverts=ignore)
    inst = Machine(p)
    inst.handle(Start(), T0)
    assert inst.state == State.MASTER
    return inst


def _advert(priority: int) -> PacketReceived:
    adv = VrrpAdvert(version=2, vrid=51, priority=priority, advert_int_cs=100, addresses=(VIP,))
    return PacketReceived(encode(adv, PEER, VRRP_MCAST4), RxMeta(PEER, VRRP_MCAST4, 255))


def test_an_owner_that_ignores_adverts_drops_them_uncounted_as_received():
    inst = _owner(True)
    for n, prio in enumerate((0, 255, 254), start=1):
        inst.handle(_advert(prio), T0 + n)
        assert inst.state == State.MASTER
    stats = inst.stats.as_dict()
    assert stats["owner_ignored"] == 3
    assert stats["advert_rcvd"] == 0 and stats["pri_zero_rcvd"] == 0 and stats["owner_conflict"] == 0
    assert not any(stats[r] for r in DropReason if r is not DropReason.OWNER_IGNORED)


def test_an_owner_without_it_receives_adverts():
    inst = _owner(False)
    inst.handle(_advert(0), T0 + 1)
    assert inst.stats.advert_rcvd == 1 and inst.stats.pri_zero_rcvd == 1 and inst.stats.owner_ignored == 0


def test_an_owner_below_255_after_tracking_receives_adverts_again():
    inst = _owner(True)
    inst.effective_priority = 200  # a tracked object lowered it: no longer the address owner
    inst.handle(_advert(100), T0 + 1)
    assert inst.stats.owner_ignored == 0 and inst.stats.advert_rcvd == 1


# --------------------------------------------------------------------------- v3_checksum_as_v2
def _v3(as_v2: bool, priority: int = 100) -> tuple[Machine, list]:
    p = VrrpInstanceParams("VI_1", "eth0", 51, ME, priority=priority, version=3, virtual_ipaddress=(VIP,),
                           v3_checksum_as_v2=as_v2)
    inst = Machine(p)
    out = inst.handle(Start(), T0)
    return inst, out


def _v3_advert(payload_fn) -> PacketReceived:
    adv = VrrpAdvert(version=3, vrid=51, priority=150, advert_int_cs=100, addresses=(VIP,))
    return PacketReceived(payload_fn(encode(adv, PEER, VRRP_MCAST4)), RxMeta(PEER, VRRP_MCAST4, 255))


def test_v3_checksum_as_v2_sends_the_checksum_without_pseudo_header():
    for as_v2 in (True, False):
        _inst, out = _v3(as_v2, priority=255)
        (send,) = [a for a in out if isinstance(a, SendAdvert)]
        (payload,) = send.payloads
        assert (inet_checksum(payload) == 0) is as_v2
        assert (inet_checksum(pseudo_header(ME, VRRP_MCAST4, len(payload)) + payload) == 0) is not as_v2


def test_v3_checksum_as_v2_accepts_the_v2_style_checksum():
    inst, _ = _v3(True)
    inst.handle(_v3_advert(checksum_as_v2), T0 + 1)
    assert inst.stats.advert_rcvd == 1 and inst.stats.chk_err == 0
    plain, _ = _v3(False)
    plain.handle(_v3_advert(checksum_as_v2), T0 + 1)
    assert plain.stats.chk_err == 1 and plain.stats.advert_rcvd == 0


def test_v3_checksum_as_v2_instance_setting_overrides_the_global_one():
    from keepalived_py.vrrpd.plan import plan_instance

    text = ("global_defs {{\n v3_checksum_as_v2\n}}\nvrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n"
            " version 3\n{}\n virtual_ipaddress {{\n 192.0.2.1/24\n }}\n}}\n")
    for extra, expected in (("", True), (" v3_checksum_as_v2 false", False)):
        cfg = load_text(text.format(extra)).config
        assert plan_instance(cfg.vrrp_instance[0], cfg).base_params["v3_checksum_as_v2"] is expected


# --------------------------------------------------------------------------- no_virtual_ipaddress
def test_no_virtual_ipaddress_allows_an_instance_without_vips():
    base = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n version 3\n%s}\n"
    without = load_text(base % "")
    assert "(VI_1) No VIP specified; at least one is required" in [d.message for d in without.diagnostics]
    allowed = load_text(base % " no_virtual_ipaddress\n")
    assert [d.message for d in allowed.diagnostics if d.code != ConfigErr.OK] == []
    strict = load_text(base % " no_virtual_ipaddress\n strict_mode\n")
    messages = [d.message for d in strict.diagnostics]
    assert "(VI_1) no_virtual_ipaddress and strict mode incompatible, clearing no_virtual_ipaddress" in messages
    assert "(VI_1) No VIP specified; at least one is required" in messages


def test_timer_expired_backup_needs_nopreempt():
    vi, problems = _inst("timer_expired_backup\n", 100)
    assert "(VI_1) expired_timer_backup requires nopreempt - resetting" in problems
    assert vi.effective_timer_expired_backup == 0
    vi, problems = _inst("nopreempt\n timer_expired_backup\n", 100)
    assert problems == [] and vi.effective_timer_expired_backup == 254
    vi, _ = _inst("nopreempt\n timer_expired_backup 100\n state MASTER\n", 100)
    assert vi.effective_timer_expired_backup == 0  # nopreempt cleared for initial state MASTER


def _late_master(version: int, other: int) -> Machine:
    p = VrrpInstanceParams("VI_1", "eth0", 51, ME, priority=100, version=version, virtual_ipaddress=(VIP,),
                           nopreempt=True, timer_expired_backup=other)
    inst = Machine(p)
    inst.handle(Start(), T0)
    inst.handle(TimerExpired("advert"), inst.sands)  # no master heard: takes over
    assert inst.state == State.MASTER
    return inst


@pytest.mark.parametrize("version,other,late", [
    (2, 254, 2 + 2 / 256),        # 2 intervals + the other's skew (v2: seconds)
    (2, 200, 2 + 56 / 256),
    (3, 200, 2 + 56 / 256),       # v3: skew scales with the 1 s interval
])
def test_timer_expired_backup_steps_down_when_the_advert_timer_fired_too_late(version, other, late):
    on_time = _late_master(version, other)
    sent = on_time.stats.advert_sent
    on_time.handle(TimerExpired("advert"), on_time.sands + late - 0.001)
    assert on_time.state == State.MASTER and on_time.stats.advert_sent == sent + 1
    too_late = _late_master(version, other)
    sent = too_late.stats.advert_sent
    out = too_late.handle(TimerExpired("advert"), too_late.sands + late)
    assert too_late.state == State.BACKUP and too_late.stats.advert_sent == sent  # no advert, no priority 0
    assert not [a for a in out if isinstance(a, SendAdvert)]
    assert too_late.stats.release_master == 1


def test_without_timer_expired_backup_a_late_master_stays():
    inst = _late_master(2, 0)
    inst.handle(TimerExpired("advert"), inst.sands + 60)
    assert inst.state == State.MASTER


# --------------------------------------------------------------------------- vrrp_delay_after_boot
@pytest.mark.parametrize("startup,after_boot,uptime,expected", [
    (0.0, None, 5.0, 0.0),
    (0.0, 15.23, 5.0, 10.23),   # what is left of the delay since boot
    (0.0, 15.23, 20.0, 0.0),    # restarted long after boot: no wait
    (12.0, 15.0, 5.0, 12.0),    # the longer of the two
    (3.0, 15.0, 5.0, 10.0),
])
def test_startup_delay_after_boot(startup, after_boot, uptime, expected):
    g = GlobalDefs(vrrp_startup_delay=startup, vrrp_delay_after_boot=after_boot)
    assert g.effective_startup_delay(uptime) == pytest.approx(expected)


# --------------------------------------------------------------------------- dump file names
@pytest.mark.parametrize("state,role,expected", [
    (None, "vrrp", "/tmp/keepalived.data"),
    ("/run/kpy/", "vrrp", "/run/kpy/keepalived.data"),
    ("/run/kpy/", "check", "/run/kpy/keepalived_check.data"),
    ("/run/kpy/ka.state", "vrrp", "/run/kpy/ka.state"),
    ("/run/kpy/ka.state", "bfd", "/run/kpy/ka_bfd.state"),
    ("/run/kpy/state", "parent", "/run/kpy/state_parent"),
    ("sub/ka.data", "vrrp", "/tmp/ka.data"),     # relative: the temporary folder, last part only
    ("/ka.data", "check", "/ka_check.data"),
])
def test_state_dump_file(state, role, expected):
    naming = dumps.DumpNaming("/tmp", state_file=state)
    assert dumps.file_for(role, dumps.DATA, naming) == expected


def test_state_dump_file_with_data_use_instance():
    naming = dumps.DumpNaming("/tmp", True, "inst", "ns1", state_file="/run/kpy/ka.state")
    assert dumps.file_for("check", dumps.DATA, naming) == "/run/kpy/ka_check.ns1_inst.state"


@pytest.mark.parametrize("kind,field,path,expected", [
    (dumps.STATS, "stats_file", "/run/kpy/", "/run/kpy/keepalived.stats"),
    (dumps.STATS_CLEAR, "stats_file", "my.stats", "/var/tmp/my.stats"),
    (dumps.JSON, "json_file", "/run/kpy/ka.json", "/run/kpy/ka.json"),
    (dumps.JSON, "json_file", None, "/var/tmp/keepalived.json"),
])
def test_stats_and_json_dump_files(kind, field, path, expected):
    naming = replace(dumps.DumpNaming("/var/tmp"), **{field: path})
    assert dumps.file_for("vrrp", kind, naming) == expected


def test_dump_file_is_written_where_configured(tmp_path: Path):
    naming = dumps.DumpNaming(str(tmp_path / "tmp"), json_file=str(tmp_path / "out.json"))
    written = dumps.write_section("vrrp", dumps.JSON, "[]", naming)
    assert written == str(tmp_path / "out.json") and Path(written).read_text() == "[]"


# --------------------------------------------------------------------------- json_version 2
TRACK = """
vrrp_track_process sshd {
    process /usr/sbin/sshd -D
    quorum 1
    quorum_max 3
    weight 10 reverse
    fork_delay 2
    delay 5
}
vrrp_track_process cron {
    process cron
}
"""


def test_json_version_2_wraps_the_instances_and_adds_track_process():
    cfg = load_text(TRACK).config
    state = {"sshd": {"count": 2, "have_quorum": True, "pending": "terminate"}}
    objects = track_process_objects(cfg.vrrp_track_process, state)
    doc = json.loads(json_text_v2('[{"iname":"VI_1"}]', objects))
    assert list(doc) == ["vrrp", "track_process"]
    assert doc["vrrp"] == [{"iname": "VI_1"}]
    sshd, cron = doc["track_process"]
    assert sshd == {"process": "/usr/sbin/sshd", "parameters": "-D", "param_match": "exact", "min_processes": 1,
                    "max_processes": 3, "current_processes": 2, "have_quorum": True, "weight": -10,
                    "terminate_delay": 5, "fork_delay": 2, "fork_delay_timer_running": False,
                    "terminate_delay_timer_running": True, "full_command": False}
    assert cron["param_match"] == "none" and "parameters" not in cron and "max_processes" not in cron
    assert cron["current_processes"] == 0 and cron["have_quorum"] is False


def test_json_version_2_without_track_process_is_the_vrrp_object_alone():
    assert json_text_v2("[]", []) == '{"vrrp":[]}'


def test_acted_on_newer_keywords_are_not_listed_by_t():
    result = load_text(ALL)
    listed = {what for _where, what in result.not_implemented_at}
    acted = {"global_defs.vrrp_delay_after_boot", "global_defs.vrrp_owner_ignore_adverts",
             "global_defs.json_version", "global_defs.state_dump_file", "global_defs.stats_dump_file",
             "global_defs.json_dump_file", "vrrp_instance.owner_ignore_adverts",
             "vrrp_instance.no_virtual_ipaddress", "vrrp_instance.v3_checksum_as_v2",
             "global_defs.v3_checksum_as_v2", "vrrp_instance.timer_expired_backup",
             "vrrp_instance.thread_timer_expired", "SSL_GET.tls_compliant"}
    assert acted <= ACTED_ON and not acted & listed
    # the parsed-only ones are listed
    assert {"auth_hmac.key",
            "global_defs.iproute_usr_dir", "bfd_instance.multihop"} <= listed
