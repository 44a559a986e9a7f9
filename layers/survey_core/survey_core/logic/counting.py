"""What each sent message and each first answer adds to the report's counters.

Decided from the invitation's attempts as they were before the message or the answer, so the
counts are exact: each message and each response is counted once, in the transaction that
records it (dal/store). A message is counted when it is handed to SES or SNS (its attempt
"sending"), and taken back when they refuse it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..dal.models import SENDING, Invitation
from ..dal.store import Counts

# Went out, or may have (SES may report on it later): counted as sent. SENDING: handed to SES
# or SNS and what became of it not recorded (yet, or ever: the record failed); it may have
# gone out, so it counts as sent and is never sent again (logic/send.py).
DELIVERED = frozenset({"sent", SENDING, "bounced", "complained"})
# May have reached the customer: a bounced email did not.
REACHED = frozenset({"sent", SENDING, "complained"})


def counting_day(moment: datetime, zone: ZoneInfo) -> str:
    """The counters' day: the reporting zone's calendar day."""
    return moment.astimezone(zone).date().isoformat()


def _delivered(invitation: Invitation) -> list[tuple[int, str, bool]]:
    return [
        (int(a.rung), str(a.channel), bool(a.fallback))
        for a in invitation.attempts
        if a.outcome in DELIVERED
    ]


def sent_counts(invitation: Invitation, channel: str, day: str) -> Counts:
    """A message sent on `channel`: one message; the invitation reached the customer (its
    first message); and reached them on this channel (its first message there)."""
    earlier = _delivered(invitation)
    add = {f"{channel}_messages": 1}
    if not earlier:
        add["invitations"] = 1
    if all(sent_on != channel for _, sent_on, _ in earlier):
        add[f"{channel}_invitations"] = 1
    segment = invitation.segment.as_dict() if invitation.segment else {}
    return Counts(f"{invitation.survey_id}#sent", day, segment, add)


def answer_counts(invitation: Invitation, answered_by: str) -> dict[str, int]:
    """A first answer: the channel it came through (an SMS reply; for a web answer, the last
    message that reached the customer before it) and whether a reminder had gone out."""
    delivered = _delivered(invitation)
    channel = "sms" if answered_by == "sms" else (delivered[-1][1] if delivered else None)
    add: dict[str, int] = {}
    if channel in ("email", "sms"):
        add[f"via_{channel}"] = 1
    if any(rung >= 1 for rung, _, _ in delivered):
        add["after_reminder"] = 1
    return add
