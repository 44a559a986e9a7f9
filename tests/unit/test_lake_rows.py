"""Stream records and items -> lake rows (survey_core/lake/rows.py) and objects (objects.py):
the pseudonym, what is left out, the partitions, the versions that make a repeat harmless, the
messages of a changed invitation and an erasure's rows."""

from __future__ import annotations

import gzip
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from boto3.dynamodb.types import TypeSerializer
from survey_core.lake.objects import decode, encode, objects_of
from survey_core.lake.rows import (
    BACKFILL_VERSION,
    COMMENTS,
    ESCALATIONS,
    INVITATIONS,
    MESSAGES,
    RESPONSES,
    Erasure,
    LakeContext,
    UnreadableRecord,
    erased,
    erasure_of_record,
    pseudonym,
    rows_of_item,
    rows_of_record,
    stream_version,
)

pytestmark = pytest.mark.unit

KEY = b"k" * 64
HELSINKI = ZoneInfo("Europe/Helsinki")
TABLES = {"resp": RESPONSES, "inv": INVITATIONS, "esc": ESCALATIONS}


def context(comments: bool = True) -> LakeContext:
    return LakeContext(KEY, HELSINKI, comments, TABLES)


def image(item: dict[str, Any]) -> dict[str, Any]:
    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items()}


def record(
    table: str,
    new: dict[str, Any] | None,
    old: dict[str, Any] | None = None,
    *,
    name: str = "MODIFY",
    at: float = 1794823200.5,
    sequence: str = "100",
    user: dict[str, str] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"ApproximateCreationDateTime": at, "SequenceNumber": sequence}
    if new is not None:
        data["NewImage"] = image(new)
    if old is not None:
        data["OldImage"] = image(old)
    found: dict[str, Any] = {
        "eventName": name,
        "eventSourceARN": f"arn:aws:dynamodb:eu-north-1:1:table/{table}/stream/2026",
        "dynamodb": data,
    }
    if user:
        found["userIdentity"] = user
    return found


RESPONSE = {
    "invitation_id": "inv-1",
    "survey_id": "post-purchase",
    "customer_id": "cust-0001",
    "scores": {"nps": 3},
    "comment": "Toimitus myöhästyi",
    "channel": "web",
    "answered_via": "sms",
    "after_step": 1,
    "bucket_day": "2026-11-16",
    "first_answered_at": "2026-11-16T21:30:00Z",
    "answered_at": "2026-11-16T21:30:00Z",
    "revision": 1,
    "segment": {"businessArea": "webshop", "touchpoint": "checkout"},
    "inbound_ids": ["sms-1"],
    "expires_at": 1830000000,
}
INVITATION = {
    "invitation_id": "inv-1",
    "link_token": "secret-token-aaaaaaaaaa",
    "task_token": "task-token",
    "survey_id": "post-purchase",
    "customer_id": "cust-0001",
    "business_key": "order-42",
    "source_event_id": "event-1",
    "metric": "nps",
    "language": "fi",
    "segment": {"businessArea": "webshop"},
    "channels": ["email", "sms"],
    "rung_at": ["2026-11-16T22:30:00Z", "2026-11-17T22:30:00Z"],
    "status": "sent",
    "created_at": "2026-11-16T22:10:00Z",  # 00:10 on the 17th in Helsinki
    "updated_at": "2026-11-16T22:30:00Z",
    "sms_address": "sms#0123456789abcdef",
    "attempts": [
        {
            "rung": 0,
            "channel": "email",
            "outcome": "sent",
            "at": "2026-11-16T22:30:00Z",
            "message_id": "ses-1",
            "fallback": False,
            "address_key": "email#0123456789abcdef",
        }
    ],
}


def test_a_response_becomes_its_row_under_the_counted_day_with_a_keyed_pseudonym() -> None:
    # Given the stream record of a first answer with a comment
    # When it is mapped with comments exported
    rows = rows_of_record(record("resp", RESPONSE, name="INSERT"), context())
    # Then the response row is under the day it is counted on, the customer under the pseudonym
    [response, comment] = rows
    assert (response.table, response.dt, comment.table) == (RESPONSES, "2026-11-16", COMMENTS)
    assert response.row["customer"] == pseudonym(KEY, "cust-0001")
    assert len(response.row["customer"]) == 32 and "cust-0001" not in json.dumps(response.row)
    assert response.row["scores"] == {"nps": 3} and response.row["has_comment"] is True
    # after which reminder, through which channel (the page link of the SMS reminder)
    assert (response.row["answered_via"], response.row["after_step"]) == ("sms", 1)
    assert response.row["segment_keys"] == [
        "all",
        "businessArea=webshop",
        "touchpoint=checkout",
    ]
    # and the comment only in the comments row; no inbound SMS ids, no TTL
    assert "comment" not in response.row and comment.row["comment"] == "Toimitus myöhästyi"
    assert not {"inbound_ids", "expires_at", "customer_id"} & set(response.row)


def test_the_pseudonym_needs_the_key() -> None:
    # Given one customer id under two keys
    # Then each key gives its own pseudonym, and one key always the same
    assert pseudonym(KEY, "cust-1") == pseudonym(KEY, "cust-1")
    assert pseudonym(KEY, "cust-1") != pseudonym(b"another key of the same length....", "cust-1")
    assert pseudonym(KEY, "cust-1") != pseudonym(KEY, "cust-2")


def test_without_the_parameter_no_comment_leaves_the_table() -> None:
    # Given comments not exported
    rows = rows_of_record(record("resp", RESPONSE, name="INSERT"), context(comments=False))
    # Then only the response row, which says there is a comment but not what
    assert [r.table for r in rows] == [RESPONSES]
    assert "Toimitus" not in json.dumps(rows[0].row)


def test_a_revision_that_removes_the_comment_writes_an_empty_comment_row() -> None:
    # Given the comment removed by a later revision
    new = {**RESPONSE, "comment": None, "revision": 2}
    rows = rows_of_record(record("resp", new, RESPONSE), context())
    # Then the comments table learns that the comment is gone (its latest revision has none)
    assert [(r.table, r.row.get("comment"), r.row["revision"]) for r in rows] == [
        (RESPONSES, None, 2),
        (COMMENTS, None, 2),
    ]


def test_an_invitation_leaves_out_secrets_hashes_and_keys_and_is_under_its_local_day() -> None:
    rows = rows_of_record(record("inv", INVITATION, name="INSERT"), context())
    [invitation, message] = rows
    text = json.dumps([r.row for r in rows])
    for secret in ("secret-token", "task-token", "order-42", "event-1", "0123456789abcdef"):
        assert secret not in text
    # 22:10 UTC on the 16th is the 17th in Helsinki: the counters' day
    assert (invitation.table, invitation.dt) == (INVITATIONS, "2026-11-17")
    assert invitation.row["messages"] == 1 and invitation.row["metrics"] == ["nps"]
    assert (message.table, message.dt) == (MESSAGES, "2026-11-17")
    assert message.row["delivered"] is True and message.row["attempt"] == 0


def test_only_changed_and_withdrawn_attempts_become_message_rows() -> None:
    # Given an invitation whose first message turned bounced, and whose second (throttled) was
    # taken off the list in the same change
    old = {
        **INVITATION,
        "attempts": [
            *INVITATION["attempts"],
            {"rung": 1, "channel": "sms", "outcome": "sending", "at": "2026-11-17T22:30:00Z"},
        ],
    }
    bounced = {**INVITATION["attempts"][0], "outcome": "bounced"}
    new = {**INVITATION, "attempts": [bounced]}
    # When the change is mapped
    rows = rows_of_record(record("inv", new, old), context())
    messages = [r.row for r in rows if r.table == MESSAGES]
    # Then the bounced one (still counted as sent) and the withdrawn one (not sent)
    assert [(m["attempt"], m["outcome"], m["delivered"]) for m in messages] == [
        (0, "bounced", True),
        (1, "withdrawn", False),
    ]


def test_an_unchanged_attempt_is_not_written_again() -> None:
    new = {**INVITATION, "status": "answered"}
    rows = rows_of_record(record("inv", new, INVITATION), context())
    assert [r.table for r in rows] == [INVITATIONS]


def _attempt(rung: int, channel: str, outcome: str, hour: int) -> dict[str, Any]:
    return {
        "rung": rung,
        "channel": channel,
        "outcome": outcome,
        "at": f"2026-11-17T{hour:02}:00:00Z",
    }


def test_messages_say_whether_they_were_the_invitations_first_and_first_on_their_channel() -> None:
    # Given an invitation email (still being handed to SES), the SMS reminder, a last email
    old = {**INVITATION, "attempts": [
        _attempt(0, "email", "sending", 8), _attempt(1, "sms", "sent", 9),
        _attempt(2, "email", "sent", 10),
    ]}  # fmt: skip
    rows = rows_of_record(record("inv", old, name="INSERT"), context())
    firsts = [(m.row["first_on_channel"], m.row["first_at_all"]) for m in rows[1:]]
    # Then: the invitation reached by the email, on SMS by the reminder; the last is neither
    assert firsts == [(True, True), (True, False), (False, False)]
    # When the first email is refused after all
    new = {**old, "attempts": [_attempt(0, "email", "failed", 8), *old["attempts"][1:]]}
    rows = rows_of_record(record("inv", new, old), context())
    # Then its row, and the rows whose firsts it changed, are written again: the SMS reached the
    # invitation first, and the last email was its first on email
    assert [
        (m.row["attempt"], m.row["first_on_channel"], m.row["first_at_all"]) for m in rows[1:]
    ] == [
        (0, False, False),
        (1, True, True),
        (2, True, False),
    ]


def test_versions_order_an_items_records_and_a_repeat_keeps_its_version() -> None:
    first = record("inv", INVITATION, at=1794823200, sequence="99")
    later = record("inv", INVITATION, at=1794823200, sequence="100")
    next_second = record("inv", INVITATION, at=1794823201, sequence="7")
    assert stream_version(first) < stream_version(later) < stream_version(next_second)
    assert stream_version(first) == stream_version(json.loads(json.dumps(first)))
    assert stream_version(first) > BACKFILL_VERSION


def test_escalations_have_no_customer_and_link_items_no_row() -> None:
    escalation = {
        "invitation_id": "inv-1",
        "survey_id": "post-purchase",
        "metric": "nps",
        "score": 3,
        "status": "created",
        "created_at": "2026-11-16T21:31:00Z",
        "counted_day": "2026-11-16",
        "sla_hours": 48,
        "contacts": {"c-1": {"initiated": "x"}, "c-2": {"previous": "c-1"}},
        "segment": {"touchpoint": "service"},
    }
    [row] = rows_of_record(record("esc", escalation), context())
    assert (row.table, row.dt, row.row["contacts"]) == (ESCALATIONS, "2026-11-16", 2)
    assert row.row["segment_keys"] == ["all", "touchpoint=service"]
    link = {"invitation_id": "inv-1#contact#c-2", "contact_id": "c-2"}
    assert rows_of_record(record("esc", link), context()) == []


def test_the_lifecycles_wait_items_beside_the_invitations_make_no_row() -> None:
    # The invitations table also holds "<invitation id>#wait": the lifecycle's task token
    wait = {"invitation_id": "inv-1#wait", "task_token": "AQC...", "updated_at": "2026-11-17"}
    assert rows_of_record(record("inv", wait, name="INSERT"), context()) == []
    assert rows_of_record(record("inv", {**wait, "task_token": "AQD..."}, wait), context()) == []
    assert erasure_of_record(record("inv", None, wait, name="REMOVE"), context()) == []
    assert rows_of_item(INVITATIONS, wait, context()) == []  # the backfill's scan


def test_an_erasure_names_the_partitions_and_a_ttl_expiry_names_none() -> None:
    erase = record("resp", None, RESPONSE, name="REMOVE")
    assert erasure_of_record(erase, context()) == [
        Erasure(RESPONSES, "2026-11-16", "inv-1"),
        Erasure(COMMENTS, "2026-11-16", "inv-1"),
    ]
    ttl = record(
        "resp",
        None,
        RESPONSE,
        name="REMOVE",
        user={"type": "Service", "principalId": "dynamodb.amazonaws.com"},
    )
    assert erasure_of_record(ttl, context()) == []
    assert erasure_of_record(record("inv", None, INVITATION, name="REMOVE"), context()) == [
        Erasure(INVITATIONS, "2026-11-17", "inv-1")
    ]
    assert rows_of_record(erase, context()) == []


def test_erased_rows_lose_the_pseudonym_and_comments_go() -> None:
    rows = [
        {"invitation_id": "inv-1", "customer": "p1", "scores": {"nps": 3}},
        {"invitation_id": "inv-2", "customer": "p2", "scores": {"nps": 9}},
    ]
    assert erased(rows, RESPONSES, {"inv-1"}) == [
        {"invitation_id": "inv-1", "scores": {"nps": 3}},
        rows[1],
    ]
    assert erased(rows, COMMENTS, {"inv-1"}) == [rows[1]]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"bucket_day": None}, "missing bucket_day"),
        ({"segment": ["x"]}, "a segment that is not a map"),
    ],
)
def test_a_record_that_cannot_be_mapped_says_why_without_values(
    change: dict[str, Any], reason: str
) -> None:
    broken = {**RESPONSE, **change}
    with pytest.raises(UnreadableRecord, match=reason) as raised:
        rows_of_record(record("resp", broken, name="INSERT"), context())
    assert "cust-0001" not in str(raised.value)


def test_a_table_that_is_not_exported_is_unreadable() -> None:
    with pytest.raises(UnreadableRecord):
        rows_of_record(record("other", RESPONSE, name="INSERT"), context())


def test_objects_are_named_after_their_content_and_compress_the_same_every_time() -> None:
    rows = rows_of_item(RESPONSES, RESPONSE, context())
    first, again = objects_of(rows), objects_of(rows)
    assert [o.key for o in first] == [o.key for o in again]
    assert [o.body for o in first] == [o.body for o in again]
    assert first[0].key.startswith("responses/dt=2026-11-16/") and first[0].key.endswith(".json.gz")
    assert decode(first[0].body) == [rows[0].row]
    other = encode(RESPONSES, "2026-11-16", [{**rows[0].row, "revision": 2}])
    assert other.key != first[0].key
    assert gzip.decompress(first[0].body).decode().count("\n") == 1
