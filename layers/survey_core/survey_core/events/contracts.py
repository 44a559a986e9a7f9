"""Event contracts: JSON Schemas (draft 2020-12) of every event's `detail`, validated at the edge.

A validator is built on its first use and kept: a function compiles only the schemas of the
events it handles, and a function that validates no event never imports jsonschema (about 40 ms
of a cold start). Schemas live in schemas/ and ship with the layer.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, FormatChecker, ValidationError
    from referencing import Registry

SOURCE = "customer-feedback.surveys"
SCHEMA_DIR = Path(__file__).with_name("schemas")
INBOUND_DETAIL_TYPES = (
    "Purchase Completed",
    "Service Contact Closed",
    "Customer Activity",
    "Customer Inactive",
    "Survey Requested",
)
OUTBOUND_DETAIL_TYPES = (
    "Survey Invitation Sent",
    "Survey Response Received",
    "Survey Escalated",
    "Survey Expired",
)
DETAIL_TYPES = INBOUND_DETAIL_TYPES + OUTBOUND_DETAIL_TYPES
MAX_REASON_ERRORS = 10


class InvalidEvent(ValueError):
    """An event that breaks its contract. The reason names paths and rules, never values:
    a value may be an email address or a phone number."""

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def schema_file(detail_type: str) -> Path:
    return SCHEMA_DIR / f"{detail_type.lower().replace(' ', '-')}.schema.json"


def _load(path: Path) -> dict[str, Any]:
    # Checked against the metaschema by the tests (test_schemas.py), not on a cold start.
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


# RFC 3339 date-times with an offset, in years events can really carry. Checked here rather
# than by jsonschema's own checker, which checks "date-time" only when the optional
# rfc3339-validator is installed; the year bounds keep the date arithmetic that follows (send
# delays, quiet hours, retention) from overflowing.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
EARLIEST_YEAR, LATEST_YEAR = 2000, 2199


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # "type" says what else is wrong
    text = value.upper()
    if not _DATE_TIME.fullmatch(text):
        return False
    return EARLIEST_YEAR <= datetime.fromisoformat(text).year <= LATEST_YEAR


@cache
def format_checker() -> FormatChecker:
    from jsonschema import FormatChecker

    checker = FormatChecker()
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


@cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    common = _load(SCHEMA_DIR / "common.schema.json")
    return Registry().with_resource(common["$id"], Resource.from_contents(common))


@cache
def _validator_of(detail_type: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(
        _load(schema_file(detail_type)), registry=_registry(), format_checker=format_checker()
    )


def prepare(detail_types: tuple[str, ...]) -> None:
    """Build these validators now: a function that validates every event it gets calls this at
    import, so that the first invocation does not pay for jsonschema."""
    for detail_type in detail_types:
        _validator_of(detail_type)


def validator(detail_type: object) -> Draft202012Validator | None:
    """The validator of a known detail-type's contract; None for anything else (a detail-type
    from an event may be any JSON value)."""
    if not isinstance(detail_type, str) or detail_type not in DETAIL_TYPES:
        return None
    return _validator_of(detail_type)


def error_path(error: ValidationError, root: str = "detail") -> str:
    """Where an error is, as root.a.b[0]: readable by people who never saw a JSON pointer."""
    path = root
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _shown_name(name: str) -> str:
    """A producer's unexpected key, safe to put in a reason: printable and short, or quoted
    with escapes (the reason goes into an SQS attribute and into logs)."""
    if name.isprintable() and name.isascii() and len(name) <= 64:
        return name
    return ascii(name[:64])


def describe_error(error: ValidationError) -> str:
    """The rule that failed, without the offending value."""
    rule = error.validator
    expected = error.validator_value
    if rule == "required":
        missing = [name for name in expected if name not in (error.instance or {})]
        return f"missing required {', '.join(missing)}"
    if rule == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(_shown_name(k) for k in (error.instance or {}) if k not in allowed)
        return f"unexpected {', '.join(extra)}"
    if rule == "type":
        return f"must be of type {expected}"
    if rule in ("enum", "const"):
        return f"must be one of {expected}" if rule == "enum" else f"must be {expected!r}"
    if rule == "format":
        return f"is not a valid {expected}"
    if rule == "pattern":
        return "does not match the required pattern"
    if rule in (
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
    ):
        return f"violates {rule} {expected}"
    return f"fails {rule}"


def validate_detail(detail_type: str, detail: Any) -> None:
    contract = validator(detail_type)
    if contract is None:
        raise InvalidEvent(f"detail-type: unknown {detail_type!r}", "detail-type")
    if not isinstance(detail, dict):
        raise InvalidEvent("detail: must be a JSON object", "detail")
    errors = sorted(contract.iter_errors(detail), key=lambda e: (error_path(e), str(e.validator)))
    if errors:
        shown = [f"{error_path(e)}: {describe_error(e)}" for e in errors[:MAX_REASON_ERRORS]]
        if len(errors) > MAX_REASON_ERRORS:
            shown.append(f"and {len(errors) - MAX_REASON_ERRORS} more")
        raise InvalidEvent("; ".join(shown), error_path(errors[0]))


def validate_event(event: Any) -> tuple[str, dict[str, Any]]:
    """Check an EventBridge envelope from a product system; return (detail-type, detail)."""
    if not isinstance(event, dict):
        raise InvalidEvent("event: must be a JSON object", "event")
    detail_type = event.get("detail-type")
    if detail_type not in INBOUND_DETAIL_TYPES:
        raise InvalidEvent(
            f"detail-type: {detail_type!r} is not one of {', '.join(INBOUND_DETAIL_TYPES)}",
            "detail-type",
        )
    detail = event.get("detail")
    validate_detail(detail_type, detail)
    return str(detail_type), detail  # type: ignore[return-value]  # validated: a dict


def has_field(detail_type: str, dotted_path: str) -> bool:
    """Whether the contract of detail_type declares the field a.b.c (catalogue filters use it)."""
    contract = validator(detail_type)
    if contract is None:
        return False
    resolver = _registry().resolver(base_uri=contract.schema["$id"])
    node: dict[str, Any] = contract.schema
    for name in dotted_path.split("."):
        while "$ref" in node:
            resolved = resolver.lookup(node["$ref"])
            resolver, node = resolved.resolver, resolved.contents
        properties = node.get("properties", {})
        if name not in properties:
            return False
        node = properties[name]
    return True
