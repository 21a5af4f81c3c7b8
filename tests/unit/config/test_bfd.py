"""bfd_instance: every keyword, ranges, defaults, keepalived's end-of-block checks, round trip."""

from __future__ import annotations

import ipaddress

import pytest

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.loader import load_text
from keepalived_py.config.model.bfd import BfdInstance
from keepalived_py.config.schema import newer_keywords
from keepalived_py.config.writer import write_config


def bfd(body: str, name: str = "B1"):
    result = load_text(f"bfd_instance {name} {{\n{body}\n}}\n")
    return result, result.config.bfd_instance[0]


def errs(result):
    return [d for d in result.diagnostics if d.code != ConfigErr.OK]


def test_every_keyword_declared():
    assert set(BfdInstance.__kw_table__) - newer_keywords(BfdInstance) == {
        "neighbor_ip", "neighbour_ip", "source_ip", "min_rx", "min_tx", "idle_tx", "multiplier", "passive", "ttl",
        "hoplimit", "max_hops", "weight", "vrrp", "checker"}


def test_defaults():
    result, b = bfd("neighbor_ip 192.0.2.1")
    assert errs(result) == []
    assert (b.min_rx, b.min_tx, b.idle_tx, b.multiplier) == (10.0, 10.0, 1000.0, 5)
    assert b.ttl is None and b.effective_ttl == 255 and b.max_hops == 0
    assert not b.passive and b.weight == (0, False)
    assert b.notify_vrrp and b.notify_checker
    _r, b6 = bfd("neighbor_ip 2001:db8::1")
    assert b6.effective_ttl == 64


VALUES = [
    ("neighbor_ip 192.0.2.1", "neighbor_ip", ipaddress.ip_address("192.0.2.1")),
    ("neighbour_ip 2001:db8::1", "neighbor_ip", ipaddress.ip_address("2001:db8::1")),
    ("source_ip 192.0.2.9", "source_ip", ipaddress.ip_address("192.0.2.9")),
    ("min_rx 3.312", "min_rx", 3.312),
    ("min_tx 1", "min_tx", 1.0),
    ("idle_tx 1000.5", "idle_tx", 1000.5),
    ("multiplier 255", "multiplier", 255),
    ("passive", "passive", True),
    ("ttl 64", "ttl", 64),
    ("hoplimit 1", "ttl", 1),
    ("max_hops 3", "max_hops", 3),
    ("weight -253", "weight", (-253, False)),
    ("weight 10 reverse", "weight", (10, True)),
    ("vrrp", "vrrp", True),
    ("checker", "checker", True),
]


@pytest.mark.parametrize("line,field,value", VALUES, ids=[v[0] for v in VALUES])
def test_values(line, field, value):
    body = line if field == "neighbor_ip" else "neighbor_ip 192.0.2.1\n" + line
    result, b = bfd(body)
    assert getattr(b, field) == value
    assert errs(result) == []
    text = write_config(result.config)
    assert load_text(text).config.bfd_instance == result.config.bfd_instance


def test_vrrp_or_checker_restricts_notifications():
    _r, b = bfd("neighbor_ip 192.0.2.1\nvrrp")
    assert b.notify_vrrp and not b.notify_checker


BAD = [
    ("min_rx 0", "Configuration error: BFD instance B1 min_rx value 0 is not valid (must be in range [1-4294967]), "
                 "ignoring"),
    ("min_tx 0.0001", "Configuration error: BFD instance B1 min_tx value 0.0001 is not valid (must be in range "
                      "[1-4294967]), ignoring"),
    ("idle_tx 999", "Configuration error: BFD instance B1 idle_tx value 999 is not valid (must be in range "
                    "[1000-4294967]), ignoring"),
    ("multiplier 0", "Configuration error: BFD instance B1 multiplier value 0 not valid (must be in range [1-255]), "
                     "ignoring"),
    ("ttl 256", "Configuration error: BFD instance B1 ttl/hoplimit value 256 not valid (must be in range [1-255]), "
                "ignoring"),
    ("max_hops -2", "Configuration error: BFD instance B1 max_hops value -2 not valid (must be in range [-1-255]), "
                    "ignoring"),
    ("weight 254", "Configuration error: BFD instance B1 weight value 254 not valid (must be in range [-253-253]), "
                   "ignoring"),
    ("weight 1 sideways", "Configuration error: BFD instance B1 unknown weight option sideways"),
    ("source_ip 1.2.3", "Configuration error: BFD instance B1 has malformed source address 1.2.3, ignoring"),
    ("idle_tx 4294967.295", "Configuration error: BFD instance B1 idle_tx value 4294967.295 is not valid (must be in "
                            "range [1000-4294967]), ignoring"),
]


def test_too_many_decimals():
    """keepalived -t: the extra place is reported and rounds; the value stands."""
    result, b = bfd("neighbor_ip 192.0.2.1\nmin_rx 1.0005")
    assert [(d.code, d.message) for d in errs(result)] == [
        (ConfigErr.INVALID_NUMBER, "number '1.0005' has too many decimal places")]
    assert b.min_rx == 1.001


def test_invalid_interval_is_not_kept():
    """BFD reads without ignore_error: leading digits of an invalid word do not stand."""
    result, b = bfd("neighbor_ip 192.0.2.1\nidle_tx 1500x")
    assert [(d.code, d.message) for d in errs(result)] == [
        (ConfigErr.INVALID_NUMBER, "invalid number '1500x'"),
        (ConfigErr.GENERAL_ERROR, "Configuration error: BFD instance B1 idle_tx value 1500x is not valid (must be in "
                                  "range [1000-4294967]), ignoring")]
    assert b.idle_tx == 1000.0


@pytest.mark.parametrize("line,message", BAD, ids=[b[0] for b in BAD])
def test_bad_values(line, message):
    result, b = bfd("neighbor_ip 192.0.2.1\n" + line)
    found = errs(result)
    assert any(d.message == message and d.pos.line == 3 and d.code == ConfigErr.GENERAL_ERROR for d in found), \
        [d.message for d in found]
    assert b.min_rx == 10.0 and b.multiplier == 5
    assert result.exit_status == 5


def test_large_interval_is_only_informational():
    result, b = bfd("neighbor_ip 192.0.2.1\nmin_rx 20000")
    assert b.min_rx == 20000.0 and result.exit_status == 0
    assert any("larger than max sensible" in d.message for d in result.diagnostics)


CHECKS = [
    ("bfd_instance B1 {\n min_rx 5\n}\n", "Configuration error: BFD instance B1 has no neighbor address set, "
                                          "disabling instance"),
    ("bfd_instance B1 {\n neighbor_ip 192.0.2.1\n source_ip 2001:db8::1\n}\n",
     "Configuration error: BFD instance B1 source address 2001:db8::1 and neighbor address 192.0.2.1 are not of the "
     "same family, disabling instance"),
    ("bfd_instance B1 {\n neighbor_ip 192.0.2.1\n}\nbfd_instance B2 {\n neighbor_ip 192.0.2.1\n}\n",
     "Configuration error: BFD instance B2 has duplicate neighbor address 192.0.2.1, ignoring instance"),
    ("bfd_instance B1 {\n neighbor_ip 192.0.2.1\n source_ip 192.0.2.5\n}\n"
     "bfd_instance B2 {\n neighbor_ip 192.0.2.1\n source_ip 192.0.2.5\n}\n",
     "Configuration error: BFD instance B2 has duplicate source/neighbor address 192.0.2.5/192.0.2.1, ignoring "
     "instance"),
    ("bfd_instance B1 {\n neighbor_ip 192.0.2.1\n}\nbfd_instance B1 {\n neighbor_ip 192.0.2.2\n}\n",
     "Configuration error: BFD instance B1 already configured - ignoring"),
    ("bfd_instance B1 {\n neighbor_ip 192.0.2.1\n ttl 5\n max_hops 6\n}\n",
     "BFD instance B1: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit"),
    ("bfd_instance B1 {\n neighbor_ip 2001:db8::1\n max_hops -1\n}\n",
     "BFD instance B1: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit"),
    ("bfd_instance " + "N" * 32 + " {\n neighbor_ip 192.0.2.1\n}\n",
     "Configuration error: BFD instance " + "N" * 32 + " name too long (maximum length is 31 characters) - ignoring"),
]


@pytest.mark.parametrize("text,message", CHECKS, ids=range(len(CHECKS)))
def test_end_of_block_checks(text, message):
    result = load_text(text)
    assert any(d.message == message and d.code == ConfigErr.GENERAL_ERROR for d in result.diagnostics), \
        [d.message for d in result.diagnostics]
    assert result.exit_status == 5


def test_distinct_sources_are_not_duplicates():
    result = load_text("bfd_instance B1 {\n neighbor_ip 192.0.2.1\n source_ip 192.0.2.5\n}\n"
                       "bfd_instance B2 {\n neighbor_ip 192.0.2.1\n source_ip 192.0.2.6\n}\n")
    assert result.exit_status == 0


def test_round_trip_full():
    text = ("bfd_instance B1 {\n neighbor_ip 192.0.2.1\n source_ip 192.0.2.5\n min_rx 3.5\n min_tx 20\n"
            " idle_tx 1500.25\n multiplier 3\n passive\n hoplimit 100\n max_hops 4\n weight -7 reverse\n checker\n}\n")
    result = load_text(text)
    assert errs(result) == []
    again = load_text(write_config(result.config))
    assert again.config.bfd_instance == result.config.bfd_instance


def test_the_vrrp_and_checker_processes_messages_about_bfd_instances():
    """keepalived -t also reports what its vrrp process (alloc_vrrp_tracked_bfd,
    bfd_vrrp_end_handler) and checker process (bfd_checker_handler) make of the blocks,
    checker first: checked equal to keepalived 2.2.7's output, order included."""
    long = "X" * 33
    text = (f"bfd_instance {long} {{\n neighbor_ip 192.0.2.3\n}}\n"
            "bfd_instance ONLYCHK {\n neighbor_ip 192.0.2.5\n checker\n}\n"
            "bfd_instance B1 {\n neighbor_ip 192.0.2.4\n}\n"
            "bfd_instance B1 {\n neighbor_ip 192.0.2.6\n weight 5\n}\n"
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n"
            f" track_bfd {{\n  {long}\n  ONLYCHK\n  B1\n }}\n virtual_ipaddress {{\n  192.0.2.100/24\n }}\n}}\n")
    result = load_text(text)
    got = [(d.pos.line if d.pos else None, d.message) for d in errs(result) if "BFD" in d.message
           or "bfd" in d.message]
    assert got == [
        (11, "BFD B1 already specified"),  # the checker process
        (1, f"BFD name {long} too long"),  # the vrrp process, in file order
        (11, "BFD B1 already specified"),
        (20, f"(VI_1) track bfd {long} not found, ignoring..."),
        (21, "(VI_1) track bfd ONLYCHK not found, ignoring..."),  # freed at its '}'
        (1, f"Configuration error: BFD instance {long} name too long (maximum length is 31 characters) - ignoring"),
        (11, "Configuration error: BFD instance B1 already configured - ignoring"),
    ]
