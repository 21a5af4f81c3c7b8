"""The BFD core is sans-IO: importing it must pull in nothing that does I/O or reads time.

The pure modules of keepalived_py/bfd/ are walked (everything but the child's I/O:
runtime, sockets, daemon), so a new core module is checked without editing this test.
Checked statically (imports on an allow list) and dynamically (a fresh interpreter that
imports the core has none of the I/O modules loaded).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[3] / "keepalived_py" / "bfd"
IO_MODULES = {"runtime", "sockets", "daemon", "track"}
CORE = sorted(p.stem for p in PKG.glob("*.py") if p.stem != "__init__" and p.stem not in IO_MODULES)
ALLOWED = ({"__future__", "dataclasses", "enum", "ipaddress", "struct", "typing", "collections",
            "collections.abc", "keepalived_py.bfd"} | {f"keepalived_py.bfd.{m}" for m in CORE})
FORBIDDEN = ("socket", "asyncio", "subprocess", "selectors", "select", "threading", "logging",
             "pyroute2", "uvloop", "psutil", "time", "os", "signal", "multiprocessing", "random")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


def test_the_folder_is_walked():
    assert {"packet", "session", "demux", "plan"} <= set(CORE)
    assert not IO_MODULES & set(CORE)


def test_core_modules_import_only_pure_modules():
    for path in [PKG / f"{m}.py" for m in CORE] + [PKG / "__init__.py"]:
        extra = _imports(path) - ALLOWED
        assert not extra, f"{path.relative_to(PKG.parents[1])} imports {sorted(extra)}"


def test_importing_the_core_loads_no_io_module():
    code = ("import sys, json\nbefore = set(sys.modules)\n"
            + "".join(f"import keepalived_py.bfd.{m}\n" for m in CORE)
            + "print(json.dumps(sorted(set(sys.modules) - before)))\n")
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                         cwd=PKG.parents[1], check=True)
    loaded = set(json.loads(out.stdout))
    bad = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN or m.startswith("_asyncio"))
    assert not bad, f"importing the BFD core loaded {bad}"
