"""Data access: the only code that talks to DynamoDB (PynamoDB) and the other AWS services."""
