"""The local stack's HTTP front: WSGI middleware in front of moto's server.

Routes /_local/ (what was sent, schedules to fire, Connect contact events, SES feedback,
inbound SMS, injected faults, the requests served and made) to the adapter, answers Amazon
Connect (not in moto) from infra/local/emulation/connect.py, injects faults (faults.py), and
counts the JSON-protocol requests it hands on to moto.
"""

from __future__ import annotations

import io
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from .adapter import LocalAdapter
from .emulation.connect import CONTACT_EVENT_SHAPES, CONTACT_EVENT_TYPES, TRANSFER_METHODS
from .emulation.sns import inbound_sms
from .faults import Fault, error_response, identify

StartResponse = Callable[..., Any]


class ControlApp:
    """WSGI middleware in front of moto: /_local/ control routes and Amazon Connect."""

    def __init__(self, moto_app: Any, adapter: LocalAdapter, info: Callable[[], dict[str, Any]]):
        self.moto_app = moto_app
        self.adapter = adapter
        self.info = info
        # AWS requests served, by operation (JSON-protocol services: those with X-Amz-Target)
        self.requests: Counter[str] = Counter()
        self._requests_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_local/clock"):  # not counted: it waits for the rest to settle
            status, body = self._clock(environ, path)
            return _json_response(start_response, status, body)
        with self.adapter.serving():
            return self._serve(environ, start_response, path)

    def _serve(
        self, environ: dict[str, Any], start_response: StartResponse, path: str
    ) -> Iterable[bytes]:
        if path.startswith("/_local/"):
            status, body = self._control(environ, path)
            return _json_response(start_response, status, body)
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:  # JSON-protocol services (DynamoDB, Step Functions, EventBridge, ...)
            self.count_request(target.rsplit(".", 1)[-1])
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
            self.count_request("StartTaskContact")
            status, body = self.adapter.connect.request(
                environ["REQUEST_METHOD"], path, _read_body(environ)
            )
            return _json_response(start_response, status, body)
        return self.moto_app(environ, start_response)

    def count_request(self, operation: str) -> None:
        with self._requests_lock:
            self.requests[operation] += 1

    def _clock(self, environ: dict[str, Any], path: str) -> tuple[int, Any]:
        """Virtual time: GET /_local/clock reads it; POST /_local/clock/advance settles, jumps
        to the next deadline (not past "until") and settles again, then moves "then_seconds"
        further unless a deadline comes first."""
        virtual = self.adapter.virtual
        if virtual is None:
            return 409, {"message": "this stack runs on a scaled clock (start it --virtual-time)"}
        method = environ["REQUEST_METHOD"]
        if (method, path) == ("GET", "/_local/clock"):
            return 200, {"now": virtual.now().isoformat(), "timers": virtual.pending_timers()}
        if (method, path) != ("POST", "/_local/clock/advance"):
            return 404, {"message": f"no control route {method} {path}"}
        body = json.loads(_read_body(environ) or b"{}")
        until = datetime.fromisoformat(body["until"]) if body.get("until") else None
        then = timedelta(seconds=float(body.get("then_seconds", 0)))
        try:
            return 200, virtual.advance(then=then, limit=until)
        except TimeoutError as error:
            return 504, {"message": str(error)}

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
            ("GET", "/_local/connect/tasks"): lambda _: (200, self.adapter.connect.tasks),
            ("GET", "/_local/connect/contacts"): lambda _: (
                200,
                [vars(c) for c in self.adapter.connect.contacts.values()],
            ),
            ("GET", "/_local/invocations"): lambda _: (
                200,
                {"pending": self.adapter.pending, "invocations": self.adapter.invocations},
            ),
            ("GET", "/_local/schedules"): lambda _: (
                200,
                [vars(s) for s in self.adapter.scheduler.schedules.values()],
            ),
            ("POST", "/_local/ses/feedback"): self._ses_feedback,
            ("POST", "/_local/sms/inbound"): self._inbound_sms,
            ("POST", "/_local/faults"): self._add_fault,
            ("GET", "/_local/faults"): lambda _: (200, self.adapter.faults.listing()),
            ("GET", "/_local/requests"): lambda _: (200, dict(self.requests)),
            ("GET", "/_local/function-calls"): self._function_calls,
            ("GET", "/_local/working"): lambda _: (200, {"working": self.adapter.working}),
            ("DELETE", "/_local/faults"): lambda _: (200, self.adapter.faults.clear()),
            ("GET", "/_local/iam-denied"): lambda _: (200, self.adapter.iam_denied()),
        }
        route = routes.get((method, path))
        if route is None:
            return 404, {"message": f"no control route {method} {path}"}
        return route(environ)

    def _function_calls(self, environ: dict[str, Any]) -> tuple[int, Any]:
        """?since=N: only the requests after sequence number N (a bench's window)."""
        since = parse_qs(environ.get("QUERY_STRING", "")).get("since", ["0"])[0]
        if not since.isdigit():
            return 400, {"message": "since must be a sequence number"}
        return 200, self.adapter.function_calls.records(int(since))

    def _fire(self, environ: dict[str, Any], name: str) -> tuple[int, Any]:
        if name not in self.adapter.scheduler.schedules:
            return 404, {"message": f"no schedule {name!r}"}
        body = json.loads(_read_body(environ) or b"{}")
        return 200, self.adapter.scheduler.fire(name, body.get("scheduledTime"))

    def _ses_feedback(self, environ: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads(_read_body(environ) or b"{}")
        kind = body.get("kind", "bounce")
        if kind not in ("bounce", "complaint"):
            return 400, {"message": "kind must be bounce or complaint"}
        try:
            return 200, self.adapter.ses.feedback(
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
            return 200, self.adapter.connect.contact_event(
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
            return 200, self.adapter.connect.transfer_contact(contact_id, body.get("at"), method)
        except KeyError:
            return 404, {"message": f"no contact {contact_id!r}: start a task or transfer one"}

    def _inbound_sms(self, environ: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads(_read_body(environ) or b"{}")
        if not isinstance(body.get("from"), str) or not isinstance(body.get("body"), str):
            return 400, {"message": 'give "from" (E.164) and "body", optionally "inReplyTo"'}
        return 200, inbound_sms(self.adapter, body["from"], body["body"], body.get("inReplyTo"))

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
