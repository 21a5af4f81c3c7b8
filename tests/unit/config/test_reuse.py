"""Reusing a clean keyword line's value (config/reuse.py) gives the models, positions,
diagnostics and not-implemented list that building every line does."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.bench.config_parse import virtual_servers, vrrp_instances
from keepalived_py.config.diagnostics import Diagnostics
from keepalived_py.config.model import KeepalivedConfig
from keepalived_py.config.parser import parse_lines
from keepalived_py.config.preprocess import Preprocessor
from keepalived_py.config.reuse import position_free
from keepalived_py.config.schema import Usage, build_model
from keepalived_py.errors import SourcePos

ROOT = Path(__file__).resolve().parents[3]


class _Forget(dict):
    """A per-class memo that keeps nothing: every line goes through the general path."""

    def get(self, key, default=None):
        return default

    def __setitem__(self, key, value):
        pass


class _NoReuse(dict):
    def get(self, key, default=None):
        return _Forget()


def full(value):
    """Everything a model holds, positions included (models compare without them)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,
                tuple((f.name, full(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, Mapping):
        return ("map", tuple((k, full(v)) for k, v in value.items()))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(full(v) for v in value))
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.value)
    return value


def build(text: str, *, reuse: bool, path: str = "keepalived.conf"):
    diags = Diagnostics()
    pre = Preprocessor(diagnostics=diags, config_id="reuse")
    lines = pre.read(path) if text is None else pre.read_text(text, path)
    usage = Usage() if reuse else Usage(built=_NoReuse(), heads=_NoReuse())
    config = build_model(KeepalivedConfig, None, (), parse_lines(lines, diags), diags, usage, None)
    return (full(config), [(d.code, d.message, d.pos, d.hint) for d in diags],
            [(str(p), w) for p, w in usage.not_implemented], usage)


def assert_same(text: str | None, path: str = "keepalived.conf") -> Usage:
    fast = build(text, reuse=True, path=path)
    slow = build(text, reuse=False, path=path)
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]
    assert fast[2] == slow[2]
    return fast[3]


def test_bench_configuration_builds_the_same_and_reuses_lines():
    usage = assert_same(vrrp_instances(30, "eth0", ("eth1",)) + virtual_servers(12, 4))
    reused = {words for memo in usage.built.values() for words in memo}
    assert ("weight", "1") in reused and ("lb_kind", "NAT") in reused and ("priority", "100") in reused
    heads = {words for memo in usage.heads.values() for words in memo}
    assert ("real_server", "198.51.100.1", "80") in heads


CONFIGS = sorted({*ROOT.glob("conformance/configs/**/*.conf"), *ROOT.glob("examples/*.conf"),
                  *ROOT.glob("tests/property/corpus/*.conf")})


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_sample_configurations_build_the_same(path):
    assert_same(None, str(path))


# lines for blocks where reuse could go wrong: repeats (keepalived keeps the first or the
# last), bad values (a message per line), deprecated and not-implemented keywords,
# positions in values (entries), scripts whose quoting the words lose
_VS_LINES = ["delay_loop 6", "delay_loop 6", "delay_loop x", "lb_algo wlc", "lb_algo wlcc", "lb_kind NAT",
             "lb_kind DR", "protocol TCP", "persistence_timeout 50", "quorum 2", "quorum 0", "hysteresis 1",
             "alpha", "omega", "virtualhost www", "sorry_server 192.0.2.9 80", "lvs_sched rr", "lb_algo",
             "ha_suspend", "retry 3", "nosuch 1", "weight 1"]
_RS_LINES = ["weight 1", "weight 1", "weight 0", "weight -3", "weight x", "inhibit_on_failure",
             'notify_up "/bin/true a"', "notify_up /bin/true a", "notify_down /bin/false", "uthreshold 100",
             "lthreshold 10", "delay_loop 3", "retry 2", "connect_timeout 3", "nosuch"]
_VI_LINES = ["state BACKUP", "state MASTER", "state SLAVE", "interface eth0", "virtual_router_id 51",
             "virtual_router_id 0", "priority 100", "priority 100", "priority 300", "advert_int 1",
             "advert_int 0.5", "nopreempt", "garp_master_delay 5", "smtp_alert", "version 3",
             'notify_master "/bin/echo x"', "notify_master /bin/echo x", "track_interface_weight 3",
             "unicast_src_ip 192.0.2.1", "dont_track_primary", "lvs_sync_daemon_interface eth0"]
# `once` keywords: a repeat is reported and ignored, never reused as a value
_TF_LINES = ["file /tmp/tf", "file /tmp/tf", "weight 3", "weight 3", "weight 3 reverse", "init_file 0",
             "vrrp_track_process p", "process sshd", "process sshd", "quorum 2", "quorum 2"]


def _block(head: str, pool: list[str], inner: str = "") -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pool), max_size=8).map(
        lambda lines: head + " {\n" + "".join(f"  {line}\n" for line in lines) + inner + "}\n")


# head words repeat too, valid or not (a bad one is reported at each block)
_RS_HEADS = ["real_server 192.0.2.2 80", "real_server 192.0.2.3 80", "real_server 192.0.2.300 80",
             "real_server 192.0.2.2", "real_server 192.0.2.2 0", "real_server 192.0.2.2 80 x", "real_server 2001:db8::1 80"]
_VS_HEADS = ["virtual_server 192.0.2.1 80", "virtual_server 192.0.2.1 8o", "virtual_server fwmark 1",
             "virtual_server group g"]
_REAL = st.sampled_from(_RS_HEADS).flatmap(
    lambda head: _block(head, _RS_LINES, "  TCP_CHECK {\n    connect_timeout 3\n  }\n"))
_VS = st.tuples(st.sampled_from(_VS_HEADS).flatmap(lambda head: _block(head, _VS_LINES)),
                st.lists(_REAL, max_size=3)).map(lambda parts: parts[0][:-2] + "".join(parts[1]) + "}\n")
_VI = st.tuples(st.sampled_from(["vrrp_instance VI_1", "vrrp_instance VI_2", "vrrp_instance"]).flatmap(
    lambda head: _block(head, _VI_LINES)), st.sampled_from([
    "", "  virtual_ipaddress {\n    192.0.2.10/24\n  }\n", "  track_script {\n    chk\n  }\n"])).map(
    lambda parts: parts[0][:-2] + parts[1] + "}\n")


_TF = st.one_of(_block("track_file tf", _TF_LINES), _block("vrrp_track_process tp", _TF_LINES))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_VS, _VI, _TF), min_size=1, max_size=6).map("".join))
def test_generated_blocks_build_the_same(text):
    assert_same(text)


def test_position_free_values_only():
    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int
        b: tuple[str, ...]

    @dataclasses.dataclass(frozen=True)
    class Placed:
        a: int
        pos: SourcePos | None

    @dataclasses.dataclass
    class Mutable:
        a: int

    assert position_free(3) and position_free("x") and position_free(None) and position_free((1, "a"))
    assert position_free(Plain(1, ("x",))) and position_free(frozenset({1}))
    assert not position_free(Placed(1, SourcePos("f", 1)))
    assert not position_free(Mutable(1)) and not position_free([1]) and not position_free({"a": 1})
    assert not position_free((1, SourcePos("f", 2)))
