"""Domain errors. Their class names are what Step Functions Retry/Catch match on (errorType)."""


class SurveyError(Exception):
    """Base of every error this package raises on purpose."""


class SendThrottled(SurveyError):
    """SES or SNS throttled us; the lifecycle retries with backoff and jitter."""


class IntentNotRecorded(SurveyError):
    """The note that a message is about to be sent could not be written (DynamoDB failed after
    retries): nothing was sent, and the lifecycle retries the rung."""


class NotRecorded(SurveyError):
    """A record of what already happened (a message SES or SNS took, or did not take) could not
    be written after retries."""


class ExpiryNotPlanned(SurveyError):
    """Scheduler refused a survey's expiry schedule (the code says why). The survey still
    expires: the last rung's own timeout is a backstop a day later."""


class EventsNotPut(SurveyError):
    """EventBridge refused some events after retries; `failed` are their indexes. The expiry
    step raises it for the lifecycle to retry."""

    def __init__(self, failed: list[int], codes: set[str]) -> None:
        super().__init__(f"{len(failed)} events not put: {', '.join(sorted(codes))}")
        self.failed = failed


class ReportsNotSent(SurveyError):
    """Some due reports could not be sent (their claims released); the others went. Raised
    after the run's outcomes are logged, so that the run is retried for the missing ones."""

    def __init__(self, groups: list[str], errors: set[str]) -> None:
        super().__init__(f"reports not sent: {', '.join(groups)} ({', '.join(sorted(errors))})")
        self.groups = groups


class NoReachableChannel(SurveyError):
    """The invitation cannot go out: no channel of its ladder can reach the customer now."""


class MessageRefused(SurveyError):
    """SES or SNS refused one message for good (a rejected address, an invalid number); the
    code is AWS's error code. Another channel may still work."""

    def __init__(self, service: str, code: str) -> None:
        super().__init__(f"{service}: {code}")
        self.code = code


class DeliveryFailed(SurveyError):
    """SES or SNS refused the invitation on every usable channel (e.g. a rejected address)."""


class EmailBounced(SurveyError):
    """Not raised here: the error name the delivery function ends a rung's wait with
    (SendTaskFailure) when its email bounced, so the lifecycle resends the rung by SMS."""


class InvitationNotFound(SurveyError):
    """No invitation with that id or link token."""


class SurveyClosed(SurveyError):
    """The invitation expired or failed: it can no longer be answered."""


class InvalidAnswer(SurveyError):
    """A score outside its scale, a comment too long, or a malformed form."""
