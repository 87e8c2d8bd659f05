"""Registries of components by name, extended by third-party packages through entry points.

Each kind of component (activation, cost, initializer, regularizer, layer) has one
[`Registry`][jaxnn.registry.Registry]. Built-in components register themselves at import time. A third-party
package adds its own by declaring an entry point in the group ``jaxnn.<kind>s``, for example::

    [project.entry-points."jaxnn.activations"]
    softplus = "my_package:softplus"

where ``my_package.softplus`` is a record of the right type (or a zero-argument function that
returns one). Entry points are loaded lazily, the first time a registry is listed or searched.
"""

from __future__ import annotations

import difflib
import warnings
from importlib import metadata
from typing import Any, Callable, Dict, Generic, Iterable, Iterator, List, Optional, Tuple, TypeVar, cast

from jaxnn.errors import JaxnnError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> component mapping for one kind of component, with entry-point discovery."""

    def __init__(self, kind: str, record_type: type, group: Optional[str] = None):
        self.kind = kind
        self.record_type = record_type
        self.group = group or f"jaxnn.{kind}s"
        self._items: Dict[str, T] = {}
        self._plugins_loaded = False
        self._plugin_origin: Dict[str, str] = {}
        self.a_kind = ("an " if kind[:1] in "aeiou" else "a ") + kind  # "an activation", "a cost"
        self._families: Dict[str, Tuple[Callable[..., T], Dict[str, float]]] = {}
        self._family_members: Dict[str, T] = {}

    def register(self, item: T, name: Optional[str] = None, *, replace: bool = False) -> T:
        """Adds ``item`` under ``name`` (default: ``item.name``) and returns it."""
        if not isinstance(item, self.record_type):
            raise JaxnnError(
                f"{self.a_kind} must be a {self.record_type.__name__} record, got "
                f"{type(item).__name__}: build it with jaxnn.{self.record_type.__name__}(...)"
            )
        name = name or getattr(item, "name")
        if not replace and name in self._items:
            raise JaxnnError(
                f"{self.a_kind} named {name!r} is already registered: pick another name, "
                "or pass replace=True to override it"
            )
        self._items[name] = item
        return item

    def register_family(self, name: str, factory: Callable[..., T], example: Dict[str, float]) -> None:
        """Adds a parametrised family, looked up by names such as ``"softmax(c=2)"``.

        ``factory(**params)`` builds the member record, whose ``name`` must be the canonical
        spelling `family_name` gives, so that a saved model names it and loads it back.
        ``example`` is the parameter set the equivalence tests check.
        """
        if name in self._families:
            raise JaxnnError(f"{self.a_kind} family named {name!r} is already registered: pick another name")
        self._families[name] = (factory, dict(example))

    def families(self) -> Dict[str, Dict[str, float]]:
        """The registered families, each with its example parameters."""
        return {n: dict(ex) for n, (_, ex) in self._families.items()}

    def family_examples(self) -> List[str]:
        """One member name per family, built from its example parameters."""
        return [family_name(n, ex) for n, (_, ex) in sorted(self._families.items())]

    def _family_member(self, name: str) -> Optional[T]:
        if name in self._family_members:
            return self._family_members[name]
        parsed = _parse_call(name)
        if parsed is None or parsed[0] not in self._families:
            return None
        base, params = parsed
        factory, example = self._families[base]
        unknown = sorted(set(params) - set(example))
        if unknown or not params:
            raise JaxnnError(
                f"{self.kind} family {base!r} takes the parameters {', '.join(sorted(example))}, got "
                f"{', '.join(unknown) or 'none'}: write it as {family_name(base, example)!r}"
            )
        item = factory(**params)
        self._family_members[family_name(base, params)] = item
        return item

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in _entry_points(self.group):
            if ep.name in self._items:
                continue  # built-ins win; a plugin cannot silently replace one
            try:
                obj = ep.load()
                if callable(obj) and not isinstance(obj, self.record_type):
                    obj = obj()
                self.register(obj, ep.name)
                self._plugin_origin[ep.name] = ep.value
            except Exception as exc:  # a broken plugin must not break the library
                warnings.warn(
                    f"jaxnn: skipping {self.kind} plugin {ep.name!r} ({ep.value}): {exc}",
                    stacklevel=2,
                )

    def names(self) -> List[str]:
        """The registered names, built-ins and plugins, sorted."""
        self._load_plugins()
        return sorted(self._items)

    def plugins(self) -> Dict[str, str]:
        """The names that came from entry points, with where each came from."""
        self._load_plugins()
        return dict(self._plugin_origin)

    def get(self, name_or_item: Any) -> T:
        """Returns the component for a name, or the record itself when given one."""
        if isinstance(name_or_item, self.record_type):
            return cast(T, name_or_item)
        if not isinstance(name_or_item, str):
            raise JaxnnError(
                f"expected {self.a_kind} name or {self.record_type.__name__} record, got {type(name_or_item).__name__}"
            )
        if name_or_item not in self._items:
            self._load_plugins()
        if name_or_item in self._items:
            return self._items[name_or_item]
        member = self._family_member(name_or_item)
        if member is not None:
            return member
        families = [f"{n}({', '.join(f'{k}=...' for k in ex)})" for n, ex in sorted(self.families().items())]
        raise JaxnnError(
            f"unknown {self.kind} {name_or_item!r}: choose one of "
            f"{', '.join(self.names() + families)}{did_you_mean(name_or_item, self.names())}"
        )

    def __contains__(self, name: str) -> bool:
        self._load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> List[Tuple[str, T]]:
        return [(n, self._items[n]) for n in self.names()]


def did_you_mean(value: Any, names: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when ``value`` is close to one of ``names``, else ``""``."""
    if not isinstance(value, str):
        return ""
    names = list(names)
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    if not close:  # also catch case and punctuation slips: "Sigmoid", "cross_entropy"
        norm = {n.lower().replace("_", "-"): n for n in names}
        key = value.lower().replace("_", "-")
        close = [norm[key]] if key in norm else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def family_name(base: str, params: Dict[str, float]) -> str:
    """The canonical name of a family member: ``family_name("softmax", {"c": 2.0}) == "softmax(c=2)"``."""
    return f"{base}({', '.join(f'{k}={float(v):g}' for k, v in sorted(params.items()))})"


def _parse_call(name: str) -> Optional[Tuple[str, Dict[str, float]]]:
    """Parses ``"base(k=v, ...)"`` with numeric values; ``None`` when it is not of that form."""
    name = name.strip()
    if not name.endswith(")") or "(" not in name:
        return None
    base, _, inner = name[:-1].partition("(")
    params: Dict[str, float] = {}
    for part in filter(None, (p.strip() for p in inner.split(","))):
        key, eq, value = part.partition("=")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            raise JaxnnError(
                f"cannot read {part!r} in {name!r}: write parameters as name=number, e.g. 'softmax(c=2)'"
            ) from None
        if not eq or not key.strip():
            raise JaxnnError(f"cannot read {part!r} in {name!r}: write parameters as name=number, e.g. 'softmax(c=2)'")
    return base.strip(), params


def _entry_points(group: str):
    try:
        return list(metadata.entry_points(group=group))
    except TypeError:  # Python < 3.10 API; kept for safety
        return list(metadata.entry_points().get(group, []))
