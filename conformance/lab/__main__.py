"""`python -m conformance.lab --cleanup [--force]`: remove what crashed lab runs left."""

from __future__ import annotations

import argparse
import sys

from .state import cleanup, state_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.lab", description=__doc__)
    ap.add_argument("--cleanup", action="store_true",
                    help="tear down runs whose test process is gone (namespaces, processes, dirs)")
    ap.add_argument("--force", action="store_true", help="with --cleanup: also runs still owned by a live process")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    if not args.cleanup:
        ap.print_help()
        print(f"\nstate files: {state_dir()}")
        return 0
    return 1 if cleanup(force=args.force, verbose=not args.quiet) else 0


if __name__ == "__main__":
    sys.exit(main())
