"""The differential-expression settings as typed objects (the config's ``design``
and ``differential_expression`` sections, resolved once by
:func:`sigrestore.config.check_config`).

Defaults equal those of ``workflow/schemas/config.schema.yaml`` (the single
source of defaults; tests/test_architecture.py checks that they agree).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sigrestore.diffexp.design import Covariate, Design, build_design, covariate_spec
from sigrestore.diffexp.filtering import ExpressionFilter

__all__ = ["DESettings", "DesignSpec", "LimmaOptions"]

#: Gene-collapse methods (:func:`sigrestore.annotation.collapse_to_genes`).
DEFAULT_COLLAPSE = "max_mean"


@dataclass(frozen=True)
class DesignSpec:
    """The config's ``design`` section.

    Attributes
    ----------
    factors : tuple of str
        Sample-sheet columns whose level combinations are the groups.
    covariates : tuple of Covariate
        Columns added to the model as covariates.  Given as column names
        (``"rin"``, ``"C(batch)"``), config mappings (``{"name": "rin",
        "type": "numeric"}``) or :class:`~sigrestore.diffexp.Covariate`
        objects; stored as Covariate objects (see
        :func:`~sigrestore.diffexp.design.covariate_spec`), so a numeric
        column enters every fit as one slope and ``type: factor`` is kept.
    block : str or None
        Column used as a blocking factor (duplicateCorrelation), or None.
    """

    factors: tuple[str, ...]
    covariates: tuple[Covariate, ...] = ()
    block: str | None = None

    def __post_init__(self) -> None:
        # Normalised once so the spec is hashable, compares equal however the
        # config spelled a covariate, and its repr (the rules' fingerprint)
        # shows how each covariate enters.
        object.__setattr__(self, "factors", tuple(str(f) for f in self.factors))
        object.__setattr__(
            self, "covariates", tuple(covariate_spec(c) for c in self.covariates or ())
        )

    def build(self, samples: pd.DataFrame, *, sample_column: str = "sample") -> Design:
        """The design matrix of ``samples`` (the model every fit uses; no block)."""
        return build_design(
            samples,
            factors=list(self.factors),
            covariates=list(self.covariates),
            sample_column=sample_column,
        )

    def keywords(self) -> dict[str, Any]:
        """As :func:`~sigrestore.diffexp.differential_expression` takes them."""
        return {
            "factors": list(self.factors),
            "covariates": list(self.covariates),
            "block": self.block,
        }


@dataclass(frozen=True)
class LimmaOptions:
    """limma's fit and moderation options (the config's ``differential_expression``).

    Attributes
    ----------
    trend, robust : bool
        eBayes ``trend=`` and ``robust=``.
    treat_lfc : float
        Test against this minimum |log2 fold change| (TREAT) when above 0.
    array_weights : bool
        Down-weight noisy arrays (arrayWeights).
    """

    trend: bool = False
    robust: bool = False
    treat_lfc: float = 0.0
    array_weights: bool = False

    def keywords(self) -> dict[str, Any]:
        """As :func:`~sigrestore.diffexp.differential_expression` takes them."""
        return {
            "trend": self.trend,
            "robust": self.robust,
            "treat_lfc": self.treat_lfc,
            "array_weights": self.array_weights,
        }


@dataclass(frozen=True)
class DESettings:
    """Everything the differential-expression step needs besides the data.

    Attributes
    ----------
    design : DesignSpec
    limma : LimmaOptions
    collapse : str
        How probe sets are collapsed to genes for gene-level tables.
    filter : ExpressionFilter
        The expression filter applied before the fit.
    fdr, lfc : float
        The thresholds the volcano and MA plots colour features with
        (``adj.P.Val < fdr`` and ``|logFC| >= lfc``).
    """

    design: DesignSpec
    limma: LimmaOptions = field(default_factory=LimmaOptions)
    collapse: str = DEFAULT_COLLAPSE
    filter: ExpressionFilter = field(default_factory=ExpressionFilter)
    fdr: float = 0.05
    lfc: float = 1.0

    @classmethod
    def from_options(
        cls,
        *,
        factors: Sequence[str],
        covariates: Sequence[str | Mapping[str, Any] | Covariate] = (),
        block: str | None = None,
        trend: bool = False,
        robust: bool = False,
        treat_lfc: float = 0.0,
        array_weights: bool = False,
        collapse: str = DEFAULT_COLLAPSE,
        filter: ExpressionFilter | Mapping[str, Any] | None = None,
        fdr: float = 0.05,
        lfc: float = 1.0,
    ) -> DESettings:
        """The settings from the keyword arguments of the config's two sections."""
        return cls(
            design=DesignSpec(
                factors=tuple(factors), covariates=tuple(covariates or ()), block=block
            ),
            limma=LimmaOptions(
                trend=bool(trend),
                robust=bool(robust),
                treat_lfc=float(treat_lfc),
                array_weights=bool(array_weights),
            ),
            collapse=collapse,
            filter=ExpressionFilter.from_options(filter),
            fdr=float(fdr),
            lfc=float(lfc),
        )
