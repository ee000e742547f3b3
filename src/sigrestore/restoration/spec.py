"""The comparison specification: which contrasts to compare and with which thresholds.

A comparison is read from one entry of the config's ``comparisons`` list.  The
canonical layout is::

    name: fulvestrant_rapamycin          # required, used for output paths
    reference: fulv_sensitive            # required: contrast defining the signature S
    restoration: fulvrapa_resistant      # required: contrast whose calls restore S
    resistance: fulv_resistant           # optional: retained / lost split of S
    modulator: rapa_resistant            # optional: restored features the modulator alone explains
    signature: {fdr: 0.05, lfc: 1.0, method: threshold, top_n: null}
    calls:                               # each defaults to {fdr: signature.fdr, lfc: 0}
      restoration: {fdr: 0.05, lfc: 0.0}
      resistance: {fdr: 0.05, lfc: 0.0}
      modulator: {fdr: 0.05, lfc: 0.0}
    bootstrap: {n: 200, seed: 1, confidence: 0.95, duplicates: weights}
    connectivity: {permutations: 200, seed: 1}
    corrected: {pi0_method: lfdr, resamples: 1000, seed: 1, min_features: 20,
                power_correction: share_model}
    sensitivity:                         # the threshold-sensitivity grid
      signature_fdr: [0.01, 0.05, 0.1, 0.25]
      signature_lfc: [0, 0.5, 1, 1.5]
      restoration_fdr: [0.01, 0.05, 0.1, 0.25]
    level: gene                          # optional: "gene" or "probeset" (default)

``level`` says what the features of the tables are: genes (tables of the
gene-collapsed expression) or probe sets.  The analysis itself treats both the
same way; the level is recorded in the summary, and the pipeline
(:mod:`sigrestore.pipeline`) uses it to choose the tables, the expression
matrix of the bootstrap and the features excluded (AFFX- controls).

For convenience the signature keys (``fdr``, ``lfc``, ``method``, ``top_n``) may
also be given at the top level of the entry instead of under ``signature``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigrestore.errors import ConfigError

SIGNATURE_METHODS = ("threshold", "treat", "top")
CALL_ROLES = ("restoration", "resistance", "modulator")
#: How the bootstrap refits an array drawn more than once: once with its
#: multiplicity as precision weight, or as independent copies (the old way).
BOOTSTRAP_DUPLICATES = ("weights", "copies")
#: What the features of a comparison are: genes or probe sets.
LEVELS = ("gene", "probeset")
#: The config schema's ``seed`` default; the schema's null bootstrap and
#: connectivity seeds mean "the config's seed", so a spec built without one
#: gets this (tests/test_architecture.py checks these defaults against the schema).
DEFAULT_SEED = 20080601


@dataclass(frozen=True)
class SignatureThresholds:
    """How the reference contrast defines the signature S.

    Attributes
    ----------
    fdr : float
        Features need ``adj.P.Val < fdr`` (methods "threshold" and "treat").
    lfc : float
        Features need ``|logFC| >= lfc`` (method "threshold"); for "treat" the
        reference table must come from limma's TREAT against this ``lfc``.
    method : str
        "threshold", "treat" or "top".
    top_n : int or None
        Number of features kept by method "top" (smallest ``P.Value``).
    """

    fdr: float = 0.05
    lfc: float = 1.0
    method: str = "threshold"
    top_n: int | None = None


@dataclass(frozen=True)
class CallThresholds:
    """Thresholds of a direction call in a non-reference contrast.

    A feature is called +1 / -1 when ``adj.P.Val < fdr`` and ``|logFC| >= lfc``.
    """

    fdr: float = 0.05
    lfc: float = 0.0


@dataclass(frozen=True)
class BootstrapSettings:
    """Array bootstrap: ``n`` resamples (0 disables it), RNG ``seed``, interval ``confidence``.

    ``confidence`` is also the level of the Wilson intervals.  ``duplicates``:
    an array drawn ``m`` times is refitted once with weight ``m`` ("weights")
    or as ``m`` independent copies ("copies"; biased, see docs/restoration.md).
    """

    n: int = 200
    seed: int = DEFAULT_SEED
    confidence: float = 0.95
    duplicates: str = "weights"


@dataclass(frozen=True)
class ConnectivitySettings:
    """gseapy prerank permutations (0: no p-values) and its seed."""

    permutations: int = 200
    seed: int = DEFAULT_SEED


#: The power corrections of the corrected fraction (corrected.power_correction).
POWER_CORRECTIONS = ("none", "share_model")
#: The pi0 estimators of the corrected fraction (corrected.pi0_method).
PI0_METHODS = ("lfdr", "smoother", "bootstrap", "convest")


@dataclass(frozen=True)
class CorrectedSettings:
    """The power-corrected restored fraction (:mod:`sigrestore.restoration.corrected`).

    Attributes
    ----------
    pi0_method : str
        "lfdr" (limma's propTrueNull, the default), "smoother" or "bootstrap"
        (qvalue's pi0est lambda choices), "convest" (limma's convest).
    resamples : int
        Feature-bootstrap resamples of the interval (0: no interval).
    seed : int
        Seed of the feature bootstrap.
    min_features : int
        Fewer features with a restoration p-value: the fraction is NA.
    power_correction : str
        "share_model" (the default; :mod:`sigrestore.restoration.power`: the
        leak of weakly moved features into pi0 divided out; needs
        ``pi0_method`` "lfdr") or "none".
    """

    pi0_method: str = "lfdr"
    resamples: int = 1000
    seed: int = DEFAULT_SEED
    min_features: int = 20
    power_correction: str = "share_model"


@dataclass(frozen=True)
class SensitivityGrid:
    """Thresholds of the threshold-sensitivity table (every combination is computed)."""

    signature_fdr: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25)
    signature_lfc: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5)
    restoration_fdr: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25)


@dataclass(frozen=True)
class ComparisonSpec:
    """One restoration comparison (see the module docstring for the config layout)."""

    name: str
    reference: str
    restoration: str
    resistance: str | None = None
    modulator: str | None = None
    signature: SignatureThresholds = field(default_factory=SignatureThresholds)
    restoration_call: CallThresholds = field(default_factory=CallThresholds)
    resistance_call: CallThresholds = field(default_factory=CallThresholds)
    modulator_call: CallThresholds = field(default_factory=CallThresholds)
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    connectivity: ConnectivitySettings = field(default_factory=ConnectivitySettings)
    level: str = "probeset"
    corrected: CorrectedSettings = field(default_factory=CorrectedSettings)
    sensitivity: SensitivityGrid = field(default_factory=SensitivityGrid)

    @property
    def contrasts(self) -> tuple[str, ...]:
        """The contrasts involved, in role order, without repeats."""
        named = (self.reference, self.restoration, self.resistance, self.modulator)
        return tuple(dict.fromkeys(c for c in named if c is not None))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ComparisonSpec:
        """Validate one config entry and build the spec; raise ConfigError naming the key."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"a comparison must be a mapping, got {type(d).__name__}")
        where = f"comparison {d.get('name')!r}" if "name" in d else "comparison"
        allowed = {
            "name",
            "reference",
            "restoration",
            "resistance",
            "modulator",
            "signature",
            "calls",
            "bootstrap",
            "connectivity",
            "fdr",
            "lfc",
            "method",
            "top_n",
            "level",
            "corrected",
            "sensitivity",
        }
        _no_unknown(d, allowed, where, prefix="")
        name = _text(d, "name", where, required=True)
        reference = _text(d, "reference", where, required=True)
        restoration = _text(d, "restoration", where, required=True)
        resistance = _text(d, "resistance", where, required=False)
        modulator = _text(d, "modulator", where, required=False)

        sig_in = _section(d, "signature", where)
        flat = {k: d[k] for k in ("fdr", "lfc", "method", "top_n") if k in d}
        for key in flat:
            if key in sig_in:
                raise ConfigError(
                    f"{where}: key {key!r} given both at top level and under 'signature'"
                )
        sig_in = {**sig_in, **flat}
        _no_unknown(sig_in, {"fdr", "lfc", "method", "top_n"}, where, prefix="signature.")
        default_sig = SignatureThresholds()
        fdr = _fraction(sig_in, "fdr", where, "signature.", default_sig.fdr)
        lfc = _nonneg(sig_in, "lfc", where, "signature.", default_sig.lfc)
        method = sig_in.get("method", default_sig.method)
        if method not in SIGNATURE_METHODS:
            raise ConfigError(
                f"{where}: key 'signature.method' must be one of {list(SIGNATURE_METHODS)},"
                f" got {method!r}"
            )
        top_n = sig_in.get("top_n")
        if top_n is not None and (not _is_int(top_n) or top_n < 1):
            raise ConfigError(
                f"{where}: key 'signature.top_n' must be a positive integer, got {top_n!r}"
            )
        if method == "top" and top_n is None:
            raise ConfigError(f"{where}: key 'signature.top_n' is required when method is 'top'")
        signature = SignatureThresholds(fdr=fdr, lfc=lfc, method=method, top_n=top_n)

        calls_in = _section(d, "calls", where)
        _no_unknown(calls_in, set(CALL_ROLES), where, prefix="calls.")
        calls = {}
        for role in CALL_ROLES:
            sub = _section(calls_in, role, where, prefix="calls.")
            _no_unknown(sub, {"fdr", "lfc"}, where, prefix=f"calls.{role}.")
            calls[role] = CallThresholds(
                fdr=_fraction(sub, "fdr", where, f"calls.{role}.", fdr),
                lfc=_nonneg(sub, "lfc", where, f"calls.{role}.", 0.0),
            )

        boot_in = _section(d, "bootstrap", where)
        _no_unknown(boot_in, {"n", "seed", "confidence", "duplicates"}, where, prefix="bootstrap.")
        default_boot = BootstrapSettings()
        n = boot_in.get("n", default_boot.n)
        if not _is_int(n) or n < 0:
            raise ConfigError(f"{where}: key 'bootstrap.n' must be an integer >= 0, got {n!r}")
        seed = _seed(boot_in, "seed", where, "bootstrap.", default_boot.seed)
        confidence = boot_in.get("confidence", default_boot.confidence)
        if not _is_number(confidence) or not 0 < confidence < 1:
            raise ConfigError(
                f"{where}: key 'bootstrap.confidence' must be a number in (0, 1),"
                f" got {confidence!r}"
            )
        duplicates = boot_in.get("duplicates", default_boot.duplicates)
        if duplicates not in BOOTSTRAP_DUPLICATES:
            raise ConfigError(
                f"{where}: key 'bootstrap.duplicates' must be one of {list(BOOTSTRAP_DUPLICATES)},"
                f" got {duplicates!r}"
            )
        bootstrap = BootstrapSettings(
            n=int(n), seed=seed, confidence=float(confidence), duplicates=duplicates
        )

        conn_in = _section(d, "connectivity", where)
        _no_unknown(conn_in, {"permutations", "seed"}, where, prefix="connectivity.")
        default_conn = ConnectivitySettings()
        perms = conn_in.get("permutations", default_conn.permutations)
        if not _is_int(perms) or perms < 0:
            raise ConfigError(
                f"{where}: key 'connectivity.permutations' must be an integer >= 0, got {perms!r}"
            )
        conn_seed = _seed(conn_in, "seed", where, "connectivity.", default_conn.seed)
        connectivity = ConnectivitySettings(permutations=int(perms), seed=conn_seed)

        level = d.get("level", "probeset")
        if level not in LEVELS:
            raise ConfigError(f"{where}: key 'level' must be one of {list(LEVELS)}, got {level!r}")

        corrected = _corrected(d, where)
        sensitivity = _sensitivity(d, where)

        return cls(
            name=name,
            reference=reference,
            restoration=restoration,
            resistance=resistance,
            modulator=modulator,
            signature=signature,
            restoration_call=calls["restoration"],
            resistance_call=calls["resistance"],
            modulator_call=calls["modulator"],
            bootstrap=bootstrap,
            connectivity=connectivity,
            level=level,
            corrected=corrected,
            sensitivity=sensitivity,
        )


def _corrected(d: Mapping[str, Any], where: str) -> CorrectedSettings:
    section = _section(d, "corrected", where)
    _no_unknown(
        section,
        {"pi0_method", "resamples", "seed", "min_features", "power_correction"},
        where,
        prefix="corrected.",
    )
    default = CorrectedSettings()
    method = section.get("pi0_method", default.pi0_method)
    if method not in PI0_METHODS:
        raise ConfigError(
            f"{where}: key 'corrected.pi0_method' must be one of {list(PI0_METHODS)},"
            f" got {method!r}"
        )
    resamples = section.get("resamples", default.resamples)
    if not _is_int(resamples) or resamples < 0:
        raise ConfigError(
            f"{where}: key 'corrected.resamples' must be an integer >= 0, got {resamples!r}"
        )
    min_features = section.get("min_features", default.min_features)
    if not _is_int(min_features) or min_features < 1:
        raise ConfigError(
            f"{where}: key 'corrected.min_features' must be an integer >= 1, got {min_features!r}"
        )
    power = section.get("power_correction", default.power_correction)
    if power not in POWER_CORRECTIONS:
        raise ConfigError(
            f"{where}: key 'corrected.power_correction' must be one of"
            f" {list(POWER_CORRECTIONS)}, got {power!r}"
        )
    if power == "share_model" and method != "lfdr":
        # The model divides out lfdr's leak (2 E[p] per moved feature);
        # Storey's and convest's leaks are different functions of the p-values.
        raise ConfigError(
            f"{where}: key 'corrected.power_correction' 'share_model' needs"
            f" corrected.pi0_method 'lfdr', got {method!r} (set"
            " corrected.power_correction: none to use another pi0 method)"
        )
    return CorrectedSettings(
        power_correction=power,
        pi0_method=method,
        resamples=int(resamples),
        seed=_seed(section, "seed", where, "corrected.", default.seed),
        min_features=int(min_features),
    )


def _sensitivity(d: Mapping[str, Any], where: str) -> SensitivityGrid:
    section = _section(d, "sensitivity", where)
    keys = ("signature_fdr", "signature_lfc", "restoration_fdr")
    _no_unknown(section, set(keys), where, prefix="sensitivity.")
    default = SensitivityGrid()
    values = {}
    for key in keys:
        raw = section.get(key, getattr(default, key))
        if isinstance(raw, str | bytes) or not isinstance(raw, list | tuple) or not raw:
            raise ConfigError(
                f"{where}: key 'sensitivity.{key}' must be a non-empty list of numbers, got {raw!r}"
            )
        for v in raw:
            bad = not _is_number(v) or (v < 0 if key == "signature_lfc" else not 0 < v <= 1)
            if bad:
                rule = "numbers >= 0" if key == "signature_lfc" else "numbers in (0, 1]"
                raise ConfigError(f"{where}: key 'sensitivity.{key}' must hold {rule}, got {v!r}")
        values[key] = tuple(sorted({float(v) for v in raw}))
    return SensitivityGrid(**values)


# -- validation helpers ---------------------------------------------------------------


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _no_unknown(d: Mapping[str, Any], allowed: set[str], where: str, *, prefix: str) -> None:
    unknown = sorted(str(k) for k in d if k not in allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {prefix}{unknown[0]!r}; allowed: {sorted(allowed)}"
        )


def _text(d: Mapping[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = d.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where}: required key {key!r} is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: key {key!r} must be a non-empty string, got {value!r}")
    if key == "name" and (any(c in value for c in "/\\\0") or value in (".", "..")):
        raise ConfigError(f"{where}: key {key!r} must be usable as a directory name, got {value!r}")
    return value


def _section(d: Mapping[str, Any], key: str, where: str, *, prefix: str = "") -> Mapping[str, Any]:
    value = d.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: key {prefix}{key!r} must be a mapping, got {value!r}")
    return value


def _fraction(d: Mapping[str, Any], key: str, where: str, prefix: str, default: float) -> float:
    value = d.get(key, default)
    if not _is_number(value) or not 0 < value <= 1:
        raise ConfigError(f"{where}: key '{prefix}{key}' must be a number in (0, 1], got {value!r}")
    return float(value)


def _nonneg(d: Mapping[str, Any], key: str, where: str, prefix: str, default: float) -> float:
    value = d.get(key, default)
    if not _is_number(value) or value < 0:
        raise ConfigError(f"{where}: key '{prefix}{key}' must be a number >= 0, got {value!r}")
    return float(value)


def _seed(d: Mapping[str, Any], key: str, where: str, prefix: str, default: int) -> int:
    value = d.get(key, default)
    if not _is_int(value) or value < 0:
        raise ConfigError(f"{where}: key '{prefix}{key}' must be an integer >= 0, got {value!r}")
    return int(value)
