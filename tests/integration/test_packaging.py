"""Issue 13: a wheel built from the tree works once installed, away from the source tree.

An editable install reads files straight from the checkout, so it hides anything the wheel
forgets (the Lark grammar once was a symlink outside the package, and `-t` died with a
traceback after `pip install .`). This builds a wheel from a copy of the tree, installs it
into a fresh virtualenv (dependencies from the package index, through pip's cache) and runs
the installed command from a folder that is not the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "vrrp-master.conf"
#: what a checkout holds that the build must not see (stale build/ output above all)
_NOT_COPIED = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".hypothesis", ".ruff_cache", ".cache")


def _run(argv: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"{proc.args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh virtualenv with keepalived-py installed from a wheel."""
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=_NOT_COPIED)
    dist = base / "dist"
    _ok(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)], base))
    wheels = list(dist.glob("keepalived_py-*.whl"))
    assert len(wheels) == 1, wheels
    venv = base / "venv"
    # no pip inside the new environment: the running pip installs into it (--python)
    _ok(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base))
    _ok(_run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
              str(wheels[0])], base))
    return venv / "bin"


def test_wheel_ships_the_grammar_and_no_symlinks(installed):
    wheel = next((installed.parent.parent / "dist").glob("keepalived_py-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "keepalived_py/config/keepalived.lark" in names
    # a symlink in the package would be copied as whatever it points at, or not at all
    links = [p for p in (ROOT / "keepalived_py").rglob("*") if p.is_symlink()]
    assert not links, links


def test_installed_version(installed, tmp_path):
    proc = _ok(_run([str(installed / "keepalived-py"), "--version"], tmp_path))
    text = proc.stdout + proc.stderr
    assert "Keepalived v2.2.7" in text and "keepalived-py" in text


def test_installed_config_test_matches_the_checkout(installed, tmp_path):
    """`-t` from the wheel runs (no traceback) and says exactly what the checkout says."""
    config = tmp_path / EXAMPLE.name
    shutil.copy(EXAMPLE, config)
    probe = _ok(_run([str(installed / "python"), "-c", "import keepalived_py; print(keepalived_py.__file__)"],
                     tmp_path))
    assert str(installed.parent) in probe.stdout, "must import the installed copy, not the checkout"
    wheel = _run([str(installed / "keepalived-py"), "-t", "-f", str(config)], tmp_path)
    assert "Traceback" not in wheel.stderr, wheel.stderr
    tree = _run([sys.executable, "-c", "import sys; from keepalived_py.cli import main; sys.exit(main())",
                 "-t", "-f", str(config)], ROOT)
    assert (wheel.returncode, wheel.stderr) == (tree.returncode, tree.stderr)
    # the example names eth0: it is clean wherever that interface exists
    expected = 0 if Path("/sys/class/net/eth0").exists() else 4
    assert wheel.returncode == expected, wheel.stderr
