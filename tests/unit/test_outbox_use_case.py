"""The outbox (logic/outbox.py: revision_of, carry_out) on the in-memory repositories and the
gateway fakes: no moto. The answer is stored by the survey page's use case on the same fakes;
its stream record is built as DynamoDB Streams delivers it to Lambda (NEW_AND_OLD_IMAGES,
attribute values in DynamoDB JSON) and read by the function's own image reader. The same paths
through the function and the template's tables are in tests/integration/test_outbox.py."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from msgspec.structs import asdict
from survey_core.dal.responses import response_from_image
from survey_core.domain.repositories import Repositories
from survey_core.domain.responses import Response
from survey_core.logic.collect import submit_survey
from survey_core.logic.outbox import (
    RESPONSE_RECEIVED,
    OutboxPorts,
    StoredRevision,
    UnreadableRecord,
    carry_out,
    revision_of,
)

from tests.gateways import FakeBus, FakeLifecycle
from tests.repositories import memory_repositories
from tests.unit.test_answer_use_cases import CATALOGUE, CONFIG, NOW, _open_invitation

pytestmark = pytest.mark.unit

STREAM_ARN = "arn:aws:dynamodb:eu-north-1:123456789012:table/responses/stream/2026-11-16T00:00"


class Outbox:
    """The fakes the outbox runs on, with an open invitation waiting on its task token."""

    def __init__(self, task_token: str | None = "token-0") -> None:
        self.repos: Repositories = memory_repositories()
        self.token = _open_invitation(self.repos).link_token or ""
        if task_token:
            assert self.repos.invitations.store_task_token("inv-1", task_token, NOW)
        self.lifecycle = FakeLifecycle()
        self.bus = FakeBus()
        self.ports = OutboxPorts(self.lifecycle, self.bus, self.repos.invitations)  # type: ignore[arg-type]

    def answer(self, form: dict[str, str]) -> Response:
        assert submit_survey(self.token, form, "/a", CONFIG, CATALOGUE, self.repos).status == 200
        stored = self.repos.responses.get("inv-1")
        assert stored is not None
        return stored

    def carry_out(self, record: dict[str, Any]) -> Any:
        revision = revision_of(record, response_from_image)
        assert revision is not None
        return carry_out(revision, CATALOGUE, self.ports)

    def published(self) -> list[dict[str, Any]]:
        return self.bus.of_type(RESPONSE_RECEIVED)


def image(response: Response) -> dict[str, Any]:
    """The item as the stream's image holds it: DynamoDB JSON, no null attributes, the TTL in
    epoch seconds."""
    item = {name: value for name, value in asdict(response).items() if value is not None}
    if response.expires_at is not None:
        item["expires_at"] = int(response.expires_at.timestamp())
    serializer = TypeSerializer()
    return {name: serializer.serialize(value) for name, value in item.items()}


def stream_record(
    name: str,
    new: dict[str, Any] | None,
    old: dict[str, Any] | None = None,
    sequence: str = "100",
) -> dict[str, Any]:
    """One record of a DynamoDB Streams event, as Lambda delivers it."""
    data: dict[str, Any] = {
        "ApproximateCreationDateTime": 1794823200,
        "Keys": {"invitation_id": {"S": "inv-1"}},
        "SequenceNumber": sequence,
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        data["NewImage"] = new
    if old is not None:
        data["OldImage"] = old
    return {
        "eventID": f"event-{sequence}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-north-1",
        "dynamodb": data,
        "eventSourceARN": STREAM_ARN,
    }


def test_the_first_answer_ends_the_wait_and_is_published_without_its_comment() -> None:
    outbox = Outbox()
    response = outbox.answer({"score": "2", "comment": "Toimitus myöhästyi"})

    revision = revision_of(stream_record("INSERT", image(response)), response_from_image)
    assert revision == StoredRevision(response, first=True)
    result = carry_out(revision, CATALOGUE, outbox.ports)

    assert (result.invitation_id, result.revision, result.lifecycle) == ("inv-1", 1, "ended")
    assert outbox.lifecycle.answered == [("token-0", {"status": "answered"})]
    assert outbox.published() == [
        {
            "version": "1",
            "invitationId": "inv-1",
            "surveyId": "post-purchase",
            "customerId": "c-1",
            "answeredAt": response.answered_at,
            "channel": "web",
            "scores": {"nps": 2},
            "hasComment": True,
            "commentKeywordMatch": False,
            "revision": 1,
            "segment": {"businessArea": "webshop"},
        }
    ]
    assert "myöhästyi" not in str(outbox.bus.events)  # the comment never goes on the bus


def test_a_record_delivered_again_ends_no_wait_twice_and_publishes_the_same_revision() -> None:
    outbox = Outbox()
    record = stream_record("INSERT", image(outbox.answer({"score": "2"})))
    outbox.carry_out(record)

    again = outbox.carry_out(record)

    assert again.lifecycle == "no-longer-waiting"
    assert outbox.lifecycle.answered == [("token-0", {"status": "answered"})]
    # Published at least once: a subscriber tells the repeat by invitation id and revision.
    first, repeat = outbox.published()
    assert first == repeat and (repeat["invitationId"], repeat["revision"]) == ("inv-1", 1)


def test_a_changed_answer_is_published_as_its_revision_and_touches_no_wait() -> None:
    outbox = Outbox()
    first = image(outbox.answer({"score": "2", "comment": "Toimitus myöhästyi"}))
    changed = image(outbox.answer({"score": "9"}))

    result = outbox.carry_out(stream_record("MODIFY", changed, first, sequence="200"))

    assert (result.revision, result.lifecycle) == (2, None)
    assert outbox.lifecycle.answered == [] and outbox.lifecycle.failed == []
    [published] = outbox.published()
    assert (published["revision"], published["scores"]) == (2, {"nps": 9})


def test_a_comment_naming_a_keyword_is_flagged_but_not_published() -> None:
    outbox = Outbox()
    response = outbox.answer({"score": "8", "comment": "Teen REKLAMAATION tästä"})

    outbox.carry_out(stream_record("INSERT", image(response)))

    [published] = outbox.published()
    assert (published["commentKeywordMatch"], published["hasComment"]) == (True, True)
    assert "REKLAMAATION" not in str(published) and "tästä" not in str(published)


def test_without_a_waiting_task_the_answer_is_still_published() -> None:
    # Not waiting: the first rung has not stored its token yet (it ends its own wait then)
    outbox = Outbox(task_token=None)
    assert (
        outbox.carry_out(stream_record("INSERT", image(outbox.answer({"score": "5"})))).lifecycle
        == "not-waiting"
    )
    # Erased: the customer's data was erased between the answer and its record
    erased = Outbox()
    record = stream_record("INSERT", image(erased.answer({"score": "5"})))
    del erased.repos.invitations.stored["inv-1"]  # type: ignore[attr-defined]
    del erased.repos.invitations.task_tokens["inv-1"]  # type: ignore[attr-defined]
    assert erased.carry_out(record).lifecycle == "erased"

    for outbox_ in (outbox, erased):
        assert outbox_.lifecycle.answered == []
        assert [p["scores"] for p in outbox_.published()] == [{"nps": 5}]


def test_a_waiting_answer_reads_its_token_and_not_the_invitation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an answer whose lifecycle waits: the invitation is read only to tell why no token
    # is found (one consistent read per answer saved)
    outbox = Outbox()
    record = stream_record("INSERT", image(outbox.answer({"score": "5"})))

    def read(invitation_id: str) -> None:
        raise AssertionError(f"the invitation {invitation_id} was read")

    monkeypatch.setattr(outbox.repos.invitations, "get", read)
    # Then the wait ends all the same
    assert outbox.carry_out(record).lifecycle == "ended"


def test_records_without_a_new_revision_carry_nothing() -> None:
    outbox = Outbox()
    first = image(outbox.answer({"score": "2"}))
    second = image(outbox.answer({"score": "3"}))

    unchanged = stream_record("MODIFY", first, first)  # a write that left the revision
    older = stream_record("MODIFY", first, second)  # a replay behind a later revision
    expired = stream_record("REMOVE", None, second)  # the TTL deleted the response
    keys_only = stream_record("INSERT", None)
    for record in (unchanged, older, expired, keys_only):
        assert revision_of(record, response_from_image) is None


@pytest.mark.parametrize(
    ("new", "old"),
    [
        ({"invitation_id": {"S": "inv-1"}, "revision": {"S": "x"}}, None),
        ({"invitation_id": {"S": "inv-1"}, "revision": {"N": "2"}}, {"revision": {"S": "1"}}),
    ],
    ids=["revision-not-a-number", "old-revision-not-a-number"],
)
def test_a_record_no_response_can_be_read_from_is_unreadable(
    new: dict[str, Any], old: dict[str, Any] | None
) -> None:
    record = stream_record("MODIFY" if old else "INSERT", new, old)
    with pytest.raises(UnreadableRecord) as raised:
        revision_of(record, response_from_image)
    assert "inv-1" not in str(raised.value)  # the reason only, no values


def test_the_bus_failing_after_the_wait_ended_is_published_on_the_retry() -> None:
    outbox = Outbox()
    record = stream_record("INSERT", image(outbox.answer({"score": "2"})))
    outbox.bus.fail = ConnectionError("EventBridge is down")

    with pytest.raises(ConnectionError):  # the record is reported failed: Lambda retries it
        outbox.carry_out(record)
    assert outbox.lifecycle.answered == [("token-0", {"status": "answered"})]
    assert outbox.published() == []

    retried = outbox.carry_out(record)

    assert retried.lifecycle == "no-longer-waiting"
    assert len(outbox.lifecycle.answered) == 1 and len(outbox.published()) == 1


def test_step_functions_failing_publishes_nothing_until_the_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outbox = Outbox()
    record = stream_record("INSERT", image(outbox.answer({"score": "2"})))

    def down(task_token: str, output: dict[str, Any]) -> bool:
        raise ConnectionError("Step Functions is down")

    monkeypatch.setattr(outbox.lifecycle, "answer", down)
    with pytest.raises(ConnectionError):
        outbox.carry_out(record)
    assert outbox.published() == []
    monkeypatch.undo()

    assert outbox.carry_out(record).lifecycle == "ended"
    assert outbox.lifecycle.answered == [("token-0", {"status": "answered"})]
    assert [p["revision"] for p in outbox.published()] == [1]
