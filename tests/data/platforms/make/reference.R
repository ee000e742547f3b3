# limma references for tests/platforms/ (R 4.2.2, limma 3.54.1, Debian r-bioc-limma).
# Run from tests/data/platforms after make_fixtures.py:
#   Rscript make/reference.R
# Writes illumina/ref_*.tsv and agilent/ref_*.tsv .gz (values with 15 significant digits).
suppressMessages(library(limma))
out <- function(x, file) {
  write.table(signif(as.data.frame(x), 15), gzfile(paste0(file, ".gz")), sep = "\t",
              quote = FALSE, col.names = NA)
}
de <- function(E, targets, prefix) {
  # ~0 + treatment, two contrasts, ordinary eBayes, topTable in probe order.
  treatment <- factor(targets$treatment)
  design <- model.matrix(~0 + treatment)
  colnames(design) <- levels(treatment)
  cm <- makeContrasts(Fulvestrant = fulvestrant - vehicle,
                      Cotreatment = fulvestrant_rapamycin - fulvestrant, levels = design)
  fit <- eBayes(contrasts.fit(lmFit(E, design), cm))
  for (co in colnames(cm)) out(topTable(fit, coef = co, number = Inf, sort.by = "none"),
                               paste0(prefix, "_", co, ".tsv"))
}

## Illumina -------------------------------------------------------------------------
setwd("illumina")
targets <- read.delim("samples.tsv", stringsAsFactors = FALSE)
x <- read.ilmn("sample_probe_profile.txt", ctrlfiles = "control_probe_profile.txt",
               other.columns = "Detection", verbose = FALSE)
stopifnot(identical(colnames(x), targets$array))
out(normexp.fit.control(x), "ref_neqc_parameters.tsv")
y <- neqc(x)                                   # normexp by controls, offset 16, quantile, log2
out(y$E, "ref_neqc.tsv")
# detection filter: p < 0.05 on at least as many arrays as the smallest group (2)
expressed <- rowSums(y$other$Detection < 0.05) >= 2
yf <- y[expressed, ]
out(data.frame(expressed = expressed, row.names = rownames(y)), "ref_neqc_expressed.tsv")
de(yf$E, targets, "ref_neqc_toptable")

# normexp without controls: nec infers the background from the detection p-values
x2 <- read.ilmn("sample_probe_profile.txt", other.columns = "Detection", verbose = FALSE)
out(normexp.fit.detection.p(x2), "ref_nec_parameters.tsv")
y2 <- suppressMessages(neqc(x2))
out(y2$E, "ref_nec.tsv")
setwd("..")

## Agilent --------------------------------------------------------------------------
setwd("agilent")
targets <- read.delim("samples.tsv", stringsAsFactors = FALSE)
x <- read.maimages(targets$file, source = "agilent", green.only = TRUE,
                   other.columns = "gIsWellAboveBG", names = targets$sample, verbose = FALSE)
# the saddle-point normexp parameters of every array, as backgroundCorrect fits them
E <- x$E - x$Eb
par <- t(apply(E, 2, function(e) {
  f <- normexp.fit(e, method = "saddle")
  c(mu = f$par[1], logsigma = f$par[2], logalpha = f$par[3], m2loglik = f$m2loglik,
    fncount = f$fncount)
}))
out(par, "ref_normexp_parameters.tsv")
y <- backgroundCorrect(x, method = "normexp", offset = 16, verbose = FALSE)
y <- normalizeBetweenArrays(y, method = "quantile")
out(y$E, "ref_normalized_all.tsv")             # every feature, file order (rows 1..n)
keep <- y$genes$ControlType == 0 & rowSums(y$other$gIsWellAboveBG > 0) >= 2
yf <- y[keep, ]
ya <- avereps(yf, ID = yf$genes$ProbeName)
out(ya$E, "ref_avereps.tsv")
de(ya$E, targets, "ref_toptable")
setwd("..")
## normalizeQuantiles with ties and missing values ---------------------------------
# 300 x 6, values rounded to 1 decimal (many ties), ~6% missing, one column complete.
set.seed(20080601)
A <- matrix(round(rgamma(1800, shape = 2, scale = 3), 1), 300, 6)
A[sample(which(col(A) > 1), 100)] <- NA
colnames(A) <- paste0("a", 1:6)
dir.create("quantile", showWarnings = FALSE)
write.table(A, gzfile("quantile/input.tsv.gz"), sep = "\t", quote = FALSE, col.names = NA)
out(normalizeQuantiles(A), "quantile/ref_normalizeQuantiles.tsv")
out(normalizeQuantiles(A[, 1:3] * 0 + round(A[, 1:3]), ties = TRUE), "quantile/ref_ties.tsv")
writeLines(c(R.version.string, paste("limma", packageVersion("limma"))), "ref_versions.txt")
