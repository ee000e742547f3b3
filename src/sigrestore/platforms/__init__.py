"""Single-colour array platforms besides Affymetrix, normalized as limma does.

* :mod:`sigrestore.platforms.illumina` -- GenomeStudio probe profiles, ``neqc``;
* :mod:`sigrestore.platforms.agilent` -- Feature Extraction files, normexp +
  quantile + ``avereps``;
* :mod:`sigrestore.platforms.normexp` -- limma's normal + exponential
  background model (saddle-point fit, control and detection-p fits, signal);
* :mod:`sigrestore.platforms.normalize` -- limma's ``normalizeQuantiles`` and
  ``avereps``;
* :mod:`sigrestore.platforms.nelder_mead` -- R's Nelder-Mead minimizer.

The data sources built on them are :mod:`sigrestore.sources.illumina` and
:mod:`sigrestore.sources.agilent`.
"""
