"""The descriptor __init__ of the model classes takes what the dataclass one took, and
classes it cannot serve keep the dataclass's own."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from keepalived_py.config import slotinit
from keepalived_py.config.model.lvs import RealServer


def _plain(cls: type) -> type:
    return dataclasses.dataclass(frozen=True, slots=True)(cls)


def test_same_parameters_and_behaviour_as_the_dataclass_init():
    @_plain
    class Pair:
        a: int = 1
        b: tuple[int, ...] = ()

    reference = inspect.signature(Pair.__init__)
    assert slotinit.install(Pair)
    assert inspect.signature(Pair.__init__) == reference
    assert Pair() == Pair(1, ()) and Pair(2, b=(3,)).b == (3,)
    assert repr(Pair(5)) == "test_same_parameters_and_behaviour_as_the_dataclass_init.<locals>.Pair(a=5, b=())"
    with pytest.raises(TypeError, match="unexpected keyword argument 'c'"):
        Pair(c=1)  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Pair().a = 2  # type: ignore[misc]


def test_classes_it_cannot_serve_keep_their_own():
    @_plain
    class Factory:
        a: list = dataclasses.field(default_factory=list)

    @_plain
    class Post:
        a: int = 0

        def __post_init__(self) -> None:
            object.__setattr__(self, "a", self.a + 1)

    @_plain
    class Required:
        a: int

    for cls in (Factory, Post, Required):
        own = cls.__init__
        assert not slotinit.install(cls)
        assert cls.__init__ is own
    assert Post().a == 1


def test_models_use_it():
    assert "_ks0" in RealServer.__init__.__code__.co_names
    rs = RealServer(weight=3)
    assert rs.weight == 3 and rs == RealServer(weight=3) and hash(rs) == hash(RealServer(weight=3))
