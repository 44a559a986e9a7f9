"""The data lake: what the tables hold, as rows analysts can query (docs/analytics.md).

Pure code: rows.py maps DynamoDB stream records (and items read by the backfill) to lake rows,
objects.py turns rows into the objects written to S3 and back. The AWS calls are in
dal/lake.py, the use case in logic/lake_export.py.
"""
