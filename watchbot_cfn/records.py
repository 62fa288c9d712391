"""Frozen value classes whose methods are shared instead of generated.

``dataclasses.dataclass`` writes and compiles an ``__init__``, ``__repr__``,
``__eq__``, ``__hash__`` and a frozen ``__setattr__`` for every class when its
module is imported. The option declarations, constraints, contract rows and
names that ``render`` loads are some 25 such classes: that compiling was an
eighth of a whole ``render`` process. ``@record`` lets ``dataclasses`` collect
the fields (so ``dataclasses.fields``, ``replace`` and ``asdict`` keep working,
and ``field(default=..., default_factory=..., compare=..., repr=...,
metadata=...)`` means what it means there) and gives the class generic methods
that read those fields. A record behaves as ``@dataclass(frozen=True)`` does:
same constructor, equality, hash, repr and ``FrozenInstanceError``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, dataclass_transform

__all__ = ["record"]

_Class = TypeVar("_Class", bound=type)


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: _Class) -> _Class:
    """Make ``cls`` a frozen dataclass whose methods are shared (see the module's docstring)."""
    if not cls.__doc__:
        cls.__doc__ = cls.__name__  # dataclasses would otherwise build one from inspect.signature
    dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(cls)
    cls.__record_init__ = tuple(f for f in fields if f.init)  # type: ignore[attr-defined]
    cls.__record_later__ = tuple(f for f in fields if not f.init)  # type: ignore[attr-defined]
    cls.__record_compared__ = tuple(f.name for f in fields if f.compare)  # type: ignore[attr-defined]
    cls.__record_hashed__ = tuple(  # type: ignore[attr-defined]
        f.name for f in fields if (f.compare if f.hash is None else f.hash))
    cls.__record_shown__ = tuple(f.name for f in fields if f.repr)  # type: ignore[attr-defined]
    cls.__record_names__ = frozenset(f.name for f in fields)  # type: ignore[attr-defined]
    for name, method in _METHODS.items():
        if name not in cls.__dict__:  # a method the class writes itself stays, as with dataclasses
            setattr(cls, name, method)
    return cls


def _initial(field: dataclasses.Field[Any], owner: type) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise TypeError(f"{owner.__qualname__}.__init__() missing 1 required positional argument: {field.name!r}")


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    owner = type(self)
    fields = owner.__record_init__
    if len(args) > len(fields):
        required = sum(f.default is f.default_factory is dataclasses.MISSING for f in fields)
        takes = f"{len(fields) + 1}" if required == len(fields) else f"from {required + 1} to {len(fields) + 1}"
        raise TypeError(f"{owner.__qualname__}.__init__() takes {takes} positional arguments "
                        f"but {len(args) + 1} were given")
    for field, value in zip(fields[:len(args)], args, strict=True):
        if field.name in kwargs:
            raise TypeError(f"{owner.__qualname__}.__init__() got multiple values for argument {field.name!r}")
        object.__setattr__(self, field.name, value)
    for field in fields[len(args):]:
        name = field.name
        object.__setattr__(self, name, kwargs.pop(name) if name in kwargs else _initial(field, owner))
    if kwargs:
        raise TypeError(f"{owner.__qualname__}.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")
    for field in owner.__record_later__:
        object.__setattr__(self, field.name, _initial(field, owner))


def _values(self: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in names)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = self.__record_compared__
    return _values(self, names) == _values(other, names)


def _hash(self: Any) -> int:
    return hash(_values(self, self.__record_hashed__))


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


def _setattr(self: Any, name: str, value: Any) -> None:
    owner = type(self)
    if "__record_init__" in owner.__dict__ or name in owner.__record_names__:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _delattr(self: Any, name: str) -> None:
    owner = type(self)
    if "__record_init__" in owner.__dict__ or name in owner.__record_names__:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


_METHODS = {"__init__": _init, "__eq__": _eq, "__hash__": _hash, "__repr__": _repr, "__setattr__": _setattr,
            "__delattr__": _delattr}
