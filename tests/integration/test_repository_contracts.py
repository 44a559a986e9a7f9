"""One contract per repository, run on the in-memory fakes the unit tests use
(tests/repositories.py) and on DynamoDB (the template's tables in moto): a fake that drifts
from what the tables do fails here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from survey_core.config import Tables
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.domain.customers import Customer, LastActivity, Sighting
from survey_core.domain.repositories import Repositories
from survey_core.domain.suppressions import Suppression, address_key, suppressed_channels

from tests.conftest import REGION, Deployment
from tests.repositories import memory_repositories

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)
KEEP = timedelta(days=400)


@pytest.fixture(params=["memory", "dynamodb"])
def repos(request: pytest.FixtureRequest) -> Iterator[Repositories]:
    if request.param == "memory":
        yield memory_repositories()
        return
    deployment: Deployment = request.getfixturevalue("deployment")
    tables = Tables(
        customers=deployment.physical_id("CustomersTable"),
        invitations=deployment.physical_id("InvitationsTable"),
        responses=deployment.physical_id("ResponsesTable"),
        aggregates=deployment.physical_id("AggregatesTable"),
        escalations=deployment.physical_id("EscalationsTable"),
        suppressions=deployment.physical_id("SuppressionsTable"),
    )
    yield dynamodb_repositories(tables, REGION)


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
