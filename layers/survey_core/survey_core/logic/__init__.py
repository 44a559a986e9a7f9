"""Use cases: one module per function. They call the data layer, never boto3 directly."""
