"""Round trip of random virtual servers and groups: model -> keepalived.conf -> model."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keepalived_py.config import load_text
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model import KeepalivedConfig
from keepalived_py.config.model.lvs import VirtualServer, VirtualServerGroup, VsgEntryType
from keepalived_py.config.writer import write_config
from tests.property import strategies

PARSE_PROBLEMS = {ConfigErr.UNKNOWN_KEYWORD, ConfigErr.INVALID_NUMBER, ConfigErr.MISSING_PARAMETER,
                  ConfigErr.UNEXPECTED_BOB, ConfigErr.MISSING_BOB}
VIRTUAL_SERVERS = st.lists(strategies.for_model(VirtualServer, depth=4), min_size=1, max_size=2)
GROUPS = st.builds(VirtualServerGroup, name=strategies.WORD,
                   entries=st.lists(strategies.for_value_type(VsgEntryType()), max_size=4).map(tuple))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(VIRTUAL_SERVERS, st.lists(GROUPS, max_size=2))
def test_virtual_servers_and_groups_round_trip(servers, groups):
    config = KeepalivedConfig(virtual_server_group=tuple(groups), virtual_server=tuple(servers))
    text = write_config(config)
    result = load_text(text)
    assert not [str(d) for d in result.diagnostics if d.code in PARSE_PROBLEMS], text
    assert result.config == config, text


def test_lvs_value_types_all_have_strategies():
    saved = set(strategies.uncovered)
    strategies.uncovered.clear()
    try:
        strategies.for_model(VirtualServer, depth=4)
        strategies.for_value_type(VsgEntryType())
        assert not strategies.uncovered
    finally:
        strategies.uncovered |= saved
