"""Heavy modules stay out of the paths that do not use them (issue 16: start-up time).

Each case runs in a fresh interpreter and lists sys.modules afterwards: `--version`,
`--help` and `--signum` answer from the CLI's own modules; `-t` loads the config pipeline
and nothing of the daemon; the parent of a VRRP-only daemon, once it has preloaded the vrrp
runtime and made its observers (what it has when it forks), has neither the checker, the
BFD runtime, prometheus_client nor pyroute2; the vrrp child's netlink adapter loads
pyroute2's rtnetlink part, not the whole library, and the library is still whole for
code that asks it for a name.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

CONFIG = """global_defs {
    router_id r1
}
vrrp_instance VI_1 {
    state BACKUP
    interface lo
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
"""

#: never wanted on the CLI's answer-at-once paths
CLI_ONLY_ABSENT = ("dataclasses", "typing", "platform", "logging", "asyncio", "keepalived_py.config",
                   "keepalived_py.log", "lark", "pyroute2", "uvloop", "prometheus_client")
#: never wanted by -t
CONFIG_TEST_ABSENT = ("asyncio", "uvloop", "pyroute2", "prometheus_client", "http.server",
                      "keepalived_py.core.supervisor", "keepalived_py.vrrpd", "keepalived_py.vrrp.machine",
                      "keepalived_py.check", "keepalived_py.bfd.daemon", "keepalived_py.observe.metrics")
#: not imported by the parent of a VRRP-only daemon (no virtual_server, no bfd_instance,
#: no --metrics-listen): nothing of this is shared with or needed by its vrrp child
VRRP_PARENT_ABSENT = ("pyroute2", "prometheus_client", "http.server", "keepalived_py.observe.http",
                      "keepalived_py.observe.metrics", "keepalived_py.check.daemon",
                      "keepalived_py.bfd.daemon", "aiohttp", "argparse")
#: pyroute2's __init__ imports these; the rtnetlink adapter does not need them
PYROUTE2_UNUSED = ("pyroute2.ipdb", "pyroute2.ndb", "pyroute2.ndb.main", "pyroute2.conntrack",
                   "pyroute2.ethtool", "pyroute2.netlink.nl80211", "pyroute2.plan9.client",
                   "pyroute2.netlink.generic.wireguard")


def _modules_after(code: str) -> set[str]:
    """sys.modules of a fresh interpreter after `code` (its last stdout line is the list)."""
    wrapped = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    proc = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The names, or submodules of them, found in `modules`."""
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


def test_version_help_signum_import_only_the_cli() -> None:
    for argv in (["--version"], ["--help"], ["--signum=RELOAD"]):
        mods = _modules_after(textwrap.dedent(f"""
            import contextlib, io
            from keepalived_py.cli import main
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                assert main({argv!r}) == 0
        """))
        assert _loaded(mods, CLI_ONLY_ABSENT) == [], argv


def test_config_test_imports_no_daemon(tmp_path: Path) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(CONFIG)
    mods = _modules_after(textwrap.dedent(f"""
        import contextlib, io
        from keepalived_py.cli import main
        with contextlib.redirect_stderr(io.StringIO()):
            main(["-t", "-f", {str(conf)!r}])
    """))
    assert "keepalived_py.config.model" in mods  # it did read the file
    assert _loaded(mods, CONFIG_TEST_ABSENT) == []


def test_vrrp_only_parent_at_fork(tmp_path: Path) -> None:
    """What Supervisor.run() has imported when it forks the vrrp child, plus the observers
    it starts right after (control socket only: no --metrics-listen)."""
    conf = tmp_path / "keepalived.conf"
    conf.write_text(CONFIG)
    mods = _modules_after(textwrap.dedent(f"""
        from keepalived_py.core import configload
        from keepalived_py.core.child import resolve_role
        from keepalived_py.core.control import ParentObservers  # noqa: F401
        from keepalived_py.core.options import parse_args
        from keepalived_py.core.supervisor import Supervisor  # noqa: F401
        opts = parse_args(["-f", {str(conf)!r}])
        result = configload.load(opts, check_interfaces=False)
        roles = configload.roles_to_run(result.config, opts)
        assert roles == ["vrrp"], roles
        for role in roles:
            resolve_role(role)
    """))
    assert "keepalived_py.vrrpd.runtime" in mods  # preloaded, shared with the child
    assert _loaded(mods, VRRP_PARENT_ABSENT) == []


def test_vrrp_child_netlink_adapter_loads_rtnetlink_only() -> None:
    mods = _modules_after(textwrap.dedent("""
        import keepalived_py.net.pyroute2_adapter  # noqa: F401
        from keepalived_py.net import pyroute2_lean
        assert not pyroute2_lean.complete()
    """))
    assert "pyroute2.iproute.linux" in mods
    assert _loaded(mods, PYROUTE2_UNUSED) == []


def test_lean_pyroute2_is_whole_for_names_asked() -> None:
    """Code that wants more of pyroute2 than the adapter (the data dump's IPRoute, the
    checker's IPVS) gets the library as if imported whole."""
    mods = _modules_after(textwrap.dedent("""
        import keepalived_py.net.pyroute2_adapter  # noqa: F401
        import pyroute2
        from pyroute2 import IPVS, IPRoute
        from keepalived_py.net import pyroute2_lean
        assert pyroute2_lean.complete()
        assert IPRoute is pyroute2.iproute.linux.IPRoute and IPVS is pyroute2.ipvs.IPVS
        assert pyroute2.__version__
        try:
            pyroute2.no_such_name
        except AttributeError:
            pass
        else:
            raise AssertionError("a missing name must still raise AttributeError")
    """))
    assert "pyroute2.ndb.main" in mods  # the package's __init__ ran
