"""The local stack's DynamoDB stream records as Lambda passes them: numbered along the stream,
the same record with the same number for every mapping of its table."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.emulation.streams import records_of

pytestmark = pytest.mark.unit

MOTO_NUMBER = "1100000000017454423009"  # moto gives this to every record of a table


class StreamRecord:
    """What records_of reads of moto's StreamRecord."""

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id

    def to_json(self) -> dict[str, Any]:
        return {
            "eventID": self.event_id,
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"invitation_id": {"S": "x"}}, "SequenceNumber": MOTO_NUMBER},
        }


def _numbers(items: list[StreamRecord]) -> list[int]:
    records = records_of(items, "eu-north-1", "arn:aws:dynamodb:eu-north-1:1:table/t/stream/s")
    return [int(r["dynamodb"]["SequenceNumber"]) for r in records]


def test_records_are_numbered_along_the_stream_and_alike_for_every_mapping() -> None:
    # Given two writes' records, handed to both mappings of their table, then a later write's
    first, second = StreamRecord("a"), StreamRecord("b")
    for_outbox = _numbers([first, second])
    for_lake_export = _numbers([first, second])
    [later] = _numbers([StreamRecord("c")])
    # Then each record keeps one number, and the numbers grow with the stream
    assert for_outbox == for_lake_export
    assert for_outbox[0] < for_outbox[1] < later
    assert all(str(n).isdigit() and n > int(MOTO_NUMBER) for n in [*for_outbox, later])
