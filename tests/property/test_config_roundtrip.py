"""Round trip (model -> keepalived.conf text -> model) and fuzzing of the whole loader."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keepalived_py.config import load_text
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model import KeepalivedConfig
from keepalived_py.config.writer import write_config
from keepalived_py.errors import ConfigError
from tests.property import strategies

CONFIGS = strategies.for_model(KeepalivedConfig, depth=3)
PARSE_PROBLEMS = {ConfigErr.UNKNOWN_KEYWORD, ConfigErr.UNEXPECTED_BOB, ConfigErr.MISSING_BOB,
                  ConfigErr.UNEXPECTED_EOB, ConfigErr.MISSING_EOB, ConfigErr.UNMATCHED_QUOTE,
                  ConfigErr.MISSING_PARAMETER, ConfigErr.INVALID_NUMBER}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(CONFIGS)
def test_written_config_parses_back_equal(config):
    text = write_config(config)
    result = load_text(text, config_id="roundtrip")
    problems = [str(d) for d in result.diagnostics if d.code in PARSE_PROBLEMS]
    assert not problems, text
    assert result.config == config, text


def test_round_trip_covers_every_value_type():
    # building the strategy visits every keyword; an uncovered value type means the
    # round-trip test above silently leaves those keywords at their defaults
    strategies.for_model(KeepalivedConfig, depth=3)
    assert not strategies.uncovered, f"value types with no strategy: {sorted(strategies.uncovered)}"


_CONFIG_ALPHABET = st.sampled_from(list("abcxyz_019 \t\n{}\"'#!$@~()=,\\/.-") + [
    "vrrp_instance", "virtual_server", "global_defs", "real_server", "include", "~SEQ(", "~LST(", "$X=",
    "${X}", "@^", "priority", "TCP_CHECK", "virtual_ipaddress", "192.0.2.1", "\x00", "\xff"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_CONFIG_ALPHABET, max_size=80).map("".join))
def test_fuzzed_text_never_raises_foreign_errors(text):
    try:
        load_text(text, config_id="fuzz")
    except ConfigError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_fuzzed_bytes_never_raise_foreign_errors(data):
    try:
        load_text(data.decode("utf-8", errors="surrogateescape"), config_id="fuzz")
    except ConfigError:
        pass
