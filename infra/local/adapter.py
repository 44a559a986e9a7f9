"""What moto does not do by itself, done in its server process.

- Lambda: runs the real handlers in-process (moto would need Docker).
- EventBridge: delivers rule matches to Lambda (async, retried, then the function's on-failure
  destination) and Step Functions targets (moto delivers only to SQS, logs, buses).
- DynamoDB Streams: records go to their event source mappings' functions (streams.py), as
  Lambda's poller delivers them (filters, batches, partial failures, retries).
- Step Functions: waits and timeouts run `time_scale` times faster; workflow variables
  (JSONPath `Assign`, `$rung`) are evaluated (moto ships their JSONata evaluator stubbed
  out); SendTaskFailure keeps its cause (moto's HTTP layer drops it).
- EventBridge Scheduler: schedules from the template, fired on request; one-time schedules
  made through the API (each survey's expiry) run on the scaled clock.
- Amazon Connect (not in moto): StartTaskContact requests are validated against botocore's
  Connect model and recorded; contact events of the tasks (and of transfers' new contacts, in
  the current or the older capitalised shape) are published on request.
- SES: the tags and configuration set of every SendEmail are kept, so a bounce or complaint
  of a sent message can be published on the default bus as SES would (moto never does).
- Injected AWS errors (faults.py), to see retries and failure paths work.
- A small control API under /_local/ to read what was sent, fire schedules, publish SES
  feedback and inject faults.
- The AWS requests the functions make, recorded by botocore event hooks on every client made
  in this process (/_local/function-calls; bench/cost_model.py prices them); their DynamoDB and
  SNS requests checked against their IAM roles from the template (iam.py), a request the role
  does not allow answered with AccessDeniedException as in AWS.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import botocore.endpoint
import botocore.session
from botocore.validate import ParamValidator

from .faults import Fault, FaultInjector, error_response, identify, rest_operation
from .functions import LocalFunction, calling_function, payload_of
from .iam import Enforcer, hook_active
from .outbox import sent_emails, sent_sms
from .streams import StreamDelivery, patch_moto
from .template import ACCOUNT_ID

StartResponse = Callable[..., Any]
ASYNC_RETRY_DELAY = 0.5  # seconds of real time
FUNCTION_CALLS_KEPT = 10_000  # the most recent requests made by the functions


@dataclass
class LocalSchedule:
    name: str
    expression: str
    time_zone: str
    target_arn: str
    input: str
    dead_letter_arn: str | None


class LocalAdapter:
    def __init__(self, region: str, time_scale: float) -> None:
        self.region = region
        self.time_scale = time_scale
        # The handlers' clock (scaled): Wait states with a timestamp count down on it too.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.endpoint_url = ""
        self.functions: dict[str, LocalFunction] = {}  # by physical name
        self.functions_by_code_key: dict[str, LocalFunction] = {}
        self.on_failure: dict[str, str] = {}  # function name -> queue ARN
        self.schedules: dict[str, LocalSchedule] = {}  # the template's, fired on request
        self._timers: dict[tuple[str, str], threading.Timer] = {}  # one-time, by group and name
        self._timers_lock = threading.Lock()
        self.connect_tasks: list[dict[str, Any]] = []
        self.connect_contacts: dict[str, LocalContact] = {}  # every contact of every chain
        self.email_requests: dict[str, dict[str, Any]] = {}  # SES message id -> what was asked
        self.inbound_sms_topic: str | None = None  # the two-way SMS topic (template output)
        # AWS requests served, by operation (JSON-protocol services: those with X-Amz-Target)
        self.requests: Counter[str] = Counter()
        self._requests_lock = threading.Lock()
        # AWS requests made by the functions' handlers: seq, function, service, operation,
        # params and response (bytes as their length); see record_function_call.
        self.function_calls: deque[dict[str, Any]] = deque(maxlen=FUNCTION_CALLS_KEPT)
        self._function_call_seq = 0
        self.faults = FaultInjector()
        self.iam: Enforcer | None = None  # the functions' roles, set once the stack exists
        self.invocations: list[dict[str, Any]] = []
        self._async_pending = 0
        self._pending_lock = threading.Lock()
        self.streams = StreamDelivery(self._invoke_by_arn, self._send_to_queue)
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="async-invoke")
        self._connect_model = botocore.session.get_session().get_service_model("connect")
        self._connect_lock = threading.Lock()

    # ------------------------------------------------------------ clients of our own server
    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
        )

    # ------------------------------------------------------------ functions
    def register(self, function: LocalFunction) -> None:
        self.functions[function.name] = function
        self.functions_by_code_key[function.source.s3_key] = function

    def invoke(self, function: LocalFunction, event: Any) -> tuple[str, bool]:
        invocation = function.invoke(event)
        self.invocations.append(
            {
                "function": function.source.logical_id,
                "errored": invocation.errored,
                "errorType": invocation.error_type,
                "at": datetime.now(UTC).isoformat(),
                "ms": round(invocation.ms, 3),
            }
        )
        return payload_of(invocation), invocation.errored

    def invoke_async(
        self,
        function: LocalFunction,
        event: Any,
        retries: int = 2,
        dead_letter_arn: str | None = None,
    ) -> None:
        """Lambda's asynchronous invoke: retried, then sent to the on-failure destination.

        Lambda retries a minute or two later; here a retry waits ASYNC_RETRY_DELAY real seconds
        times its number, so work in flight elsewhere (another function recording what it
        sent) finishes first, as it would in the cloud."""

        def run() -> None:
            try:
                attempts = 0
                for attempts in range(1, retries + 2):
                    if attempts > 1:
                        time.sleep(ASYNC_RETRY_DELAY * (attempts - 1))
                    payload, errored = self.invoke(function, event)
                    if not errored:
                        return
                destination = dead_letter_arn or self.on_failure.get(function.name)
                if destination:
                    self._send_to_queue(
                        destination,
                        {
                            "version": "1.0",
                            "timestamp": datetime.now(UTC).isoformat(),
                            "requestContext": {
                                "functionArn": function.arn,
                                "condition": "RetriesExhausted",
                                "approximateInvokeCount": attempts,
                            },
                            "requestPayload": event,
                            "responsePayload": json.loads(payload),
                        },
                    )
            finally:
                with self._pending_lock:
                    self._async_pending -= 1

        with self._pending_lock:
            self._async_pending += 1
        self._executor.submit(run)

    @property
    def pending(self) -> int:
        """Work in flight: asynchronous invocations and stream records not yet delivered."""
        with self._pending_lock:
            pending = self._async_pending
        return pending + self.streams.pending()

    def _invoke_by_arn(self, function_arn: str, event: dict[str, Any]) -> tuple[Any, bool]:
        payload, errored = self.invoke(self.functions[function_arn.split(":")[6]], event)
        return json.loads(payload), errored

    def _send_to_queue(self, queue_arn: str, body: dict[str, Any]) -> None:
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body, default=str))

    # ------------------------------------------------------------ EventBridge targets
    def deliver(self, target: dict[str, Any], event: dict[str, Any]) -> None:
        arn = target["Arn"]
        payload: Any = event
        if "Input" in target:
            payload = json.loads(target["Input"])
        service = arn.split(":")[2]
        if service == "lambda":
            function = self.functions[arn.split(":")[6]]
            self.invoke_async(function, payload)
        elif service == "states":
            name = f"{event.get('id', uuid.uuid4())}-{target.get('Id', 'target')}"[:80]
            try:
                self.client("stepfunctions").start_execution(
                    stateMachineArn=arn, name=name, input=json.dumps(payload)
                )
            except Exception as error:
                dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
                if not dead_letter:
                    raise
                self._send_to_queue(dead_letter, {"error": str(error), "event": event})

    # ------------------------------------------------------------ Scheduler
    def fire_schedule(self, name: str, scheduled_time: str | None = None) -> dict[str, Any]:
        schedule = self.schedules[name]
        when = scheduled_time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = (
            schedule.input.replace("<aws.scheduler.scheduled-time>", when)
            .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
            .replace("<aws.scheduler.schedule-arn>", name)
            .replace("<aws.scheduler.attempt-number>", "1")
        )
        function = self.functions[schedule.target_arn.split(":")[6]]
        payload, errored = self.invoke(function, json.loads(text))
        if errored and schedule.dead_letter_arn:
            self._send_to_queue(schedule.dead_letter_arn, {"schedule": name, "error": payload})
        return {"schedule": name, "scheduledTime": when, "errored": errored, "result": payload}

    def run_at(
        self,
        key: tuple[str, str],
        expression: str,
        time_zone: str,
        target: dict[str, Any],
        after_run: Callable[[], None],
    ) -> None:
        """A one-time schedule (at(...)) created through the API: invoke its target (a
        function, asynchronously, as Scheduler does) when the scaled clock reaches it, with
        failures dead-lettered to the target's queue; then after_run."""
        local_at = datetime.fromisoformat(expression.removeprefix("at(").removesuffix(")"))
        due = local_at.replace(tzinfo=ZoneInfo(time_zone or "UTC"))
        delay = max(0.0, (due - self.clock()).total_seconds() / self.time_scale)

        def fire() -> None:
            function = self.functions[target["Arn"].split(":")[6]]
            dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
            retries = (target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185)
            self.invoke_async(
                function, json.loads(target.get("Input") or "{}"), min(retries, 2), dead_letter
            )
            with self._timers_lock:
                self._timers.pop(key, None)
            after_run()  # Scheduler is done once the asynchronous invoke is accepted

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._timers_lock:
            self._timers[key] = timer
        timer.start()

    def pending_schedules(self) -> int:
        with self._timers_lock:
            return len(self._timers)

    def close(self) -> None:
        """Cancel the one-time schedules still pending: they belong to this stack only."""
        self.streams.stop()
        with self._timers_lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()

    # ------------------------------------------------------------ Amazon Connect
    def connect_request(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        name = rest_operation("connect", method, path)
        if name not in ("StartTaskContact", "UpdateContact"):
            return 501, {"__type": "NotImplemented", "message": f"{method} {path} is not emulated"}
        operation = self._connect_model.operation_model(name)
        params = json.loads(body or b"{}")
        if name == "UpdateContact":  # InstanceId and ContactId travel in the path
            *_, instance_id, contact_id = path.rstrip("/").split("/")
            params.update(InstanceId=instance_id, ContactId=contact_id)
        report = ParamValidator().validate(params, operation.input_shape)
        if report.has_errors():
            return 400, {"__type": "InvalidParameterException", "message": report.generate_report()}
        if name == "UpdateContact":
            return self._update_task(params)
        with self._connect_lock:
            for task in self.connect_tasks:
                if params.get("ClientToken") and task["request"].get("ClientToken") == params.get(
                    "ClientToken"
                ):
                    return 200, {"ContactId": task["ContactId"]}
            contact_id = str(uuid.uuid4())
            now = self.clock()  # the handlers' (scaled) time
            self.connect_tasks.append(
                {
                    "ContactId": contact_id,
                    "operation": operation.name,
                    "request": params,
                    "at": now.isoformat(),
                }
            )
            self.connect_contacts[contact_id] = LocalContact(
                contact_id,
                root=contact_id,
                instance_arn=self._instance_arn(params["InstanceId"]),
                initiation_method="API",
                initiated=connect_time(now),
            )
        return 200, {"ContactId": contact_id}

    def _instance_arn(self, instance_id: str) -> str:
        return f"arn:aws:connect:{self.region}:{ACCOUNT_ID}:instance/{instance_id}"

    def _update_task(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """UpdateContact of a started task: its name, description and references change (the
        task keeps each version under "updates", newest last)."""
        with self._connect_lock:
            task = next(
                (t for t in self.connect_tasks if t["ContactId"] == params["ContactId"]), None
            )
            if task is None:
                return 404, {"__type": "ResourceNotFoundException", "message": "no such contact"}
            changed: dict[str, Any] = {
                k: params[k] for k in ("Name", "Description", "References") if k in params
            }
            task["request"].update(changed)
            updates: list[dict[str, Any]] = task.setdefault("updates", [])
            updates.append({**changed, "at": self.clock().isoformat()})
        return 200, {}

    def contact_event(
        self,
        contact_id: str,
        event_type: str,
        at: str | None,
        *,
        shape: str = "current",
        disconnect_reason: str | None = None,
    ) -> dict[str, Any]:
        """An Amazon Connect contact event of a contact the stack knows (a started task or a
        transfer's new contact), on the default bus as Connect publishes it. `at` is when it
        happened (default: the stack's clock); `shape` "older" gives AWS's older capitalised
        variant; `disconnect_reason` e.g. "EXPIRED". KeyError: no such contact."""
        with self._connect_lock:
            contact = self.connect_contacts[contact_id]
        when = at or connect_time(self.clock())
        entry = contact_event_entry(
            contact, event_type, when, shape=shape, disconnect_reason=disconnect_reason
        )
        self.client("events").put_events(Entries=[entry])
        return {"published": event_type, "contactId": contact_id, "at": when, "shape": shape}

    def transfer_contact(
        self, contact_id: str, at: str | None, method: str = "TRANSFER"
    ) -> dict[str, Any]:
        """Transfer (or, with QUEUE_TRANSFER, re-queue) a contact as Connect does: a new contact
        of the same chain starts (INITIATED, its initialContactId the chain's first contact, its
        previousContactId this one) and this one is DISCONNECTED. KeyError: no such contact."""
        with self._connect_lock:
            previous = self.connect_contacts[contact_id]
            when = at or connect_time(self.clock())
            new_id = str(uuid.uuid4())
            self.connect_contacts[new_id] = LocalContact(
                new_id,
                root=previous.root,
                instance_arn=previous.instance_arn,
                initiation_method=method,
                initiated=when,
                previous=contact_id,
            )
        self.contact_event(new_id, "INITIATED", when)
        self.contact_event(contact_id, "DISCONNECTED", when)
        return {
            "contactId": new_id,
            "initialContactId": previous.root,
            "previousContactId": contact_id,
            "at": when,
        }

    # ------------------------------------------------------------ outbox
    def outbox(self) -> dict[str, Any]:
        emails = [
            {**mail, **self.email_requests.get(mail["id"], {})} for mail in sent_emails(self.region)
        ]
        return {"emails": emails, "sms": sent_sms(self.region)}

    # ------------------------------------------------------------ SES feedback
    def record_email_request(self, message_id: str, params: dict[str, Any]) -> None:
        self.email_requests[message_id] = {
            "tags": {tag["Name"]: tag["Value"] for tag in params.get("EmailTags", [])},
            "configurationSet": params.get("ConfigurationSetName"),
        }

    def ses_feedback(self, message_id: str, kind: str, bounce_type: str) -> dict[str, Any]:
        """Publish a bounce or complaint of a sent email on the default bus, shaped as SES's
        configuration-set event destination publishes it."""
        mail = next((m for m in self.outbox()["emails"] if m["id"] == message_id), None)
        if mail is None:
            raise KeyError(message_id)
        now = self.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        tags = {name: [value] for name, value in mail.get("tags", {}).items()}
        if mail.get("configurationSet"):
            tags["ses:configuration-set"] = [mail["configurationSet"]]
        recipients = [{"emailAddress": address} for address in mail["to"]]
        detail: dict[str, Any] = {
            "eventType": "Bounce" if kind == "bounce" else "Complaint",
            "mail": {
                "timestamp": now,
                "source": mail["from"],
                "sendingAccountId": ACCOUNT_ID,
                "messageId": message_id,
                "destination": mail["to"],
                "tags": tags,
            },
        }
        if kind == "bounce":
            permanent = bounce_type == "Permanent"
            detail["bounce"] = {
                "bounceType": bounce_type,
                "bounceSubType": "General" if permanent else "MailboxFull",
                "bouncedRecipients": [
                    {**r, "action": "failed", "status": "5.1.1" if permanent else "4.2.2"}
                    for r in recipients
                ],
                "timestamp": now,
            }
            detail_type = "Email Bounced"
        else:
            detail["complaint"] = {
                "complainedRecipients": recipients,
                "complaintFeedbackType": "abuse",
                "timestamp": now,
            }
            detail_type = "Email Complaint Received"
        self.client("events").put_events(
            Entries=[{"Source": "aws.ses", "DetailType": detail_type, "Detail": json.dumps(detail)}]
        )
        return {"published": detail_type, "messageId": message_id}

    def count_request(self, operation: str) -> None:
        with self._requests_lock:
            self.requests[operation] += 1

    def record_function_call(self, params: Any, model: Any, context: Any, **_: Any) -> None:
        """botocore's before-parameter-build hook (the API parameters, once per call): a
        request made from inside a function's handler is recorded with the function's id."""
        function = calling_function()
        if function is None:
            return
        record = {
            "function": function,
            "service": model.service_model.service_name,
            "operation": model.name,
            "params": _plain(params),
        }
        with self._requests_lock:
            self._function_call_seq += 1
            record["seq"] = self._function_call_seq
            self.function_calls.append(record)
        context["local_function_call"] = record

    def record_function_response(self, parsed: Any, context: Any, **_: Any) -> None:
        """botocore's after-call hook: the response (or error) of a recorded call."""
        record = context.get("local_function_call")
        if record is not None and isinstance(parsed, dict):
            response = _plain({k: v for k, v in parsed.items() if k != "ResponseMetadata"})
            with self._requests_lock:
                record["response"] = response

    def iam_denied(self) -> list[dict[str, str]]:
        """The requests a function's role refused (AccessDeniedException), in order."""
        denied = self.iam.denied if self.iam else []
        return [{"function": f, "action": a.action, "resource": a.resource} for f, a in denied]

    def function_call_records(self) -> list[dict[str, Any]]:
        with self._requests_lock:
            return [dict(record) for record in self.function_calls]

    # ------------------------------------------------------------ two-way SMS
    def inbound_sms(self, sender: str, body: str, in_reply_to: str | None) -> dict[str, Any]:
        """A customer's SMS reply, published on the stack's topic as End User Messaging does
        (docs: "Example of a two-way SMS message payload for Amazon SNS topics")."""
        if not self.inbound_sms_topic:
            raise KeyError("the template has no InboundSmsTopicArn output")
        inbound_id = str(uuid.uuid4())
        payload = {
            "originationNumber": sender,
            "destinationNumber": "+15555550100",
            "messageKeyword": "KEYWORD_LOCAL",
            "messageBody": body,
            "inboundMessageId": inbound_id,
            "previousPublishedMessageId": in_reply_to,
        }
        self.client("sns").publish(TopicArn=self.inbound_sms_topic, Message=json.dumps(payload))
        return {"inboundMessageId": inbound_id}

    # ------------------------------------------------------------ install into moto
    def install(self) -> None:
        serialize_dynamodb()
        _route_cloudformation_state_machines()
        _patch_lambda(self)
        _patch_sns_to_lambda(self)
        patch_moto(self.streams.enqueue)
        _patch_events(self)
        _patch_step_functions_time(self.time_scale, lambda: self.clock())
        _let_catchers_loop_to_their_own_state()
        enable_workflow_variables()
        _keep_task_failure_cause()
        _record_email_requests(self)
        _hook_clients(self)
        _run_one_time_schedules(self)


def _run_one_time_schedules(adapter: LocalAdapter) -> None:
    """moto stores schedules but never runs them: one-time ones run on the adapter's clock,
    and are deleted after they ran when they ask to be (as Scheduler does)."""
    from moto.scheduler.models import EventBridgeSchedulerBackend

    original_create = EventBridgeSchedulerBackend.create_schedule

    def create_schedule(self: Any, *args: Any, **kwargs: Any) -> Any:
        schedule = original_create(self, *args, **kwargs)
        if schedule.schedule_expression.startswith("at("):
            backend = self

            def delete_after_run() -> None:
                if schedule.action_after_completion == "DELETE":
                    with contextlib.suppress(Exception):  # deleted meanwhile
                        backend.delete_schedule(schedule.group_name, schedule.name)

            adapter.run_at(
                (schedule.group_name, schedule.name),
                schedule.schedule_expression,
                schedule.schedule_expression_timezone,
                schedule.target,
                delete_after_run,
            )
        return schedule

    EventBridgeSchedulerBackend.create_schedule = create_schedule  # type: ignore[method-assign]


_DYNAMODB_LOCK = threading.RLock()


def serialize_dynamodb() -> None:
    """Run moto's DynamoDB requests one at a time.

    DynamoDB applies each write, condition and transaction atomically; moto's backend is plain
    dicts without locks (concurrent transactions fail with "dictionary changed size during
    iteration" or interleave a condition check with another write). One lock restores the
    atomicity that concurrency tests rely on. Idempotent.
    """
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "serialized", False):
        return

    def call_action(self: Any) -> Any:
        with _DYNAMODB_LOCK:
            return original(self)

    call_action.serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def _route_cloudformation_state_machines() -> None:
    """moto's CloudFormation creates state machines in the backend that does not execute them;
    with execute_state_machine on, the API reads the ASL interpreter's backend instead."""
    from moto.stepfunctions import models
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    models.stepfunctions_backends = stepfunctions_parser_backends  # type: ignore[assignment]


def _patch_lambda(adapter: LocalAdapter) -> None:
    from moto.awslambda.models import LambdaFunction

    def invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
        function = adapter.functions_by_code_key.get(self.code.get("S3Key", ""))
        if function is None:
            return json.dumps({"errorType": "UnknownFunction"}), True, ""
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        payload, errored = adapter.invoke(function, event)
        return payload, errored, ""

    LambdaFunction._invoke_lambda = invoke_in_process  # type: ignore[method-assign]


def _patch_sns_to_lambda(adapter: LocalAdapter) -> None:
    """SNS invokes Lambda asynchronously (retries, then the on-failure destination); moto
    invokes synchronously inside the Publish call, with sample message attributes."""
    from moto.awslambda.models import LambdaBackend

    def send_sns_message(
        self: Any,
        function_name: str,
        message: str,
        subject: str | None = None,
        qualifier: str | None = None,
    ) -> None:
        name = function_name.split(":")[6] if function_name.startswith("arn:") else function_name
        event = {
            "Records": [
                {
                    "EventVersion": "1.0",
                    "EventSource": "aws:sns",
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": str(uuid.uuid4()),
                        "Message": message,
                        "Subject": subject,
                        "MessageAttributes": {},
                        "Timestamp": datetime.now(UTC).isoformat(),
                    },
                }
            ]
        }
        adapter.invoke_async(adapter.functions[name], event)

    LambdaBackend.send_sns_message = send_sns_message  # type: ignore[method-assign]


def as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge hands it to a target: moto keeps `time` as Unix seconds (and
    turns it into ISO 8601 only for its own targets); AWS sends "2026-11-17T08:12:00Z"."""
    delivered = dict(event)
    raw = delivered.get("time")
    if isinstance(raw, int | float) or (isinstance(raw, str) and _is_number(raw)):
        moment = datetime.fromtimestamp(float(raw), UTC)
        delivered["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def routing_send_to_targets(
    original: Callable[..., None], deliver: Callable[[dict[str, Any], dict[str, Any]], None]
) -> Callable[..., None]:
    """moto's Rule.send_to_targets, with Lambda and Step Functions targets handed to deliver."""
    swap_lock = threading.Lock()

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if t["Arn"].split(":")[2] in ("lambda", "states")]
        for target in ours:
            deliver(target, as_delivered(original_event))
        others = [t for t in self.targets if t not in ours]
        if others:
            with swap_lock:
                everything, self.targets = self.targets, others
                try:
                    original(self, original_event, transform_input)
                finally:
                    self.targets = everything

    return send_to_targets


def _patch_events(adapter: LocalAdapter) -> None:
    from moto.events.models import Rule

    Rule.send_to_targets = routing_send_to_targets(  # type: ignore[method-assign]
        Rule.send_to_targets, adapter.deliver
    )


def _plain(value: Any) -> Any:
    """JSON-ready: bytes become {"bytes": length} (an email's size, not its content)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": len(value)}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _hook_clients(adapter: LocalAdapter) -> None:
    """Every botocore client made in this process from now on (boto3's and PynamoDB's, so the
    functions' clients made when their modules load) gets the adapter's request hooks."""
    original = botocore.session.Session.create_client
    if getattr(original, "hooked", False):
        return

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", adapter.record_function_call)
        client.meta.events.register("after-call", adapter.record_function_response)
        hook_active(client)  # the functions' IAM roles (iam.py), once the stack is created
        return client

    create_client.hooked = True  # type: ignore[attr-defined]
    botocore.session.Session.create_client = create_client


def _record_email_requests(adapter: LocalAdapter) -> None:
    """moto's SES v2 SendEmail keeps neither the tags nor the configuration set."""
    from moto.sesv2.responses import SESV2Response

    original = SESV2Response.send_email

    def send_email(self: Any) -> str:
        result: str = original(self)
        adapter.record_email_request(json.loads(result)["MessageId"], json.loads(self.body))
        return result

    SESV2Response.send_email = send_email  # type: ignore[method-assign]


def enable_workflow_variables() -> None:
    """moto's ASL interpreter reads workflow variables through a JSONata evaluator that it
    ships stubbed out (LocalStack runs one on a JVM); jsonata-python is a pure-Python port.
    Idempotent."""
    import jsonata
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    def evaluate(expression: str) -> Any:
        return jsonata.Jsonata(expression).evaluate(None)

    moto_jsonata._eval_jsonata = evaluate


def _keep_task_failure_cause() -> None:
    """moto's SendTaskFailure handler passes the error but not the cause to its backend; the
    lifecycle reads the cause of EmailBounced (the fallback's time)."""
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"),
            error=self._get_param("error"),
            cause=self._get_param("cause"),
        )
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign]


def _let_catchers_loop_to_their_own_state() -> None:
    """A Catch whose Next is its own state (the lifecycle's SendRung, rung after rung) loops in
    Step Functions. moto's interpreter decides whether a catcher chose the next state by
    comparing that choice with the current state's name, so there it took the state's own
    End instead and the execution ended after the first rung. The catcher now says so itself.
    """
    from moto.stepfunctions.parser.asl.component.common.catch.catcher_decl import CatcherDecl
    from moto.stepfunctions.parser.asl.component.common.catch.catcher_outcome import (
        CatcherOutcomeCaught,
    )
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    original_catch = CatcherDecl._eval_body
    original_set_next = CommonStateField._set_next

    def catch(self: Any, env: Any) -> None:
        original_catch(self, env)
        if env.stack and isinstance(env.stack[-1], CatcherOutcomeCaught):
            env.local_next_chosen_by_catcher = True

    def set_next(self: Any, env: Any) -> None:
        if getattr(env, "local_next_chosen_by_catcher", False):
            env.local_next_chosen_by_catcher = False
            return
        original_set_next(self, env)

    CatcherDecl._eval_body = catch  # type: ignore[method-assign]
    CommonStateField._set_next = set_next  # type: ignore[method-assign]


def _patch_step_functions_time(scale: float, clock: Callable[[], datetime]) -> None:
    """Scale Wait states, task timeouts and retry intervals (the lifecycle's, and the AWS
    SDK's in every handler) by the same factor.

    A Wait until a timestamp counts down on the handlers' scaled clock (moto compares with the
    machine's naive local time, which is neither UTC nor scaled).
    """
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import (
        Timestamp,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

    original_timestamp_seconds = Timestamp._get_wait_seconds

    def scaled_clock_seconds(self: Any, env: Any) -> int:
        # moto returns timestamp - naive local now; shift that to timestamp - scaled UTC now.
        naive_delta = original_timestamp_seconds(self, env)
        target = (datetime.now() + timedelta(seconds=naive_delta)).replace(tzinfo=UTC)
        return int((target - clock()).total_seconds())

    def scaled_timeout(self: Any, env: Any) -> None:
        env.stack.append(self._eval_seconds(env=env) / scale)

    def scaled_wait(self: Any, env: Any) -> None:
        deadline = time.monotonic() + self._get_wait_seconds(env=env) / scale
        while env.is_running():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if env.program_state_event.wait(remaining):
                time.sleep(min(remaining, 0.05))

    class _ScaledTime:
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            time.sleep(seconds / scale)

    Timestamp._get_wait_seconds = scaled_clock_seconds  # type: ignore[method-assign]
    Timeout._eval_body = scaled_timeout  # type: ignore[method-assign]
    WaitFunction._eval_body = scaled_wait  # type: ignore[method-assign]
    retrier_decl.time = _ScaledTime()  # type: ignore[assignment]
    # The SDK's retry backoff inside the handlers, too: in the cloud a second of backoff is
    # nothing next to a 24 h rung; unscaled, it would be hours of the stack's time.
    botocore.endpoint.time = _ScaledTime()


def connect_time(moment: datetime) -> str:
    """A timestamp as Connect writes them: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class LocalContact:
    """One contact of a task's chain, and what its events have told so far."""

    contact_id: str
    root: str  # the chain's first contact: the task
    instance_arn: str
    initiation_method: str  # API (the task), TRANSFER, QUEUE_TRANSFER
    initiated: str
    previous: str | None = None
    connected: str | None = None  # an agent connected
    disconnected: str | None = None


def contact_event_entry(
    contact: LocalContact,
    event_type: str,
    when: str,
    *,
    shape: str = "current",
    disconnect_reason: str | None = None,
) -> dict[str, Any]:
    """The PutEvents entry of one contact event (fields of the documented contact events data
    model). Later events carry what earlier ones told (the agent's connection, the disconnect),
    as Connect's do. The "older" shape is AWS's earlier sample: AgentInfo.AgentArn, instanceARN,
    channel "Task"."""
    older = shape == "older"
    if event_type == "CONNECTED_TO_AGENT" and contact.connected is None:
        contact.connected = when
    if event_type == "DISCONNECTED" and contact.disconnected is None:
        contact.disconnected = when
    detail: dict[str, Any] = {
        "eventType": event_type,
        "contactId": contact.contact_id,
        "initialContactId": contact.root,
        "channel": "Task" if older else "TASK",
        ("instanceARN" if older else "instanceArn"): contact.instance_arn,
        "initiationMethod": contact.initiation_method,
        "initiationTimestamp": contact.initiated,
    }
    if contact.previous:
        detail["previousContactId"] = contact.previous
    if contact.connected:
        agent = {
            ("AgentArn" if older else "agentArn"): f"{contact.instance_arn}/agent/local-agent",
            "connectedToAgentTimestamp": contact.connected,
        }
        if event_type == "COMPLETED":
            agent["afterContactWorkEndTimestamp"] = when
        detail["AgentInfo" if older else "agentInfo"] = agent
    if event_type in ("DISCONNECTED", "COMPLETED"):
        detail["disconnectTimestamp"] = contact.disconnected or when
    if disconnect_reason:
        detail["disconnectReason"] = disconnect_reason
    return {
        "Source": "aws.connect",
        "DetailType": "Amazon Connect Contact Event",
        "Detail": json.dumps(detail),
        "Time": datetime.fromisoformat(when.replace("Z", "+00:00")),
        "Resources": [f"{contact.instance_arn}/contact/{contact.contact_id}", contact.instance_arn],
    }


CONTACT_EVENT_SHAPES = ("current", "older")
TRANSFER_METHODS = ("TRANSFER", "QUEUE_TRANSFER")
CONTACT_EVENT_TYPES = frozenset(
    {
        "INITIATED",
        "CONNECTED_TO_SYSTEM",
        "QUEUED",
        "CONNECTED_TO_AGENT",
        "DISCONNECTED",
        "COMPLETED",
    }
)


class ControlApp:
    """WSGI middleware in front of moto: /_local/ control routes and Amazon Connect."""

    def __init__(self, moto_app: Any, adapter: LocalAdapter, info: Callable[[], dict[str, Any]]):
        self.moto_app = moto_app
        self.adapter = adapter
        self.info = info

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_local/"):
            status, body = self._control(environ, path)
            return _json_response(start_response, status, body)
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:  # JSON-protocol services (DynamoDB, Step Functions, EventBridge, ...)
            self.adapter.count_request(target.rsplit(".", 1)[-1])
        if self.adapter.faults.active:
            body_bytes = _read_body(environ)
            environ["wsgi.input"] = io.BytesIO(body_bytes)  # moto reads it again
            request = identify(environ, body_bytes)
            fault = self.adapter.faults.take(request)
            if fault is not None:
                status, headers, data = error_response(fault, request.protocol)
                start_response(
                    f"{status} Error", [*headers.items(), ("Content-Length", str(len(data)))]
                )
                return [data]
        if "/connect/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            self.adapter.count_request("StartTaskContact")
            status, body = self.adapter.connect_request(
                environ["REQUEST_METHOD"], path, _read_body(environ)
            )
            return _json_response(start_response, status, body)
        return self.moto_app(environ, start_response)

    def _control(self, environ: dict[str, Any], path: str) -> tuple[int, Any]:
        method = environ["REQUEST_METHOD"]
        if path.startswith("/_local/schedules/") and path.endswith("/fire") and method == "POST":
            return self._fire(environ, path[len("/_local/schedules/") : -len("/fire")])
        prefix = "/_local/connect/contacts/"
        if path.startswith(prefix) and path.endswith("/events") and method == "POST":
            return self._contact_event(environ, path[len(prefix) : -len("/events")])
        if path.startswith(prefix) and path.endswith("/transfer") and method == "POST":
            return self._transfer(environ, path[len(prefix) : -len("/transfer")])
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], tuple[int, Any]]] = {
            ("GET", "/_local/info"): lambda _: (200, self.info()),
            ("GET", "/_local/outbox"): lambda _: (200, self.adapter.outbox()),
            ("GET", "/_local/connect/tasks"): lambda _: (200, self.adapter.connect_tasks),
            ("GET", "/_local/connect/contacts"): lambda _: (
                200,
                [vars(c) for c in self.adapter.connect_contacts.values()],
            ),
            ("GET", "/_local/invocations"): lambda _: (
                200,
                {"pending": self.adapter.pending, "invocations": self.adapter.invocations},
            ),
            ("GET", "/_local/schedules"): lambda _: (
                200,
                [vars(s) for s in self.adapter.schedules.values()],
            ),
            ("POST", "/_local/ses/feedback"): self._ses_feedback,
            ("POST", "/_local/sms/inbound"): self._inbound_sms,
            ("POST", "/_local/faults"): self._add_fault,
            ("GET", "/_local/faults"): lambda _: (200, self.adapter.faults.listing()),
            ("GET", "/_local/requests"): lambda _: (200, dict(self.adapter.requests)),
            ("GET", "/_local/function-calls"): lambda _: (
                200,
                self.adapter.function_call_records(),
            ),
            ("DELETE", "/_local/faults"): lambda _: (200, self.adapter.faults.clear()),
            ("GET", "/_local/iam-denied"): lambda _: (200, self.adapter.iam_denied()),
        }
        route = routes.get((method, path))
        if route is None:
            return 404, {"message": f"no control route {method} {path}"}
        return route(environ)

    def _fire(self, environ: dict[str, Any], name: str) -> tuple[int, Any]:
        if name not in self.adapter.schedules:
            return 404, {"message": f"no schedule {name!r}"}
        body = json.loads(_read_body(environ) or b"{}")
        return 200, self.adapter.fire_schedule(name, body.get("scheduledTime"))

    def _ses_feedback(self, environ: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads(_read_body(environ) or b"{}")
        kind = body.get("kind", "bounce")
        if kind not in ("bounce", "complaint"):
            return 400, {"message": "kind must be bounce or complaint"}
        try:
            return 200, self.adapter.ses_feedback(
                str(body.get("messageId")), kind, str(body.get("bounceType", "Permanent"))
            )
        except KeyError:
            return 404, {"message": f"no sent email {body.get('messageId')!r}"}

    def _contact_event(self, environ: dict[str, Any], contact_id: str) -> tuple[int, Any]:
        body = json.loads(_read_body(environ) or b"{}")
        event_type = body.get("eventType")
        if event_type not in CONTACT_EVENT_TYPES:
            return 400, {"message": f"eventType must be one of {sorted(CONTACT_EVENT_TYPES)}"}
        shape = body.get("shape", "current")
        if shape not in CONTACT_EVENT_SHAPES:
            return 400, {"message": f"shape must be one of {list(CONTACT_EVENT_SHAPES)}"}
        if not _iso_or_none(body.get("at")):
            return 400, {"message": 'at must be an ISO 8601 time, e.g. "2026-11-17T08:12:00.000Z"'}
        reason = body.get("disconnectReason")
        if reason is not None and not isinstance(reason, str):
            return 400, {"message": "disconnectReason must be a string, e.g. EXPIRED"}
        try:
            return 200, self.adapter.contact_event(
                contact_id, event_type, body.get("at"), shape=shape, disconnect_reason=reason
            )
        except KeyError:
            return 404, {"message": f"no contact {contact_id!r}: start a task or transfer one"}

    def _transfer(self, environ: dict[str, Any], contact_id: str) -> tuple[int, Any]:
        body = json.loads(_read_body(environ) or b"{}")
        method = body.get("method", "TRANSFER")
        if method not in TRANSFER_METHODS:
            return 400, {"message": f"method must be one of {list(TRANSFER_METHODS)}"}
        if not _iso_or_none(body.get("at")):
            return 400, {"message": 'at must be an ISO 8601 time, e.g. "2026-11-17T08:12:00.000Z"'}
        try:
            return 200, self.adapter.transfer_contact(contact_id, body.get("at"), method)
        except KeyError:
            return 404, {"message": f"no contact {contact_id!r}: start a task or transfer one"}

    def _inbound_sms(self, environ: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads(_read_body(environ) or b"{}")
        if not isinstance(body.get("from"), str) or not isinstance(body.get("body"), str):
            return 400, {"message": 'give "from" (E.164) and "body", optionally "inReplyTo"'}
        return 200, self.adapter.inbound_sms(body["from"], body["body"], body.get("inReplyTo"))

    def _add_fault(self, environ: dict[str, Any]) -> tuple[int, Any]:
        try:
            self.adapter.faults.add(Fault.from_json(json.loads(_read_body(environ) or b"{}")))
        except (TypeError, ValueError) as error:
            return 400, {"message": str(error)}
        return 200, self.adapter.faults.listing()


def _iso_or_none(value: Any) -> bool:
    """True for None (the stack's clock) or an ISO 8601 time with a zone."""
    if value is None:
        return True
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _json_response(start_response: StartResponse, status: int, body: Any) -> list[bytes]:
    data = json.dumps(body, default=str).encode()
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 501: "Not Implemented"}
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]
