"""The check child must not load the VRRP core or the vrrp child's runtime.

Issue 13: the check child shares tracking, notify and BFD events with the vrrp child, but
keepalived's checker process carries no VRRP code, and neither should ours (a VRRP bug or a
heavy vrrp import must not reach the health checks). A fresh interpreter imports every
module of keepalived_py/check/ (walked, subpackages included, so a new module is checked
too: the daemon and its runtime among them) and the BFD hook the check daemon installs,
then lists what of keepalived_py.vrrp / keepalived_py.vrrpd got loaded.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "keepalived_py" / "check"
MODULES = sorted(m.name for m in pkgutil.walk_packages([str(PKG)], "keepalived_py.check."))
# outside check/ but imported by the check daemon for its BFD_CHECK events
SHARED = ["keepalived_py.bfd.track"]


def _vrrp_loaded_by(imports: list[str]) -> list[str]:
    # -I keeps the environment out; the checkout this test sits in goes first on the path
    code = (f"import sys, json\nsys.path.insert(0, {str(ROOT)!r})\n" + "".join(f"import {m}\n" for m in imports)
            + "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[:2] in "
              "(['keepalived_py', 'vrrp'], ['keepalived_py', 'vrrpd']))))\n")
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return json.loads(out.stdout)


def test_the_folder_is_walked():
    assert {"keepalived_py.check.daemon", "keepalived_py.check.runtime",
            "keepalived_py.check.scheduler"} <= set(MODULES)
    assert any(m.startswith("keepalived_py.check.kinds.") for m in MODULES)


def test_the_check_daemon_and_runtime_load_no_vrrp():
    assert _vrrp_loaded_by(["keepalived_py.check.daemon", "keepalived_py.check.runtime"]) == []


def test_no_check_module_loads_vrrp():
    assert _vrrp_loaded_by([*MODULES, *SHARED]) == []
