"""One Logger, Tracer and Metrics per function. Service name, log level and namespace come
from the template's Globals (POWERTOOLS_* variables); no metric is added at import time."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Only botocore is patched: the AWS calls are what the traces are for, and patching every
# library the X-Ray SDK knows (sqlite3, httplib, requests, ...) imports them all at cold start.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()


def correlate(correlation_id: str | None) -> None:
    """The id every later log line of this request carries (None: none). Each handler sets its
    request's id first thing (the logger outlives a request in a warm sandbox), and the use
    cases set the invitation id the moment they know it, so that an error logged later in the
    same request is found under the survey it belongs to."""
    logger.set_correlation_id(correlation_id)
