"""Issue 2, acceptance 2: every sample Debian's keepalived package ships parses cleanly.

No 'unknown keyword' and no structural error in any of them; values spot-checked from each
(the exit status against real keepalived is tests/integration/test_config_parity.py).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from keepalived_py.config import load_config
from keepalived_py.config.diagnostics import ConfigErr

SAMPLES = Path("/usr/share/doc/keepalived/samples")
STRUCTURAL = {ConfigErr.UNKNOWN_KEYWORD, ConfigErr.UNEXPECTED_BOB, ConfigErr.MISSING_BOB,
              ConfigErr.UNEXPECTED_EOB, ConfigErr.MISSING_EOB, ConfigErr.UNMATCHED_QUOTE,
              ConfigErr.MISSING_PARAMETER, ConfigErr.INVALID_NUMBER}


def sample_paths() -> list[Path]:
    return sorted(SAMPLES.glob("keepalived.conf.*")) if SAMPLES.is_dir() else []


def load(name: str, **kw):
    path = SAMPLES / name
    if not path.exists():
        from tests.envcheck import keepalived_binary
        keepalived_binary()  # skips (fails in CI) when the package is missing
        pytest.fail(f"{path} missing although keepalived is installed")
    return load_config(str(path), check_interfaces=False, **kw)


def test_the_samples_are_there():
    from tests.envcheck import keepalived_binary
    keepalived_binary()
    assert len(sample_paths()) >= 25


#: what keepalived 2.2.7 itself reports for a sample (measured with keepalived -t): the
#: lvs_syncd sample lists sync group members outside a `group { }` block
KEEPALIVED_REPORTS = {
    "keepalived.conf.vrrp.lvs_syncd": ["(keepalived.conf.vrrp.lvs_syncd: Line 4) Unknown keyword 'VI_2'",
                                       "(keepalived.conf.vrrp.lvs_syncd: Line 5) Unknown keyword 'VI_3'"],
}


@pytest.mark.parametrize("path", sample_paths(), ids=lambda p: p.name)
def test_sample_parses_without_unknown_keywords_or_structure_errors(path: Path):
    result = load_config(str(path), check_interfaces=False)
    bad = [str(d).replace(str(SAMPLES) + "/", "") for d in result.diagnostics if d.code in STRUCTURAL]
    assert bad == KEEPALIVED_REPORTS.get(path.name, [])


def vip(text: str):
    return ipaddress.ip_interface(text)


# --------------------------------------------------------------------------- spot checks
# Values read straight from each sample's text with regular expressions (independently of
# our parser) and compared with the models: every sample is checked, whatever it holds.
def _text(path: Path) -> str:
    return "\n".join(line.split("!")[0].split("#")[0] for line in path.read_text().splitlines())


@pytest.mark.parametrize("path", sample_paths(), ids=lambda p: p.name)
def test_sample_values_match_its_text(path: Path):
    import re

    text = _text(path)
    cfg = load_config(str(path), check_interfaces=False, config_id="main").config
    checked = 0
    # conditional lines (@id) make the text ambiguous: compare only plain samples' counts
    conditional = re.search(r"^\s*@", text, re.M) is not None
    names = re.findall(r"^\s*vrrp_instance\s+(\S+)", text, re.M)
    if names and not conditional:
        assert [i.name for i in cfg.vrrp_instance] == names
        vrids = [int(v) for v in re.findall(r"^\s*virtual_router_id\s+(\d+)", text, re.M)]
        assert [i.virtual_router_id for i in cfg.vrrp_instance] == vrids
        prios = [int(v) for v in re.findall(r"^\s*priority\s+(\d+)", text, re.M)]
        assert [i.priority for i in cfg.vrrp_instance if i.priority is not None] == prios
        ifaces = re.findall(r"^\s*interface\s+(\S+)", text, re.M)
        assert set(i.interface for i in cfg.vrrp_instance) <= set(ifaces)
        checked += 1
    router_id = re.findall(r"^\s*router_id\s+(\S+)", text, re.M)
    if router_id and not conditional:
        assert cfg.global_defs.router_id == router_id[-1]
        checked += 1
    servers = re.findall(r"^\s*virtual_server\s+(\S+)\s+(\S+)", text, re.M)
    if servers:
        keys = []
        for vs in cfg.virtual_server:
            t = vs.target
            keys.append(("fwmark", str(t.fwmark)) if t.fwmark is not None else
                        ("group", t.group) if t.group is not None else (str(t.address), str(t.port)))
        assert keys == list(servers)
        reals = re.findall(r"^\s*real_server\s+(\S+)(?:\s+(\d+))?", text, re.M)
        assert [(str(rs.address), "" if rs.port is None else str(rs.port))
                for vs in cfg.virtual_server for rs in vs.real_server] == reals
        checked += 1
    # address lines start with the address (virtual_ipaddress and static_ipaddress entries)
    vips = set(re.findall(r"^\s*(\d+\.\d+\.\d+\.\d+)(?:/\d+)?(?:\s|$)", text, re.M))
    if cfg.vrrp_instance and vips and not conditional:
        ours = {str(a.address.ip) for i in cfg.vrrp_instance for a in i.virtual_ipaddress}
        assert ours and ours <= vips
        checked += 1
    if path.name == "keepalived.conf.conditional_conf":
        # with -i main the @main lines are kept and @^main ones dropped (man page example)
        assert cfg.vrrp_instance, "the conditional sample defines instances for config id main"
        checked += 1
    assert checked, f"nothing spot-checked in {path.name}"
