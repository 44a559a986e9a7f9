"""The MIME message SES sends (raw): a plain-text and an HTML part, and for survey emails the
headers that let mail clients unsubscribe in one click (RFC 2369 List-Unsubscribe, RFC 8058
List-Unsubscribe-Post). Built with the standard library's email package."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate

from .one_click import ONE_CLICK
from .rendering import RenderedEmail


def compose_email(
    *,
    sender: str,
    sender_name: str | None,
    to: Sequence[str],
    email: RenderedEmail,
    unsubscribe_url: str | None = None,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = ", ".join(to)
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    if unsubscribe_url:
        # RFC 8058: an HTTPS URI the client POSTs "List-Unsubscribe=One-Click" to, without
        # showing a page; SES signs these headers with the domain's DKIM key.
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    if email.inline_images:
        # multipart/related around the HTML: mail clients show the images in place.
        html_part = message.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        for image in email.inline_images:
            html_part.add_related(
                image.data, "image", image.subtype, cid=f"<{image.content_id}>",
                disposition="inline", filename=f"{image.content_id}.{image.subtype}",
            )  # fmt: skip
    for attachment in email.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message.as_bytes()
