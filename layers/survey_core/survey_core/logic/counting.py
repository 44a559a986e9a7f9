"""What each sent message and each first answer adds to the report's counters, and how the
report reads them back by segment key and scope.

Decided from the invitation's attempts as they were before the message or the answer, so the
counts are exact: each message and each response is counted once, in the transaction that
records it (the repositories of domain/). A message is counted when it is handed to SES or SNS
(its attempt "sending"), and taken back when they refuse it.

Each counter holds one series (e.g. "post-purchase#sent"), one day and one combination of
segment values, so one message or answer adds to one counter per series. The report's views
are sums of them: a segment key ("all", "businessArea=webshop") is the sum of the
combinations that have it, and a scope ("@businessArea=webshop": a report for one business
area) keeps only the combinations inside it (counter_view)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import Struct

from ..domain.counters import Counts
from ..domain.invitations import SENDING, Invitation

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


def first_messages(messages: Iterable[tuple[Any, Any]]) -> list[tuple[bool, bool]]:
    """Per message of an invitation, given as (channel, outcome) in the order sent: whether it
    was the invitation's first that counts as sent on its channel, and its first at all. The
    report counts these as the invitation reached on a channel and reached (sent_counts); the
    lake writes them on each message row (lake/rows.py)."""
    channels: set[Any] = set()
    flags = []
    for channel, outcome in messages:
        if outcome not in DELIVERED:
            flags.append((False, False))
            continue
        flags.append((channel not in channels, not channels))
        channels.add(channel)
    return flags


def sent_counts(invitation: Invitation, channel: str, day: str) -> Counts:
    """A message sent on `channel`: one message; the invitation reached the customer (its
    first message); and reached them on this channel (its first message there)."""
    earlier = [(str(a.channel), a.outcome) for a in invitation.attempts]
    on_channel, at_all = first_messages([*earlier, (channel, SENDING)])[-1]
    add = {f"{channel}_messages": 1}
    if at_all:
        add["invitations"] = 1
    if on_channel:
        add[f"{channel}_invitations"] = 1
    segment = dict(invitation.segment)
    return Counts(f"{invitation.survey_id}#sent", day, segment, add)


class AnsweredAfter(Struct, frozen=True):
    """Where a first answer stands in the ladder: the channel it came through (an SMS reply;
    for a web answer, the last message that reached the customer before it) and the step of
    the ladder it came after (the highest rung delivered: 0 the invitation, 1 the first
    reminder, ...). None where no message had reached the customer."""

    via: str | None
    step: int | None


def answered_after(invitation: Invitation, answered_by: str) -> AnsweredAfter:
    """Decided from the invitation's attempts at the answer, so the lake's "after which
    reminder" and the report's via_* / after_reminder counters are the same fact."""
    delivered = _delivered(invitation)
    via = "sms" if answered_by == "sms" else (delivered[-1][1] if delivered else None)
    step = max((rung for rung, _, _ in delivered), default=None)
    return AnsweredAfter(via=via if via in ("email", "sms") else None, step=step)


def answer_counts(after: AnsweredAfter) -> dict[str, int]:
    """A first answer's counts: the channel it came through and whether a reminder had gone
    out before it."""
    add: dict[str, int] = {}
    if after.via is not None:
        add[f"via_{after.via}"] = 1
    if after.step is not None and after.step >= 1:
        add["after_reminder"] = 1
    return add


# ---------------------------------------------------------------- reading by segment key

SCOPE_MARK = "@"  # "post-purchase#nps@businessArea=webshop": the series within one scope


def segment_keys(segment: Mapping[str, Any]) -> list[str]:
    """The keys a combination counts under: once overall ("all") and once under every segment
    attribute it has a value for ("businessArea=webshop")."""
    keys = ["all"]
    keys.extend(f"{name}={value}" for name, value in sorted(segment.items()) if value)
    return keys


def split_scope(series: str) -> tuple[str, str | None, str | None]:
    """("post-purchase#nps", "businessArea", "webshop") of "post-purchase#nps@businessArea=
    webshop"; (series, None, None) for a series without a scope."""
    base, mark, scope = series.partition(SCOPE_MARK)
    if not mark:
        return series, None, None
    attribute, _, value = scope.partition("=")
    return base, attribute, value


def in_scope(segment: Mapping[str, Any], attribute: str | None, value: str | None) -> bool:
    return attribute is None or str(segment.get(attribute) or "") == value


def scoped_keys(segment: Mapping[str, Any], attribute: str | None) -> list[str]:
    """The keys of a combination within a scope: the scope whole ("all") and the other
    attributes' values (within a business area, by touchpoint, ...)."""
    return segment_keys({k: v for k, v in segment.items() if k != attribute})


def counter_view(
    records: Iterable[tuple[str, Mapping[str, Any], Mapping[str, int]]],
    attribute: str | None = None,
    value: str | None = None,
) -> Iterator[tuple[str, str, dict[str, int]]]:
    """(day, segment key, summed counts) of counters given as (day, segment, counts), within a
    scope (attribute = value) or all of them: the per-key view the report reads."""
    sums: dict[tuple[str, str], Counter[str]] = {}
    for day, segment, counts in records:
        if not in_scope(segment, attribute, value):
            continue
        for key in scoped_keys(segment, attribute):
            sums.setdefault((day, key), Counter()).update(counts)
    for (day, key), counts in sorted(sums.items()):
        yield day, key, dict(counts)
