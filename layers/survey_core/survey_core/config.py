"""Function configuration, parsed once from the environment at the edge, typed, failing fast.

Logic never reads os.environ: handlers call one of these loaders at import time and pass the
result down.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Struct

from .clock import Clock, clock_from_spec


class ConfigError(RuntimeError):
    """A required setting is missing or malformed; the message names it."""


def _require(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is required")
    return value


def _time_zone(environ: Mapping[str, str], name: str) -> ZoneInfo:
    value = _require(environ, name)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"environment variable {name}: unknown time zone {value!r}") from None


class Tables(Struct, frozen=True):
    customers: str
    invitations: str
    responses: str
    aggregates: str
    escalations: str
    suppressions: str


class Retention(Struct, frozen=True):
    """Days each kind of personal data is kept before DynamoDB TTL deletes it (template
    parameters per entity). A customer's clock restarts with each activity; the others count
    from when the item was written."""

    customers: int
    invitations: int
    responses: int
    escalations: int


RETENTION_VARIABLES = {
    "customers": "CUSTOMER_RETENTION_DAYS",
    "invitations": "INVITATION_RETENTION_DAYS",
    "responses": "RESPONSE_RETENTION_DAYS",
    "escalations": "ESCALATION_RETENTION_DAYS",
}


def _retention(environ: Mapping[str, str]) -> Retention:
    days: dict[str, int] = {}
    for entity, name in RETENTION_VARIABLES.items():
        value = _require(environ, name)
        if not value.isdigit() or int(value) < 1:
            raise ConfigError(f"environment variable {name} must be a whole number of days")
        days[entity] = int(value)
    return Retention(**days)


class Common(Struct, frozen=True):
    region: str
    tables: Tables
    event_bus_name: str
    retention: Retention
    reporting_time_zone: ZoneInfo
    clock: Clock

    @classmethod
    def common_kwargs(cls, environ: Mapping[str, str]) -> dict[str, object]:
        region = environ.get("AWS_REGION") or _require(environ, "AWS_DEFAULT_REGION")
        return {
            "region": region,
            "tables": Tables(
                customers=_require(environ, "CUSTOMERS_TABLE"),
                invitations=_require(environ, "INVITATIONS_TABLE"),
                responses=_require(environ, "RESPONSES_TABLE"),
                aggregates=_require(environ, "AGGREGATES_TABLE"),
                escalations=_require(environ, "ESCALATIONS_TABLE"),
                suppressions=_require(environ, "SUPPRESSIONS_TABLE"),
            ),
            "event_bus_name": _require(environ, "EVENT_BUS_NAME"),
            "retention": _retention(environ),
            "reporting_time_zone": _time_zone(environ, "REPORTING_TIME_ZONE"),
            # Only the local stack sets LOCAL_CLOCK (a scaled clock); the cloud uses real time.
            "clock": clock_from_spec(environ.get("LOCAL_CLOCK")),
        }


class TriggerConfig(Common, frozen=True):
    state_machine_arn: str
    rejected_events_queue_url: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TriggerConfig:
        return cls(
            **cls.common_kwargs(environ),  # type: ignore[arg-type]
            state_machine_arn=_require(environ, "STATE_MACHINE_ARN"),
            rejected_events_queue_url=_require(environ, "REJECTED_EVENTS_QUEUE_URL"),
        )


class SendConfig(Common, frozen=True):
    sender_email: str
    email_configuration_set: str
    sms_origination_identity: str | None
    survey_base_url: str
    # Each survey's expiry: a one-time schedule in this group, run with this role.
    expiry_schedule_group: str
    expiry_schedule_role_arn: str
    failed_deliveries_queue_arn: str | None = None  # where an expiry run that keeps failing waits

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SendConfig:
        return cls(
            **cls.common_kwargs(environ),  # type: ignore[arg-type]
            sender_email=_require(environ, "SENDER_EMAIL"),
            email_configuration_set=_require(environ, "EMAIL_CONFIGURATION_SET"),
            sms_origination_identity=environ.get("SMS_ORIGINATION_IDENTITY") or None,
            survey_base_url=_require(environ, "SURVEY_BASE_URL").rstrip("/"),
            expiry_schedule_group=_require(environ, "EXPIRY_SCHEDULE_GROUP"),
            expiry_schedule_role_arn=_require(environ, "EXPIRY_SCHEDULE_ROLE_ARN"),
            failed_deliveries_queue_arn=environ.get("FAILED_DELIVERIES_QUEUE_ARN") or None,
        )


class CollectConfig(Common, frozen=True):
    # Help replies to SMS answers go out from the number the customer wrote to (two-way SMS).
    sms_origination_identity: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CollectConfig:
        return cls(
            **cls.common_kwargs(environ),  # type: ignore[arg-type]
            sms_origination_identity=environ.get("SMS_ORIGINATION_IDENTITY") or None,
        )


class OutboxConfig(Common, frozen=True):
    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OutboxConfig:
        return cls(**cls.common_kwargs(environ))  # type: ignore[arg-type]


class DeliveryConfig(Common, frozen=True):
    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DeliveryConfig:
        return cls(**cls.common_kwargs(environ))  # type: ignore[arg-type]


class EscalateConfig(Common, frozen=True):
    connect_instance_id: str
    connect_contact_flow_id: str
    # A link on the task for the agent, e.g. https://crm.example.com/customers/{customerId};
    # {customerId}, {invitationId} and {surveyId} are filled in. None: no link.
    task_reference_url: str | None = None
    notification_topic_arn: str | None = None  # also tell a team topic; None: only the task
    # After how many days Connect ends a task nobody took (the instance's task expiry): a task
    # that ends unassigned that late is "expired", not "not reached".
    task_expiry_days: int = 7

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> EscalateConfig:
        reference = environ.get("TASK_REFERENCE_URL") or None
        if reference is not None:
            _check_reference_url(reference)
        expiry = environ.get("CONNECT_TASK_EXPIRY_DAYS", "").strip() or "7"
        if not expiry.isdigit() or not 1 <= int(expiry) <= MAX_TASK_EXPIRY_DAYS:
            raise ConfigError(
                f"CONNECT_TASK_EXPIRY_DAYS must be a whole number of days, 1-{MAX_TASK_EXPIRY_DAYS}"
            )
        return cls(
            **cls.common_kwargs(environ),  # type: ignore[arg-type]
            connect_instance_id=_require(environ, "CONNECT_INSTANCE_ID"),
            connect_contact_flow_id=_require(environ, "CONNECT_CONTACT_FLOW_ID"),
            task_reference_url=reference,
            notification_topic_arn=environ.get("ESCALATION_TOPIC_ARN") or None,
            task_expiry_days=int(expiry),
        )


MAX_TASK_EXPIRY_DAYS = 90  # Connect lets a task live at most 90 days


REFERENCE_PLACEHOLDERS = ("customerId", "invitationId", "surveyId")


def _check_reference_url(url: str) -> None:
    if not url.startswith("https://"):
        raise ConfigError("TASK_REFERENCE_URL must be an https:// URL")
    try:
        url.format(**dict.fromkeys(REFERENCE_PLACEHOLDERS, "x"))
    except (KeyError, IndexError, ValueError) as error:
        raise ConfigError(
            "TASK_REFERENCE_URL may use only {customerId}, {invitationId} and {surveyId}: "
            f"{error}"
        ) from None


class CohortsConfig(Common, frozen=True):
    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CohortsConfig:
        return cls(**cls.common_kwargs(environ))  # type: ignore[arg-type]


class ReportConfig(Common, frozen=True):
    sender_email: str  # recipients, scopes and times are in reports.yaml

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ReportConfig:
        return cls(
            **cls.common_kwargs(environ),  # type: ignore[arg-type]
            sender_email=_require(environ, "SENDER_EMAIL"),
        )


class ResultsConfig(Common, frozen=True):
    """The results view (functions/results): its user pool and client, where people sign in,
    the view's own public URL, and the key of its forms' CSRF tokens."""

    user_pool_id: str
    client_id: str
    sign_in_url: str  # the managed login's base URL (https://<domain>.auth.<region>...)
    results_url: str  # the view's public URL, e.g. https://<api>/prod/results
    form_key_secret_arn: str
    # The local stack has no managed login: a page of the view's own signs people in with
    # their password (Cognito's USER_PASSWORD_AUTH). Never set in the cloud.
    local_sign_in: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ResultsConfig:
        return cls(
            **cls.common_kwargs(environ),  # type: ignore[arg-type]
            user_pool_id=_require(environ, "RESULTS_USER_POOL_ID"),
            client_id=_require(environ, "RESULTS_CLIENT_ID"),
            sign_in_url=_require(environ, "RESULTS_SIGN_IN_URL").rstrip("/"),
            results_url=_require(environ, "RESULTS_URL").rstrip("/"),
            form_key_secret_arn=_require(environ, "RESULTS_FORM_KEY_SECRET_ARN"),
            local_sign_in=environ.get("RESULTS_LOCAL_SIGN_IN") == "true",
        )
