"""Loading a function afresh: the dataclasses' generated methods compiled once per process.

Each function is imported afresh with its own copy of survey_core (infra/local/functions.py):
a local stack loads its twelve functions that way, and the integration tests load theirs per
test. Making a dataclass compiles the source of its generated methods (`__init__`, `__repr__`,
`__eq__`, ...) with `exec`: py-spy over tests/integration found that compiling a third of the
time those loads took (9 % of the integration tests' CPU). The text of a generated method
depends only on the class's fields and options, not on the values it binds (defaults,
factories, the class: passed in as the outer function's arguments), so the compiled code of
one text serves every class with the same text. Idempotent. Not in the product: Lambda imports
each function once.
"""

from __future__ import annotations

import threading
from types import CodeType
from typing import Any

from .patching import patch

_COMPILED: dict[str, CodeType] = {}
_LOCK = threading.Lock()


def compile_dataclass_methods_once() -> None:
    """dataclasses._create_fn as Python 3.11 writes it, with the compiled text kept."""
    import dataclasses

    original = getattr(dataclasses, "_create_fn", None)
    if original is None or getattr(original, "compiled_once", False):
        return  # Python 3.13 makes a class's methods in one exec (dataclasses._FuncBuilder)
    missing = dataclasses.MISSING

    def _create_fn(
        name: str,
        args: list[str],
        body: list[str],
        *,
        globals: dict[str, Any] | None = None,  # dataclasses' own names
        locals: dict[str, Any] | None = None,
        return_type: Any = missing,
    ) -> Any:
        if locals is None:
            locals = {}
        return_annotation = ""
        if return_type is not missing:
            locals["_return_type"] = return_type
            return_annotation = "->_return_type"
        joined_args = ",".join(args)
        joined_body = "\n".join(f"  {line}" for line in body)
        text = f" def {name}({joined_args}){return_annotation}:\n{joined_body}"
        text = f"def __create_fn__({', '.join(locals.keys())}):\n{text}\n return {name}"
        code = _COMPILED.get(text)
        if code is None:
            code = compile(text, "<string>", "exec")
            with _LOCK:
                _COMPILED.setdefault(text, code)
        namespace: dict[str, Any] = {}
        exec(code, globals, namespace)  # noqa: S102 (what dataclasses itself does)
        return namespace["__create_fn__"](**locals)

    _create_fn.compiled_once = True  # type: ignore[attr-defined]
    patch(dataclasses, "_create_fn", _create_fn)


def compiled_texts() -> int:
    """How many distinct method texts have been compiled (for the tests)."""
    return len(_COMPILED)
