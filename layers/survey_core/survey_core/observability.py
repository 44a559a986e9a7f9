"""One Logger, Tracer and Metrics per function. Service name, log level and namespace come
from the template's Globals (POWERTOOLS_* variables); no metric is added at import time."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Only botocore is patched: the AWS calls are what the traces are for, and patching every
# library the X-Ray SDK knows (sqlite3, httplib, requests, ...) imports them all at cold start.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
