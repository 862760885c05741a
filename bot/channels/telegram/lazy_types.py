"""aiogram without building a validator for every Telegram type at import.

aiogram declares its ~440 Telegram types with pydantic's `defer_build=True`, then ends
`aiogram.types` by calling `model_rebuild()` on each, which builds them all anyway, each
with its own copy of every type it nests: about 120 MB and two seconds per process,
although the bot reads an Update and sends a few keyboards (aiogram issue #1513).

While aiogram is first imported, that call builds nothing: it gives the type's module the
names its annotations use from the namespace aiogram passes (aiogram imports them only
under TYPE_CHECKING), and pydantic builds each model the first time it is used, resolving
the same names to the same types: what is built is what the eager import would have
built, and only what is used. `install()` runs when
`bot.channels.telegram` is imported, before anything in this package imports aiogram; a
process that imported aiogram earlier keeps the eagerly built models, which behave alike.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

TYPES_MODULE = "aiogram.types."
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def install() -> None:
    """Make the first import of aiogram in this process build its types lazily."""
    if "aiogram" in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())


class _Finder(importlib.abc.MetaPathFinder):
    """Finds aiogram as usual and wraps its loader; removes itself on first use."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "aiogram":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and isinstance(spec.loader, importlib.abc.Loader):
            spec.loader = _Loader(spec.loader)
        return spec


class _Loader(importlib.abc.Loader):
    """Runs aiogram's package module (which imports all of aiogram) with type builds
    deferred; everything else is the wrapped loader's."""

    def __init__(self, wrapped: importlib.abc.Loader) -> None:
        self.wrapped = wrapped

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.wrapped.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with deferred_type_builds() as deferred:
            self.wrapped.exec_module(module)
        for model, namespace in deferred:
            provide_names(model, namespace)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


@contextmanager
def deferred_type_builds() -> Iterator[list[tuple[type, Mapping[str, Any]]]]:
    """While open, `model_rebuild(_types_namespace=…)` on a not yet built aiogram type
    builds nothing; the type and the namespace are added to the list yielded. The names
    are given to the types' modules only after the import, so that aiogram's method
    models, defined during it, stay unbuilt too (they would build the types they nest)."""
    from pydantic import BaseModel

    deferred: list[tuple[type, Mapping[str, Any]]] = []

    original = BaseModel.__dict__["model_rebuild"]
    build = original.__func__

    def model_rebuild(cls: type[BaseModel], /, **kwargs: Any) -> bool | None:
        namespace = kwargs.get("_types_namespace")
        if (
            namespace is not None
            and cls.__module__.startswith(TYPES_MODULE)
            and not cls.__pydantic_complete__
        ):
            deferred.append((cls, namespace))
            return None
        if namespace is None:  # the caller's frame is one further up through this wrapper
            kwargs["_parent_namespace_depth"] = kwargs.get("_parent_namespace_depth", 2) + 1
        result: bool | None = build(cls, **kwargs)
        return result

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[method-assign,assignment]
    try:
        yield deferred
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]


def provide_names(cls: type, namespace: Mapping[str, Any]) -> None:
    """Put into the module of `cls` the names from `namespace` that its annotations use
    and the module lacks (aiogram imports them only under TYPE_CHECKING). pydantic looks
    a model's names up in its module, whichever model nests it (a method, a generic
    Response), so every later build finds them."""
    module = vars(sys.modules[cls.__module__])
    for owner in cls.__mro__:  # inherited fields are resolved in the subclass's module
        for annotation in vars(owner).get("__annotations__", {}).values():
            for name in _NAME.findall(str(annotation)):
                if name in namespace and name not in module:
                    module[name] = namespace[name]
