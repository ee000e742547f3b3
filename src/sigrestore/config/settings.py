"""Resolution of a checked config into the package's typed settings.

:func:`resolve_settings` turns the schema-checked config (defaults filled in)
and the checked sample sheet into one :class:`Settings`: the source's settings
(:mod:`sigrestore.sources`), :class:`~sigrestore.diffexp.DESettings`, the
contrasts, one :class:`~sigrestore.restoration.ComparisonSpec` per comparison
(nulls resolved: seeds, call thresholds, level), the enrichment settings and
the seed.  :func:`~sigrestore.config.check_config` returns it; the workflow
rules and scripts pass its parts on and never re-read the config.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from sigrestore.errors import ConfigError

#: The schema's ``seed`` default (used when a config dict lacks the key).
DEFAULT_SEED = 20080601


@dataclass(frozen=True, eq=False)
class Settings:
    """A config resolved once (what :func:`~sigrestore.config.check_config` returns).

    Attributes
    ----------
    samples : DataFrame
        The sample sheet with ``path`` (resolved file) and ``group`` (the
        design's group of every array).
    source : str
        ``data.source`` (e.g. ``"affymetrix"``).
    source_settings : object
        The source module's ``Settings`` (e.g.
        :class:`sigrestore.sources.affymetrix.Settings`).
    de : DESettings
        Design, limma options, collapse method, expression filter, plot thresholds.
    contrasts : dict
        Contrast name -> expression over group names.
    comparisons : tuple of ComparisonSpec
        The restoration comparisons, resolved.
    enrichment : EnrichmentSettings
        Prerank options with the seed.
    gene_sets : tuple of str
        GMT files.
    seed : int
        The config's seed.
    qc : PanelCap
        The cap on per-array panels in the QC figures (``qc.max_panels``).
    figure_formats : tuple of str
        The formats every figure is written in (``figures.formats``; PNG first).
    """

    samples: pd.DataFrame
    source: str
    source_settings: Any
    de: Any
    contrasts: dict[str, str]
    comparisons: tuple[Any, ...]
    enrichment: Any
    gene_sets: tuple[str, ...]
    seed: int
    qc: Any = None
    figure_formats: tuple[str, ...] = ("png",)

    @property
    def has_annotation(self) -> bool:
        """Whether gene-level results can be made (the source has gene annotation)."""
        return gene_level(self.source_settings)

    def comparison(self, name: str):
        """The :class:`~sigrestore.restoration.ComparisonSpec` named ``name``."""
        for spec in self.comparisons:
            if spec.name == name:
                return spec
        raise ConfigError(
            f"unknown comparison {name!r}; known: {[c.name for c in self.comparisons]}"
        )


def gene_level(settings: Any) -> bool:
    """Whether a source's settings give gene-level results.

    A source's ``Settings`` may say so itself (a ``gene_level`` attribute:
    the count source when its table has symbols, GEO when the fetch step
    caches the platform annotation); otherwise a truthy ``annotation`` (the
    file its gene annotation comes from).
    """
    level = getattr(settings, "gene_level", None)
    if level is not None:
        return bool(level)
    return bool(getattr(settings, "annotation", None))


def source_settings(config: Mapping[str, Any], samples: pd.DataFrame | None = None):
    """``(kind, settings)`` of the config's data source (``data.source``)."""
    from sigrestore.sources import source_module

    kind = source_kind(config)
    return kind, source_module(kind).settings_from_config(config, samples)


def source_kind(config: Mapping[str, Any]) -> str:
    """``data.source``; the shorthand ``data: {geo: GSE...}`` (an accession
    string, no other source named) means ``geo``."""
    data = config.get("data", {}) or {}
    kind = data.get("source") or "affymetrix"
    if kind == "affymetrix" and isinstance(data.get("geo"), str):
        return "geo"
    return kind


def annotation_given(config: Mapping[str, Any]) -> bool:
    """True when the config gives a probe-set annotation (gene-level results possible).

    ``data.affymetrix.annotation`` or the legacy ``platform.annotation``.
    """
    _, settings = source_settings(config)
    return gene_level(settings)


def de_settings(config: Mapping[str, Any]):
    """The :class:`~sigrestore.diffexp.DESettings` of the ``design`` and
    ``differential_expression`` sections (schema defaults filled in)."""
    from sigrestore.diffexp import DESettings

    design = config.get("design", {}) or {}
    options = dict(config.get("differential_expression", {}) or {})
    return DESettings.from_options(
        factors=design.get("factors", ()),
        covariates=design.get("covariates") or (),
        block=design.get("block"),
        **options,
    )


def enrichment_settings(config: Mapping[str, Any]):
    """The :class:`~sigrestore.enrichment.EnrichmentSettings` of the config."""
    from sigrestore.enrichment import EnrichmentSettings

    return EnrichmentSettings(
        **dict(config.get("enrichment", {}) or {}), seed=config.get("seed", DEFAULT_SEED)
    )


def resolve_settings(config: Mapping[str, Any], samples: pd.DataFrame) -> Settings:
    """The typed settings of a schema-checked config and its checked sheet.

    Parameters
    ----------
    config
        The config, schema defaults filled in (paths resolved as wanted).
    samples
        The sheet with its ``group`` column (as :func:`check_config` makes it).
    """
    kind, source = source_settings(config, samples)
    seed = config.get("seed", DEFAULT_SEED)
    has_annotation = gene_level(source)
    return Settings(
        samples=samples,
        source=kind,
        source_settings=source,
        de=de_settings(config),
        contrasts=dict(config.get("contrasts", {}) or {}),
        comparisons=tuple(
            comparison_spec(entry, seed=seed, has_annotation=has_annotation)
            for entry in config.get("comparisons", [])
        ),
        enrichment=enrichment_settings(config),
        gene_sets=tuple(config.get("gene_sets", [])),
        seed=seed,
        qc=qc_settings(config),
        figure_formats=figure_formats(config),
    )


def figure_formats(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``figures.formats`` of the config, PNG first (the report's copy)."""
    formats = list((config.get("figures", {}) or {}).get("formats", ["png"]))
    if "png" not in formats:
        raise ConfigError(f"key 'figures.formats' must include png, got {formats}")
    return ("png", *(f for f in formats if f != "png"))


def qc_settings(config: Mapping[str, Any]):
    """The :class:`~sigrestore.plotting.selection.PanelCap` of the ``qc`` section."""
    # selection imports numpy only (not matplotlib): cheap at workflow parse time.
    from sigrestore.plotting.selection import PanelCap

    return PanelCap(**dict(config.get("qc", {}) or {}))


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
    _nest_signature(d)
    # Every seeded section's null seed is the config's seed.
    for section in ("bootstrap", "connectivity", "corrected"):
        d.setdefault(section, {}).setdefault("seed", seed)
    d["level"] = comparison_level(entry, has_annotation=has_annotation)
    return d


def _nest_signature(d: dict[str, Any]) -> None:
    """Let a nested ``signature:`` block replace the top-level keys it gives.

    The schema fills the top-level ``fdr``/``lfc``/``method``/``top_n`` with
    their defaults, so a top-level key is a conflict only when it differs
    from both its default and the nested value.
    """
    nested = d.get("signature")
    if not nested:
        d.pop("signature", None)
        return
    from sigrestore.restoration.spec import SignatureThresholds

    defaults = asdict(SignatureThresholds())
    for key, value in nested.items():
        if key in d and d[key] != defaults.get(key) and d[key] != value:
            raise ConfigError(
                f"comparison {d.get('name')!r}: key {key!r} given both at top level ({d[key]!r})"
                f" and under 'signature' ({value!r})"
            )
        d.pop(key, None)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value
