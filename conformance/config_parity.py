"""`-t` parity: real `keepalived -t` and `keepalived-py -t` on the same configuration files.

Both run inside one network namespace that has the interfaces the configurations name
(eth0..eth3 and eth0.1), because `keepalived -t` checks that interfaces exist. For every
file it records the exit status and the diagnostic lines on stderr; exit statuses must
match (or be listed in DIFFERENCES.md under scenario `config_test_parity`), and the
diagnostics are shown side by side as a table of differences. A file that says
`# expect: same diagnostics` in its first lines must also give the same set of diagnostic
lines, line numbers included (keepalived names the file in "(FILE: Line N)" only in some of
its parses, so the file name is left out of the comparison, and so are our hints such as
"(did you mean ...?)").

    python -m conformance.config_parity [--only SUBSTRING] [-v]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.lab import Implementation, Lab, get

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLES = Path("/usr/share/doc/keepalived/samples")

#: one node with a port on four bridges: eth0..eth3, the names the samples use
TOPOLOGY = """
bridge lan0 192.0.2.0/24
bridge lan1 198.51.100.0/24
bridge lan2 203.0.113.0/24
bridge lan3 2001:db8:0:4::/64
router r1 lan0 lan1 lan2 lan3
"""
#: extra interfaces some samples name (the kernel here has no VLAN support: a veth will do)
EXTRA_INTERFACES = ("eth0.1",)
_EXPECT = re.compile(r"#\s*expect:\s*keepalived exit (\d+)")
_SAME = re.compile(r"#\s*expect:\s*same diagnostics")
_WHERE = re.compile(r"^\((?:[^()]*: )?Line (\d+)\) ")
#: what our diagnostics add to keepalived's text (Diagnostic.hint), left out of the comparison
_OUR_HINT = re.compile(r" \((?:did you mean '[^']*'\?|not closed: .*)\)$")


@dataclass(frozen=True)
class Case:
    name: str  # stable key: where it comes from and its file name, dots made underscores
    path: Path
    expected: int | None  # the `# expect: keepalived exit N` a file records, if any
    same_diagnostics: bool = False  # `# expect: same diagnostics`: compare the lines too


def collect(only: str | None = None) -> list[Case]:
    """Every config of examples/, conformance/configs/ and Debian's samples."""
    cases: list[Case] = []
    sources = [("examples", ROOT / "examples", "*.conf"), ("configs", HERE / "configs", "**/*.conf")]
    for prefix, folder, pattern in sources:
        for path in sorted(folder.glob(pattern)):
            rel = path.relative_to(folder).as_posix()
            cases.append(Case(_key(f"{prefix}/{rel}"), path, _expectation(path), _wants_same(path)))
    if SAMPLES.is_dir():
        for path in sorted(SAMPLES.glob("keepalived.conf.*")):
            cases.append(Case(_key(f"samples/{path.name}"), path, None))
    return [c for c in cases if not only or only in c.name]


def _key(text: str) -> str:
    return text.replace(".", "_")


def _head(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[:3]
    except OSError:
        return []


def _expectation(path: Path) -> int | None:
    for line in _head(path):
        m = _EXPECT.search(line)
        if m:
            return int(m.group(1))
    return None


def _wants_same(path: Path) -> bool:
    return any(_SAME.search(line) for line in _head(path))


@dataclass(frozen=True)
class Outcome:
    status: int
    diagnostics: tuple[str, ...]


def prepare(lab: Lab, node: str = "r1") -> None:
    for name in EXTRA_INTERFACES:
        lab.exec(node, ["ip", "link", "add", name, "type", "veth", "peer", "name", f"x{len(name)}{name[-1]}"])
        lab.exec(node, ["ip", "link", "set", name, "up"])


def run_all(lab: Lab, impl: Implementation, cases: list[Case], node: str = "r1") -> dict[str, Outcome]:
    """`-t -f FILE` for each case, from the file's own folder (samples name files relatively)."""
    out: dict[str, Outcome] = {}
    for case in cases:
        argv = [*impl.argv_prefix(), "-t", "-f", str(case.path)]
        proc = lab.exec(node, argv, check=False, timeout=60, cwd=str(case.path.parent))
        lines = tuple(_normalise(line) for line in proc.stderr.splitlines() if line.strip())
        out[case.name] = Outcome(proc.returncode, lines)
    return out


def _normalise(line: str) -> str:
    return line.strip()


def _ours_only(lines: tuple[str, ...]) -> tuple[str, ...]:
    """Our `-t` adds a 'parsed, not implemented' listing keepalived has no counterpart for."""
    kept = []
    for line in lines:
        if line.startswith("parsed, not implemented"):
            break
        kept.append(line)
    return tuple(kept)


def table(cases: list[Case], ref: dict[str, Outcome], ours: dict[str, Outcome], verbose: bool = False) -> str:
    rows = [f"{'config':58} {'keepalived':>10} {'kpy':>4} {'match':6} {'diag k/py/same':>15}"]
    for case in cases:
        a, b = ref[case.name], ours[case.name]
        mine = _ours_only(b.diagnostics)
        same = len(set(a.diagnostics) & set(mine))
        match = "yes" if a.status == b.status else "NO"
        rows.append(f"{case.name[:58]:58} {a.status:>10} {b.status:>4} {match:6} "
                    f"{len(a.diagnostics):>5}/{len(mine)}/{same}")
        if verbose or a.status != b.status:
            for line in sorted(set(a.diagnostics) - set(mine)):
                rows.append(f"    keepalived only: {line}")
            for line in sorted(set(mine) - set(a.diagnostics)):
                rows.append(f"    ours only:       {line}")
    return "\n".join(rows)


def comparable(lines: tuple[str, ...]) -> set[str]:
    """Diagnostic lines as a set, "(FILE: Line N) " and "(Line N) " made one form, without
    the hints we add."""
    return {_OUR_HINT.sub("", _WHERE.sub(r"(Line \1) ", line)) for line in lines}


def diagnostic_mismatches(cases: list[Case], ref: dict[str, Outcome], ours: dict[str, Outcome]) -> list[str]:
    """Each difference in the diagnostics of the files that expect the same diagnostics."""
    out = []
    for case in cases:
        if not case.same_diagnostics:
            continue
        theirs, mine = comparable(ref[case.name].diagnostics), comparable(_ours_only(ours[case.name].diagnostics))
        out += [f"{case.name}: keepalived only: {line}" for line in sorted(theirs - mine)]
        out += [f"{case.name}: ours only: {line}" for line in sorted(mine - theirs)]
    return out


def documented_mismatches() -> set[str]:
    """Config keys whose exit status differs on purpose (DIFFERENCES.md, `exit.<key>`)."""
    from conformance.report import load_differences

    keys = set()
    for entry in load_differences():
        if entry["scenario"] == "config_test_parity" and entry["field"].startswith("exit."):
            keys.add(entry["field"][len("exit."):])
    return keys


def mismatches(cases: list[Case], ref: dict[str, Outcome], ours: dict[str, Outcome]) -> list[str]:
    allowed = documented_mismatches()
    return [c.name for c in cases if ref[c.name].status != ours[c.name].status and c.name not in allowed]


def stale_expectations(cases: list[Case], ref: dict[str, Outcome]) -> list[str]:
    """Files whose recorded `# expect: keepalived exit N` no longer holds for real keepalived."""
    return [f"{c.name}: recorded {c.expected}, keepalived gave {ref[c.name].status}"
            for c in cases if c.expected is not None and ref[c.name].status != c.expected]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.config_parity", description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="only configs whose key contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="show every diagnostic difference")
    args = ap.parse_args(argv)
    cases = collect(args.only)
    with Lab(TOPOLOGY) as lab:
        prepare(lab)
        ref = run_all(lab, get("keepalived"), cases)
        ours = run_all(lab, get("keepalived-py"), cases)
    print(table(cases, ref, ours, args.verbose))
    bad = mismatches(cases, ref, ours)
    stale = stale_expectations(cases, ref)
    diag = diagnostic_mismatches(cases, ref, ours)
    print(f"\n{len(cases)} configs, {len(cases) - len(bad)} same exit status, {len(bad)} undocumented mismatches")
    for line in stale:
        print(f"stale expectation: {line}")
    for line in diag:
        print(f"diagnostics differ: {line}")
    return 1 if bad or stale or diag else 0


if __name__ == "__main__":
    sys.exit(main())
