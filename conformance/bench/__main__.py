"""`python -m conformance.bench`: run every benchmark."""

from conformance.bench import config_parse

if __name__ == "__main__":
    raise SystemExit(config_parse.main())
