"""Injected AWS errors on the local stack: answer chosen requests with an AWS error (e.g.
throttling) instead of passing them to moto, in the error format of each protocol, so the
handlers' retries and the lifecycle's Retry/Catch meet what the cloud would send.

    POST /_local/faults  {"service": "ses", "operation": "SendEmail",
                          "code": "TooManyRequestsException", "status": 429,
                          "times": 4, "match": "maija@example.com"}

service is the request's signing name (ses, sns, dynamodb, ...); operation "*" is every
operation of the service; match, when given, limits the rule to requests whose body contains
the text (URL-decoded for form bodies), so one customer's messages can fail while others go
through. A rule fails the first `times` matching requests (default 1).

A rule with a rate fails that share of its matching requests instead, at random (`seed` makes
the draws repeatable; `times`, if given, still caps how many fail). `errors` lists the
errors to answer with, drawn by weight (default 1), in place of code and status:

    POST /_local/faults  {"service": "dynamodb", "operation": "*", "rate": 0.2, "seed": 7,
                          "errors": [{"code": "ProvisionedThroughputExceededException"},
                                     {"code": "InternalServerError", "status": 500,
                                      "weight": 0.25}]}

GET /_local/faults lists the rules with what they did: `seen` matching requests, `injected`
failed, and `by_code`. The codes the SDKs retry: throttling (ThrottlingException,
TooManyRequestsException, ProvisionedThroughputExceededException, Throttling; not SNS's
Throttled) and any 500 or 503 (InternalFailure, InternalServerError, ServiceUnavailable).
"""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import botocore.session

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
# Services whose REST operations the local stack tells apart (signing name -> API model).
REST_MODELS = {"ses": "sesv2", "connect": "connect"}


@dataclass(frozen=True)
class InjectedError:
    code: str
    status: int = 400
    weight: float = 1.0


@dataclass
class Fault:
    service: str
    operation: str  # or "*": every operation of the service
    code: str = ""
    status: int = 400
    times: int | None = None  # at most this many fail; default 1, or no limit with a rate
    match: str = ""
    rate: float | None = None  # fail this share of the matching requests, at random
    seed: int | None = None
    errors: list[InjectedError] = field(default_factory=list)  # drawn by weight
    injected: int = 0
    seen: int = 0  # matching requests drawn for (until used up), failed or not
    by_code: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.errors = [
            e if isinstance(e, InjectedError) else InjectedError(**e) for e in self.errors
        ]
        if not self.errors:
            if not self.code:
                raise ValueError("give a code, or errors")
            self.errors = [InjectedError(self.code, self.status)]
        if self.rate is not None and not 0 <= self.rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if any(e.weight <= 0 for e in self.errors):
            raise ValueError("error weights must be positive")
        if self.times is None and self.rate is None:
            self.times = 1
        self._random = random.Random(self.seed)  # noqa: S311 - fault draws, not secrets

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault:
        """A rule as POST /_local/faults gives it; TypeError or ValueError when malformed."""
        counters = {"injected", "seen", "by_code"} & set(body)
        if counters:
            raise TypeError(f"{', '.join(sorted(counters))}: counted, not given")
        return cls(**body)

    @property
    def limit(self) -> float:
        return float("inf") if self.times is None else self.times

    def matches(self, request: AwsRequest) -> bool:
        return (
            self.service == request.service
            and self.operation in ("*", request.operation)
            and self.match in request.text
        )

    def draw(self) -> InjectedError | None:
        """Whether this matching request fails, and with which error (under the lock)."""
        self.seen += 1
        if self.rate is not None and self._random.random() >= self.rate:
            return None
        error = self.errors[0]
        if len(self.errors) > 1:
            error = self._random.choices(self.errors, [e.weight for e in self.errors])[0]
        self.injected += 1
        self.by_code[error.code] = self.by_code.get(error.code, 0) + 1
        return error

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in vars(self).items() if not k.startswith("_")},
            "errors": [asdict(e) for e in self.errors],
            "by_code": dict(self.by_code),
        }


@dataclass(frozen=True)
class AwsRequest:
    service: str  # signing name
    operation: str
    protocol: str  # json | query | rest-json
    text: str  # the body as text, form bodies URL-decoded


def identify(environ: dict[str, Any], body: bytes) -> AwsRequest:
    scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else ""
    text = body.decode("utf-8", "replace")
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return AwsRequest(service, target.rsplit(".", 1)[-1], "json", text)
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(text).get("Action", [""])[0]
        return AwsRequest(service, action, "query", unquote_plus(text))
    operation = rest_operation(
        REST_MODELS.get(service, service), environ["REQUEST_METHOD"], environ["PATH_INFO"]
    )
    return AwsRequest(service, operation or "", "rest-json", text)


@cache
def _rest_routes(model_name: str) -> list[tuple[str, re.Pattern[str], str]]:
    try:
        model = botocore.session.get_session().get_service_model(model_name)
    except Exception:  # an unknown service: nothing to match
        return []
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "").split("?", 1)[0]
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(uri))
        routes.append((http.get("method", ""), re.compile(f"^{pattern}$"), name))
    return routes


def rest_operation(model_name: str, method: str, path: str) -> str | None:
    """The operation a REST request is, by its method and path template."""
    return next(
        (
            name
            for m, pattern, name in _rest_routes(model_name)
            if m == method and pattern.match(path)
        ),
        None,
    )


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self._faults)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> list[dict[str, Any]]:
        with self._lock:
            done, self._faults = self._faults, []
            return [f.as_dict() for f in done]

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def take(self, request: AwsRequest) -> InjectedError | None:
        """The error this request meets, counted; None lets it through to moto. Rules are
        asked in the order given; one that is used up, or whose rate lets the request pass,
        leaves it to the next."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(request) and fault.injected < fault.limit:
                    error = fault.draw()
                    if error is not None:
                        return error
        return None


def error_response(
    error: InjectedError | Fault, protocol: str
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the AWS error, as the protocol's parsers expect it."""
    if isinstance(error, Fault):
        error = error.errors[0]
    message = f"injected by the local stack ({error.code})"
    request_id = str(uuid.uuid4())  # AWS always gives one (moto's Step Functions reads it)
    if protocol == "query":
        kind = "Receiver" if error.status >= 500 else "Sender"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type>"
            f"<Code>{error.code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return error.status, {"Content-Type": "text/xml"}, body.encode()
    if protocol == "json":
        body_json = json.dumps({"__type": error.code, "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id}
        return error.status, headers, body_json.encode()
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": error.code,
        "x-amzn-RequestId": request_id,
    }
    return error.status, headers, json.dumps({"message": message}).encode()
