"""Resolution of config entries into the package's settings (comparison specs, levels)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sigrestore.errors import ConfigError


def annotation_given(config: Mapping[str, Any]) -> bool:
    """True when the config gives ``platform.annotation`` (gene-level results possible)."""
    return bool(config.get("platform", {}).get("annotation"))


def comparison_spec(entry: Mapping[str, Any], *, seed: int, has_annotation: bool = False):
    """The :class:`~sigrestore.restoration.ComparisonSpec` of one config entry.

    Schema defaults that mean "inherit" (``null`` seeds, call thresholds and
    level) are resolved here: seeds from the config's ``seed``, call ``fdr``
    from the signature's, ``level`` from ``has_annotation`` (see
    :func:`comparison_level`).
    """
    from sigrestore.restoration.spec import ComparisonSpec

    return ComparisonSpec.from_dict(
        comparison_dict(entry, seed=seed, has_annotation=has_annotation)
    )


def comparison_level(
    entry: Mapping[str, Any], *, has_annotation: bool, where: str | None = None
) -> str:
    """The level (``"gene"`` or ``"probeset"``) of a comparison entry.

    ``level`` null or absent means ``"gene"`` when the config gives
    ``platform.annotation`` and ``"probeset"`` otherwise.  ``where`` names the
    entry in the error message (default: by its name).

    Raises
    ------
    ConfigError
        ``level`` is ``"gene"`` but there is no annotation to map probe sets to genes.
    """
    level = entry.get("level")
    if level is None:
        return "gene" if has_annotation else "probeset"
    if level == "gene" and not has_annotation:
        if where is None:
            where = f"config key comparisons.level (comparison {entry.get('name')!r})"
        raise ConfigError(
            f"{where}: 'gene' needs platform.annotation to map probe sets to genes; give an"
            " annotation or set level: probeset"
        )
    return level


def comparison_dict(
    entry: Mapping[str, Any], *, seed: int, has_annotation: bool = False
) -> dict[str, Any]:
    """One config entry as :meth:`ComparisonSpec.from_dict` takes it (nulls resolved)."""
    d = _drop_none(copy.deepcopy(dict(entry)))
    for section in ("bootstrap", "connectivity"):
        d.setdefault(section, {}).setdefault("seed", seed)
    d["level"] = comparison_level(entry, has_annotation=has_annotation)
    return d


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value
