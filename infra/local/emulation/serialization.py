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
