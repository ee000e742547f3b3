"""JSON-schema layer of the config: where the schemas live, loading them, and
validating an instance with the schema's defaults filled in."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sigrestore.errors import ConfigError

SCHEMA_DIR_ENV = "SIGRESTORE_SCHEMA_DIR"


def schema_dir() -> Path:
    """Directory of the JSON schemas (``workflow/schemas`` of the repository).

    ``$SIGRESTORE_SCHEMA_DIR`` overrides it (for installs without the workflow).
    """
    env = os.environ.get(SCHEMA_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "workflow" / "schemas"


def load_schema(name: str) -> dict[str, Any]:
    """Read ``<name>.schema.yaml`` from :func:`schema_dir`."""
    import yaml

    path = schema_dir() / f"{name}.schema.yaml"
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read the {name} schema {path}: {exc.strerror}") from None


def _default_validator(schema: Mapping[str, Any]):
    from jsonschema import Draft202012Validator, validators

    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if isinstance(sub, Mapping) and "default" in sub:
                    instance.setdefault(key, copy.deepcopy(sub["default"]))
        yield from validate_properties(validator, properties, instance, subschema)

    cls = validators.extend(Draft202012Validator, {"properties": set_defaults})
    return cls(schema)


def apply_schema(instance: Any, schema: Mapping[str, Any], *, what: str) -> Any:
    """Validate ``instance`` (filling defaults in place); raise ConfigError naming the key."""
    validator = _default_validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors:
            key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
            lines.append(f"  key {key}: {err.message}")
        raise ConfigError(f"{what} is invalid:\n" + "\n".join(lines))
    return instance
