"""The stored answer drives its consequences: the outbox function reads the responses table's
stream and ends the lifecycle's wait and publishes Survey Response Received, at least once
each, with their effects exactly once, whatever fails in between."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber
from chalice.test import Client

from tests.conftest import Deployment
from tests.integration.helpers import (
    AwsCalls,
    BusRecorder,
    emf_metrics,
    lambda_context,
    post_form,
)
from tests.integration.test_send import FIXED_CLOCK, _invitation, _rung, _start, _task_token

pytestmark = pytest.mark.integration

RECEIVED = "Survey Response Received"


def _waiting(deployment: Deployment) -> dict[str, Any]:
    """An invitation whose first rung waits with its task token (the stream read so far)."""
    invitation = _start(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    _rung(send, invitation, 0, token="invitation-wait")
    deployment.take_stream_records()
    return invitation


def _answers(deployment: Deployment, invitation: dict[str, Any], form: str) -> None:
    """The customer answers on the survey page and sees the thank-you page."""
    collect = deployment.load("CollectFunction", LOCAL_CLOCK=FIXED_CLOCK)
    with Client(collect.app) as client:
        page = post_form(client, f"/s/{invitation['link_token']['S']}", form)
    assert page.status_code == 200


def _detractor_answers(deployment: Deployment, invitation: dict[str, Any]) -> None:
    _answers(deployment, invitation, "score=2&comment=late")


def _deliver(outbox: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One delivery of a batch, as Lambda's poller makes it; returns the records Lambda would
    deliver again (from the first reported failure on, as for a stream)."""
    try:
        response = outbox.lambda_handler({"Records": records}, lambda_context())
    except Exception:  # every record failed: the invocation fails, the whole batch is retried
        return records
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    for index, record in enumerate(records):
        if record["dynamodb"]["SequenceNumber"] in failed:
            return records[index:]
    return []


def _escalate_all(deployment: Deployment, events: list[dict[str, Any]]) -> list[str]:
    """Every published answer through the escalate function (Connect stubbed): outcomes."""
    escalate = deployment.load("EscalateFunction")
    outcomes = []
    with Stubber(escalate.PORTS.contact_center._connect) as connect:
        for event in events:
            connect.add_response("start_task_contact", {"ContactId": "contact-1"})
            outcomes.append(escalate.lambda_handler(event, lambda_context())["outcome"])
    return outcomes


def test_an_answer_ends_the_wait_and_is_published_from_the_stream(deployment: Deployment) -> None:
    # Given an invitation whose first rung waits with its task token
    invitation = _waiting(deployment)
    outbox = deployment.load("OutboxFunction")
    waits = AwsCalls(outbox.PORTS.lifecycle._sfn, "SendTaskSuccess")
    recorder = BusRecorder(deployment)
    # When the customer answers, the page alone publishes nothing and ends nothing
    _detractor_answers(deployment, invitation)
    assert (recorder.events(), waits.requests) == ([], [])
    # Then the stream record of the stored answer does both
    records = deployment.take_stream_records()
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert _deliver(outbox, records) == []
    assert [r["taskToken"] for r in waits.requests] == ["invitation-wait"]
    [published] = recorder.events()
    assert published["detail-type"] == RECEIVED
    assert published["detail"]["scores"] == {"nps": 2}
    assert (published["detail"]["revision"], published["detail"]["hasComment"]) == (1, True)
    assert "late" not in str(published)  # the comment never goes on the bus


def test_a_changed_answer_is_published_again_without_ending_a_wait_twice(
    deployment: Deployment,
) -> None:
    # Given an answered survey whose first revision was carried out
    invitation = _waiting(deployment)
    _detractor_answers(deployment, invitation)
    outbox = deployment.load("OutboxFunction")
    _deliver(outbox, deployment.take_stream_records())
    waits = AwsCalls(outbox.PORTS.lifecycle._sfn, "SendTaskSuccess")
    recorder = BusRecorder(deployment)
    # When the customer changes the answer to 9
    _answers(deployment, invitation, "score=9")
    assert _deliver(outbox, deployment.take_stream_records()) == []
    # Then revision 2 is published and no wait is ended again
    [published] = recorder.events()
    assert (published["detail"]["revision"], published["detail"]["scores"]) == (2, {"nps": 9})
    assert waits.requests == []


def test_a_failed_record_holds_back_the_records_after_it_in_the_batch(
    deployment: Deployment,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given one batch with an answer (revision 1) and its change (revision 2)
    invitation = _waiting(deployment)
    _detractor_answers(deployment, invitation)
    _answers(deployment, invitation, "score=9")
    records = deployment.take_stream_records()
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    outbox = deployment.load("OutboxFunction")
    recorder = BusRecorder(deployment)
    capsys.readouterr()
    # When EventBridge fails the first record's publication once
    AwsCalls(outbox.PORTS.bus._events, "PutEvents").fail_next("InternalFailure", status=500)
    response = outbox.lambda_handler({"Records": records}, lambda_context())
    # Then the batch reports that record, the change is not published ahead of it, and the
    # failure is counted and logged by its type
    first = records[0]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": first}]}
    assert recorder.events() == []
    totals, _ = emf_metrics(capsys.readouterr().out)
    assert totals["OutboxRecordFailures"] == 1
    [failed] = [r for r in caplog.records if r.getMessage() == "record failed"]
    assert getattr(failed, "error", None) == "EventsNotPut"
    # and Lambda's redelivery from it publishes both revisions in order
    assert _deliver(outbox, records) == []
    assert [e["detail"]["revision"] for e in recorder.events()] == [1, 2]


@pytest.mark.parametrize(
    ("client_of", "operation"),
    [
        (lambda outbox: outbox.PORTS.bus._events, "PutEvents"),
        (lambda outbox: outbox.PORTS.lifecycle._sfn, "SendTaskSuccess"),
    ],
    ids=["eventbridge-down", "step-functions-down"],
)
def test_an_outage_after_the_commit_loses_no_escalation_and_makes_one_task(
    deployment: Deployment, client_of: Any, operation: str
) -> None:
    # Given a detractor's stored answer (the customer saw the thank-you page)
    invitation = _waiting(deployment)
    _detractor_answers(deployment, invitation)
    assert _invitation(deployment, invitation["invitation_id"]["S"])["status"]["S"] == "answered"
    records = deployment.take_stream_records()
    outbox = deployment.load("OutboxFunction")
    recorder = BusRecorder(deployment)
    # When the AWS service is down for five deliveries of the record
    AwsCalls(client_of(outbox), operation).fail_next("InternalFailure", status=500, times=5)
    retried = records
    for _ in range(5):
        retried = _deliver(outbox, retried)
        assert retried == records  # reported failed: Lambda delivers it again
    assert recorder.events() == []
    # and then comes back: the poller delivers the record again, and once more (a replay)
    assert _deliver(outbox, retried) == []
    assert _deliver(outbox, records) == []
    # Then the answer was published (at least once) and every copy escalates to ONE task
    published = [e for e in recorder.events() if e["detail-type"] == RECEIVED]
    assert len(published) >= 1
    outcomes = _escalate_all(deployment, published)
    assert outcomes.count("created") == 1
    assert set(outcomes) <= {"created", "already-created"}


def test_a_record_without_a_new_revision_or_unreadable_is_counted_not_retried(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given stream records: a TTL deletion, a write that left the revision as it was, and
    # an item that is no response at all
    keys = {"invitation_id": {"S": "0" * 32}}
    image = {**keys, "revision": {"N": "3"}, "survey_id": {"S": "post-purchase"}}
    records = [
        {"eventName": "REMOVE", "dynamodb": {"Keys": keys, "OldImage": image,
                                             "SequenceNumber": "1"}},
        {"eventName": "MODIFY", "dynamodb": {"Keys": keys, "OldImage": image,
                                             "NewImage": image, "SequenceNumber": "2"}},
        {"eventName": "INSERT", "dynamodb": {"Keys": keys, "SequenceNumber": "3",
                                             "NewImage": {**keys, "revision": {"S": "x"}}}},
    ]  # fmt: skip
    for record in records:
        record.update(eventSource="aws:dynamodb", awsRegion="eu-north-1", eventID="e")
    outbox = deployment.load("OutboxFunction")
    recorder = BusRecorder(deployment)
    capsys.readouterr()
    # When they are delivered
    response = outbox.lambda_handler({"Records": records}, lambda_context())
    # Then none is retried (retrying cannot change them), nothing is published, and each
    # is counted
    assert response["batchItemFailures"] == []
    assert recorder.events() == []
    totals, _ = emf_metrics(capsys.readouterr().out)
    assert totals["OutboxRecordsWithoutRevision"] == 2
    assert totals["OutboxUnreadableRecords"] == 1


def test_a_rung_that_starts_while_the_answer_is_stored_ends_its_own_wait(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the reminder rung reads the invitation just before the customer answers, so the
    # answer's outbox can only see the first rung's wait (ended already)
    invitation = _waiting(deployment)
    send = deployment.load("SendFunction", LOCAL_CLOCK=FIXED_CLOCK)
    invitations = send.PORTS.repos.invitations  # the function's own
    read = invitations.get

    def read_then_answer(invitation_id: str) -> Any:
        found = read(invitation_id)
        monkeypatch.setattr(invitations, "get", read)
        _detractor_answers(deployment, invitation)
        return found

    monkeypatch.setattr(invitations, "get", read_then_answer)
    sfn = AwsCalls(send.PORTS.lifecycle._sfn, "SendTaskSuccess")
    # When the reminder rung runs
    result = _rung(send, invitation, 1, token="reminder-wait")
    # Then it sends no reminder and ends its own wait (its token, stored before the rung saw
    # the answer, finds the wait ended should an outbox read it)
    assert (result["outcome"], result["reason"]) == ("closed", "answered")
    assert [r["taskToken"] for r in sfn.requests] == ["reminder-wait"]
    assert _task_token(deployment, invitation["invitation_id"]["S"]) == "reminder-wait"
    stored = _invitation(deployment, invitation["invitation_id"]["S"])
    assert [a["M"]["rung"]["N"] for a in stored["attempts"]["L"]] == ["0"]
