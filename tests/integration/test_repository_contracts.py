"""One contract per repository, run on the in-memory fakes the unit tests use
(tests/repositories.py) and on DynamoDB (the template's tables in moto): a fake that drifts
from what the tables do fails here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from msgspec.structs import replace
from survey_core.domain.counters import COHORT_BATCH, CohortQuota, Counter, Counts
from survey_core.domain.customers import Customer, LastActivity, Sighting
from survey_core.domain.invitations import SENDING, Attempt, ContactChanged, Invitation
from survey_core.domain.repositories import Repositories
from survey_core.domain.responses import Answer, Response
from survey_core.domain.suppressions import Suppression, address_key, suppressed_channels
from survey_core.errors import IntentNotRecorded

from tests.integration.conftest import Stored

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)
KEEP = timedelta(days=400)


def _sighting(customer_id: str = "c-1", at: datetime = T0, **given: object) -> Sighting:
    return Sighting(customer_id, at, at + KEEP, "fi", **given)  # type: ignore[arg-type]


# ---------------------------------------------------------------- customers


def test_an_unknown_customer_is_none(repos: Repositories) -> None:
    assert repos.customers.get("nobody") is None


def test_a_customer_seen_first_gets_the_defaults_and_what_the_event_gave(
    repos: Repositories,
) -> None:
    remembered = repos.customers.remember(
        _sighting(email="a@example.com", time_zone="Europe/Helsinki", consent={"sms": False})
    )
    assert remembered == Customer(
        "c-1",
        language="fi",
        email="a@example.com",
        time_zone="Europe/Helsinki",
        consent_email=True,
        consent_sms=False,
        first_seen_at="2026-03-02T09:30:15Z",
        cohort_day="2026-03-02",
        updated_at="2026-03-02T09:30:15Z",
        expires_at=T0 + KEEP,
    )
    assert repos.customers.get("c-1") == remembered


def test_a_later_event_replaces_what_it_gives_and_keeps_what_it_does_not(
    repos: Repositories,
) -> None:
    repos.customers.remember(
        _sighting(language="sv", email="a@example.com", phone="+358401234567", consent={})
    )
    later = T0 + timedelta(days=3)
    remembered = repos.customers.remember(
        _sighting(at=later, email="b@example.com", consent={"email": False})
    )
    assert remembered == Customer(
        "c-1",
        language="sv",  # kept: the event named none, and the default is for new customers
        email="b@example.com",
        phone="+358401234567",
        consent_email=False,
        consent_sms=True,
        first_seen_at="2026-03-02T09:30:15Z",
        cohort_day="2026-03-02",
        updated_at="2026-03-05T09:30:15Z",
        expires_at=later + KEEP,
    )
    assert repos.customers.get("c-1") == remembered


def test_activity_moves_forward_only_and_indexes_the_customer_under_its_day(
    repos: Repositories,
) -> None:
    repos.customers.remember(_sighting("c-1"))
    repos.customers.remember(_sighting("c-2"))
    assert not repos.customers.record_activity("unknown", T0)
    assert repos.customers.record_activity("c-2", T0)
    assert repos.customers.record_activity("c-1", T0)
    assert not repos.customers.record_activity("c-1", T0)  # a repeat
    assert not repos.customers.record_activity("c-1", T0 - timedelta(hours=1))  # late
    assert list(repos.customers.last_active_on("2026-03-02")) == [
        LastActivity("c-1", "2026-03-02T09:30:15Z"),
        LastActivity("c-2", "2026-03-02T09:30:15Z"),
    ]
    assert repos.customers.record_activity("c-1", T0 + timedelta(days=1))
    assert [a.customer_id for a in repos.customers.last_active_on("2026-03-02")] == ["c-2"]
    assert list(repos.customers.last_active_on("2026-03-03")) == [
        LastActivity("c-1", "2026-03-03T09:30:15Z")
    ]
    assert repos.customers.get("unknown") is None  # a refused move creates nothing


def test_a_contact_moves_the_cohort_day_forward_only(repos: Repositories) -> None:
    for customer_id in ("c-3", "c-1", "c-2"):
        repos.customers.remember(_sighting(customer_id))
    assert list(repos.customers.in_cohort_day("2026-03-02")) == ["c-1", "c-2", "c-3"]
    assert repos.customers.record_contact("c-2", T0 + timedelta(days=10))
    assert not repos.customers.record_contact("c-2", T0 + timedelta(days=9))
    assert not repos.customers.record_contact("unknown", T0)
    assert list(repos.customers.in_cohort_day("2026-03-02")) == ["c-1", "c-3"]
    assert list(repos.customers.in_cohort_day("2026-03-12")) == ["c-2"]
    customer = repos.customers.get("c-2")
    assert customer is not None
    assert customer.last_contact_at == "2026-03-12T09:30:15Z"
    # A later sighting does not move the cohort day back to the first day.
    repos.customers.remember(_sighting("c-2", at=T0 + timedelta(days=11)))
    assert list(repos.customers.in_cohort_day("2026-03-12")) == ["c-2"]


# ---------------------------------------------------------------- suppressions


def _suppression(channel: str, address: str, reason: str, **more: object) -> Suppression:
    return Suppression.of_address(channel, address, reason=reason, source="link", at=T0, **more)  # type: ignore[arg-type]


def test_nothing_is_suppressed_on_an_empty_list(repos: Repositories) -> None:
    assert repos.suppressions.reasons([address_key("email", "a@example.com")]) == {}
    assert suppressed_channels(repos.suppressions, {"email": "a@example.com", "sms": None}) == {}


def test_a_suppression_holds_for_its_address_and_a_later_reason_replaces_it(
    repos: Repositories,
) -> None:
    repos.suppressions.add(_suppression("email", "A@Example.com ", "unsubscribed"))
    repos.suppressions.add(_suppression("sms", "+358401234567", "stop-reply"))
    repos.suppressions.add(_suppression("sms", "+358401234567", "unsubscribed"))
    addresses = {"email": "a@example.com", "sms": "+358401234567"}
    assert suppressed_channels(repos.suppressions, addresses) == {
        "email": "unsubscribed",
        "sms": "unsubscribed",
    }
    assert suppressed_channels(repos.suppressions, {"email": "b@example.com"}) == {}


def test_many_keys_are_read_at_once(repos: Repositories) -> None:
    # More than one BatchGetItem takes (100 keys).
    addresses = [f"person{n}@example.com" for n in range(130)]
    for address in addresses[::2]:
        repos.suppressions.add(_suppression("email", address, "bounced"))
    keys = [address_key("email", address) for address in addresses]
    assert repos.suppressions.reasons(keys) == {key: "bounced" for key in keys[::2]}


def test_a_suppression_needs_a_key_of_a_known_channel() -> None:
    key = address_key("email", "a@example.com")
    for bad in ("", "email#short", "fax#" + key.partition("#")[2], key.partition("#")[2]):
        with pytest.raises(ValueError, match="not a suppression key"):
            Suppression(bad, reason="bounced", source="ses", at=T0)


# ---------------------------------------------------------------- invitations


def _invitation(
    invitation_id: str = "inv-1", customer_id: str = "c-1", **more: object
) -> Invitation:
    return Invitation(
        invitation_id,
        survey_id="post-purchase",
        customer_id=customer_id,
        link_token=f"token-{invitation_id}",
        business_key="order-1",
        source_event_id="event-1",
        metric="nps",
        metrics=["nps"],
        language="fi",
        segment={"businessArea": "store"},
        channels=["email", "sms", "email"],
        rung_at=["2026-03-02T10:00:00Z", "2026-03-03T10:00:00Z", "2026-03-06T10:00:00Z"],
        send_at="2026-03-02T10:00:00Z",
        closes_at="2026-03-09T10:00:00Z",
        created_at="2026-03-02T09:30:15Z",
        updated_at="2026-03-02T09:30:15Z",
        expires_at=T0 + KEEP,
        **more,  # type: ignore[arg-type]
    )


def _sending(channel: str = "email", rung: int = 0) -> Attempt:
    key = address_key(channel, "a@example.com" if channel == "email" else "+358401234567")
    return Attempt(rung=rung, channel=channel, outcome=SENDING, at=iso(T0), address_key=key)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


SENT = Counts("post-purchase#sent", "2026-03-02", {"businessArea": "store"}, {"email_messages": 1})


def test_an_invitation_is_created_once_and_read_back_whole(repos: Repositories) -> None:
    invitation = _invitation(status="suppressed", reason="opted-out")
    assert repos.invitations.get("inv-1") is None
    assert repos.invitations.create(invitation)
    assert not repos.invitations.create(replace(invitation, reason="other"))
    assert repos.invitations.get("inv-1") == invitation
    assert repos.invitations.by_link_token("token-inv-1") == invitation
    assert repos.invitations.by_link_token("token-unknown") is None


def test_scheduling_reserves_the_customers_contact_as_read(repos: Repositories) -> None:
    repos.customers.remember(_sighting("c-1"))
    # Another survey reserved a contact since this one read the customer (who had none).
    repos.invitations.schedule(
        _invitation("inv-0"), seen_last_contact=None, new_last_contact="2026-03-02T10:00:00Z"
    )
    with pytest.raises(ContactChanged):
        repos.invitations.schedule(
            _invitation(), seen_last_contact=None, new_last_contact="2026-03-04T10:00:00Z"
        )
    assert repos.invitations.get("inv-1") is None  # nothing written
    assert repos.invitations.schedule(
        _invitation(),
        seen_last_contact="2026-03-02T10:00:00Z",
        new_last_contact="2026-03-04T10:00:00Z",
    )
    customer = repos.customers.get("c-1")
    assert customer is not None
    assert (customer.last_contact_at, customer.cohort_day) == ("2026-03-04T10:00:00Z", "2026-03-04")
    # The same invitation again (a repeated event): False, whatever the customer holds now.
    assert not repos.invitations.schedule(
        _invitation(), seen_last_contact="2026-03-04T10:00:00Z", new_last_contact="2026-03-05"
    )
    with pytest.raises(ContactChanged):  # a customer never seen cannot be reserved
        repos.invitations.schedule(
            _invitation("inv-2", "c-unknown"), seen_last_contact=None, new_last_contact="x"
        )


def test_a_message_is_intended_then_sent_and_counted_once(stored: Stored) -> None:
    repos = stored.repos
    repos.customers.remember(_sighting("c-1"))
    repos.invitations.create(_invitation())
    assert repos.invitations.store_task_token("inv-1", "wait-0", T0)
    repos.invitations.record_intent("inv-1", _sending(), 0, T0, SENT)
    with pytest.raises(IntentNotRecorded):  # the index is taken: nothing may be sent
        repos.invitations.record_intent("inv-1", _sending("sms"), 0, T0, SENT)
    assert stored.counted(SENT) == {"email_messages": 1}
    later = T0 + timedelta(minutes=1)
    repos.invitations.record_sent("inv-1", "c-1", 0, "msg-1", later)
    repos.invitations.record_sent("inv-1", "c-1", 0, "msg-other", later)  # a repeat: no-op
    invitation = repos.invitations.get("inv-1")
    assert invitation is not None
    assert invitation.status == "sent"
    assert repos.invitations.task_token("inv-1") == "wait-0"
    assert invitation.contacted_at == iso(T0)
    assert invitation.updated_at == iso(later)
    assert invitation.attempts == [replace(_sending(), outcome="sent", message_id="msg-1")]
    customer = repos.customers.get("c-1")
    assert customer is not None and customer.last_contact_at == iso(later)
    # An SMS files the invitation under the number's key, most recent first.
    repos.invitations.record_intent("inv-1", _sending("sms", 1), 1, later, SENT)
    repos.invitations.record_sent("inv-1", "c-1", 1, "msg-2", later, sms_address="sms#k")
    repos.invitations.create(_invitation("inv-2"))
    repos.invitations.record_intent("inv-2", _sending("sms"), 0, later, SENT)
    repos.invitations.record_sent("inv-2", "c-1", 0, "msg-3", T0 + KEEP, sms_address="sms#k")
    assert [i.invitation_id for i in repos.invitations.asked_by_sms("sms#k")] == [
        "inv-2",
        "inv-1",
    ]
    assert [i.invitation_id for i in repos.invitations.asked_by_sms("sms#k", limit=1)] == ["inv-2"]
    assert repos.invitations.asked_by_sms("sms#other") == []
    assert stored.counted(SENT) == {"email_messages": 3}


def test_the_lifecycle_waits_on_the_token_stored_last(repos: Repositories) -> None:
    repos.customers.remember(_sighting("c-1"))
    repos.invitations.create(_invitation())
    before = repos.invitations.get("inv-1")
    assert repos.invitations.task_token("inv-1") is None  # no rung has run
    assert repos.invitations.store_task_token("inv-1", "wait-0", T0)
    assert repos.invitations.store_task_token("inv-1", "wait-1", T0 + timedelta(days=1))
    assert repos.invitations.task_token("inv-1") == "wait-1"
    assert repos.invitations.get("inv-1") == before  # the token is kept apart
    # An erased invitation's rung is told so (it ends its own wait)
    assert not repos.invitations.store_task_token("inv-gone", "wait-0", T0)


@pytest.mark.parametrize("repos", ["dynamodb"], indirect=True)
def test_the_token_is_an_item_of_its_own_and_one_stored_on_the_invitation_is_still_read(
    repos: Repositories,
) -> None:
    from survey_core.dal.models import Invitation as Item
    from survey_core.dal.models import LifecycleWait

    repos.customers.remember(_sighting("c-1"))
    repos.invitations.create(_invitation())
    assert repos.invitations.store_task_token("inv-1", "wait-0", T0)
    # The invitation item does not carry it: its writes are not billed for its 680 bytes
    assert Item.get("inv-1", consistent_read=True).task_token is None
    wait = LifecycleWait.get("inv-1#wait", consistent_read=True)
    assert (wait.task_token, wait.expires_at) == ("wait-0", T0 + timedelta(days=366))
    # In no index of the invitations: it has none of their keys
    assert [i.invitation_id for i in Item.by_customer.query("c-1")] == ["inv-1"]
    # A survey whose rung stored the token on the invitation, as versions before did
    repos.invitations.create(_invitation("inv-2"))
    Item("inv-2").update(actions=[Item.task_token.set("stored-on-the-invitation")])
    assert repos.invitations.task_token("inv-2") == "stored-on-the-invitation"
    assert repos.invitations.task_token("inv-unknown") is None


@pytest.mark.parametrize("stored", ["dynamodb"], indirect=True)
def test_a_later_message_makes_no_status_write_that_must_fail(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DynamoDB bills a write whose condition fails like one that succeeds: once the invitation
    # is sent, moving it from pending to sent again is not even tried.
    from botocore.client import BaseClient
    from survey_core.dal.models import Customer as CustomerItem
    from survey_core.dal.models import Invitation as Item

    repos = stored.repos
    updates: list[str] = []  # the table of each UpdateItem, whichever client makes it
    call = BaseClient._make_api_call

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "UpdateItem":
            updates.append(params["TableName"])
        return call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    repos.customers.remember(_sighting("c-1"))
    repos.invitations.create(_invitation())
    repos.invitations.record_intent("inv-1", _sending(), 0, T0, SENT)
    updates.clear()
    repos.invitations.record_sent("inv-1", "c-1", 0, "msg-1", T0)
    # Given a first message: its attempt, the invitation's status and the customer's contact
    assert updates == [Item.Meta.table_name, Item.Meta.table_name, CustomerItem.Meta.table_name]
    repos.invitations.record_intent("inv-1", _sending("sms", 1), 1, T0, SENT)
    updates.clear()
    repos.invitations.record_sent("inv-1", "c-1", 1, "msg-2", T0, sms_address="sms#k")
    # Then a second one: its attempt and the customer's contact only
    assert updates == [Item.Meta.table_name, CustomerItem.Meta.table_name]
    invitation = repos.invitations.get("inv-1")
    assert invitation is not None and invitation.status == "sent"


def test_a_refused_message_stays_failed_and_one_not_taken_is_removed(stored: Stored) -> None:
    repos = stored.repos
    repos.invitations.create(_invitation())
    repos.invitations.record_intent("inv-1", _sending(), 0, T0, SENT)
    repos.invitations.withdraw_intent(
        "inv-1", 0, SENT, T0, refused="MessageRejected", contacted_before=False
    )
    repos.invitations.withdraw_intent(  # a repeat: no-op
        "inv-1", 0, SENT, T0, refused="MessageRejected", contacted_before=False
    )
    invitation = repos.invitations.get("inv-1")
    assert invitation is not None
    assert invitation.attempts == [replace(_sending(), outcome="failed", reason="MessageRejected")]
    assert invitation.contacted_at is None
    assert stored.counted(SENT) == {}
    repos.invitations.record_intent("inv-1", _sending("sms"), 1, T0, SENT)
    repos.invitations.withdraw_intent("inv-1", 1, SENT, T0, refused=None, contacted_before=True)
    invitation = repos.invitations.get("inv-1")
    assert invitation is not None
    assert len(invitation.attempts) == 1
    assert invitation.contacted_at == iso(T0)  # another message may have reached them
    assert stored.counted(SENT) == {}


def test_the_conditional_updates_hold_once(repos: Repositories) -> None:
    invitations = repos.invitations
    assert not invitations.claim_help_reply("inv-1", T0)  # no such invitation
    invitations.create(_invitation())
    assert invitations.claim_help_reply("inv-1", T0)
    assert not invitations.claim_help_reply("inv-1", T0)
    skipped = Attempt(rung=0, channel="none", outcome="skipped", at=iso(T0), reason="opted-out")
    invitations.record_attempt("inv-1", skipped, T0)
    assert not invitations.clear_contacted("inv-1", 0)  # an attempt was added since
    assert invitations.clear_contacted("inv-1", 1)
    assert not invitations.mark_attempt("inv-1", 0, "msg-x", "bounced", T0)
    assert not invitations.expire("inv-1", T0, from_statuses=("sent",))
    assert invitations.expire("inv-1", T0, from_statuses=("pending", "sent"))
    # A rung that stores its token after the survey closed is told so: it ends its own wait
    assert not invitations.store_task_token("inv-1", "late", T0)
    invitation = invitations.get("inv-1")
    assert invitation is not None and invitation.status == "expired"
    assert invitation.help_replied_at == iso(T0)
    assert invitation.attempts == [skipped]


def test_feedback_marks_the_message_it_names(repos: Repositories) -> None:
    repos.invitations.create(_invitation())
    repos.invitations.record_intent("inv-1", _sending(), 0, T0, SENT)
    repos.invitations.record_sent("inv-1", "c-unknown", 0, "msg-1", T0)
    assert not repos.invitations.mark_attempt("inv-1", 0, "msg-other", "bounced", T0)
    assert not repos.invitations.mark_attempt("inv-1", 3, "msg-1", "bounced", T0)
    assert repos.invitations.mark_attempt("inv-1", 0, "msg-1", "bounced", T0)
    invitation = repos.invitations.get("inv-1")
    assert invitation is not None
    assert [a.outcome for a in invitation.attempts] == ["bounced"]


# ---------------------------------------------------------------- responses


def _answer(scores: dict[str, int], comment: str | None = None, **more: object) -> Answer:
    values: dict[str, Any] = {
        "comment": comment,
        "keep_comment": False,
        "channel": "web",
        "at": T0,
        "day": "2026-03-02",
        "expires_at": T0 + KEEP,
        **more,
    }
    return Answer(scores=scores, **values)


def _nps(day: str = "2026-03-02") -> Counts:
    return Counts("post-purchase#nps", day, {"businessArea": "store"}, {})


def test_a_first_answer_is_stored_counted_and_answers_the_invitation(stored: Stored) -> None:
    repos = stored.repos
    invitation = _invitation()
    repos.invitations.create(invitation)
    assert repos.responses.get("inv-1") is None
    first_counts = {"via_email": 1}
    result = repos.responses.store_answer(
        invitation,
        _answer({"nps": 9}, "Hyvä palvelu", first_answer_counts=first_counts, answered_via="email"),
    )
    assert (result.first_answer, result.changed, result.duplicate) == (True, True, False)
    assert result.response == Response(
        "inv-1",
        survey_id="post-purchase",
        customer_id="c-1",
        scores={"nps": 9},
        channel="web",
        bucket_day="2026-03-02",
        first_answered_at=iso(T0),
        answered_at=iso(T0),
        revision=1,
        comment="Hyvä palvelu",
        segment={"businessArea": "store"},
        comment_day="post-purchase#2026-03-02",
        expires_at=T0 + KEEP,
        answered_via="email",
    )
    assert repos.responses.get("inv-1") == result.response
    answered = repos.invitations.get("inv-1")
    assert answered is not None and answered.status == "answered"
    assert stored.counted(_nps()) == {"n": 1, "s9": 1}
    responses = Counts("post-purchase#responses", "2026-03-02", {"businessArea": "store"}, {})
    assert stored.counted(responses) == {"n": 1, "via_email": 1}


def test_a_changed_answer_moves_its_count_and_keeps_its_day(stored: Stored) -> None:
    repos = stored.repos
    invitation = _invitation()
    repos.invitations.create(invitation)
    repos.responses.store_answer(invitation, _answer({"nps": 9}, "Hyvä"))
    later = T0 + timedelta(days=2)
    result = repos.responses.store_answer(
        invitation,
        _answer({"nps": 3}, None, keep_comment=True, channel="sms", at=later, day="2026-03-04"),
    )
    assert (result.first_answer, result.changed) == (False, True)
    response = repos.responses.get("inv-1")
    assert response is not None
    assert (response.revision, response.scores, response.comment) == (2, {"nps": 3}, "Hyvä")
    assert (response.bucket_day, response.first_answered_at) == ("2026-03-02", iso(T0))
    assert (response.answered_at, response.channel) == (iso(later), "sms")
    assert stored.counted(_nps()) == {"n": 1, "s3": 1}  # s9 moved to s3, still one response
    assert stored.counted(_nps("2026-03-04")) == {}
    again = repos.responses.store_answer(invitation, _answer({"nps": 3}, "Uusi", at=later))
    assert not again.changed  # the same score: no count moves
    assert again.response.comment == "Uusi"


def test_an_inbound_message_applies_once(stored: Stored) -> None:
    repos = stored.repos
    invitation = _invitation()
    repos.invitations.create(invitation)
    first = repos.responses.store_answer(invitation, _answer({"nps": 8}, inbound_id="sms-1"))
    again = repos.responses.store_answer(invitation, _answer({"nps": 2}, inbound_id="sms-1"))
    assert again.duplicate
    assert again.response == first.response
    assert stored.counted(_nps()) == {"n": 1, "s8": 1}
    later = repos.responses.store_answer(invitation, _answer({"nps": 2}, inbound_id="sms-2"))
    assert later.response.inbound_ids == ["sms-1", "sms-2"]


def test_recent_comments_are_the_days_commented_answers_newest_first(repos: Repositories) -> None:
    for n, comment in enumerate(("Eka", None, "Kolmas", "Neljäs")):
        invitation = _invitation(f"inv-{n}")
        repos.invitations.create(invitation)
        at = T0 + timedelta(minutes=n)
        repos.responses.store_answer(invitation, _answer({"nps": n}, comment, at=at))
    comments = list(repos.responses.recent_comments("post-purchase", "2026-03-02", 10))
    assert [(c.invitation_id, c.comment, c.scores) for c in comments] == [
        ("inv-3", "Neljäs", {"nps": 3}),
        ("inv-2", "Kolmas", {"nps": 2}),
        ("inv-0", "Eka", {"nps": 0}),
    ]
    assert comments[0].segment == {"businessArea": "store"}
    assert comments[0].answered_at == iso(T0 + timedelta(minutes=3))
    assert len(list(repos.responses.recent_comments("post-purchase", "2026-03-02", 2))) == 2
    assert list(repos.responses.recent_comments("post-purchase", "2026-03-03", 10)) == []


# ---------------------------------------------------------------- counters


def test_counters_are_read_per_day_and_combination_of_segment_values(repos: Repositories) -> None:
    for n, (segment, day) in enumerate(
        (
            ({"businessArea": "store"}, T0),
            ({"businessArea": "store"}, T0),
            ({"businessArea": "web", "touchpoint": ""}, T0),
            ({"businessArea": "store"}, T0 + timedelta(days=1)),
            ({"businessArea": "store"}, T0 + timedelta(days=5)),
        )
    ):
        invitation = replace(_invitation(f"inv-{n}"), segment=segment)
        repos.invitations.create(invitation)
        day_text = iso(day)[:10]
        repos.responses.store_answer(invitation, _answer({"nps": 9 + n % 2}, day=day_text, at=day))
    found = sorted(
        repos.counters.read("post-purchase#nps", "2026-03-02", "2026-03-03"),
        key=lambda c: (c.day, sorted(c.segment.items())),
    )
    assert found == [
        Counter("2026-03-02", {"businessArea": "store"}, {"n": 2, "s9": 1, "s10": 1}),
        Counter("2026-03-02", {"businessArea": "web"}, {"n": 1, "s9": 1}),
        Counter("2026-03-03", {"businessArea": "store"}, {"n": 1, "s10": 1}),
    ]
    assert list(repos.counters.read("post-purchase#csat", "2026-03-02", "2026-03-09")) == []


def test_a_report_is_claimed_once_until_released(repos: Repositories) -> None:
    claim = ("Leadership", "2026-03-02", "wk 10/2026")
    assert repos.counters.claim_report(*claim)
    assert not repos.counters.claim_report(*claim)
    assert repos.counters.claim_report("Store", "2026-03-02", "wk 10/2026")
    repos.counters.release_report(*claim)
    assert repos.counters.claim_report(*claim)


def test_the_daily_quota_holds_across_runs(repos: Repositories) -> None:
    counters = repos.counters
    assert counters.cohort_quota("nps", "2026-03-02", "run-1") == CohortQuota(0, 0)
    assert counters.claim_cohort_quota("nps", "2026-03-02", "run-1", 7, 10)
    assert not counters.claim_cohort_quota("nps", "2026-03-02", "run-2", 4, 10)  # 3 left
    assert counters.claim_cohort_quota("nps", "2026-03-02", "run-2", 3, 10)
    assert counters.cohort_quota("nps", "2026-03-02", "run-1") == CohortQuota(10, 7)
    counters.release_cohort_quota("nps", "2026-03-02", "run-1", 2)
    counters.release_cohort_quota("nps", "2026-03-02", "run-1", 0)  # nothing to give back
    assert counters.cohort_quota("nps", "2026-03-02", "run-1") == CohortQuota(8, 5)
    assert counters.cohort_quota("nps", "2026-03-03", "run-1") == CohortQuota(0, 0)


def test_requested_customers_leave_their_cohort_day_and_count_as_done(
    repos: Repositories,
) -> None:
    for customer_id in ("c-1", "c-2", "c-3"):
        repos.customers.remember(_sighting(customer_id))
    repos.counters.claim_cohort_quota("nps", "2026-03-02", "run-1", 3, 10)
    later = T0 + timedelta(days=30)
    repos.counters.mark_requested("nps", "2026-03-02", "run-1", ["c-1", "c-3"], later)
    repos.counters.mark_requested("nps", "2026-03-02", "run-1", [], later)
    assert list(repos.customers.in_cohort_day("2026-03-02")) == ["c-2"]
    assert list(repos.customers.in_cohort_day("2026-04-01")) == ["c-1", "c-3"]
    assert repos.counters.cohort_quota("nps", "2026-03-02", "run-1") == CohortQuota(3, 1)
    with pytest.raises(ValueError, match="COHORT_BATCH"):
        ids = [f"c-{n}" for n in range(COHORT_BATCH + 1)]
        repos.counters.mark_requested("nps", "2026-03-02", "run-1", ids, later)
