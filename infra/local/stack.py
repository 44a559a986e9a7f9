"""The local stack: template.yaml on moto's HTTP server, plus the adapter and the survey pages.

    python -m infra.local.stack            # moto on 127.0.0.1:5000, survey pages on :8000

Everything comes from template.yaml and state_machines/: change a rule's pattern there and the
local stack behaves differently. Only endpoints and time differ from the cloud.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .adapter import LocalAdapter
from .control import ControlApp
from .emulation.scheduler import LocalSchedule
from .emulation.virtual_time import VirtualClock
from .functions import LineAtomicStream, LocalFunction, calling_function
from .lake import ExportBatches, LakeControl, keep_export_batches
from .template import ACCOUNT_ID, LocalTemplate, build_local_template, create_stack

SURVEY_SERVER_BACKLOG = 512
# Called once the stack is up and has said so (infra/local/starter.py learns its modules).
AFTER_START: list[Callable[[], None]] = []
# The Chalice apps the local stack serves over HTTP (template.yaml logical ids).
COLLECT_FUNCTION = "CollectFunction"
RESULTS_FUNCTION = "ResultsFunction"
DEFAULT_PARAMETERS = {
    "SenderEmail": "surveys@example.com",
    "ConnectInstanceId": "00000000-0000-4000-8000-000000000001",
    "ConnectContactFlowId": "00000000-0000-4000-8000-000000000002",
    # Locally the lake gets the comments too, so an erasure's effect on it can be seen.
    "LakeExportComments": "true",
    # The local user pool's domain (the cloud derives one from the stack id when empty).
    "SignInDomainPrefix": "feedback-local",
}
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LocalStack:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5000,
        survey_port: int = 8000,
        results_port: int | None = None,
        time_scale: float = 3600.0,
        start_time: str | None = None,
        stack_name: str = "feedback",
        region: str = "eu-north-1",
        parameters: dict[str, str] | None = None,
        virtual_time: bool = False,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the local stack listens on the loopback interface only")
        self.host = host
        self.port = port
        self.survey_port = survey_port or free_port(host)
        # The results view: its own Chalice server beside the survey pages' (one app each).
        self.results_port = free_port(host) if results_port is None else results_port
        self.time_scale = time_scale
        self.virtual_time = virtual_time
        self.start_time = start_time or datetime.now(UTC).isoformat()
        self.stack_name = stack_name
        self.region = region
        self.parameters = {
            **DEFAULT_PARAMETERS,
            "SurveyLinkBaseUrl": f"http://{host}:{self.survey_port}",
            **(parameters or {}),
        }
        self.adapter = LocalAdapter(region, time_scale)
        self.outputs: dict[str, str] = {}
        self._servers: list[Any] = []

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------ start
    def start(self) -> dict[str, Any]:
        from moto.core.config import default_user_config
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        # Must be on before any state machine exists: it switches moto to the ASL interpreter.
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request lines
        start = datetime.fromisoformat(self.start_time).astimezone(UTC)
        if self.virtual_time:
            self.adapter.virtual = VirtualClock(start, self.adapter.idle)
        self.adapter.install()
        moto_app = DomainDispatcherApplication(create_backend_app)
        self.lake_batches = ExportBatches()
        control = LakeControl(ControlApp(moto_app, self.adapter, self.info), self.lake_batches)
        server = make_server(self.host, self.port, control, threaded=True)
        self.port = int(server.server_address[1])
        self.adapter.endpoint_url = self.endpoint_url
        if self.adapter.virtual is not None:
            clock = "virtual"  # survey_core.clock.virtual_clock
            self.adapter.clock = self.adapter.virtual.now
        else:
            anchor = time.time()
            clock = f"{self.start_time}|{anchor}|{self.time_scale}"
            # The same instant and rate as LOCAL_CLOCK (survey_core.clock.scaled_clock), for
            # waits.
            self.adapter.clock = lambda: (
                start + timedelta(seconds=(time.time() - anchor) * self.time_scale)
            )
        process_env = {
            **LOCAL_CREDENTIALS,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            # moto's Step Functions service integrations call this port.
            "MOTO_PORT": str(self.port),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "LOCAL_CLOCK": clock,
        }
        os.environ.update(process_env)
        self._serve(server.serve_forever, server.shutdown)

        template = build_local_template(self.parameters, self.region)
        self._create_stack(template)
        self._enforce_iam(template)
        self._load_functions(template, process_env)
        keep_export_batches(self.adapter, self.lake_batches)
        self._wire_adapter(template)
        self.adapter.client("sesv2").create_email_identity(
            EmailIdentity=self.parameters["SenderEmail"]
        )
        self._serve_survey_pages()
        return self.info()

    def _serve(self, serve: Any, shutdown: Any) -> None:
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        self._servers.append(shutdown)

    def _create_stack(self, template: LocalTemplate) -> None:
        self.outputs = create_stack(
            self.adapter.client("cloudformation"),
            self.adapter.client("s3"),
            self.adapter.client("sesv2"),
            template,
            self.parameters,
            self.stack_name,
        )

    def _enforce_iam(self, template: LocalTemplate) -> None:
        """moto enforces no IAM: the functions' DynamoDB and SNS requests are checked against
        their roles from the template, with this stack's names (infra/local/iam.py)."""
        from .iam import Enforcer, Resolver, Stack, enforce, function_policies, table_hash_keys

        found = self.adapter.client("cloudformation").describe_stack_resources(
            StackName=self.stack_name
        )["StackResources"]
        physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in found}
        physical = {k: v or k for k, v in physical.items()}
        names = table_hash_keys(template.cloudformation, physical)
        stack = Stack(self.region, ACCOUNT_ID, names)
        resolver = Resolver(
            template.cloudformation, self.parameters, physical, stack, self.stack_name
        )
        policies = function_policies(template.cloudformation, resolver)
        self.adapter.iam = Enforcer(policies, stack, calling_function, keep_requests=False)
        enforce(self.adapter.iam)

    def _load_functions(self, template: LocalTemplate, process_env: dict[str, str]) -> None:
        from moto.awslambda.models import lambda_backends

        by_key = {source.s3_key: source for source in template.functions.values()}
        for function in lambda_backends[ACCOUNT_ID][self.region].list_functions():
            source = by_key[function.code["S3Key"]]
            environment = {k: str(v) for k, v in function.environment_vars.items()}
            if source.logical_id == RESULTS_FUNCTION:
                # Locally: its own server's URL, and a sign-in page of its own (moto serves no
                # managed login).
                environment["RESULTS_URL"] = f"{self.results_url}/results"
                environment["RESULTS_LOCAL_SIGN_IN"] = "true"
            local = LocalFunction(
                source=source,
                name=function.function_name,
                arn=function.function_arn,
                memory=int(function.memory_size),
                timeout=int(function.timeout),
                environment=environment,
            )
            local.load(process_env)
            self.adapter.register(local)

    def _resource_map(self) -> Any:
        from moto.cloudformation.models import cloudformation_backends

        backend = cloudformation_backends[ACCOUNT_ID][self.region]
        stack = next(s for s in backend.stacks.values() if s.name == self.stack_name)
        return stack.resource_map

    def _wire_adapter(self, template: LocalTemplate) -> None:
        """Async-invoke failure destinations, SNS subscriptions and schedules, read from the
        template."""
        from moto.cloudformation.parsing import clean_json

        resources = self._resource_map()
        self.adapter.inbound_sms_topic = self.outputs.get("InboundSmsTopicArn")
        for subscription in template.resources_of_type("AWS::SNS::Subscription").values():
            props = clean_json(subscription["Properties"], resources)
            self.adapter.client("sns").subscribe(
                TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
            )
        for config in template.resources_of_type("AWS::Lambda::EventInvokeConfig").values():
            props = clean_json(config["Properties"], resources)
            destination = props.get("DestinationConfig", {}).get("OnFailure", {})
            if destination.get("Destination"):
                self.adapter.on_failure[props["FunctionName"]] = destination["Destination"]
        for logical_id, schedule in template.resources_of_type("AWS::Scheduler::Schedule").items():
            props = clean_json(schedule["Properties"], resources)
            target = props["Target"]
            name = props.get("Name") or f"{self.stack_name}-{logical_id}"
            self.adapter.scheduler.schedules[name] = LocalSchedule(
                name=name,
                expression=props["ScheduleExpression"],
                time_zone=props.get("ScheduleExpressionTimezone", "UTC"),
                target_arn=target["Arn"],
                input=target.get("Input", "{}"),
                dead_letter_arn=target.get("DeadLetterConfig", {}).get("Arn"),
            )
            self.adapter.client("scheduler").create_schedule(
                Name=name,
                ScheduleExpression=props["ScheduleExpression"],
                ScheduleExpressionTimezone=props.get("ScheduleExpressionTimezone", "UTC"),
                FlexibleTimeWindow=props["FlexibleTimeWindow"],
                Target={
                    "Arn": target["Arn"],
                    "RoleArn": target["RoleArn"],
                    "Input": target.get("Input", "{}"),
                },
            )

    @property
    def results_url(self) -> str:
        return f"http://{self.host}:{self.results_port}"

    def _serve_survey_pages(self) -> None:
        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, LocalDevServer

        adapter = self.adapter

        class CountedRequestHandler(ChaliceRequestHandler):
            """Each request counted in flight while it is handled (virtual time's idleness);
            not the connection, which a browser keeps open between requests."""

            def _counted(self) -> None:
                with adapter.serving():
                    self._generic_handle()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _counted

        apps = {f.source.logical_id: f.handler for f in self.adapter.functions.values()}
        for logical_id, port in (
            (COLLECT_FUNCTION, self.survey_port),
            (RESULTS_FUNCTION, self.results_port),
        ):
            server = LocalDevServer(
                apps[logical_id], Config.create(), self.host, port,
                handler_cls=CountedRequestHandler,
            )  # fmt: skip
            # socketserver listens with a backlog of 5: a burst of customers answering at once
            # (API Gateway takes thousands) would see connection resets. Listening again
            # resizes it.
            server.server.socket.listen(SURVEY_SERVER_BACKLOG)
            self._serve(server.server.serve_forever, server.shutdown)

    # ------------------------------------------------------------ info / stop
    def info(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "survey_url": self.parameters["SurveyLinkBaseUrl"],
            "results_url": f"{self.results_url}/results",
            "region": self.region,
            "stack_name": self.stack_name,
            "event_bus_name": self.outputs.get("EventBusName"),
            "outputs": self.outputs,
            "schedules": sorted(self.adapter.scheduler.schedules),
            "time_scale": self.time_scale,
            "virtual_time": self.adapter.virtual is not None,
            "start_time": self.start_time,
            # The handlers' (scaled) clock now: tests plan around it.
            "now": self.adapter.clock().isoformat(),
            "functions": {f.source.logical_id: f.name for f in self.adapter.functions.values()},
        }

    def stop(self) -> None:
        self.adapter.close()
        for shutdown in reversed(self._servers):
            shutdown()


def main(argv: list[str] | None = None) -> int:
    sys.stdout = LineAtomicStream(sys.stdout)  # the handlers' logs: whole lines, at once
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=5000, help="AWS endpoint port (0: any free)")
    parser.add_argument(
        "--survey-port", type=int, default=8000, help="survey pages port (0: any free)"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=3600.0,
        help="how much faster Step Functions waits run (3600: a 24 h wait takes 24 s)",
    )
    parser.add_argument(
        "--results-port", type=int, default=8001, help="results view port (0: any free)"
    )
    parser.add_argument("--start-time", help="ISO instant the handlers' clock starts at")
    parser.add_argument(
        "--virtual-time",
        action="store_true",
        help="the clock stands still until POST /_local/clock/advance (tests)",
    )
    parser.add_argument("--ready-file", type=Path, help="write the endpoints here as JSON when up")
    args = parser.parse_args(argv)
    stack = LocalStack(
        port=args.port,
        survey_port=args.survey_port,
        results_port=args.results_port or free_port("127.0.0.1"),
        time_scale=args.time_scale,
        start_time=args.start_time,
        virtual_time=args.virtual_time,
    )
    info = stack.start()
    from .results_demo import add_demo_users, how_to_sign_in

    add_demo_users(info)
    print(
        "\nLocal stack is up (template.yaml on moto; no AWS account used):\n"
        f"  AWS endpoint   {info['endpoint_url']}   (region {info['region']}, any credentials)\n"
        f"  event bus      {info['event_bus_name']}\n"
        f"  survey pages   {info['survey_url']}/s/<token>\n"
        # The demo users' addresses only for a person at the terminal: a stack started by
        # a program (--ready-file) logs to a file, where no address belongs.
        f"{'' if args.ready_file else how_to_sign_in(info) + chr(10)}"
        f"  sent messages  {info['endpoint_url']}/_local/outbox\n"
        f"  Connect tasks  {info['endpoint_url']}/_local/connect/tasks\n"
        f"  fire a report  curl -X POST "
        f"{info['endpoint_url']}/_local/schedules/{info['schedules'][0]}/fire\n"
        f"  waits          {args.time_scale:g}x faster than real time\n",
        file=sys.stderr,
        flush=True,
    )
    if args.ready_file:
        # Whole or not at all: running_stack reads it as soon as it exists.
        written = args.ready_file.with_suffix(".partial")
        written.write_text(json.dumps(info), encoding="utf-8")
        written.replace(args.ready_file)
    for after_start in AFTER_START:
        after_start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    # Woken twice a second: a signal the kernel hands to another of the stack's threads runs its
    # handler only when the main thread next runs Python code, which a wait without a timeout
    # never does (a teardown then waited for the 10 s kill; seen once in a full run).
    with contextlib.suppress(KeyboardInterrupt):
        while not stopped.wait(0.5):
            pass
    # Stopped for good: the process ends here rather than waiting for its servers' poll loops
    # and for the threads of executions still in flight (moto's, not daemons), which held a
    # test module's teardown 2-10 s. What was logged is written already (whole lines, flushed).
    stack.adapter.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
