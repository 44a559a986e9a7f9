"""How writes to DynamoDB are retried and conditioned: shared by every repository in dal/."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from .models import shared_connection

# Each lost race means another writer's answer went in, so 20 simultaneous answers to one
# invitation all land within 20 attempts; the backoff spreads the retries (full jitter).
TRANSACTION_ATTEMPTS = 25
BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.2


def backoff(attempt: int) -> None:
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret


def transactions(region: str | None) -> Connection:
    """The connection transactions go through: the process's one for the region's endpoint (or
    AWS_ENDPOINT_URL), whose client the models bound at init use too (models.shared_connection):
    a transaction makes no client of its own."""
    return shared_connection(region)


def conditional_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


_T = TypeVar("_T")
# Records of what already happened outside DynamoDB (a message went out): at 20 % throttling
# eight attempts all fail once in 390,000; the waits stay well inside the function's timeout.
PERSIST_ATTEMPTS = 8


def persisting(write: Callable[[], _T]) -> _T:
    """Run a write whose loss would misreport something already done, retrying transient
    errors (throttling, 5xx) with backoff here: retrying the whole step would do it twice.
    A condition that does not hold is no transient error and is raised at once."""
    for attempt in range(1, PERSIST_ATTEMPTS + 1):
        try:
            return write()
        except PynamoDBException as error:
            reasons = getattr(error, "cancellation_reasons", None) or []
            conditional = conditional_failed(error) or any(
                reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons
            )
            if conditional or attempt == PERSIST_ATTEMPTS:
                raise
            backoff(attempt)
    raise AssertionError("unreachable")


def update_if(item: Model, actions: list[Action], condition: Condition) -> bool:
    """UpdateItem under a condition: False when the condition did not hold (nothing written)."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if conditional_failed(error):
            return False
        raise
    return True


def retryable_transaction(error: TransactWriteError) -> bool:
    """A transaction cancelled only by lost races (another writer's condition or a conflict):
    trying again on fresh data may succeed."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    codes = {getattr(r, "code", None) for r in reasons if r is not None}
    if error.cause_response_code == "TransactionConflictException":
        return True
    return bool(codes & {"ConditionalCheckFailed", "TransactionConflict"}) and not (
        codes - {"ConditionalCheckFailed", "TransactionConflict", "None", None}
    )
