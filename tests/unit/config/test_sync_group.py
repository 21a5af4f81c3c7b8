"""vrrp_sync_group and garp_group: keywords, values and keepalived's checks."""

from __future__ import annotations

import pytest

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.model.vrrp import GarpGroup, VrrpSyncGroup
from keepalived_py.config.model.vrrp_types import TrackRef
from keepalived_py.config.validate import ValidationEnv
from keepalived_py.config.validate import vrrp as vrrp_validate
from keepalived_py.config.values import NotifyScript
from keepalived_py.config.writer import write_config
from tests.unit.config.helpers import bare, parse_only


def check(text: str, interfaces=None) -> list[str]:
    config, _ = parse_only(text)
    diags = Diagnostics()
    vrrp_validate.validate(config, ValidationEnv(diags, interfaces))
    return [str(d) for d in diags]


def instance(name: str, vrid: int, extra: str = "") -> str:
    return (f"vrrp_instance {name} {{\n interface eth0\n virtual_router_id {vrid}\n{extra}"
            f" virtual_ipaddress {{\n  192.0.2.{vrid}/24\n }}\n}}\n")


SYNC_KEYWORDS = ["group", "track_interface", "track_script", "track_file", "track_process", "track_bfd", "notify_backup", "notify_master", "notify_fault", "notify_stop", "notify", "smtp_alert", "global_tracking", "sync_group_tracking_weight", "notify_priority_changes"]


def test_keyword_tables_match_keepalived():
    assert set(VrrpSyncGroup.__kw_table__) == set(SYNC_KEYWORDS)
    assert set(GarpGroup.__kw_table__) == {"garp_interval", "gna_interval", "interface", "interfaces"}


def test_notify_deleted_is_not_a_sync_group_keyword():
    _, diags = parse_only("vrrp_sync_group G {\n notify_deleted\n}\n")
    assert [d.code for d in diags] == [ConfigErr.UNKNOWN_KEYWORD]


def test_values():
    config, diags = parse_only("""vrrp_sync_group G1 {
    group {
        VI_1 VI_2
        VI_3
    }
    track_interface {
        eth1 weight 5
    }
    track_script {
        chk weight -3 reverse
    }
    track_file {
        tf
    }
    track_process {
        tp weight 1 noreverse
    }
    track_bfd {
        bfd1
    }
    notify_master "/bin/m G1" root
    notify_backup /bin/b
    notify_fault /bin/f
    notify_stop /bin/s
    notify /bin/n
    smtp_alert off
    notify_priority_changes
    sync_group_tracking_weight
}
""")
    assert not diags
    sg = config.vrrp_sync_group[0]
    assert sg.name == "G1" and sg.group == ("VI_1", "VI_2", "VI_3")
    assert sg.track_interface == (TrackRef("eth1", 5),)
    assert sg.track_script == (TrackRef("chk", -3, True),)
    assert sg.track_file == (TrackRef("tf"),) and sg.track_process == (TrackRef("tp", 1, False),)
    assert sg.track_bfd == (TrackRef("bfd1"),)
    assert sg.notify_master == NotifyScript("/bin/m G1", "root") and sg.notify == NotifyScript("/bin/n")
    assert sg.smtp_alert is False and sg.notify_priority_changes is True
    assert sg.sync_group_tracking_weight and sg.tracking_weight and not sg.global_tracking


def test_repeated_group_and_notify():
    config, diags = parse_only("vrrp_sync_group G {\n group {\n  A\n }\n group {\n  B\n }\n"
                               " notify_master /bin/a\n notify_master /bin/b\n}\n")
    sg = config.vrrp_sync_group[0]
    assert sg.group == ("A",) and sg.notify_master == NotifyScript("/bin/a")
    assert [bare(d.message, "G") for d in diags] == [
        "Group list already specified for sync group",
        "vrrp group: notify_master script already specified - ignoring /bin/b"]


def test_defaults_and_global_tracking():
    config, diags = parse_only("vrrp_sync_group G {\n group {\n  A\n }\n global_tracking\n}\n")
    sg = config.vrrp_sync_group[0]
    assert sg.smtp_alert is None and sg.notify_master is None and sg.track_script == ()
    assert sg.tracking_weight
    assert [bare(d.message, "G") for d in diags] == [
        "global_tracking is deprecated. Use track_interface/script/file on the sync group"]


def test_round_trip():
    text = ("vrrp_sync_group G {\n group {\n  A B\n  C\n }\n track_script {\n  s weight 2\n }\n"
            " notify_fault /bin/f u g\n smtp_alert\n}\ngarp_group {\n garp_interval 0.002\n gna_interval 1.5\n"
            " interfaces {\n  eth0 eth1\n }\n}\ngarp_group {\n garp_interval 1\n interface eth2\n}\n")
    first, diags = parse_only(text)
    assert not diags
    second, _ = parse_only(write_config(first))
    assert first.vrrp_sync_group == second.vrrp_sync_group and first.garp_group == second.garp_group
    assert first.garp_group[0].interfaces == ("eth0", "eth1") and first.garp_group[0].garp_interval == 0.002


def test_garp_group_bad_values():
    config, diags = parse_only("garp_group {\n garp_interval -1\n gna_interval x\n}\n")
    assert [d.message for d in diags] == [
        "negative number '-1'", "garp_group garp_interval '-1' invalid",
        "invalid number 'x'"]
    assert config.garp_group[0].garp_interval is None
    # keepalived reads it with ignore_error: the digits before the garbage (none: 0) stand
    assert config.garp_group[0].gna_interval == 0.0


# --------------------------------------------------------------------------- checks
def test_sync_group_members():
    text = ("vrrp_sync_group G1 {\n group {\n  A\n  NOPE\n }\n}\n"
            "vrrp_sync_group G2 {\n group {\n  A\n  B\n }\n}\n"
            + instance("A", 1) + instance("B", 2))
    assert check(text) == [
        "Virtual router NOPE specified in sync group G1 doesn't exist - ignoring",
        "Sync group G1 has only 1 virtual router(s) - this probably isn't what you want",
        "Virtual router A cannot exist in more than one sync group; ignoring G2",
        "Sync group G2 has only 1 virtual router(s) - this probably isn't what you want",
    ]


def test_sync_group_without_members():
    assert check("vrrp_sync_group G {\n smtp_alert\n}\n" + instance("A", 1)) == [
        "Sync group G has no virtual router(s). removing"]
    assert check("vrrp_sync_group G {\n group {\n  X\n }\n}\n" + instance("A", 1)) == [
        "Virtual router X specified in sync group G doesn't exist - ignoring",
        "Sync group G, no matching virtual router found in group declaration - removing"]


def test_duplicate_sync_group():
    texts = check("vrrp_sync_group G {\n group {\n  A\n  B\n }\n}\nvrrp_sync_group G {\n group {\n  A\n }\n}\n"
                  + instance("A", 1) + instance("B", 2))
    assert texts == ["(keepalived.conf: Line 7) vrrp sync group G already defined"]


def test_owner_and_non_owner_members():
    text = ("vrrp_sync_group G {\n group {\n  A\n  B\n }\n}\n"
            + instance("A", 1, " state MASTER\n priority 255\n") + instance("B", 2, " state BACKUP\n"))
    assert check(text)[0] == ("Sync group G has some member(s) as address owner and some not as address owner. "
                              "This won't work.")


def test_weights_zeroed_in_sync_group():
    text = ("vrrp_script s {\n script /bin/true\n weight 5\n}\ntrack_file f {\n file /tmp/f\n}\n"
            "vrrp_sync_group G {\n group {\n  A\n  B\n }\n}\n"
            + instance("A", 1, " track_script {\n  s\n }\n track_file {\n  f\n }\n"
                               " track_interface {\n  eth1 weight 3\n }\n")
            + instance("B", 2))
    assert check(text) == [
        "(A) ignoring eth1 tracked interface weight due to SYNC group",
        "(A) ignoring tracked script s with weights due to SYNC group",
        "(A) ignoring weight from tracked file f due to SYNC group. specify weight 0",
    ]
    weighted = text.replace("vrrp_sync_group G {\n", "vrrp_sync_group G {\n sync_group_tracking_weight\n")
    assert check(weighted) == []


def test_sync_group_track_references():
    texts = check("vrrp_sync_group G {\n group {\n  A\n  B\n }\n track_script {\n  nosuch\n }\n"
                  " track_interface {\n  eth9\n }\n}\n" + instance("A", 1) + instance("B", 2),
                  interfaces=frozenset({"eth0"}))
    assert texts == [
        "(keepalived.conf: Line 7) (G) track script nosuch not found, ignoring...",
        "(keepalived.conf: Line 10) (G) tracked interface eth9 doesn't exist",
        "Non-existent interface specified in configuration",
    ]


@pytest.mark.parametrize("text, expected", [
    ("garp_group {\n interface eth0\n}\n", ["(keepalived.conf: Line 3) garp group 0 does not have any delay set - removing"]),
    ("garp_group {\n garp_interval 1\n interface eth0\n}\n",
     ["(keepalived.conf: Line 1) The garp_interval is very large - 1 seconds"]),
    ("garp_group {\n gna_interval 0.5\n interface eth0\n}\ngarp_group {\n gna_interval 0.5\n interfaces {\n"
     "  eth0\n }\n}\n", ["(keepalived.conf: Line 9) garp_group already specified for eth0 - ignoring"]),
    ("garp_group {\n gna_interval 0.5\n interfaces {\n  eth0\n  eth7\n }\n}\n",
     ["(keepalived.conf: Line 6) WARNING - interface eth7 specified for garp_group doesn't exist",
      "Non-existent interface specified in configuration"]),
])
def test_garp_group_checks(text, expected):
    assert check(text, interfaces=frozenset({"eth0"})) == expected
