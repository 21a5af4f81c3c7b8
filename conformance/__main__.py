"""python -m conformance [--list] [--scenario NAME ...] [--impl NAME ...] [-v] [--keep] [--json F]"""

from __future__ import annotations

import argparse
import sys

from .lab.impl import IMPLEMENTATIONS
from .report import main_run
from .scenarios import load_all, not_supported


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Run conformance scenarios against real keepalived and keepalived-py "
                    "and compare the observable facts.")
    ap.add_argument("--list", action="store_true", help="list scenarios and exit")
    ap.add_argument("--scenario", "-s", action="append", metavar="NAME",
                    help="run only this scenario (repeatable); default: all")
    ap.add_argument("--impl", "-i", action="append", choices=list(IMPLEMENTATIONS),
                    help="run only this implementation (repeatable); default: both")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every result's facts")
    ap.add_argument("--keep", action="store_true", help="keep the work files (configs, logs, pcaps)")
    ap.add_argument("--json", metavar="FILE", help="write all outcomes as JSON")
    args = ap.parse_args(argv)
    if args.list:
        for name, sc in load_all().items():
            na = not_supported(sc, "keepalived-py")
            print(f"{name:32} needs {','.join(sc.needs):6} features {','.join(sc.features):10} {sc.doc}")
            if na:
                print(f"{'':32} keepalived-py: n/a ({na})")
        return 0
    names = args.impl or list(IMPLEMENTATIONS)
    return main_run(args.scenario, names, verbose=args.verbose, keep=args.keep, json_out=args.json)


if __name__ == "__main__":
    sys.exit(main())
