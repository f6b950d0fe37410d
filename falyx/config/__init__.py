"""Config-driven workflows: a `Falyx` app from falyx.yaml, falyx.toml or pyproject.toml.

    from falyx.config import load
    app = load("falyx.yaml")          # or Falyx.from_config("falyx.yaml")

A frontend (DESIGN §2.13): it builds apps through the public API only, and nothing below it
knows it exists. Importing this package loads msgspec; yaml is loaded only to read YAML.
"""

from falyx.config.build import load
from falyx.config.problems import ConfigFileError, Problem
from falyx.config.schema import json_schema

__all__ = ["ConfigFileError", "Problem", "json_schema", "load"]
