"""`python -m conformance.bench` (`make bench`): the whole bench, see runner.py."""

from conformance.bench import runner

if __name__ == "__main__":
    raise SystemExit(runner.main())
