"""The lake export of a batch of stream records (logic/lake_export.export_batch) on a fake lake
bucket: no moto. Which rows a record maps to is tested in tests/unit/test_lake_rows.py (whose
record builder and items this module uses); here, what the batch writes: one object per table
and partition, a repeat that changes nothing, erasures applied after the rows, and where the
batch is delivered again from when a write fails. The function against the template's stack is
in tests/integration/test_lake_export.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from survey_core.lake.rows import COMMENTS, INVITATIONS, MESSAGES, RESPONSES, pseudonym
from survey_core.logic.lake_export import ExportResult, export_batch

from tests.gateways import FakeLakeBucket
from tests.unit.test_lake_rows import INVITATION, KEY, RESPONSE, context, record

pytestmark = pytest.mark.unit

COMMENT = RESPONSE["comment"]
OTHER = {
    **RESPONSE,
    "invitation_id": "inv-2",
    "customer_id": "cust-0002",
    "comment": "Nopea toimitus",
    "answered_at": "2026-11-16T22:00:00Z",
}
TTL = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def export(bucket: FakeLakeBucket, *records: dict[str, Any], comments: bool = True) -> ExportResult:
    return export_batch(list(records), context(comments), bucket)


def answered() -> list[dict[str, Any]]:
    """A survey sent and answered with a comment: the invitation's and the response's records."""
    return [
        record("inv", INVITATION, name="INSERT", sequence="1"),
        record("resp", RESPONSE, name="INSERT", sequence="2"),
    ]


def everything(bucket: FakeLakeBucket) -> str:
    tables = (RESPONSES, COMMENTS, INVITATIONS, MESSAGES)
    return json.dumps([bucket.rows(t) for t in tables], ensure_ascii=False)


def test_a_batch_becomes_one_object_per_table_and_partition_without_contact_details() -> None:
    bucket = FakeLakeBucket()

    result = export(bucket, *answered())

    assert (result.failed_from, result.error, result.unreadable) == (None, None, [])
    assert result.tables == {INVITATIONS: 1, MESSAGES: 1, RESPONSES: 1, COMMENTS: 1}
    assert (result.rows, result.objects) == (4, 4)
    # Under the local day: the invitation was made at 00:10 on the 17th in Helsinki.
    assert sorted(key.rsplit("/", 1)[0] for key in bucket.objects) == [
        "comments/dt=2026-11-16",
        "invitations/dt=2026-11-17",
        "messages/dt=2026-11-17",
        "responses/dt=2026-11-16",
    ]
    [answer] = bucket.rows(RESPONSES)
    assert answer["customer"] == pseudonym(KEY, "cust-0001") and answer["scores"] == {"nps": 3}
    assert [row["comment"] for row in bucket.rows(COMMENTS)] == [COMMENT]
    # No customer id, link or task token, order number or address hash leaves the tables.
    text = everything(bucket)
    for personal in ("cust-0001", "secret-token", "task-token", "order-42", "0123456789abcdef"):
        assert personal not in text


def test_an_items_revisions_in_one_batch_share_its_partitions_object_in_stream_order() -> None:
    bucket = FakeLakeBucket()
    changed = {**RESPONSE, "scores": {"nps": 9}, "revision": 2}

    result = export(
        bucket,
        record("resp", RESPONSE, name="INSERT", sequence="1"),
        record("resp", OTHER, name="INSERT", sequence="2"),
        record("resp", changed, RESPONSE, sequence="3"),
    )

    assert (result.objects, result.tables[RESPONSES]) == (2, 3)
    rows = bucket.rows(RESPONSES)
    assert [(r["invitation_id"], r["revision"]) for r in rows] == [
        ("inv-1", 1),
        ("inv-2", 1),
        ("inv-1", 2),
    ]


def test_a_batch_delivered_again_writes_the_same_objects_under_the_same_names() -> None:
    bucket = FakeLakeBucket()
    records = answered()
    export(bucket, *records)
    before = dict(bucket.objects)

    export(bucket, *json.loads(json.dumps(records)))

    assert bucket.objects == before  # replaced by themselves, byte for byte
    assert len(bucket.puts) == 2 * len(before)


def test_without_comments_exported_no_comment_leaves_the_table() -> None:
    bucket = FakeLakeBucket()

    result = export(bucket, *answered(), comments=False)

    assert COMMENTS not in result.tables and bucket.rows(COMMENTS) == []
    [answer] = bucket.rows(RESPONSES)
    assert answer["has_comment"] is True
    assert COMMENT not in everything(bucket)


def test_an_unreadable_record_is_reported_and_skipped_not_retried() -> None:
    bucket = FakeLakeBucket()
    broken = record("resp", {**OTHER, "bucket_day": None}, name="INSERT", sequence="2")

    result = export(bucket, record("resp", RESPONSE, name="INSERT", sequence="1"), broken)

    assert result.unreadable == ["missing bucket_day"]
    assert "cust-0002" not in str(result.unreadable)
    assert result.failed_from is None
    assert [row["invitation_id"] for row in bucket.rows(RESPONSES)] == ["inv-1"]


def test_an_erasure_takes_the_pseudonym_and_comments_of_its_invitation_only() -> None:
    # Given two customers' answers in the lake
    bucket = FakeLakeBucket()
    export(bucket, *answered(), record("resp", OTHER, name="INSERT", sequence="3"))

    # When the first customer's response and invitation are deleted by an erasure
    result = export(
        bucket,
        record("resp", None, RESPONSE, name="REMOVE", sequence="4"),
        record("inv", None, INVITATION, name="REMOVE", sequence="5"),
    )

    # Then its comment is gone and its rows keep their facts without the pseudonym (one
    # invitation erased: three objects rewritten)
    assert (result.erasures, result.rewritten, result.rows) == (1, 3, 0)
    assert [row["comment"] for row in bucket.rows(COMMENTS)] == ["Nopea toimitus"]
    answers = {row["invitation_id"]: row for row in bucket.rows(RESPONSES)}
    assert "customer" not in answers["inv-1"] and answers["inv-1"]["scores"] == {"nps": 3}
    assert answers["inv-2"]["customer"] == pseudonym(KEY, "cust-0002")
    [invitation] = bucket.rows(INVITATIONS)
    assert "customer" not in invitation
    assert pseudonym(KEY, "cust-0001") not in everything(bucket)


def test_rows_and_their_erasure_in_one_batch_leave_no_comment_behind() -> None:
    bucket = FakeLakeBucket()

    export(
        bucket,
        record("resp", RESPONSE, name="INSERT", sequence="1"),
        record("resp", None, RESPONSE, name="REMOVE", sequence="2"),
    )

    assert bucket.rows(COMMENTS) == []
    [answer] = bucket.rows(RESPONSES)
    assert "customer" not in answer


def test_a_ttl_expiry_erases_nothing() -> None:
    bucket = FakeLakeBucket()
    export(bucket, *answered())
    before = dict(bucket.objects)

    result = export(bucket, record("resp", None, RESPONSE, name="REMOVE", user=TTL))

    assert (result.erasures, result.rewritten, result.objects) == (0, 0, 0)
    assert bucket.objects == before


@pytest.mark.parametrize(
    ("down", "failed_from", "written"),
    [
        ("", 0, set()),
        ("invitations/", 0, set()),  # the batch's first partition (record 0's)
        ("responses/", 1, {INVITATIONS, MESSAGES}),  # record 1's rows and every later one
        ("comments/", 1, {INVITATIONS, MESSAGES, RESPONSES}),
    ],
)
def test_a_failed_write_reports_the_first_record_not_written_and_the_retry_writes_it(
    down: str, failed_from: int, written: set[str]
) -> None:
    bucket = FakeLakeBucket(down=down)
    records = answered()

    result = export(bucket, *records)

    assert (result.failed_from, result.error) == (failed_from, "ConnectionError")
    assert set(result.tables) == written
    assert {key.split("/", 1)[0] for key in bucket.objects} == written
    # Lambda delivers the batch again from that record on: everything is there afterwards.
    bucket.down = None
    retried = export(bucket, *records[failed_from:])
    assert retried.failed_from is None
    assert {key.split("/", 1)[0] for key in bucket.objects} == {
        INVITATIONS,
        MESSAGES,
        RESPONSES,
        COMMENTS,
    }


def test_no_erasure_is_applied_when_a_write_of_the_batch_failed() -> None:
    bucket = FakeLakeBucket()
    export(bucket, *answered())
    bucket.down = "responses/"
    changed = {**OTHER, "revision": 2, "scores": {"nps": 10}}

    result = export(
        bucket,
        record("resp", changed, OTHER, sequence="3"),
        record("resp", None, RESPONSE, name="REMOVE", sequence="4"),
    )

    assert result.failed_from == 0 and (result.erasures, result.rewritten) == (0, 0)
    assert [row["comment"] for row in bucket.rows(COMMENTS)] == [COMMENT]


def test_a_failed_rewrite_is_retried_from_the_erasures_record() -> None:
    bucket = FakeLakeBucket()
    export(bucket, *answered())
    bucket.down = "comments/"

    another = {**INVITATION, "invitation_id": "inv-3", "customer_id": "cust-0003"}

    result = export(
        bucket,
        record("inv", another, name="INSERT", sequence="3"),
        record("resp", None, RESPONSE, name="REMOVE", sequence="4"),
    )

    # The rows were written and the responses rewritten; the comments' rewrite failed.
    assert (result.failed_from, result.error) == (1, "ConnectionError")
    assert (result.objects, result.rewritten) == (2, 1)
    assert COMMENT in everything(bucket)  # not erased yet: the retry erases it
    bucket.down = None
    assert export(bucket, record("resp", None, RESPONSE, name="REMOVE")).failed_from is None
    assert COMMENT not in everything(bucket)
