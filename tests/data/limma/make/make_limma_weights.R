# Reference numbers for the per-array weights of tests/limma/test_diffexp_weights.py, made once
# with R 4.2.2 + limma 3.54.1.  Run from tests/data/limma (after make_limma_refs.R, whose
# subset it reads):
#   Rscript make/make_limma_weights.R
# Weights: the integer multiplicities 1, 2, 3, 1, 2, 3, ... over the 57 arrays (what the
# restoration bootstrap passes for an array drawn 1, 2 or 3 times).  A numeric vector of
# length ncol(x) is taken by limma's asMatrixWeights as *array* weights (one per column,
# the same for every gene; the "arrayweights" attribute keeps lm.series on its one-QR
# path, lm.wfit), so the residual variance is sum(w r^2) / (n - p) with n = 57 arrays.
suppressMessages(library(limma))
x <- as.matrix(read.delim(gzfile("bladder_subset_expr.tsv.gz"), row.names = 1,
                          check.names = FALSE))
p <- read.delim("bladder_samples.tsv", stringsAsFactors = FALSE)
stopifnot(identical(p$sample, colnames(x)))
cancer <- factor(p$group)
batch <- factor(p$batch)
design <- model.matrix(~0 + cancer + batch)
colnames(design) <- make.names(colnames(design))
cm <- makeContrasts(CancerVsNormal = cancerCancer - cancerNormal,
                    BiopsyVsNormal = cancerBiopsy - cancerNormal, levels = design)
w <- (seq_len(ncol(x)) - 1) %% 3 + 1
stopifnot(!is.null(attr(asMatrixWeights(w, dim(x)), "arrayweights")))

out <- function(tab, name) {
  write.table(signif(tab, 12), gzfile(paste0("ref_weights_", name, ".tsv.gz")), sep = "\t",
              quote = FALSE, col.names = NA)
}
fit <- lmFit(x, design, weights = w)
cf <- contrasts.fit(fit, cm)
e <- eBayes(cf)
for (co in colnames(cm)) out(topTable(e, coef = co, number = Inf, sort.by = "none"), co)
out(topTable(e, number = Inf, sort.by = "none")[, c("AveExpr", "F", "P.Value", "adj.P.Val")],
    "F")
et <- eBayes(cf, trend = TRUE)
out(topTable(et, coef = "CancerVsNormal", number = Inf, sort.by = "none"), "trend_CancerVsNormal")
out(topTreat(treat(cf, lfc = 1), coef = "CancerVsNormal", number = Inf, sort.by = "none"),
    "treat1_CancerVsNormal")

# Integer weights reproduce the coefficients of the data with every array repeated w
# times (but not its residual df: 57 - 7 here, against sum(w) - 7 for the copies).
dup <- rep(seq_len(ncol(x)), times = w)
fit_dup <- lmFit(x[, dup], design[dup, ])
stopifnot(max(abs(fit_dup$coefficients - fit$coefficients)) < 1e-10)
stopifnot(fit$df.residual[1] == ncol(x) - ncol(design))

# Estimated array weights on top of the given ones (limma's idiom, as in
# voomWithQualityWeights): arrayWeights with the given weights as prior weights, then
# lmFit with their product (arrayWeights wants the prior weights as a full matrix).
aw <- arrayWeights(x, design, weights = matrix(w, nrow(x), ncol(x), byrow = TRUE))
ea <- eBayes(contrasts.fit(lmFit(x, design, weights = aw * w), cm))
out(topTable(ea, coef = "CancerVsNormal", number = Inf, sort.by = "none"),
    "arrayw_CancerVsNormal")
out(data.frame(weight = aw, row.names = colnames(x)), "arrayw_weights")

pr <- data.frame(key = c("weights_df.prior", "weights_s2.prior", "weights_trend_df.prior",
                         "weights_arrayw_df.prior"),
                 value = sprintf("%.15g", c(e$df.prior, e$s2.prior, et$df.prior,
                                            ea$df.prior)))
write.table(pr, "ref_weights_priors.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
