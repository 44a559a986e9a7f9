"""Event contracts: JSON Schemas (draft 2020-12) of every event's `detail`, validated at the edge.

Schemas live in schemas/ and ship with the layer; their validators are Python code generated
from them at build time (survey_core.schemas: no schema library is imported at run time). A
function builds the validators of the events it handles on first use, or at import with
prepare() when it validates every event it gets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import schemas
from ..schemas import SchemaError

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


def schema_name(detail_type: str) -> str:
    """Purchase Completed -> purchase-completed (schemas/purchase-completed.schema.json)."""
    return detail_type.lower().replace(" ", "-")


def schema_file(detail_type: str) -> Path:
    return SCHEMA_DIR / f"{schema_name(detail_type)}.schema.json"


def prepare(detail_types: tuple[str, ...]) -> None:
    """Load these validators now: a function that validates every event it gets calls this at
    import, so that its first invocation does not pay for them."""
    for detail_type in detail_types:
        schemas.validator(schema_name(detail_type))


def error_path(error: SchemaError, root: str = "detail") -> str:
    """Where an error is, as root.a.b[0]: readable by people who never saw a JSON pointer."""
    return error.at(root)


describe_error = schemas.describe


def validate_detail(detail_type: str, detail: Any) -> None:
    if not isinstance(detail_type, str) or detail_type not in DETAIL_TYPES:
        raise InvalidEvent(f"detail-type: unknown {detail_type!r}", "detail-type")
    if not isinstance(detail, dict):
        raise InvalidEvent("detail: must be a JSON object", "detail")
    errors = schemas.errors(schema_name(detail_type), detail)
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
    if detail_type not in DETAIL_TYPES:
        return False
    return schemas.has_field(schema_name(detail_type), dotted_path)
