"""SES: the tags and configuration set of every SendEmail are kept, so a bounce or complaint
of a sent message can be published on the default bus as SES would (moto never does)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..outbox import sent_emails
from ..template import ACCOUNT_ID
from .patching import patch


class SesEmails:
    def __init__(
        self, region: str, clock: Callable[[], datetime], client: Callable[[str], Any]
    ) -> None:
        self.region = region
        self._clock = clock
        self._client = client
        self.requests: dict[str, dict[str, Any]] = {}  # SES message id -> what was asked

    def record_request(self, message_id: str, params: dict[str, Any]) -> None:
        self.requests[message_id] = {
            "tags": {tag["Name"]: tag["Value"] for tag in params.get("EmailTags", [])},
            "configurationSet": params.get("ConfigurationSetName"),
        }

    def sent(self) -> list[dict[str, Any]]:
        """moto's sent emails, each with the tags and configuration set it was sent with."""
        return [{**mail, **self.requests.get(mail["id"], {})} for mail in sent_emails(self.region)]

    def feedback(self, message_id: str, kind: str, bounce_type: str) -> dict[str, Any]:
        """Publish a bounce or complaint of a sent email on the default bus, shaped as SES's
        configuration-set event destination publishes it."""
        mail = next((m for m in self.sent() if m["id"] == message_id), None)
        if mail is None:
            raise KeyError(message_id)
        now = self._clock().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        tags = {name: [value] for name, value in mail.get("tags", {}).items()}
        if mail.get("configurationSet"):
            tags["ses:configuration-set"] = [mail["configurationSet"]]
        recipients = [{"emailAddress": address} for address in mail["to"]]
        detail: dict[str, Any] = {
            "eventType": "Bounce" if kind == "bounce" else "Complaint",
            "mail": {
                "timestamp": now,
                "source": mail["from"],
                "sendingAccountId": ACCOUNT_ID,
                "messageId": message_id,
                "destination": mail["to"],
                "tags": tags,
            },
        }
        if kind == "bounce":
            permanent = bounce_type == "Permanent"
            detail["bounce"] = {
                "bounceType": bounce_type,
                "bounceSubType": "General" if permanent else "MailboxFull",
                "bouncedRecipients": [
                    {**r, "action": "failed", "status": "5.1.1" if permanent else "4.2.2"}
                    for r in recipients
                ],
                "timestamp": now,
            }
            detail_type = "Email Bounced"
        else:
            detail["complaint"] = {
                "complainedRecipients": recipients,
                "complaintFeedbackType": "abuse",
                "timestamp": now,
            }
            detail_type = "Email Complaint Received"
        self._client("events").put_events(
            Entries=[{"Source": "aws.ses", "DetailType": detail_type, "Detail": json.dumps(detail)}]
        )
        return {"published": detail_type, "messageId": message_id}


def record_email_requests(emails: SesEmails) -> None:
    """moto's SES v2 SendEmail keeps neither the tags nor the configuration set."""
    from moto.sesv2.responses import SESV2Response

    original = SESV2Response.send_email

    def send_email(self: Any) -> str:
        result: str = original(self)
        emails.record_request(json.loads(result)["MessageId"], json.loads(self.body))
        return result

    patch(SESV2Response, "send_email", send_email)
