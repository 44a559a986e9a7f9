"""SNS: Lambda subscriptions invoked asynchronously; two-way SMS replies published."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .patching import patch

if TYPE_CHECKING:
    from ..adapter import LocalAdapter


def invoke_subscribers_asynchronously(adapter: LocalAdapter) -> None:
    """SNS invokes Lambda asynchronously (retries, then the on-failure destination); moto
    invokes synchronously inside the Publish call, with sample message attributes."""
    from moto.awslambda.models import LambdaBackend

    def send_sns_message(
        self: Any,
        function_name: str,
        message: str,
        subject: str | None = None,
        qualifier: str | None = None,
    ) -> None:
        name = function_name.split(":")[6] if function_name.startswith("arn:") else function_name
        event = {
            "Records": [
                {
                    "EventVersion": "1.0",
                    "EventSource": "aws:sns",
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": str(uuid.uuid4()),
                        "Message": message,
                        "Subject": subject,
                        "MessageAttributes": {},
                        "Timestamp": datetime.now(UTC).isoformat(),
                    },
                }
            ]
        }
        adapter.invoke_async(adapter.functions[name], event)

    patch(LambdaBackend, "send_sns_message", send_sns_message)


def inbound_sms(
    adapter: LocalAdapter, sender: str, body: str, in_reply_to: str | None
) -> dict[str, Any]:
    """A customer's SMS reply, published on the stack's topic as End User Messaging does
    (docs: "Example of a two-way SMS message payload for Amazon SNS topics")."""
    if not adapter.inbound_sms_topic:
        raise KeyError("the template has no InboundSmsTopicArn output")
    inbound_id = str(uuid.uuid4())
    payload = {
        "originationNumber": sender,
        "destinationNumber": "+15555550100",
        "messageKeyword": "KEYWORD_LOCAL",
        "messageBody": body,
        "inboundMessageId": inbound_id,
        "previousPublishedMessageId": in_reply_to,
    }
    adapter.client("sns").publish(TopicArn=adapter.inbound_sms_topic, Message=json.dumps(payload))
    return {"inboundMessageId": inbound_id}
