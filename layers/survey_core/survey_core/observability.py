"""One Logger, Tracer and Metrics per function. Service name, log level and namespace come
from the template's Globals (POWERTOOLS_* variables); no metric is added at import time."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
