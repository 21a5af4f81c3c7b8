"""`python -m keepalived_py.demo [--json FILE] [--keep-logs] [--cleanup]`: run the demo.

Exit status: 0 the story ran and nothing was left behind; 1 a step did not happen in time
(the daemons' log tails are shown) or something could not be removed; 2 cannot run here;
130 / 143 interrupted by SIGINT / SIGTERM (after the same teardown).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

from keepalived_py.demo.narrate import Narrator
from keepalived_py.demo.netns import cleanup
from keepalived_py.demo.story import STEPS, StepFailed, Story, have_tools


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived: stop the story, keep the teardown."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m keepalived_py.demo", description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, help="write the measured results here at the end")
    ap.add_argument("--keep-logs", action="store_true", help="keep the daemons' logs and configs")
    ap.add_argument("--cleanup", action="store_true",
                    help="remove what an earlier demo killed with SIGKILL left behind, and exit")
    args = ap.parse_args(argv)
    why = have_tools()
    if why:
        print(f"keepalived-py demo: {why}", file=sys.stderr)
        return 2
    if args.cleanup:
        problems = cleanup()
        for p in problems:
            print("left:", p, file=sys.stderr)
        return 1 if problems else 0

    n = Narrator(steps=STEPS)
    story = Story(n, Path(tempfile.mkdtemp(prefix="keepalived-py-demo-")))
    # from here on, whatever ends the run, the finally below tears down what was made
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise)
    status = 0
    try:
        story.run()
        story.summary()
    except StepFailed as e:
        n.raw(f"\nThe demo stopped: {e}.")
        for name, p in {**story.daemons}.items():
            n.raw(f"--- last lines of {name}'s keepalived-py log ({p.log}):\n{_tail(p.log)}")
        status = 1
    except Interrupted as e:
        n.clear()
        n.raw(f"\nInterrupted by {signal.Signals(e.signum).name}: cleaning up.")
        status = 128 + e.signum
        story.results["interrupted"] = signal.Signals(e.signum).name
    finally:
        # nothing may stop the teardown half-way: a second Ctrl-C is ignored
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if status not in (128 + signal.SIGINT, 128 + signal.SIGTERM, 128 + signal.SIGHUP):
            n.step("Cleaning up")
        t = time.monotonic()
        procs = len(story.lab.procs)
        keep = args.keep_logs or status == 1
        problems = story.lab.down(keep_logs=keep)
        story.results["left"] = problems
        if problems:
            n.raw("Could not remove: " + "; ".join(problems))
            n.raw("Try again with: python -m keepalived_py.demo --cleanup")
            status = status or 1
        else:
            n.result(f"stopped {procs} processes, removed {len(story.lab.made)} namespaces and their "
                     f"links in {time.monotonic() - t:.1f} s: nothing is left behind")
        if keep:
            n.raw(f"Logs and configurations kept in {story.lab.workdir}")
        if args.json:
            args.json.write_text(json.dumps(story.results, indent=1))
    return status


if __name__ == "__main__":
    sys.exit(main())
