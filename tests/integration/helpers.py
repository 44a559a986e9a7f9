from __future__ import annotations

import json
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
