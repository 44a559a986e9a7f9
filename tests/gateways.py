"""In-memory stand-ins for the gateways of survey_core/dal/gateways.py (Step Functions, SES,
SNS, EventBridge, Scheduler) and of dal/lake.py (the lake bucket): they record what they were
asked to do, behave as the services do where the use cases depend on it (a task token ends
once), and can be told to fail."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from survey_core.errors import ExpiryNotPlanned, MessageRefused
from survey_core.lake.objects import LakeObject, compress, decode, lines
from survey_core.messages.rendering import RenderedEmail


class FakeLifecycle:
    """SendTaskSuccess / SendTaskFailure: a token ends once; later calls on it return False,
    as Step Functions answers TaskTimedOut / InvalidToken for a task no longer waiting."""

    def __init__(self) -> None:
        self.answered: list[tuple[str, dict[str, Any]]] = []
        self.failed: list[tuple[str, str, str]] = []
        self.ended: set[str] = set()

    def answer(self, task_token: str, output: dict[str, Any]) -> bool:
        if task_token in self.ended:
            return False
        self.ended.add(task_token)
        self.answered.append((task_token, output))
        return True

    def fail(self, task_token: str, error: str, cause: str) -> bool:
        if task_token in self.ended:
            return False
        self.ended.add(task_token)
        self.failed.append((task_token, error, cause))
        return True


@dataclass
class SentEmail:
    to: list[str]
    email: RenderedEmail
    unsubscribe_url: str | None
    tags: dict[str, str]
    message_id: str


@dataclass
class FakeMailer:
    """SES: each email taken gets a message id; `refuse` (an SES error code) refuses the next
    one for good, `fail` (any exception) makes the next call raise it; `on_send` runs as SES
    is called (to look at what was stored by then)."""

    sent: list[SentEmail] = field(default_factory=list)
    refuse: str | None = None
    fail: Exception | None = None
    on_send: Callable[[], None] | None = None

    def send(
        self,
        *,
        to: Sequence[str],
        email: RenderedEmail,
        unsubscribe_url: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        if self.on_send is not None:
            self.on_send()
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        if self.refuse is not None:
            code, self.refuse = self.refuse, None
            raise MessageRefused("SES", code)
        message_id = f"ses-{len(self.sent) + 1}"
        self.sent.append(SentEmail(list(to), email, unsubscribe_url, dict(tags or {}), message_id))
        return message_id


@dataclass
class FakeSms:
    """SNS: (phone, text) of each SMS taken; `refuse` refuses the next one for good."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    refuse: str | None = None

    def send(self, *, phone: str, text: str) -> str:
        if self.refuse is not None:
            code, self.refuse = self.refuse, None
            raise MessageRefused("SNS", code)
        self.sent.append((phone, text))
        return f"sns-{len(self.sent)}"


@dataclass
class FakeBus:
    """EventBridge PutEvents: the events taken; `fail` (any exception) makes the next call
    raise it, taking nothing."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: Exception | None = None

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        self.events.append((detail_type, detail))

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [detail for found, detail in self.events if found == detail_type]


@dataclass
class FakeExpiries:
    """Scheduler: one schedule per name (a second plan of a name is the same plan)."""

    planned: dict[str, tuple[datetime, str, dict[str, Any]]] = field(default_factory=dict)
    refuse: str | None = None

    def plan(self, name: str, at: datetime, target_arn: str, payload: dict[str, Any]) -> None:
        if self.refuse is not None:
            raise ExpiryNotPlanned(self.refuse)
        self.planned.setdefault(name, (at, target_arn, payload))


@dataclass
class FakeContactCenter:
    """Amazon Connect: StartTaskContact returns the same contact for a client token it has
    seen (Connect keeps a token 7 days); UpdateContact's requests are kept."""

    started: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    by_token: dict[str, str] = field(default_factory=dict)

    def start_task(self, *, client_token: str, **request: Any) -> str:
        self.started.append({"client_token": client_token, **request})
        return self.by_token.setdefault(client_token, f"contact-{len(self.by_token) + 1}")

    def update_task(self, contact_id: str, **request: Any) -> None:
        self.updated.append({"contact_id": contact_id, **request})


@dataclass
class FakeNotifier:
    notes: list[tuple[str, str]] = field(default_factory=list)

    def notify(self, subject: str, message: str) -> None:
        self.notes.append((subject, message))


@dataclass
class FakeLakeBucket:
    """The lake's S3 bucket (dal/lake.LakeBucket): gzip bodies by key; a put of a key that
    exists replaces it. rewrite_all rewrites each object under a prefix that the change
    changes, as LakeBucket does. While `down` is set, puts and rewrites of keys starting with
    it raise ConnectionError ("" for every key)."""

    objects: dict[str, bytes] = field(default_factory=dict)
    puts: list[str] = field(default_factory=list)  # every key written, repeats too
    down: str | None = None

    def _refuse(self, key: str) -> None:
        if self.down is not None and key.startswith(self.down):
            raise ConnectionError("S3 is down")

    def put(self, lake_object: LakeObject) -> None:
        self._refuse(lake_object.key)
        self.objects[lake_object.key] = lake_object.body
        self.puts.append(lake_object.key)

    def rewrite_all(
        self, prefix: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    ) -> int:
        rewritten = 0
        for key in sorted(k for k in self.objects if k.startswith(prefix)):
            rows = decode(self.objects[key])
            changed = change(rows)
            if changed != rows:
                self._refuse(key)
                self.objects[key] = compress(lines(changed))
                rewritten += 1
        return rewritten

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a lake table, object by object in key order."""
        return [
            row
            for key, body in sorted(self.objects.items())
            if key.startswith(f"{table}/")
            for row in decode(body)
        ]
