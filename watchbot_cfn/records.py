"""Frozen value classes whose methods are shared instead of generated.

``@dataclass(frozen=True)`` writes and compiles an ``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__`` for every class
when its module is imported, after reading each field's annotation. The option
declarations, constraints, rules and names that ``render`` loads are some 20
such classes with 150 fields: that work was an eighth of a whole ``render``
process. ``@record`` reads the same class body (annotations, defaults,
``field(default_factory=..., compare=..., repr=..., metadata=...)``) and gives
the class generic methods that read its fields, so a record is constructed,
compared, hashed, shown and frozen exactly as a frozen dataclass is (tests
compare the two side by side). ``fields`` and ``replace`` stand in for
``dataclasses.fields`` and ``dataclasses.replace``.

Use it for value classes on the rendering path; elsewhere a dataclass is fine.
Standard library only, and valid on Python 3.9: the watcher imports it through
``contract.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from typing import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Any:
        """Only type checkers read it; the watcher's Python 3.9 lacks it (``contract.py`` uses records)."""
        return lambda decorated: decorated

__all__ = ["MISSING", "Field", "FrozenRecordError", "field", "fields", "record", "replace"]

_Class = TypeVar("_Class", bound=type)
_Record = TypeVar("_Record")


class _Missing:
    """No default: the field must be given."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_NO_METADATA: Mapping[str, Any] = MappingProxyType({})


class FrozenRecordError(AttributeError):
    """A record's fields cannot be assigned or deleted (``dataclasses.FrozenInstanceError`` for records)."""


class Field:
    """One field: its name, default or default factory, and whether equality and repr include it."""

    __slots__ = ("compare", "default", "default_factory", "metadata", "name", "repr")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,
                 compare: bool = True, metadata: Mapping[str, Any] | None = None) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare
        self.metadata = MappingProxyType(dict(metadata)) if metadata else _NO_METADATA

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING, repr: bool = True,
          compare: bool = True, metadata: Mapping[str, Any] | None = None) -> Any:
    """A field with more than a plain default, as ``dataclasses.field``."""
    return Field(default, default_factory, repr, compare, metadata)


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(cls: _Class) -> _Class:
    """Make ``cls`` a frozen value class with shared methods (see the module's docstring)."""
    collected: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        collected.update((f.name, f) for f in base.__dict__.get("__record_fields__", ()))
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if _is_class_variable(annotation):
            continue
        declared = cls.__dict__.get(name, MISSING)
        if isinstance(declared, Field):
            if declared.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, declared.default)
        else:
            declared = Field(declared)
        if isinstance(declared.default, (list, dict, set)):
            raise ValueError(f"mutable default {type(declared.default).__name__} for field {name} is not "
                             "allowed: use default_factory")
        declared.name = name
        collected[name] = declared  # an overridden field keeps its place, as in dataclasses
    own = tuple(collected.values())
    _check_order(cls, own)
    described = {
        "__record_fields__": own,
        "__record_compared__": tuple(f.name for f in own if f.compare),
        "__record_shown__": tuple(f.name for f in own if f.repr),
        "__record_required__": sum(not _has_default(f) for f in own),
        "__match_args__": tuple(f.name for f in own),
    }
    for name, value in described.items():
        setattr(cls, name, value)
    for name, method in _METHODS.items():
        if name not in cls.__dict__:  # a method the class writes itself stays, as with dataclasses
            setattr(cls, name, method)
    return cls


def fields(record_or_class: Any) -> tuple[Field, ...]:
    """A record's fields, in declaration order (base classes' first)."""
    try:
        return record_or_class.__record_fields__
    except AttributeError:
        raise TypeError(f"{record_or_class!r} is not a record") from None


def replace(value: _Record, /, **changes: Any) -> _Record:
    """A copy of ``value`` with some fields changed."""
    current = {f.name: getattr(value, f.name) for f in fields(value)}
    return type(value)(**{**current, **changes})


def _is_class_variable(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return getattr(annotation, "__origin__", annotation) is ClassVar


def _has_default(declared: Field) -> bool:
    return declared.default is not MISSING or declared.default_factory is not MISSING


def _check_order(cls: type, declared: tuple[Field, ...]) -> None:
    defaulted = False
    for each in declared:
        if _has_default(each):
            defaulted = True
        elif defaulted:
            raise TypeError(f"non-default argument {each.name!r} follows default argument in {cls.__qualname__}")


def _initial(declared: Field, owner: type) -> Any:
    if declared.default is not MISSING:
        return declared.default
    if declared.default_factory is not MISSING:
        return declared.default_factory()
    raise TypeError(f"{owner.__qualname__}.__init__() missing 1 required positional argument: {declared.name!r}")


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    owner = type(self)
    declared = owner.__record_fields__
    if len(args) > len(declared):
        required = owner.__record_required__
        takes = f"{len(declared) + 1}" if required == len(declared) else f"from {required + 1} to {len(declared) + 1}"
        raise TypeError(f"{owner.__qualname__}.__init__() takes {takes} positional arguments "
                        f"but {len(args) + 1} were given")
    for index, value in enumerate(args):
        each = declared[index]
        if each.name in kwargs:
            raise TypeError(f"{owner.__qualname__}.__init__() got multiple values for argument {each.name!r}")
        object.__setattr__(self, each.name, value)
    for each in declared[len(args):]:
        name = each.name
        object.__setattr__(self, name, kwargs.pop(name) if name in kwargs else _initial(each, owner))
    if kwargs:
        raise TypeError(f"{owner.__qualname__}.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")


def _values(self: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in names)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = self.__record_compared__
    return _values(self, names) == _values(other, names)


def _hash(self: Any) -> int:
    return hash(_values(self, self.__record_compared__))


_showing: set[tuple[int, int]] = set()  # (object id, thread id) pairs being shown, for self-containing records


def _repr(self: Any) -> str:
    import threading

    key = (id(self), threading.get_ident())
    if key in _showing:
        return "..."
    _showing.add(key)
    try:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_shown__)
    finally:
        _showing.discard(key)
    return f"{self.__class__.__qualname__}({shown})"


def _frozen(self: Any, name: str) -> bool:
    owner = type(self)
    return "__record_fields__" in owner.__dict__ or any(f.name == name for f in owner.__record_fields__)


def _setattr(self: Any, name: str, value: Any) -> None:
    if _frozen(self, name):
        raise FrozenRecordError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _delattr(self: Any, name: str) -> None:
    if _frozen(self, name):
        raise FrozenRecordError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


_METHODS = {"__init__": _init, "__eq__": _eq, "__hash__": _hash, "__repr__": _repr, "__setattr__": _setattr,
            "__delattr__": _delattr}
