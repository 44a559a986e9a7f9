"""moto's response serializer, taught to remember what it worked out once.

For every member of every structure in a response, moto's serializer asks six alias providers
(and botocore's xform_name) which names the value might have on the Python object, then tries
each: a DynamoDB item is a tree of AttributeValue structures of ten members each, so one read
of an invitation asks them hundreds of times, always with the same answer. Profiled on the
1,000-delivery trigger test: 891,165 asks, 12.6 s of its 75 s. The answer depends only on the
picker, the object's class, the key and the shape (with its parent), so it is kept per those;
the shape and its parent are compared by identity (moto builds its shapes once per model and
sets each member's parent once), so a shape built anew is asked again, never mistaken.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .patching import patch

# Shapes are few (those of the operations a test calls); this only bounds a surprise.
MOST_REMEMBERED = 100_000


def remember_attribute_keys() -> None:
    """Keep the possible keys of each (picker, class, key, shape) once worked out. Idempotent."""
    from moto.core.serialize import XFormedAttributePicker

    original = XFormedAttributePicker.get_possible_keys
    if getattr(original, "remembers", False):
        return
    remembered: dict[tuple[Any, ...], tuple[Any, Any, tuple[str, ...]]] = {}

    def get_possible_keys(self: Any, context: Any) -> Iterator[str]:
        shape = context.shape
        parent = getattr(shape, "parent", None)
        key = (type(self), *self.alias_providers, type(context.obj), context.key, id(shape))
        found = remembered.get(key)
        if found is None or found[0] is not shape or found[1] is not parent:
            if len(remembered) >= MOST_REMEMBERED:
                remembered.clear()
            found = (shape, parent, tuple(original(self, context)))
            remembered[key] = found
        return iter(found[2])

    get_possible_keys.remembers = True  # type: ignore[attr-defined]
    patch(XFormedAttributePicker, "get_possible_keys", get_possible_keys)


# DynamoDB's AttributeValue: its members, and those a plain value of the stack's items uses.
ATTRIBUTE_VALUE_MEMBERS = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})


def write_plain_attribute_values() -> None:
    """Write a DynamoDB AttributeValue that is already in its wire form as it is.

    moto keeps items as the JSON DynamoDB speaks ({"S": "..."}, {"M": {...}}) and serializes
    each value member by member through the generic structure serializer: ten members asked for
    each attribute of each item, most of a read's serializing time. A value of one member whose
    contents are strings, booleans, lists of strings, or maps and lists of such values (every
    value but binary ones) comes out of that serializer unchanged; it is written as it is. Any
    other value (binary, a shape that is not AttributeValue's) goes through moto's serializer.
    tests/unit/test_local_patches.py compares both on items of every kind. Idempotent."""
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure
    if getattr(original, "writes_plain_values", False):
        return

    def serialize_type_structure(
        self: Any, serialized: Any, value: Any, shape: Any, key: str
    ) -> None:
        if key and shape.members.keys() == ATTRIBUTE_VALUE_MEMBERS:
            plain = plain_attribute_value(value)
            if plain is not None:
                serialized[self.get_serialized_name(shape, key)] = plain
                return
        original(self, serialized, value, shape, key)

    serialize_type_structure.writes_plain_values = True  # type: ignore[attr-defined]
    patch(BaseJSONSerializer, "_serialize_type_structure", serialize_type_structure)


def plain_attribute_value(value: Any) -> dict[str, Any] | None:
    """The value as moto's serializer would write it, or None when it is not plain."""
    if type(value) is not dict or len(value) != 1:
        return None
    [(code, contents)] = value.items()
    plain: Any = None
    if code in ("S", "N"):
        plain = contents if type(contents) is str else None
    elif code in ("NULL", "BOOL"):
        plain = contents if type(contents) is bool else None
    elif code in ("SS", "NS") and type(contents) is list:
        plain = list(contents) if all(type(v) is str for v in contents) else None
    elif code == "M" and type(contents) is dict:
        members = {name: plain_attribute_value(member) for name, member in contents.items()}
        plain = None if None in members.values() else members
    elif code == "L" and type(contents) is list:
        items = [plain_attribute_value(item) for item in contents]
        plain = None if None in items else items
    return None if plain is None else {code: plain}
