"""Step Functions: waits and timeouts run `time_scale` times faster; workflow variables
(JSONPath `Assign`, `$rung`) are evaluated (moto ships their JSONata evaluator stubbed out);
a Catch may lead back to its own state; SendTaskFailure keeps its cause (moto's HTTP layer
drops it); task tokens are as long as AWS's; state machines made by CloudFormation are those
the interpreter runs; a definition is parsed once, not once per execution."""

from __future__ import annotations

import base64
import functools
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import botocore.endpoint

from .patching import patch

if TYPE_CHECKING:
    from .virtual_time import VirtualClock


def route_cloudformation_state_machines() -> None:
    """moto's CloudFormation creates state machines in the backend that does not execute them;
    with execute_state_machine on, the API reads the ASL interpreter's backend instead."""
    from moto.stepfunctions import models
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    patch(models, "stepfunctions_backends", stepfunctions_parser_backends)


def parse_each_definition_once() -> None:
    """moto's interpreter parses the definition again for every execution (ANTLR: about 25 ms
    for the survey lifecycle, a tenth of the stack's CPU while a hundred surveys start). The
    parsed program is kept per definition and shared by the executions of that definition.

    Sharing is safe because an execution's state lives in its own Environment, not in the
    program's components, with one exception: each component's heap key (under which its
    per-execution values, e.g. a retrier's attempt count, are kept in the Environment) is a uid
    drawn on first use. Two executions drawing it at once could keep a value under one key and
    look it up under the other, so every key is drawn here, before the program is shared.
    (Map and Parallel states keep run state on their components; the lifecycle has neither,
    and a definition that has them is parsed for each execution, as moto does.) Idempotent."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_entrypoint
    if getattr(original, "parses_once", False):
        return

    @functools.lru_cache(maxsize=16)
    def parsed(definition: str) -> Any:
        program = AmazonStateLanguageParser.parse(definition)[0]
        for component in components_of(program):
            if type(component).__module__.startswith(_RUN_STATE_ON_COMPONENTS):
                return None
            _ = component.heap_key
        return program

    def entrypoint(self: Any) -> Any:
        program = parsed(self._evaluation_details.state_machine_details.definition)
        return program if program is not None else original(self)

    entrypoint.parses_once = True  # type: ignore[attr-defined]
    patch(ExecutionWorker, "_get_evaluation_entrypoint", entrypoint)


# The states whose components keep an execution's run state (workers, counters, stop flags).
_RUN_STATE_ON_COMPONENTS = tuple(
    f"moto.stepfunctions.parser.asl.component.state.exec.{kind}"
    for kind in ("state_map", "state_parallel")
)


def components_of(program: Any) -> Iterator[Any]:
    """Every evaluable component of a parsed program, each once (the tree's attributes, lists,
    tuples and dicts of components)."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending: list[Any] = [program]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list | tuple | set | frozenset):
            pending.extend(value)
        elif isinstance(value, Component) and id(value) not in seen:
            seen.add(id(value))
            if isinstance(value, EvalComponent):
                yield value
            pending.extend(vars(value).values())


def enable_workflow_variables() -> None:
    """moto's ASL interpreter reads workflow variables through a JSONata evaluator that it
    ships stubbed out (LocalStack runs one on a JVM); jsonata-python is a pure-Python port.
    Idempotent."""
    import jsonata
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    def evaluate(expression: str) -> Any:
        return jsonata.Jsonata(expression).evaluate(None)

    patch(moto_jsonata, "_eval_jsonata", evaluate)


def keep_task_failure_cause() -> None:
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

    patch(StepFunctionResponse, "send_task_failure", send_task_failure)


# AWS's task tokens are opaque base64 text of about 680 characters (668 and 696 in two tokens
# published with their executions), moto's a 36-character UUID. The send function stores each
# rung's token (its wait item beside the invitation), so what storing and reading it costs
# depends on the token's length.
AWS_TASK_TOKEN_LENGTH = 683


def issue_aws_sized_task_tokens() -> None:
    from moto.stepfunctions.parser.asl.eval.states import ContextObject, TaskData

    prefix = "AQC"  # as AWS's begin; then random base64, 4 characters for every 3 bytes
    random_bytes = (AWS_TASK_TOKEN_LENGTH - len(prefix)) * 3 // 4

    def update_task_token(self: Any) -> str:
        token = prefix + base64.b64encode(secrets.token_bytes(random_bytes)).decode("ascii")
        self.context_object_data["Task"] = TaskData(Token=token)
        return token

    patch(ContextObject, "update_task_token", update_task_token)


def let_catchers_loop_to_their_own_state() -> None:
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

    patch(CatcherDecl, "_eval_body", catch)
    patch(CommonStateField, "_set_next", set_next)


def scale_step_functions_time(
    scale: float, clock: Callable[[], datetime], virtual: VirtualClock | None = None
) -> None:
    """Scale Wait states, task timeouts and retry intervals (the lifecycle's, and the AWS
    SDK's in every handler) by the same factor.

    A Wait until a timestamp counts down on the handlers' scaled clock (moto compares with the
    machine's naive local time, which is neither UTC nor scaled). On virtual time, Wait states
    and task timeouts wait on the virtual clock instead, in the stack's own seconds; retry
    intervals still pass scaled, in real time (a running execution is not idle).
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
        seconds = self._eval_seconds(env=env)
        env.stack.append(seconds if virtual else seconds / scale)

    def virtual_wait(self: Any, env: Any) -> None:
        assert virtual is not None
        virtual.sleep_until(virtual.now() + timedelta(seconds=self._get_wait_seconds(env=env)))

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

    patch(Timestamp, "_get_wait_seconds", scaled_clock_seconds)
    patch(Timeout, "_eval_body", scaled_timeout)
    patch(WaitFunction, "_eval_body", virtual_wait if virtual else scaled_wait)
    patch(retrier_decl, "time", _ScaledTime())
    # The SDK's retry backoff inside the handlers, too: in the cloud a second of backoff is
    # nothing next to a 24 h rung; unscaled, it would be hours of the stack's time.
    patch(botocore.endpoint, "time", _ScaledTime())
