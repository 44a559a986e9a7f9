from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.conftest import Deployment

OUTBOUND = {"source": ["customer-feedback.surveys"]}


class BusRecorder:
    """An SQS queue subscribed to the bus: by default everything this system publishes."""

    def __init__(
        self,
        deployment: Deployment,
        pattern: dict[str, Any] = OUTBOUND,
        name: str = "bus-recorder",
    ) -> None:
        self._sqs = deployment.client("sqs")
        self.url = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events = deployment.client("events")
        bus = deployment.outputs["EventBusName"]
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def events(self) -> list[dict[str, Any]]:
        """The events recorded since the last call (read messages are deleted)."""
        found = []
        while batch := self._sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            found.extend(json.loads(m["Body"]) for m in batch)
            for message in batch:
                self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return found


def post_form(client: Any, path: str, body: str) -> Any:
    """POST an HTML form to a Chalice test client, as a browser sends it."""
    return client.http.post(
        path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body
    )


def lambda_context() -> Any:
    from infra.local.functions import FakeLambdaContext

    return FakeLambdaContext(
        "test-function", "arn:aws:lambda:eu-north-1:123456789012:function:t", 512, 15
    )


def sent_emails() -> list[dict[str, Any]]:
    """Emails sent in mock_aws, MIME decoded: to, subject, body (HTML), text, headers."""
    from infra.local.outbox import sent_emails as read

    return read("eu-north-1")


def sent_sms() -> list[tuple[str, str]]:
    from infra.local.outbox import sent_sms as read

    return [(message["to"], message["text"]) for message in read("eu-north-1")]


class AwsCalls:
    """Watch one boto3 client of a loaded function: record its requests to an operation, and
    answer some of them with an AWS error instead of calling moto (botocore's before-call
    short-circuit, so the function's own error handling sees a real ClientError)."""

    def __init__(self, boto_client: Any, operation: str) -> None:
        self.requests: list[dict[str, Any]] = []
        self._errors: list[tuple[str, int]] = []
        service = boto_client.meta.service_model.service_id.hyphenize()
        events = boto_client.meta.events
        events.register(f"before-parameter-build.{service}.{operation}", self._record)
        events.register(f"before-call.{service}.{operation}", self._before_call)

    def fail_next(self, code: str, status: int = 400, times: int = 1) -> None:
        self._errors.extend([(code, status)] * times)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(dict(params))

    def _before_call(self, **_: Any) -> Any:
        if not self._errors:
            return None
        code, status = self._errors.pop(0)
        from botocore.awsrequest import AWSResponse

        response = AWSResponse("https://aws.example", status, {}, None)
        return response, {"Error": {"Code": code, "Message": f"injected {code}"}}


def _segment(item: dict[str, Any]) -> dict[str, str]:
    """A stored segment map, as plain text values (empty values left out, as counted)."""
    raw = item.get("segment", {}).get("M", {})
    plain = {k: str(next(iter(v.values()))) for k, v in raw.items()}
    return {k: v for k, v in sorted(plain.items()) if v}


def counters(dynamodb: Any, aggregates_table: str, series: str) -> dict[str, dict[str, int]]:
    """The counters of one series (or of a scope of it: "post-purchase#nps@businessArea=
    webshop") as the report reads them: per "{day}#{segment key}", the counts summed over the
    day's combinations, zeros left out."""
    from survey_core.logic.counting import counter_view, split_scope

    base, attribute, value = split_scope(series)
    pages = dynamodb.get_paginator("query").paginate(
        TableName=aggregates_table,
        KeyConditionExpression="series = :s",
        ExpressionAttributeValues={":s": {"S": base}},
        ConsistentRead=True,
    )
    records = [
        (
            item["bucket"]["S"].split("#", 1)[0],
            _segment(item),
            {k: int(v["N"]) for k, v in item.items() if "N" in v},
        )
        for page in pages
        for item in page["Items"]
    ]
    view = counter_view(records, attribute, value)
    found = {f"{day}#{key}": {k: n for k, n in counts.items() if n} for day, key, counts in view}
    return {bucket: counts for bucket, counts in found.items() if counts}


def counted_vs_stored(
    dynamodb: Any, responses_table: str, aggregates_table: str
) -> tuple[dict, dict]:
    """(what the aggregate counters hold, what the stored responses say they must hold):
    per series, day and combination of segment values, n and each score's count, zeros left
    out. Equal when every response is counted exactly once at its current score."""
    from collections import Counter

    def scan(table: str) -> list[dict[str, Any]]:
        pages = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        return [item for page in pages for item in page["Items"]]

    expected: dict[tuple[str, str, str], Counter[str]] = {}
    for response in scan(responses_table):
        combination = json.dumps(_segment(response), sort_keys=True)
        for metric, score in response["scores"]["M"].items():
            series = f"{response['survey_id']['S']}#{metric}"
            key = (series, response["bucket_day"]["S"], combination)
            counts = expected.setdefault(key, Counter())
            counts["n"] += 1
            counts[f"s{score['N']}"] += 1
    counted = {
        (
            item["series"]["S"],
            item["bucket"]["S"].split("#", 1)[0],
            json.dumps(_segment(item), sort_keys=True),
        ): {
            name: int(value["N"])
            for name, value in item.items()
            if "N" in value and value["N"] != "0"
        }
        for item in scan(aggregates_table)
        # the score series only; "#sent", "#responses", "#escalations" count other things
        if item["series"]["S"].rsplit("#", 1)[1] in ("nps", "csat", "ces")
    }
    return (
        {key: counts for key, counts in counted.items() if counts},
        {key: dict(counts) for key, counts in expected.items()},
    )


def summed(counted: dict, series: str | None = None) -> dict[str, int]:
    """The counts of counted_vs_stored's counters added up over days and combinations (of one
    series, or of all): what the report's "all" shows."""
    total: Counter[str] = Counter()
    for (name, _, _), counts in counted.items():
        if series is None or name == series:
            total.update(counts)
    return dict(total)


def emf_metrics(stdout: str) -> tuple[Counter[str], int]:
    """(sum of each metric, number of EMF blobs) in Powertools' stdout."""
    totals: Counter[str] = Counter()
    blobs = 0
    for line in stdout.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        blobs += 1
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                totals[metric["Name"]] += int(sum(values if isinstance(values, list) else [values]))
    return totals, blobs


def run_outbox(deployment: Deployment, outbox: Any = None) -> list[dict[str, Any]]:
    """Deliver the stream records recorded so far to the outbox function (loaded once per
    test unless given), in Lambda's batches of 25; returns each batch's response (its
    batchItemFailures). What an answer implies happens here, not in collect."""
    if outbox is None:
        outbox = deployment.load("OutboxFunction")
    records = deployment.take_stream_records()
    return [
        outbox.lambda_handler({"Records": records[start : start + 25]}, lambda_context())
        for start in range(0, len(records), 25)
    ]


class DynamoDbOutage:
    """Every DynamoDB request a loaded function makes through its repositories (their models
    and transactions) fails with an AWS error while the outage lasts (start() to stop()),
    answered before moto is called, as AwsCalls does. `repos` are the function's own (e.g.
    `send.PORTS.repos`: its own copy of survey_core); `failed` counts the requests that
    failed. The retries of dal/writes do not wait (no real sleeps in tests)."""

    def __init__(self, repos: Any, code: str = "InternalServerError", status: int = 500) -> None:
        dal = type(repos.invitations).get.__globals__  # the function's dal/invitations.py
        models, writes = dal["models"], dal["update_if"].__globals__
        region = getattr(models.Invitation.Meta, "region", None)
        clients = [
            model._get_connection().connection.client
            for model in (models.Customer, models.Invitation, models.AggregateCounter)
        ]
        clients.append(writes["transactions"](region).client)
        writes["backoff"] = lambda attempt: None
        self.failed = 0
        self._error = (code, status)
        self._on = False
        for client in {id(c): c for c in clients}.values():
            client.meta.events.register("before-call.dynamodb", self._before_call)

    def start(self, **_: Any) -> None:
        self._on = True

    def stop(self) -> None:
        self._on = False

    def _before_call(self, **_: Any) -> Any:
        if not self._on:
            return None
        self.failed += 1
        from botocore.awsrequest import AWSResponse

        code, status = self._error
        response = AWSResponse("https://aws.example", status, {}, None)
        return response, {"Error": {"Code": code, "Message": f"injected {code}"}}


@contextmanager
def log_records(logger: Any) -> Iterator[list[dict[str, Any]]]:
    """The JSON lines a loaded function's Powertools logger writes inside the block (filled in
    when the block ends). Loggers of one service share their handler in this process, so the
    handler's stream is swapped rather than stdout captured."""
    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)
    records: list[dict[str, Any]] = []
    try:
        yield records
    finally:
        handler.setStream(previous)
        lines = stream.getvalue().splitlines()
        records.extend(json.loads(line) for line in lines if line.startswith("{"))
