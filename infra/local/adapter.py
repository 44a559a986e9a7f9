"""What moto does not do by itself, done in its server process.

- Lambda: runs the real handlers in-process (moto would need Docker).
- EventBridge: delivers rule matches to Lambda (async, retried, then the function's on-failure
  destination) and Step Functions targets (moto delivers only to SQS, logs, buses).
- Step Functions: waits and timeouts run `time_scale` times faster.
- EventBridge Scheduler: schedules from the template, fired on request.
- Amazon Connect (not in moto): StartTaskContact requests are validated against botocore's
  Connect model and recorded.
- A small control API under /_local/ to read what was sent and to fire schedules.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
from botocore.validate import ParamValidator

from .functions import LocalFunction, payload_of

ACCOUNT_ID = "123456789012"
StartResponse = Callable[..., Any]


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
        self.schedules: dict[str, LocalSchedule] = {}
        self.connect_tasks: list[dict[str, Any]] = []
        self.invocations: list[dict[str, Any]] = []
        self.pending = 0
        self._pending_lock = threading.Lock()
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
            }
        )
        return payload_of(invocation), invocation.errored

    def invoke_async(self, function: LocalFunction, event: Any, retries: int = 2) -> None:
        """Lambda's asynchronous invoke: retried, then sent to the on-failure destination."""

        def run() -> None:
            try:
                attempts = 0
                for attempts in range(1, retries + 2):  # noqa: B007 - reported below
                    payload, errored = self.invoke(function, event)
                    if not errored:
                        return
                destination = self.on_failure.get(function.name)
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
                    self.pending -= 1

        with self._pending_lock:
            self.pending += 1
        self._executor.submit(run)

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

    # ------------------------------------------------------------ Amazon Connect
    def connect_request(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        operation = next(
            (
                self._connect_model.operation_model(name)
                for name in self._connect_model.operation_names
                if self._connect_model.operation_model(name).http.get("method") == method
                and self._connect_model.operation_model(name).http.get("requestUri") == path
            ),
            None,
        )
        if operation is None or operation.name != "StartTaskContact":
            return 501, {"__type": "NotImplemented", "message": f"{method} {path} is not emulated"}
        params = json.loads(body or b"{}")
        report = ParamValidator().validate(params, operation.input_shape)
        if report.has_errors():
            return 400, {"__type": "InvalidParameterException", "message": report.generate_report()}
        with self._connect_lock:
            for task in self.connect_tasks:
                if params.get("ClientToken") and task["request"].get("ClientToken") == params.get(
                    "ClientToken"
                ):
                    return 200, {"ContactId": task["ContactId"]}
            contact_id = str(uuid.uuid4())
            self.connect_tasks.append(
                {
                    "ContactId": contact_id,
                    "operation": operation.name,
                    "request": params,
                    "at": datetime.now(UTC).isoformat(),
                }
            )
        return 200, {"ContactId": contact_id}

    # ------------------------------------------------------------ outbox
    def outbox(self) -> dict[str, Any]:
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        ses = ses_backends[ACCOUNT_ID][self.region]
        sns = sns_backends[ACCOUNT_ID][self.region]
        emails = [
            {
                "id": message.id,
                "from": message.source,
                "to": message.destinations.get("ToAddresses", []),
                "subject": message.subject,
                "body": message.body,
            }
            for message in list(ses.sent_messages)
            if hasattr(message, "subject")
        ]
        sms = [
            {"id": message_id, "to": phone, "text": text}
            for message_id, (phone, text) in list(sns.sms_messages.items())
        ]
        return {"emails": emails, "sms": sms}

    # ------------------------------------------------------------ install into moto
    def install(self) -> None:
        serialize_dynamodb()
        _route_cloudformation_state_machines()
        _patch_lambda(self)
        _patch_events(self)
        _patch_step_functions_time(self.time_scale, lambda: self.clock())


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
            deliver(target, dict(original_event))
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


def _patch_step_functions_time(scale: float, clock: Callable[[], datetime]) -> None:
    """Scale Wait states, task timeouts and retry intervals by the same factor.

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
        if "/connect/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            status, body = self.adapter.connect_request(
                environ["REQUEST_METHOD"], path, _read_body(environ)
            )
            return _json_response(start_response, status, body)
        return self.moto_app(environ, start_response)

    def _control(self, environ: dict[str, Any], path: str) -> tuple[int, Any]:
        method = environ["REQUEST_METHOD"]
        if path == "/_local/info" and method == "GET":
            return 200, self.info()
        if path == "/_local/outbox" and method == "GET":
            return 200, self.adapter.outbox()
        if path == "/_local/connect/tasks" and method == "GET":
            return 200, self.adapter.connect_tasks
        if path == "/_local/invocations" and method == "GET":
            return 200, {"pending": self.adapter.pending, "invocations": self.adapter.invocations}
        if path.startswith("/_local/schedules/") and path.endswith("/fire") and method == "POST":
            name = path[len("/_local/schedules/") : -len("/fire")]
            if name not in self.adapter.schedules:
                return 404, {"message": f"no schedule {name!r}"}
            body = json.loads(_read_body(environ) or b"{}")
            return 200, self.adapter.fire_schedule(name, body.get("scheduledTime"))
        if path == "/_local/schedules" and method == "GET":
            return 200, [vars(s) for s in self.adapter.schedules.values()]
        return 404, {"message": f"no control route {method} {path}"}


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
