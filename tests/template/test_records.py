"""``@record`` behaves as ``@dataclass(frozen=True)`` does, compared side by side on the same classes."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from watchbot_cfn import records
from watchbot_cfn.records import FrozenRecordError, record


@record
class Point:
    """A record with required, defaulted, factory, uncompared and hidden fields."""

    x: int
    y: int = 0
    tags: list = records.field(default_factory=list)
    note: str = records.field(default="", compare=False)
    secret: str = records.field(default="s", repr=False, metadata={"why": "hidden"})


@dataclass(frozen=True)
class DataPoint:
    """The same fields, as a frozen dataclass."""

    x: int
    y: int = 0
    tags: list = field(default_factory=list)
    note: str = field(default="", compare=False)
    secret: str = field(default="s", repr=False, metadata={"why": "hidden"})


@record
class Point3(Point):
    """A subclass that adds a field and overrides a default (which keeps its place)."""

    y: int = 5
    z: int = 9


@dataclass(frozen=True)
class DataPoint3(DataPoint):
    """The same subclass, as a frozen dataclass."""

    y: int = 5
    z: int = 9


def both(args: tuple[Any, ...], kwargs: dict[str, Any], ours: type = Point,
         theirs: type = DataPoint) -> tuple[Any, Any]:
    return ours(*args, **kwargs), theirs(*args, **kwargs)


@pytest.mark.parametrize("args,kwargs", [
    ((1,), {}), ((1, 2), {}), ((1,), {"y": 3}), ((), {"x": 1, "tags": ["a"], "note": "n", "secret": "t"}),
    ((1, 2, [3], "n", "t"), {}),
])
def test_construction_repr_and_fields_match_a_frozen_dataclass(args, kwargs):
    ours, theirs = both(args, kwargs)
    assert repr(ours).replace("Point", "X") == repr(theirs).replace("DataPoint", "X")
    assert [(f.name, getattr(ours, f.name), f.metadata.get("why")) for f in records.fields(ours)] == \
        [(f.name, getattr(theirs, f.name), f.metadata.get("why")) for f in dataclasses.fields(theirs)]
    assert ours.__match_args__ == theirs.__match_args__


@pytest.mark.parametrize("args,kwargs", [
    ((), {}), ((1, 2, [], "", "", 6), {}), ((1,), {"x": 2}), ((1,), {"w": 2}),
])
def test_bad_arguments_fail_as_a_dataclass_does(args, kwargs):
    with pytest.raises(TypeError) as ours:
        Point(*args, **kwargs)
    with pytest.raises(TypeError) as theirs:
        DataPoint(*args, **kwargs)
    assert str(ours.value).replace("Point", "X") == str(theirs.value).replace("DataPoint", "X")


def test_equality_and_hash_follow_the_compared_fields():
    a, b = Point(1, 2, (), note="one"), Point(1, 2, (), note="two")
    assert a == b and hash(a) == hash(b)
    assert Point(1, 2) != Point(1, 3)
    assert Point(1) != DataPoint(1)  # another class is never equal, as with dataclasses
    assert Point(1).__eq__(object()) is NotImplemented
    assert Point(1) != Point3(1, 0)
    assert len({Point(1, 2, ()), Point(1, 2, ()), Point(2, 2, ())}) == 2
    with pytest.raises(TypeError, match="unhashable"):  # a list field is hashed as a dataclass would
        hash(Point(1))


def test_default_factories_give_each_instance_its_own_value():
    first, second = Point(1), Point(1)
    assert first.tags == [] and first.tags is not second.tags


def test_fields_are_frozen():
    point = Point(1)
    with pytest.raises(FrozenRecordError):
        point.x = 2
    with pytest.raises(AttributeError):  # as dataclasses.FrozenInstanceError is
        point.other = 2
    with pytest.raises(FrozenRecordError):
        del point.x
    assert point.x == 1


def test_replace_pickle_copy_and_subclasses_work_as_with_dataclasses():
    point = Point(1, 2, ["t"])
    assert records.replace(point, y=7) == Point(1, 7, ["t"])
    with pytest.raises(TypeError, match="unexpected keyword argument 'w'"):
        records.replace(point, w=1)
    assert pickle.loads(pickle.dumps(point)) == point
    assert copy.deepcopy(point) == point and copy.deepcopy(point).tags is not point.tags
    ours, theirs = both((1,), {}, Point3, DataPoint3)
    assert [f.name for f in records.fields(ours)] == [f.name for f in dataclasses.fields(theirs)]
    assert repr(ours).replace("Point3", "X") == repr(theirs).replace("DataPoint3", "X")
    assert (ours.y, ours.z) == (5, 9)


def test_a_record_that_contains_itself_is_shown_without_recursing():
    loop: list[Any] = []
    point = Point(1, tags=loop)
    loop.append(point)
    assert repr(point) == "Point(x=1, y=0, tags=[...], note='')"


def test_methods_a_class_writes_itself_are_kept():
    @record
    class Shown:
        """Writes its own repr."""

        value: int

        def __repr__(self) -> str:
            return "mine"

    assert repr(Shown(1)) == "mine" and Shown(1) == Shown(1)


def test_declarations_dataclasses_refuse_are_refused():
    with pytest.raises(ValueError, match="mutable default list for field tags"):
        @record
        class Shared:
            """A list default would be shared by every instance."""

            tags: list = []  # noqa: RUF012

    with pytest.raises(TypeError, match="non-default argument 'y' follows default argument"):
        @record
        class Misordered:
            """A required field after a defaulted one."""

            x: int = 0
            y: int

    with pytest.raises(ValueError, match="both default and default_factory"):
        records.field(default=1, default_factory=int)
    with pytest.raises(TypeError, match="is not a record"):
        records.fields(DataPoint(1))


def test_class_variables_and_plain_methods_are_not_fields():
    @record
    class Counted:
        """A class variable and a property beside one field."""

        limit: ClassVar[int] = 3
        value: int = 1

        @property
        def double(self) -> int:
            return 2 * self.value

    assert [f.name for f in records.fields(Counted)] == ["value"]
    assert Counted(4).double == 8 and Counted.limit == 3
