"""The acted-on registry names real keywords, and -t stops listing them."""

from __future__ import annotations

from keepalived_py.config import load_text
from keepalived_py.config.model import KeepalivedConfig
from keepalived_py.config.schema import Nested, keyword_specs
from keepalived_py.config.support import ACTED_ON


def all_labels() -> set[str]:
    labels: set[str] = set()
    seen: set[type] = set()

    def walk(cls: type) -> None:
        if cls in seen:
            return
        seen.add(cls)
        block = cls.block_keyword or "top level"
        for _fname, spec in keyword_specs(cls):
            labels.add(f"{block}.{spec.name}")
            if isinstance(spec.vtype, Nested):
                walk(spec.vtype.model)

    walk(KeepalivedConfig)
    return labels


def test_every_acted_on_name_is_a_keyword():
    assert ACTED_ON - all_labels() == set()


def test_acted_on_keywords_are_not_listed_by_dash_t():
    result = load_text("vrrp_instance V {\n interface eth0\n virtual_router_id 5\n vrf red\n}\n")
    listed = " ".join(result.not_implemented)
    assert "vrrp_instance.interface" not in listed and "vrrp_instance.virtual_router_id" not in listed
    # vrf is read as keepalived 2.2.7 does (never in effect there), and logged once at start
    assert "vrrp_instance.vrf" not in listed
    result = load_text("global_defs {\n enable_dbus\n}\n")
    assert "global_defs.enable_dbus" in " ".join(result.not_implemented)
