"""HTML form bodies, as browsers and mail clients send them: urlencoded or multipart.

RFC 8058 lets a mail client POST its one-click unsubscribe either way, so both are read.
Every value is kept (a checkbox group sends one name many times); bodies that cannot be read
give an empty form, which the pages answer with their usual 400.
"""

from __future__ import annotations

from email.parser import BytesParser
from urllib.parse import parse_qs

Form = dict[str, list[str]]
MAX_FIELDS = 50


def parse_form(body: bytes, content_type: str) -> Form:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        return _multipart(body, content_type)
    text = body.decode("utf-8", "replace")
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:  # more fields than any of our forms has
        return {}


def _multipart(body: bytes, content_type: str) -> Form:
    # Imported here: only a mail client's one-click unsubscribe may come as multipart (our own
    # pages' forms are urlencoded), and the email package's header policies (email.parser is
    # boto3's anyway) cost every function that reads a form about 3 ms of its cold start.
    from email.policy import HTTP

    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    form: Form = {}
    if not message.is_multipart():
        return form
    for part in list(message.iter_parts())[:MAX_FIELDS]:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        value = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        form.setdefault(name, []).append(value)
    return form


def first(form: Form, name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def request_form(raw_body: bytes | str | None, content_type: str) -> Form:
    """A request's form, from its raw body as Chalice gives it (bytes, or text)."""
    raw = raw_body or b""
    return parse_form(raw if isinstance(raw, bytes) else raw.encode("utf-8"), content_type)
