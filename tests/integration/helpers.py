from __future__ import annotations

import json
from typing import Any

from tests.conftest import Deployment


class BusRecorder:
    """An SQS queue subscribed to everything this system publishes on the bus."""

    def __init__(self, deployment: Deployment) -> None:
        self._sqs = deployment.client("sqs")
        self.url = self._sqs.create_queue(QueueName="bus-recorder")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events = deployment.client("events")
        bus = deployment.outputs["EventBusName"]
        events.put_rule(
            Name="record-outbound",
            EventBusName=bus,
            EventPattern=json.dumps({"source": ["customer-feedback.surveys"]}),
        )
        events.put_targets(
            Rule="record-outbound", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}]
        )

    def events(self) -> list[dict[str, Any]]:
        found = []
        while True:
            batch = self._sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return found
            found.extend(json.loads(m["Body"]) for m in batch)


def lambda_context() -> Any:
    from infra.local.functions import FakeLambdaContext

    return FakeLambdaContext(
        "test-function", "arn:aws:lambda:eu-north-1:123456789012:function:t", 512, 15
    )


def sent_emails() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends["123456789012"]["eu-north-1"].sent_messages)


def sent_sms() -> list[tuple[str, str]]:
    from moto.sns.models import sns_backends

    return list(sns_backends["123456789012"]["eu-north-1"].sms_messages.values())
