"""Tracking is shared by the vrrp and the check children: importing it must not pull in VRRP.

Issue 13 gives track_script / track_file / track_process, notify scripts and FIFOs a home
the check child imports without importing the VRRP core or the vrrp child's runtime. The
folder is walked, so a new module there is checked too; a fresh interpreter imports every
module of it and lists what of VRRP got loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "keepalived_py" / "track"
MODULES = sorted(p.stem for p in PKG.glob("*.py") if p.stem != "__init__")


def _vrrp_loaded_by(imports: list[str]) -> list[str]:
    code = ("import sys, json\n" + "".join(f"import {m}\n" for m in imports)
            + "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[:2] in "
              "(['keepalived_py', 'vrrp'], ['keepalived_py', 'vrrpd']))))\n")
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                         cwd=PKG.parents[1], check=True)
    return json.loads(out.stdout)


def test_the_folder_is_walked():
    assert {"trackers", "notify", "fifo", "script_state"} <= set(MODULES)


def test_tracking_imports_no_vrrp():
    assert _vrrp_loaded_by([f"keepalived_py.track.{m}" for m in MODULES]) == []

