"""Injected AWS errors on the local stack: answer chosen requests with an AWS error (e.g.
throttling) instead of passing them to moto, in the error format of each protocol, so the
handlers' retries and the lifecycle's Retry/Catch meet what the cloud would send.

    POST /_local/faults  {"service": "ses", "operation": "SendEmail",
                          "code": "TooManyRequestsException", "status": 429,
                          "times": 4, "match": "maija@example.com"}

service is the request's signing name (ses, sns, dynamodb, ...); match, when given, limits
the rule to requests whose body contains the text (URL-decoded for form bodies), so one
customer's messages can fail while others go through.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import botocore.session

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
# Services whose REST operations the local stack tells apart (signing name -> API model).
REST_MODELS = {"ses": "sesv2", "connect": "connect"}


@dataclass
class Fault:
    service: str
    operation: str
    code: str
    status: int = 400
    times: int = 1
    match: str = ""
    injected: int = 0


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
        return [vars(f) for f in done]

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [vars(f) for f in self._faults]

    def take(self, request: AwsRequest) -> Fault | None:
        """The fault this request meets, counted; None lets it through to moto."""
        with self._lock:
            for fault in self._faults:
                if (
                    fault.service == request.service
                    and fault.operation == request.operation
                    and fault.match in request.text
                    and fault.injected < fault.times
                ):
                    fault.injected += 1
                    return fault
        return None


def error_response(fault: Fault, protocol: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the AWS error, as the protocol's parsers expect it."""
    message = f"injected by the local stack ({fault.code})"
    if protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{fault.code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        return fault.status, {"Content-Type": "text/xml"}, body.encode()
    if protocol == "json":
        body_json = json.dumps({"__type": fault.code, "message": message})
        return fault.status, {"Content-Type": "application/x-amz-json-1.0"}, body_json.encode()
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": fault.code}
    return fault.status, headers, json.dumps({"message": message}).encode()
