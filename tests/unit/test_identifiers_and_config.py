import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from survey_core.catalogue import business_key
from survey_core.clock import iso, scaled_clock
from survey_core.config import ConfigError, EscalateConfig, ReportConfig, TriggerConfig
from survey_core.tokens import invitation_id, is_well_formed_link_token, new_link_token

pytestmark = pytest.mark.unit

COMMON = {
    "AWS_REGION": "eu-north-1",
    "CUSTOMERS_TABLE": "c",
    "INVITATIONS_TABLE": "i",
    "RESPONSES_TABLE": "r",
    "AGGREGATES_TABLE": "a",
    "ESCALATIONS_TABLE": "e",
    "SUPPRESSIONS_TABLE": "s",
    "EVENT_BUS_NAME": "bus",
    "CUSTOMER_RETENTION_DAYS": "400",
    "INVITATION_RETENTION_DAYS": "200",
    "RESPONSE_RETENTION_DAYS": "730",
    "ESCALATION_RETENTION_DAYS": "90",
    "REPORTING_TIME_ZONE": "Europe/Helsinki",
}


def test_link_tokens_are_128_bit_and_unique() -> None:
    tokens = {new_link_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) == 22 and is_well_formed_link_token(t) for t in tokens)


@pytest.mark.parametrize("token", ["", "short", "x" * 23, "a" * 21 + "/", "../../etc/passwd"])
def test_malformed_tokens_are_recognised(token: str) -> None:
    assert not is_well_formed_link_token(token)


def test_invitation_id_is_stable_per_business_event_and_survey() -> None:
    first = invitation_id("post-purchase", "Purchase Completed:A-1")
    assert first == invitation_id("post-purchase", "Purchase Completed:A-1")
    assert first != invitation_id("post-purchase", "Purchase Completed:A-2")
    assert first != invitation_id("other", "Purchase Completed:A-1")
    assert len(first) == 32


def test_business_key_uses_the_order_not_the_event_id() -> None:
    assert business_key("Purchase Completed", {"orderId": "A-1"}) == "Purchase Completed:A-1"


def test_an_inactive_spell_is_keyed_by_customer_and_start() -> None:
    detail = {"customer": {"id": "c-1"}, "inactiveSince": "2026-08-01T10:00:00Z"}
    assert business_key("Customer Inactive", detail) == "Customer Inactive:c-1:2026-08-01T10:00:00Z"


def test_config_parses_and_fails_fast_naming_the_variable() -> None:
    env = {**COMMON, "STATE_MACHINE_ARN": "arn", "REJECTED_EVENTS_QUEUE_URL": "url"}
    config = TriggerConfig.from_env(env)
    assert config.tables.invitations == "i"
    assert (config.retention.customers, config.retention.invitations) == (400, 200)
    assert (config.retention.responses, config.retention.escalations) == (730, 90)
    with pytest.raises(ConfigError, match="STATE_MACHINE_ARN"):
        TriggerConfig.from_env(COMMON)


@pytest.mark.parametrize("value", ["", "0", "-5", "1.5", "a year"])
def test_config_rejects_a_bad_retention_naming_the_variable(value: str) -> None:
    env = {**COMMON, "RESPONSE_RETENTION_DAYS": value, "SENDER_EMAIL": "a@b.c"}
    with pytest.raises(ConfigError, match="RESPONSE_RETENTION_DAYS"):
        ReportConfig.from_env(env)


def test_config_rejects_unknown_time_zone() -> None:
    env = {**COMMON, "REPORTING_TIME_ZONE": "Mars/Olympus"}
    with pytest.raises(ConfigError, match="REPORTING_TIME_ZONE"):
        ReportConfig.from_env({**env, "SENDER_EMAIL": "a@b.c"})


CONNECT = {"CONNECT_INSTANCE_ID": "i", "CONNECT_CONTACT_FLOW_ID": "f"}


@pytest.mark.parametrize(("value", "days"), [(None, 7), ("", 7), ("1", 1), ("90", 90)])
def test_the_task_expiry_defaults_to_connects_seven_days(value: str | None, days: int) -> None:
    env = {**COMMON, **CONNECT}
    if value is not None:
        env["CONNECT_TASK_EXPIRY_DAYS"] = value
    assert EscalateConfig.from_env(env).task_expiry_days == days


@pytest.mark.parametrize("value", ["0", "91", "7.5", "a week"])
def test_a_task_expiry_connect_cannot_have_is_refused(value: str) -> None:
    env = {**COMMON, **CONNECT, "CONNECT_TASK_EXPIRY_DAYS": value}
    with pytest.raises(ConfigError, match="CONNECT_TASK_EXPIRY_DAYS"):
        EscalateConfig.from_env(env)


def test_scaled_clock_starts_at_the_given_instant() -> None:
    # Given a clock anchored now, running 3600x
    clock = scaled_clock(f"2026-11-16T09:00:00+02:00|{time.time()}|3600")
    # Then it reads the start instant, within the few scaled seconds this test takes
    elapsed = clock() - datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    assert timedelta(0) <= elapsed < timedelta(hours=1)
    frozen = scaled_clock("2026-11-16T09:00:00+02:00|0|0")
    assert frozen() == frozen() == datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    assert iso(datetime(2026, 11, 16, 7, 0, tzinfo=UTC)) == "2026-11-16T07:00:00Z"


@pytest.fixture
def models_as_they_were() -> Iterator[None]:
    """The test process's models are bound by other tests too: put them back as they were."""
    from survey_core.dal import models

    fields = ("table_name", "region", "host")
    kept = [
        (model, {name: getattr(model.Meta, name, None) for name in fields})
        for model in (models.Customer, models.Invitation, models.Response, models.AggregateCounter,
                      models.Escalation, models.ContactLink, models.Suppression)
    ]  # fmt: skip
    yield
    for model, meta in kept:
        for name, value in meta.items():
            setattr(model.Meta, name, value)
        model._connection = None


def test_a_model_bound_anew_forgets_the_endpoint_it_was_bound_to(
    models_as_they_were: None,
) -> None:
    # The operator tools bind the models to a local stack's endpoint; binding them to a stack's
    # tables afterwards (same names: the template's) must not keep talking to that endpoint.
    from survey_core.config import Tables
    from survey_core.dal.models import Customer, bind, bind_tables

    bind(Customer, "customers", "eu-north-1", "http://127.0.0.1:9")
    assert Customer._get_connection().connection.host == "http://127.0.0.1:9"
    names = ("customers", "invitations", "responses", "aggregates", "escalations", "suppressions")
    bind_tables(Tables(*names), "eu-north-1")
    assert Customer.Meta.host is None
    assert Customer._get_connection().connection.host is None
