"""Thin wrappers over the AWS APIs the logic needs; ClientError codes become domain errors."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ..errors import EventsNotPut, ExpiryNotPlanned, MessageRefused, SendThrottled
from ..rules.e164 import E164

if TYPE_CHECKING:
    # Every function imports this module; only the send and report functions mail, and the
    # email package and jinja2 cost about 30 ms of a cold start (make bench: cold start).
    from ..messages.rendering import RenderedEmail

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",  # SNS
        "TooManyRequestsException",
        "LimitExceededException",
    }
)
# Refusals of one message that another channel may get past. Anything else (access denied,
# sending paused, a missing configuration set) is the stack's problem, not the recipient's:
# it propagates and the lifecycle marks the invitation failed with its name.
REFUSAL_CODES = {
    "SES": frozenset({"MessageRejected"}),
    "SNS": frozenset({"InvalidParameter"}),  # e.g. a number SNS cannot send to
}
# Standard retry mode retries throttling and transient errors with backoff before we see them.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3})


def client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, config=_CLIENT_CONFIG)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


# SendTaskSuccess / SendTaskFailure on a task that no longer waits (timed out, ended).
NO_LONGER_WAITING = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class ExpirySchedules:
    """One-time EventBridge Scheduler schedules that end a survey's last wait when it closes.

    A schedule costs a fraction of the state transition it replaces, and most surveys are
    never answered. Each is deleted by Scheduler once it has run.
    """

    def __init__(
        self, scheduler: Any, group: str, role_arn: str, dead_letter_arn: str | None = None
    ) -> None:
        self._scheduler = scheduler
        self._group = group
        self._role_arn = role_arn
        self._dead_letter_arn = dead_letter_arn

    def plan(self, name: str, at: datetime, target_arn: str, payload: dict[str, Any]) -> None:
        """Invoke target_arn with payload at `at` (UTC). A schedule of that name already there
        (a retried or resent last rung) is the same plan, so it counts as planned."""
        target: dict[str, Any] = {
            "Arn": target_arn,
            "RoleArn": self._role_arn,
            "Input": json.dumps(payload),
            # A run that keeps failing waits in the failed-deliveries queue; the lifecycle's
            # backstop timeout expires the survey a day later regardless.
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 86_400},
        }
        if self._dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self._dead_letter_arn}
        try:
            self._scheduler.create_schedule(
                Name=name,
                GroupName=self._group,
                ScheduleExpression=f"at({at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target=target,
            )
        except ClientError as error:
            if _code(error) != "ConflictException":
                raise ExpiryNotPlanned(_code(error)) from error


class Lifecycle:
    """The survey-lifecycle state machine: start one execution per invitation, end its wait."""

    def __init__(self, sfn: Any, state_machine_arn: str = "") -> None:
        self._sfn = sfn
        self._arn = state_machine_arn

    def start(self, name: str, execution_input: dict[str, Any]) -> bool:
        """Start the execution; False when it already exists (a repeated delivery)."""
        try:
            self._sfn.start_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps(execution_input)
            )
        except ClientError as error:
            if _code(error) == "ExecutionAlreadyExists":
                return False
            raise
        return True

    def fail(self, task_token: str, error: str, cause: str) -> bool:
        """End a waiting rung with a named error (the lifecycle catches it by name); False if
        it no longer waits."""
        try:
            self._sfn.send_task_failure(taskToken=task_token, error=error, cause=cause)
        except ClientError as error_:
            if _code(error_) in NO_LONGER_WAITING:
                return False
            raise
        return True

    def answer(self, task_token: str, output: dict[str, Any]) -> bool:
        """Tell a waiting execution it is answered; False if it no longer waits."""
        try:
            self._sfn.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as error:
            if _code(error) in NO_LONGER_WAITING:
                return False
            raise
        return True


PUT_EVENTS_BATCH = 10  # the PutEvents limit of entries per call
PUT_EVENTS_ATTEMPTS = 4


class EventBus:
    def __init__(self, events: Any, bus_name: str, source: str) -> None:
        self._events = events
        self._bus = bus_name
        self._source = source

    def _entry(self, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
        return {
            "EventBusName": self._bus,
            "Source": self._source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
        }

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        """One event; EventsNotPut if it was not put, whether the entry or the call was refused
        (after the SDK's own retries)."""
        try:
            self.put_many([(detail_type, detail)])
        except ClientError as error:
            raise EventsNotPut([0], {_code(error)}) from error

    def put_many(
        self,
        events: Sequence[tuple[str, dict[str, Any]]],
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        """Put events in batches of ten. PutEvents can refuse single entries of a batch
        (throttling, internal errors): those are retried; any still refused raise EventsNotPut,
        so a caller never believes an event was put when it was not. A refused call raises its
        ClientError: the events from its batch on were not put."""
        failed: list[int] = []
        codes: set[str] = set()
        for start in range(0, len(events), PUT_EVENTS_BATCH):
            pending = list(range(start, min(start + PUT_EVENTS_BATCH, len(events))))
            for attempt in range(PUT_EVENTS_ATTEMPTS):
                if attempt:
                    time.sleep(0.1 * 2**attempt)  # refused entries are mostly throttling
                result = self._events.put_events(
                    Entries=[self._entry(*events[index]) for index in pending]
                )
                if not result.get("FailedEntryCount"):
                    pending = []
                    break
                refused = [
                    (index, entry.get("ErrorCode", "unknown"))
                    for index, entry in zip(pending, result["Entries"], strict=True)
                    if entry.get("ErrorCode")
                ]
                pending = [index for index, _ in refused]
                codes = {code for _, code in refused}
            failed.extend(pending)
            if on_progress is not None:
                on_progress(min(start + PUT_EVENTS_BATCH, len(events)) - len(failed))
        if failed:
            raise EventsNotPut(failed, codes)


# Characters SQS accepts in messages and attributes (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD
# #x10000-#x10FFFF); anything else is replaced so the message is never refused. Written as the
# characters refused (all below U+10000): the negated class of the accepted ones took 4 ms to
# compile at every cold start (re builds a bitmap of its ranges), this one takes 0.4 ms.
_NOT_SQS_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _sqs_text(text: str) -> str:
    return _NOT_SQS_TEXT.sub("\ufffd", text)


def _sqs_json(value: Any) -> str:
    """JSON as UTF-8 text, not ASCII-escaped (non-ASCII text would grow up to 3 times), with
    the few characters SQS refuses (lone surrogates, U+FFFE/U+FFFF) escaped: lossless."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return _NOT_SQS_TEXT.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


class RejectedEvents:
    """Dead-letter queue for inbound events that fail validation: event and reason together."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, event: Any, reason: str) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=_sqs_json({"reason": reason, "event": event}),
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": _sqs_text(reason[:1024])}
            },
        )


def _raise_send_error(service: str, error: ClientError) -> NoReturn:
    code = _code(error)
    if code in THROTTLING_CODES:
        raise SendThrottled(f"{service}: {code}") from error
    if code in REFUSAL_CODES[service]:
        raise MessageRefused(service, code) from error
    raise error


class Mailer:
    """SES v2, raw MIME (email_message.py): both parts and the unsubscribe headers as built,
    the configuration set that publishes bounces and complaints, and tags that tie SES's
    events back to the invitation."""

    def __init__(
        self,
        ses: Any,
        sender: str,
        *,
        sender_name: str | None = None,
        configuration_set: str | None = None,
    ) -> None:
        self._ses = ses
        self._sender = sender
        self._sender_name = sender_name
        self._configuration_set = configuration_set

    def send(
        self,
        *,
        to: Sequence[str],
        email: RenderedEmail,
        unsubscribe_url: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        from ..messages.email import compose_email  # imported here: see TYPE_CHECKING above

        raw = compose_email(
            sender=self._sender,
            sender_name=self._sender_name,
            to=to,
            email=email,
            unsubscribe_url=unsubscribe_url,
        )
        params: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": list(to)},
            "Content": {"Raw": {"Data": raw}},
        }
        if self._configuration_set:
            params["ConfigurationSetName"] = self._configuration_set
        if tags:
            params["EmailTags"] = [{"Name": k, "Value": v} for k, v in tags.items()]
        try:
            result = self._ses.send_email(**params)
        except ClientError as error:
            _raise_send_error("SES", error)
        return str(result["MessageId"])


class SmsSender:
    def __init__(self, sns: Any, origination_identity: str | None) -> None:
        self._sns = sns
        self._attributes = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
        }
        if origination_identity:
            # A phone number is an origination number; letters and digits are a sender ID.
            name = (
                "AWS.MM.SMS.OriginationNumber"
                if E164.match(origination_identity)
                else "AWS.SNS.SMS.SenderID"
            )
            self._attributes[name] = {"DataType": "String", "StringValue": origination_identity}

    def send(self, *, phone: str, text: str) -> str:
        try:
            result = self._sns.publish(
                PhoneNumber=phone, Message=text, MessageAttributes=self._attributes
            )
        except ClientError as error:
            _raise_send_error("SNS", error)
        return str(result["MessageId"])


class ContactCenter:
    """Amazon Connect: callback tasks for agents."""

    def __init__(self, connect: Any, instance_id: str, contact_flow_id: str) -> None:
        self._connect = connect
        self._instance = instance_id
        self._flow = contact_flow_id

    def start_task(
        self,
        *,
        name: str,
        description: str,
        attributes: dict[str, str],
        references: dict[str, dict[str, str]],
        client_token: str,
        scheduled_time: datetime | None = None,
    ) -> str:
        """StartTaskContact. The client token makes a retry return the same contact (Connect
        keeps it for 7 days), so one response never gets two tasks."""
        request: dict[str, Any] = {
            "InstanceId": self._instance,
            "ContactFlowId": self._flow,
            "Name": name,
            "Description": description,
            "Attributes": attributes,
            "ClientToken": client_token,
        }
        if references:
            request["References"] = references
        if scheduled_time is not None:
            request["ScheduledTime"] = scheduled_time
        result = self._connect.start_task_contact(**request)
        return str(result["ContactId"])

    def update_task(
        self,
        contact_id: str,
        *,
        name: str,
        description: str,
        references: dict[str, dict[str, str]],
    ) -> None:
        """UpdateContact: a task's name, description and references (what the agent reads),
        e.g. when the customer added a comment after the task was made."""
        request: dict[str, Any] = {
            "InstanceId": self._instance,
            "ContactId": contact_id,
            "Name": name,
            "Description": description,
        }
        if references:
            request["References"] = references
        self._connect.update_contact(**request)


class Notifier:
    """An SNS topic the team subscribes to (email, chat); no personal data goes in."""

    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic = topic_arn

    def notify(self, subject: str, message: str) -> None:
        self._sns.publish(TopicArn=self._topic, Subject=subject[:100], Message=message)
