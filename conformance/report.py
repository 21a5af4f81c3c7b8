"""Run scenarios against each implementation, compare the facts, print one table.

Per scenario and implementation the outcome is one of
  pass   the scenario ran and its own checks hold
  fail   it ran, but its checks found problems (the facts are still compared)
  error  it could not run (exception, missing environment, missing binary)
  n/a    unsupported.toml says the implementation lacks a feature the scenario needs:
         "n/a (not implemented yet: <reason>)"; not a pass, not compared
Two outcomes that both ran are compared fact by fact (keys starting with "_" are
informational).  A differing fact is a mismatch unless DIFFERENCES.md lists it.

Exit status 1 when anything errored, the reference failed, or a mismatch is not
documented; 0 otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .lab import impl as impls
from .scenarios import Context, Scenario, load_all, not_supported

DIFFERENCES_FILE = Path(__file__).resolve().parent / "DIFFERENCES.md"


@dataclass
class Outcome:
    status: str                      # pass | fail | error | n/a
    result: dict | None = None
    problems: list[str] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0
    trace: str = ""

    @property
    def ran(self) -> bool:
        return self.status in ("pass", "fail")


@dataclass
class Row:
    scenario: Scenario
    outcomes: dict[str, Outcome]
    differing: list[str] = field(default_factory=list)
    documented: list[str] = field(default_factory=list)
    compared: bool = False

    @property
    def mismatch(self) -> bool:
        return self.compared and bool(self.differing)

    def match_text(self) -> str:
        if not self.compared:
            return "n/a" if len(self.outcomes) > 1 else "-"
        if self.differing:
            if len(self.differing) > 3:  # the full list is printed below the table
                return f"NO: {len(self.differing)} facts ({', '.join(self.differing[:2])}, ...)"
            return "NO: " + ", ".join(self.differing)
        if self.documented:
            return "yes (documented: " + ", ".join(self.documented) + ")"
        return "yes"


# -- deliberate differences ---------------------------------------------------------------
def load_differences(path: Path = DIFFERENCES_FILE) -> list[dict]:
    """Entries from the ```toml differences blocks of DIFFERENCES.md."""
    if not path.exists():
        return []
    blocks = re.findall(r"^```toml differences\n(.*?)^```", path.read_text(), re.M | re.S)
    entries = []
    for b in blocks:
        for e in tomllib.loads(b).get("difference", []):
            if not {"scenario", "field", "reason"} <= set(e):
                raise ValueError(f"{path}: a difference needs scenario, field and reason: {e}")
            entries.append(e)
    return entries


def documented(diffs: list[dict], scenario: str, path: str) -> bool:
    for e in diffs:
        if e["scenario"] == scenario and (e["field"] == "*" or path == e["field"]
                                           or path.startswith(e["field"] + ".")):
            return True
    return False


def differing_fields(a, b, prefix: str = "") -> list[str]:
    """Dotted paths where two fact dicts differ ("_" keys ignored)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if str(k).startswith("_"):
                continue
            p = f"{prefix}.{k}" if prefix else str(k)
            if k not in a or k not in b:
                out.append(p)
            else:
                out += differing_fields(a[k], b[k], p)
        return out
    return [] if _jsonish(a) == _jsonish(b) else [prefix or "*"]


def _jsonish(v):
    return json.loads(json.dumps(v, default=str))


# -- running -------------------------------------------------------------------------------
def _get(result, path: str):
    cur = result
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            # keys may themselves contain dots (file names): try the longest match
            return _get_loose(result, path)
    return cur


def _get_loose(result, path: str):
    if not isinstance(result, dict):
        return None
    for k in sorted(result, key=lambda k: -len(str(k))):
        ks = str(k)
        if path == ks:
            return result[k]
        if path.startswith(ks + "."):
            return _get_loose(result[k], path[len(ks) + 1:])
    return None


def environment_problem(sc: Scenario) -> str | None:
    if ("netns" in sc.needs or "guest" in sc.needs) and os.geteuid() != 0:
        return "needs root"
    if "netns" in sc.needs and not shutil.which("ip"):
        return "needs iproute2"
    if "guest" in sc.needs:
        from .guest import guest_unavailable
        return guest_unavailable()
    return None


def _finish(sc: Scenario, result, t0: float) -> Outcome:
    if not isinstance(result, dict):
        return Outcome("error", reason=f"scenario returned {type(result).__name__}, not a dict",
                       seconds=time.monotonic() - t0)
    problems = sc.problems(result)
    return Outcome("fail" if problems else "pass", result, problems, seconds=time.monotonic() - t0)


def run_scenario(sc: Scenario, names: list[str], workdir: Path, log) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    todo = []
    for name in names:
        why = not_supported(sc, name)
        if why:
            outcomes[name] = Outcome("n/a", reason=f"not implemented yet: {why}")
            continue
        impl = impls.get(name)
        env = environment_problem(sc)
        missing = env or impl.unavailable()
        if missing:
            outcomes[name] = Outcome("error", reason=missing)
            continue
        todo.append(impl)
    if not todo:
        return outcomes
    if sc.batch:
        t0 = time.monotonic()
        log(f"{sc.name}: running {', '.join(i.name for i in todo)} (one guest boot)")
        try:
            results = sc.func(todo, Context(workdir / "all", log=log))
            for impl in todo:
                outcomes[impl.name] = _finish(sc, results.get(impl.name), t0)
        except Exception as e:
            tb = traceback.format_exc()
            for impl in todo:
                outcomes[impl.name] = Outcome("error", reason=f"{type(e).__name__}: {e}",
                                              seconds=time.monotonic() - t0, trace=tb)
    else:
        for impl in todo:
            t0 = time.monotonic()
            log(f"{sc.name}: running {impl.name}")
            try:
                result = sc.func(impl, Context(workdir / impl.name, log=log))
                outcomes[impl.name] = _finish(sc, result, t0)
            except Exception as e:
                outcomes[impl.name] = Outcome("error", reason=f"{type(e).__name__}: {e}",
                                              seconds=time.monotonic() - t0, trace=traceback.format_exc())
    for name in names:  # keep the requested order
        outcomes[name] = outcomes.pop(name)
    for impl in todo:
        o = outcomes[impl.name]
        log(f"{sc.name}: {impl.name} {o.status} in {o.seconds:.1f}s {o.reason}".rstrip())
    return outcomes


def compare(row: Row, diffs: list[dict], reference: str = impls.REFERENCE) -> None:
    ran = {n: o for n, o in row.outcomes.items() if o.ran}
    if reference not in ran or len(ran) < 2:
        return
    row.compared = True
    ref = ran[reference].result
    for name, o in ran.items():
        if name == reference:
            continue
        for p in differing_fields(ref, o.result):
            (row.documented if documented(diffs, row.scenario.name, p) else row.differing).append(p)


def cell(sc: Scenario, o: Outcome) -> str:
    if o.status == "n/a":
        return f"n/a ({o.reason})"
    if o.status == "error":
        return f"ERROR: {o.reason}"[:120]
    text = f"{o.status} {o.seconds:.0f}s: {sc.describe(o.result or {})}"
    if o.problems:
        text += " [" + "; ".join(o.problems)[:80] + "]"
    return text


def table(rows: list[Row], names: list[str]) -> str:
    head = ["scenario", *[f"{n} result" for n in names], "match"]
    body = [[r.scenario.name, *[cell(r.scenario, r.outcomes[n]) for n in names], r.match_text()]
            for r in rows]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]

    def fmt(cols):
        return " | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()

    lines = [fmt(head), "-+-".join("-" * w for w in widths)]
    lines += [fmt(b) for b in body]
    return "\n".join(lines)


def exit_status(rows: list[Row], reference: str = impls.REFERENCE) -> int:
    for r in rows:
        for name, o in r.outcomes.items():
            if o.status == "error":
                return 1
            if o.status == "fail" and (name == reference or not r.compared):
                return 1
        if r.mismatch:
            return 1
    return 0


def main_run(scenarios: list[str] | None, names: list[str], *, verbose: bool = False,
             keep: bool = False, json_out: str | None = None, out=sys.stdout) -> int:
    allsc = load_all()
    chosen = scenarios or list(allsc)
    unknown = [s for s in chosen if s not in allsc]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; --list shows them", file=sys.stderr)
        return 2
    diffs = load_differences()
    if os.geteuid() == 0:
        from .lab.state import cleanup
        cleanup(verbose=False)  # what crashed runs left behind (runs still owned are kept)
    base = Path(tempfile.mkdtemp(prefix="kpy-conformance-"))

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    t0 = time.monotonic()
    rows = []
    try:
        for s in chosen:
            row = Row(allsc[s], run_scenario(allsc[s], names, base / s, log))
            compare(row, diffs)
            rows.append(row)
    finally:
        if keep:
            log(f"work files kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(table(rows, names), file=out)
    for r in rows:
        if r.mismatch:
            print(f"\n{r.scenario.name}: differing facts (not in DIFFERENCES.md):", file=out)
            for p in r.differing:
                vals = {n: _get(o.result, p) for n, o in r.outcomes.items() if o.ran}
                print(f"  {p}: " + "; ".join(f"{n}={v!r}" for n, v in vals.items())[:300], file=out)
    if verbose:
        for r in rows:
            for n, o in r.outcomes.items():
                print(f"\n## {r.scenario.name} / {n}: {o.status} {o.reason}", file=out)
                if o.result is not None:
                    print(json.dumps(o.result, indent=1, default=str), file=out)
                if o.trace:
                    print(o.trace, file=out)
    status = exit_status(rows)
    na = sum(1 for r in rows for o in r.outcomes.values() if o.status == "n/a")
    print(f"\n{len(rows)} scenario(s) in {time.monotonic() - t0:.0f}s: "
          f"{sum(1 for r in rows if r.compared and not r.differing)} match, "
          f"{sum(1 for r in rows if r.mismatch)} mismatch, "
          f"{na} n/a (not compared, not passed); exit {status}", file=out)
    if json_out:
        Path(json_out).write_text(json.dumps([
            {"scenario": r.scenario.name, "match": r.match_text(),
             "outcomes": {n: {"status": o.status, "reason": o.reason, "problems": o.problems,
                              "seconds": round(o.seconds, 2), "result": o.result}
                          for n, o in r.outcomes.items()}}
            for r in rows], indent=1, default=str))
    return status
