"""What was sent, read from moto's SES and SNS backends (in this process): the local stack's
/_local/outbox and the tests see messages as a recipient would, MIME decoded."""

from __future__ import annotations

import base64
import email
from email.policy import default as default_policy
from typing import Any

from .template import ACCOUNT_ID

SHOWN_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "Date")


def read_email(raw: str | bytes) -> dict[str, Any]:
    """One raw MIME message: addresses, subject, the HTML and text parts, chosen headers."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    message = email.message_from_bytes(data, policy=default_policy)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    return {
        "from": str(message["From"]),
        "to": [a.strip() for a in str(message["To"] or "").split(",") if a.strip()],
        "subject": str(message["Subject"]),
        "body": html.get_content() if html is not None else "",
        "text": text.get_content() if text is not None else "",
        "headers": {name: str(message[name]) for name in SHOWN_HEADERS if message[name]},
        # Inline images and attachments (base64), e.g. the report's chart and workbook.
        "parts": [
            {
                "contentType": part.get_content_type(),
                "contentId": str(part["Content-ID"] or "").strip("<>"),
                "filename": part.get_filename() or "",
                "data": base64.b64encode(_payload(part)).decode(),
            }
            for part in message.walk()
            if not part.is_multipart() and part not in (html, text)
        ],
    }


def _payload(part: email.message.Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


# Sent messages never change: each is parsed once (tests poll the outbox many times a second).
_PARSED: dict[str, dict[str, Any]] = {}


def sent_emails(region: str) -> list[dict[str, Any]]:
    from moto.ses.models import ses_backends

    emails = []
    for message in list(ses_backends[ACCOUNT_ID][region].sent_messages):
        if hasattr(message, "raw_data"):
            if message.id not in _PARSED:
                _PARSED[message.id] = {"id": message.id, **read_email(message.raw_data)}
            emails.append(_PARSED[message.id])
        elif hasattr(message, "subject"):  # a simple (non-raw) SendEmail
            to = message.destinations.get("ToAddresses", [])
            emails.append(
                {"id": message.id, "from": message.source, "to": to, "subject": message.subject,
                 "body": message.body, "text": "", "headers": {}}
            )  # fmt: skip
    return emails


def sent_sms(region: str) -> list[dict[str, Any]]:
    from moto.sns.models import sns_backends

    messages = list(sns_backends[ACCOUNT_ID][region].sms_messages.items())
    return [{"id": message_id, "to": phone, "text": text} for message_id, (phone, text) in messages]
