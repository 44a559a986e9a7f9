"""The YAML configuration files (the catalogue, the report groups), parsed by libyaml's safe
loader where the PyYAML wheel has it: a few times faster than PyYAML's pure Python one, and the
same data (tests/unit/test_catalogue.py checks both). Used by the checks, the tests, the local
stack and the layer's build, which ships the files as JSON: Lambda never parses YAML."""

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # a PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

YAMLError = yaml.YAMLError


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)
