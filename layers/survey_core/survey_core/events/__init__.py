"""Event contracts: the JSON Schemas of the events in and out, and their validation."""
