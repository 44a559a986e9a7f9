"""What the use cases know of stored data: per aggregate, its entities as plain values (frozen
msgspec Structs; docs/architecture.md says why) and the small interface of its repository (a
typing.Protocol).

dal/ implements each repository on DynamoDB (the PynamoDB models never leave dal/);
tests/repositories.py implements the same interfaces in memory, and one contract suite
(tests/integration/test_repository_contracts.py) runs the same tests on both.
"""
