"""DynamoDB items -> lake rows: one row per version of each entity, customers under a keyed
pseudonym, no contact details, comments only when the stack says so.

Every row carries its entity's id and a version that orders the entity's versions: a response
its `revision`, everything else the stream record's position (`version`). The named queries
read the latest version per id, so a record delivered again (a retried or replayed batch)
writes a row equal to one already there and changes no result.

Each entity's rows live under one date partition (`dt`) that never changes for that entity: a
response under the day it is counted on (as the report's counters), an invitation and an
escalation under the day they were created, a message under the day it was sent (all days in
the reporting time zone). So every version of an entity is in one partition, and an erasure
knows which partitions to rewrite from the deleted item alone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from boto3.dynamodb.types import TypeDeserializer
from msgspec import Struct, field

from ..domain.invitations import WAIT_KEY_SUFFIX
from ..logic.counting import DELIVERED, counting_day, first_messages, segment_keys

RESPONSES = "responses"
COMMENTS = "comments"
INVITATIONS = "invitations"
MESSAGES = "messages"
ESCALATIONS = "escalations"
TABLES = (RESPONSES, COMMENTS, INVITATIONS, MESSAGES, ESCALATIONS)
# The entity each exported DynamoDB table holds (their lake tables follow from it).
ENTITIES = (RESPONSES, INVITATIONS, ESCALATIONS)

# A row read from a table before the export existed (the backfill) sorts below every stream
# version: any change made since has its own, later row.
BACKFILL_VERSION = "0" * 17 + "." + "0" * 40
PSEUDONYM_HEX = 32  # the first 128 bits of HMAC-SHA256: collisions are out of reach
WITHDRAWN = "withdrawn"  # a message's attempt that left the invitation's list (not sent)
TTL_PRINCIPAL = "dynamodb.amazonaws.com"  # who deletes an item whose TTL passed
CONTACT_LINK = "#contact#"  # escalations table: a chain contact's link item, not an escalation

_DESERIALIZER = TypeDeserializer()


class UnreadableRecord(ValueError):
    """A stream record or item this code cannot map (a bug or a foreign writer); the message
    names what is missing, never a value."""


class LakeContext(Struct, frozen=True):
    """What the mapping needs besides the record: the pseudonym key, the reporting time zone
    (partitions and counted days), whether comments are exported, and which DynamoDB table
    (physical name) holds which entity."""

    key: bytes
    zone: ZoneInfo
    export_comments: bool
    entities: Mapping[str, str] = field(default_factory=dict)  # table name -> entity

    def entity_of(self, source_arn: str) -> str:
        """arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label> -> its entity."""
        try:
            name = source_arn.split(":table/", 1)[1].split("/", 1)[0]
            return self.entities[name]
        except (IndexError, KeyError):
            raise UnreadableRecord("a stream of a table that is not exported") from None


class LakeRow(Struct, frozen=True):
    table: str
    dt: str  # the partition: yyyy-mm-dd
    row: dict[str, Any]


class Erasure(Struct, frozen=True):
    """An item deleted by someone (an erasure, not its TTL): its rows in `table` under `dt`
    lose the pseudonym (and, for comments, go)."""

    table: str
    dt: str
    invitation_id: str


def pseudonym(key: bytes, customer_id: str) -> str:
    """The customer's keyed pseudonym: HMAC-SHA256 under the stack's key, hex, 128 bits. The
    same customer id always gives the same pseudonym; without the key it cannot be computed
    from a customer id, nor turned back into one."""
    digest = hmac.new(key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX]


def plain(image: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB JSON image (a stream record's NewImage) as plain Python values."""
    return {name: _plain(_DESERIALIZER.deserialize(value)) for name, value in image.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def stream_version(record: Mapping[str, Any]) -> str:
    """A stream record's place among its item's versions: its approximate creation time (whole
    seconds in AWS; finer locally) and its sequence number, each fixed-width, so later records
    of an item sort later as text. A record delivered again has the same version."""
    data = record.get("dynamodb") or {}
    try:
        micros = round(float(data["ApproximateCreationDateTime"]) * 1_000_000)
        sequence = str(data["SequenceNumber"])
    except (KeyError, TypeError, ValueError):
        raise UnreadableRecord("no ApproximateCreationDateTime or SequenceNumber") from None
    if not sequence.isdigit() or micros < 0:
        raise UnreadableRecord("a malformed SequenceNumber or creation time")
    return f"{micros:017d}.{sequence:0>40}"


def local_day(moment: str, zone: ZoneInfo) -> str:
    """The reporting zone's calendar day of a stored UTC timestamp (the counters' day)."""
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise UnreadableRecord("a timestamp that is not ISO 8601") from None
    if parsed.tzinfo is None:
        raise UnreadableRecord("a timestamp without a time zone")
    return counting_day(parsed, zone)


def _required(item: Mapping[str, Any], *names: str) -> None:
    missing = [name for name in names if item.get(name) in (None, "")]
    if missing:
        raise UnreadableRecord(f"missing {', '.join(missing)}")


def _segment(item: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    raw = item.get("segment") or {}
    if not isinstance(raw, dict):
        raise UnreadableRecord("a segment that is not a map")
    segment = {str(k): str(v) for k, v in raw.items() if v not in (None, "")}
    return segment, segment_keys(segment)


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    """Absent rather than null: smaller objects; the tables read a missing key as NULL."""
    return {k: v for k, v in row.items() if v is not None}


# ---------------------------------------------------------------- responses and comments


def response_rows(
    item: Mapping[str, Any], old: Mapping[str, Any] | None, context: LakeContext
) -> list[LakeRow]:
    """One revision of a response: its responses row and, when comments are exported, its
    comments row (also for a revision that removed the comment: then without text)."""
    _required(item, "invitation_id", "survey_id", "customer_id", "bucket_day", "revision")
    dt = str(item["bucket_day"])
    segment, keys = _segment(item)
    scores = item.get("scores") or {}
    customer = pseudonym(context.key, str(item["customer_id"]))
    common = {
        "invitation_id": str(item["invitation_id"]),
        "revision": int(item["revision"]),
        "survey_id": str(item["survey_id"]),
        "customer": customer,
        "counted_day": dt,
        "answered_at": item.get("answered_at"),
    }
    response = {
        **common,
        "channel": item.get("channel"),
        "answered_via": item.get("answered_via"),
        "after_step": item.get("after_step"),
        "first_answered_at": item.get("first_answered_at"),
        "scores": {str(metric): int(score) for metric, score in scores.items()},
        "has_comment": bool(item.get("comment")),
        "segment": segment,
        "segment_keys": keys,
    }
    rows = [LakeRow(RESPONSES, dt, _compact(response))]
    had_comment = bool(old and old.get("comment"))
    if context.export_comments and (item.get("comment") or had_comment):
        comment = {**common, "comment": item.get("comment") or None}
        rows.append(LakeRow(COMMENTS, dt, _compact(comment)))
    return rows


# ---------------------------------------------------------------- invitations and messages

# Left out of the invitation's row: secrets (the link token, the workflow's task token), the
# product system's own keys (business key, source event id), and hashes of the customer's
# phone and addresses (sms_address, attempts' address_key): an unkeyed SHA-256 of a phone
# number is found again by trying every number.
_ATTEMPT_FIELDS = ("rung", "channel", "outcome", "at", "reason", "fallback")


def invitation_rows(
    item: Mapping[str, Any],
    old: Mapping[str, Any] | None,
    version: str,
    context: LakeContext,
) -> list[LakeRow]:
    """One version of an invitation: its invitations row, and a messages row for each attempt
    that is new or changed since the old image (all of them without one), and for each attempt
    that left the list (outcome withdrawn). The lifecycle's wait items beside the invitations
    (a task token) are not invitations: no row."""
    if str(item.get("invitation_id", "")).endswith(WAIT_KEY_SUFFIX):
        return []
    _required(item, "invitation_id", "survey_id", "customer_id", "created_at")
    created_day = local_day(str(item["created_at"]), context.zone)
    segment, keys = _segment(item)
    attempts = _attempts(item)
    metrics = item.get("metrics") or ([item["metric"]] if item.get("metric") else [])
    row = {
        "invitation_id": str(item["invitation_id"]),
        "version": version,
        "survey_id": str(item["survey_id"]),
        "customer": pseudonym(context.key, str(item["customer_id"])),
        "status": item.get("status"),
        "reason": item.get("reason"),
        "failure_reason": item.get("failure_reason"),
        "language": item.get("language"),
        "metrics": [str(m) for m in metrics],
        "planned_channels": [str(c) for c in item.get("channels") or []],
        "planned_at": [str(t) for t in item.get("rung_at") or []],
        "created_at": item.get("created_at"),
        "created_day": created_day,
        "send_at": item.get("send_at"),
        "closes_at": item.get("closes_at"),
        "contacted_at": item.get("contacted_at"),
        "answered_at": item.get("answered_at"),
        "messages": sum(1 for a in attempts if a.get("outcome") in DELIVERED),
        "segment": segment,
        "segment_keys": keys,
    }
    rows = [LakeRow(INVITATIONS, created_day, _compact(row))]
    before = _attempts(old) if old is not None else None
    rows += message_rows(row, attempts, before, context.zone)
    return rows


def _attempts(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = item.get("attempts") or []
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise UnreadableRecord("attempts that are not a list of maps")
    return [{name: a.get(name) for name in _ATTEMPT_FIELDS} for a in raw]


def message_rows(
    invitation: Mapping[str, Any],
    attempts: Sequence[Mapping[str, Any]],
    before: Sequence[Mapping[str, Any]] | None,
    zone: ZoneInfo,
) -> list[LakeRow]:
    """A message is one attempt, known by (invitation, attempt, sent_at): the rows of the
    attempts that changed (or whose firsts changed: an earlier message refused makes a later
    one the first), and a withdrawn row for each attempt no longer in the list."""
    rows = []
    previous = list(before or [])
    firsts, firsts_before = _firsts(attempts), _firsts(previous)
    for position, attempt in enumerate(attempts):
        if (
            before is not None
            and position < len(previous)
            and previous[position] == attempt
            and firsts_before[position] == firsts[position]
        ):
            continue
        rows.append(_message(invitation, position, attempt, zone, firsts[position]))
    if before is not None:
        now_there = {(p, a.get("at")) for p, a in enumerate(attempts)}
        for position, attempt in enumerate(previous):
            if (position, attempt.get("at")) not in now_there:
                gone = {**attempt, "outcome": WITHDRAWN, "reason": None}
                rows.append(_message(invitation, position, gone, zone, (False, False)))
    return rows


def _firsts(attempts: Sequence[Mapping[str, Any]]) -> list[tuple[bool, bool]]:
    """Per attempt, the report's rule (logic/counting.first_messages), written on the row so
    that queries need not find it among every message of the invitation."""
    return first_messages((a.get("channel"), a.get("outcome")) for a in attempts)


def _message(
    invitation: Mapping[str, Any],
    position: int,
    attempt: Mapping[str, Any],
    zone: ZoneInfo,
    firsts: tuple[bool, bool],
) -> LakeRow:
    if attempt.get("at") in (None, "") or attempt.get("rung") is None:
        raise UnreadableRecord("an attempt without at or rung")
    sent_day = local_day(str(attempt["at"]), zone)
    row = {
        "invitation_id": invitation["invitation_id"],
        "version": invitation["version"],
        "attempt": position,
        "rung": int(attempt["rung"]),
        "channel": attempt.get("channel"),
        "outcome": attempt.get("outcome"),
        "reason": attempt.get("reason"),
        "fallback": bool(attempt.get("fallback")),
        "delivered": attempt.get("outcome") in DELIVERED,
        "first_on_channel": firsts[0],
        "first_at_all": firsts[1],
        "sent_at": attempt["at"],
        "sent_day": sent_day,
        "survey_id": invitation["survey_id"],
        "segment_keys": invitation["segment_keys"],
    }
    return LakeRow(MESSAGES, sent_day, _compact(row))


# ---------------------------------------------------------------- escalations


def escalation_rows(item: Mapping[str, Any], version: str, context: LakeContext) -> list[LakeRow]:
    """One version of a callback task's record (no customer id on it; none in the row). The
    link items of a transferred task's chain are not escalations: no row."""
    if CONTACT_LINK in str(item.get("invitation_id", "")):
        return []
    _required(item, "invitation_id", "survey_id", "created_at")
    created_day = local_day(str(item["created_at"]), context.zone)
    segment, keys = _segment(item)
    contacts = item.get("contacts") or {}
    row = {
        "invitation_id": str(item["invitation_id"]),
        "version": version,
        "survey_id": str(item["survey_id"]),
        "metric": item.get("metric"),
        "score": item.get("score"),
        "reasons": [str(r) for r in item.get("reasons") or []],
        "status": item.get("status"),
        "contact_id": item.get("contact_id"),
        "contacts": len(contacts) if isinstance(contacts, dict) else None,
        "sla_hours": item.get("sla_hours"),
        "created_at": item.get("created_at"),
        "created_day": created_day,
        "escalated_at": item.get("escalated_at"),
        "scheduled_for": item.get("scheduled_for"),
        "counted_day": item.get("counted_day"),
        "outcome": item.get("outcome"),
        "sla": item.get("sla"),
        "reached_at": item.get("reached_at"),
        "seconds_to_agent": item.get("seconds_to_agent"),
        "done_at": item.get("done_at"),
        "segment": segment,
        "segment_keys": keys,
    }
    return [LakeRow(ESCALATIONS, created_day, _compact(row))]


# ---------------------------------------------------------------- records and items


def rows_of_item(
    entity: str,
    item: Mapping[str, Any],
    context: LakeContext,
    *,
    version: str = BACKFILL_VERSION,
    old: Mapping[str, Any] | None = None,
) -> list[LakeRow]:
    """The rows of one stored item (plain values) of an entity."""
    if entity == RESPONSES:
        return response_rows(item, old, context)
    if entity == INVITATIONS:
        return invitation_rows(item, old, version, context)
    if entity == ESCALATIONS:
        return escalation_rows(item, version, context)
    raise UnreadableRecord(f"unknown entity {entity!r}")


def rows_of_record(record: Mapping[str, Any], context: LakeContext) -> list[LakeRow]:
    """The rows one stream record (INSERT or MODIFY) adds to the lake; none for a REMOVE."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return []
    entity = context.entity_of(str(record.get("eventSourceARN", "")))
    data = record.get("dynamodb") or {}
    if not data.get("NewImage"):
        raise UnreadableRecord("an INSERT or MODIFY without NewImage")
    item = plain(data["NewImage"])
    old = plain(data["OldImage"]) if data.get("OldImage") else None
    version = stream_version(record) if entity != RESPONSES else BACKFILL_VERSION
    return rows_of_item(entity, item, context, version=version, old=old)


def erasure_of_record(record: Mapping[str, Any], context: LakeContext) -> list[Erasure]:
    """A REMOVE made by someone (an erasure; not a TTL expiry): the partitions whose rows of
    the item must lose the customer's pseudonym and comments."""
    if record.get("eventName") != "REMOVE":
        return []
    if (record.get("userIdentity") or {}).get("principalId") == TTL_PRINCIPAL:
        return []  # retention: the lake keeps its own (LakeRetentionDays, comments shorter)
    entity = context.entity_of(str(record.get("eventSourceARN", "")))
    old_image = (record.get("dynamodb") or {}).get("OldImage")
    if entity == ESCALATIONS or not old_image:
        return []  # an escalation's rows name no customer
    old = plain(old_image)
    invitation_id = str(old.get("invitation_id", ""))
    if invitation_id.endswith(WAIT_KEY_SUFFIX):
        return []  # a wait item: a task token, no customer
    if entity == RESPONSES:
        _required(old, "invitation_id", "bucket_day")
        day = str(old["bucket_day"])
        return [Erasure(RESPONSES, day, invitation_id), Erasure(COMMENTS, day, invitation_id)]
    _required(old, "invitation_id", "created_at")
    return [Erasure(INVITATIONS, local_day(str(old["created_at"]), context.zone), invitation_id)]


def erased(rows: Sequence[dict[str, Any]], table: str, ids: set[str]) -> list[dict[str, Any]]:
    """The rows of one object after an erasure of these invitations: comments go, every other
    row keeps its facts without the pseudonym."""
    if table == COMMENTS:
        return [row for row in rows if row.get("invitation_id") not in ids]
    return [
        {k: v for k, v in row.items() if k != "customer"}
        if row.get("invitation_id") in ids
        else row
        for row in rows
    ]
