"""What moto does not do by itself, done in its server process.

LocalAdapter coordinates the emulation of each service (infra/local/emulation/, one module a
service) and install() applies their patches to moto and botocore (emulation/patching.py);
the HTTP front with the control API is control.py.

- Lambda: runs the real handlers in-process (moto would need Docker).
- EventBridge: delivers rule matches to Lambda (async, retried, then the function's on-failure
  destination) and Step Functions targets (moto delivers only to SQS, logs, buses).
- DynamoDB Streams: records go to their event source mappings' functions (streams.py), as
  Lambda's poller delivers them (filters, batches, partial failures, retries).
- Step Functions: waits and timeouts run `time_scale` times faster, or on virtual time (the
  clock stands still until a test advances it: emulation/virtual_time.py); workflow variables
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
- A small control API under /_local/ (control.py) to read what was sent, fire schedules,
  publish SES feedback and inject faults.
- The AWS requests the functions make, recorded by botocore event hooks on every client made
  in this process (/_local/function-calls; bench/cost_model.py prices them); their DynamoDB and
  SNS requests checked against their IAM roles from the template (iam.py), a request the role
  does not allow answered with AccessDeniedException as in AWS.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3

from .emulation import (
    clients,
    dynamodb,
    events,
    lambda_,
    serialization,
    ses,
    sns,
    stepfunctions,
    streams,
    virtual_time,
)
from .emulation.clients import FunctionCalls
from .emulation.connect import LocalConnect
from .emulation.scheduler import LocalScheduler, run_one_time_schedules
from .emulation.ses import SesEmails
from .emulation.streams import StreamDelivery
from .emulation.virtual_time import VirtualClock
from .faults import FaultInjector
from .functions import LocalFunction, payload_of
from .iam import Enforcer
from .outbox import sent_sms

ASYNC_RETRY_DELAY = 0.5  # seconds of real time


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
        self.inbound_sms_topic: str | None = None  # the two-way SMS topic (template output)
        self.faults = FaultInjector()
        self.iam: Enforcer | None = None  # the functions' roles, set once the stack exists
        self.invocations: list[dict[str, Any]] = []
        self._async_pending = 0
        self._running = 0  # invocations running now, however invoked
        self._requests = 0  # HTTP requests being served (AWS, control, survey pages)
        self._pending_lock = threading.Lock()
        # Virtual time (set before install), or None: the scaled clock.
        self.virtual: VirtualClock | None = None
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="async-invoke")
        # The services emulated beside moto. They read the clock and make clients through
        # the adapter when they need them: the stack (and tests) set both after this.
        self.scheduler = LocalScheduler(self)
        self.connect = LocalConnect(region, self._now, self._client)
        self.ses = SesEmails(region, self._now, self._client)
        self.function_calls = FunctionCalls()
        self.streams = StreamDelivery(self._invoke_by_arn, self.send_to_queue)

    # ------------------------------------------------------------ clients of our own server
    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
        )

    def _client(self, service: str) -> Any:
        return self.client(service)

    def _now(self) -> datetime:
        return self.clock()

    # ------------------------------------------------------------ functions
    def register(self, function: LocalFunction) -> None:
        self.functions[function.name] = function
        self.functions_by_code_key[function.source.s3_key] = function

    def invoke(self, function: LocalFunction, event: Any) -> tuple[str, bool]:
        with self._pending_lock:
            self._running += 1
        try:
            invocation = function.invoke(event)
        finally:
            with self._pending_lock:
                self._running -= 1
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
                    self.send_to_queue(
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

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """Count an HTTP request as in flight while it is served (virtual time's idleness)."""
        with self._pending_lock:
            self._requests += 1
        try:
            yield
        finally:
            with self._pending_lock:
                self._requests -= 1

    @property
    def working(self) -> int:
        """Work the stack is doing or has queued on its own: invocations queued or running,
        stream records queued or being delivered. Unlike idle(), the HTTP requests being served
        are left out, so a caller can ask over HTTP (a bench waits for it to reach 0 between
        timed steps: on AWS that work runs in other sandboxes, here in this process)."""
        with self._pending_lock:
            working = self._async_pending + self._running
        return working + self.streams.pending()

    def idle(self) -> bool:
        """Nothing in flight: no invocation (queued, retrying or running), stream batch or
        HTTP request."""
        with self._pending_lock:
            busy = self._async_pending + self._running + self._requests
        return busy == 0 and self.streams.pending() == 0

    def _invoke_by_arn(self, function_arn: str, event: dict[str, Any]) -> tuple[Any, bool]:
        payload, errored = self.invoke(self.functions[function_arn.split(":")[6]], event)
        return json.loads(payload), errored

    def send_to_queue(self, queue_arn: str, body: dict[str, Any]) -> None:
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body, default=str))

    # ------------------------------------------------------------ what was sent
    def outbox(self) -> dict[str, Any]:
        return {"emails": self.ses.sent(), "sms": sent_sms(self.region)}

    def iam_denied(self) -> list[dict[str, str]]:
        """The requests a function's role refused (AccessDeniedException), in order."""
        denied = self.iam.denied if self.iam else []
        return [{"function": f, "action": a.action, "resource": a.resource} for f, a in denied]

    def close(self) -> None:
        """Stop delivering stream records; cancel the one-time schedules still pending: they
        belong to this stack only."""
        self.streams.stop()
        self.scheduler.close()

    # ------------------------------------------------------------ install into moto
    def install(self) -> None:
        serialization.remember_attribute_keys()
        serialization.write_plain_attribute_values()
        dynamodb.serialize_dynamodb()
        dynamodb.back_up_transaction_items()
        dynamodb.parse_each_update_expression_once()
        stepfunctions.route_cloudformation_state_machines()
        stepfunctions.parse_each_definition_once()
        lambda_.run_functions_in_process(self)
        sns.invoke_subscribers_asynchronously(self)
        streams.queue_stream_records(self.streams.enqueue)
        events.deliver_to_functions_and_state_machines(self)
        stepfunctions.scale_step_functions_time(self.time_scale, self._now, self.virtual)
        if self.virtual is not None:
            virtual_time.run_step_functions_on(self.virtual)
        stepfunctions.let_catchers_loop_to_their_own_state()
        stepfunctions.enable_workflow_variables()
        stepfunctions.keep_task_failure_cause()
        stepfunctions.issue_aws_sized_task_tokens()
        ses.record_email_requests(self.ses)
        clients.hook_clients(self.function_calls)
        clients.share_api_models()
        run_one_time_schedules(self.scheduler)
