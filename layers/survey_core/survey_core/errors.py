"""Domain errors. Their class names are what Step Functions Retry/Catch match on (errorType)."""


class SurveyError(Exception):
    """Base of every error this package raises on purpose."""


class SendThrottled(SurveyError):
    """SES or SNS throttled us; the lifecycle retries with backoff and jitter."""


class NoReachableChannel(SurveyError):
    """The customer has no usable contact point on any channel of the ladder."""


class InvitationNotFound(SurveyError):
    """No invitation with that id or link token."""


class SurveyClosed(SurveyError):
    """The invitation expired or failed: it can no longer be answered."""


class InvalidAnswer(SurveyError):
    """A score outside its scale, a comment too long, or a malformed form."""
