# Reference numbers for tests/limma/test_diffexp*.py, made once with R 4.2.2 + limma 3.54.1.
# Run from tests/data/limma:
#   Rscript make/make_limma_refs.R /work/shared/fixtures/limma
# Input: the shared bladderbatch fixture (exprs(bladderEset) rounded to 6 decimals, and
# its sample sheet).  Output: a 3,000-probe-set subset of it (all 57 arrays) and limma's
# results on that subset for every option the Python module offers.
suppressMessages(library(limma))
src <- commandArgs(trailingOnly = TRUE)[1]
full <- as.matrix(read.delim(gzfile(file.path(src, "bladder_expr.tsv.gz")), row.names = 1,
                             check.names = FALSE))
p <- read.delim(file.path(src, "bladder_samples.tsv"), stringsAsFactors = FALSE)
stopifnot(identical(p$sample, colnames(full)))

# Evenly spaced rows, so the subset keeps the range of expression levels (and the AFFX
# controls at the end of the file).
keep <- unique(round(seq(1, nrow(full), length.out = 3000)))
write.table(full[keep, ], gzfile("bladder_subset_expr.tsv.gz"), sep = "\t", quote = FALSE,
            col.names = NA)
x <- as.matrix(read.delim(gzfile("bladder_subset_expr.tsv.gz"), row.names = 1,
                          check.names = FALSE))
stopifnot(max(abs(x - full[keep, ])) == 0)
writeLines(readLines(file.path(src, "bladder_samples.tsv")), "bladder_samples.tsv")

cancer <- factor(p$group)      # levels Biopsy, Cancer, Normal
batch <- factor(p$batch)       # levels 1..5, batch 1 is the baseline
design <- model.matrix(~0 + cancer + batch)
colnames(design) <- make.names(colnames(design))
cm <- makeContrasts(CancerVsNormal = cancerCancer - cancerNormal,
                    BiopsyVsNormal = cancerBiopsy - cancerNormal, levels = design)

out <- function(tab, name) {
  write.table(signif(tab, 12), gzfile(paste0("ref_", name, ".tsv.gz")), sep = "\t",
              quote = FALSE, col.names = NA)
}
priors <- list()
# Both contrasts for the ordinary fit; CancerVsNormal and F only for the variants
# (keeps tests/data small).
tables <- function(fit, tag, contrasts = "CancerVsNormal") {
  for (co in contrasts) out(topTable(fit, coef = co, number = Inf, sort.by = "none"),
                            paste0(tag, "_", co))
  out(topTable(fit, number = Inf, sort.by = "none")[, c("AveExpr", "F", "P.Value", "adj.P.Val")],
      paste0(tag, "_F"))
}

fit <- lmFit(x, design)
cf <- contrasts.fit(fit, cm)

# 1. ordinary eBayes
e <- eBayes(cf); tables(e, "ordinary", colnames(cm))
priors$ordinary_df.prior <- e$df.prior; priors$ordinary_s2.prior <- e$s2.prior

# 2. robust = TRUE (df.prior is per gene: saved beside the table)
e <- eBayes(cf, robust = TRUE); tables(e, "robust")
out(data.frame(df.prior = e$df.prior, row.names = rownames(x)), "robust_df_prior")
priors$robust_s2.prior <- e$s2.prior

# 3. trend = TRUE (s2.prior is per gene)
e <- eBayes(cf, trend = TRUE); tables(e, "trend")
out(data.frame(s2.prior = e$s2.prior, row.names = rownames(x)), "trend_s2_prior")
priors$trend_df.prior <- e$df.prior

# 4. trend = TRUE and robust = TRUE
e <- eBayes(cf, trend = TRUE, robust = TRUE)
out(topTable(e, coef = "CancerVsNormal", number = Inf, sort.by = "none"),
    "trend_robust_CancerVsNormal")

# 5. treat(lfc = 1), ordinary and robust
for (co in colnames(cm)) {
  out(topTreat(treat(cf, lfc = 1), coef = co, number = Inf, sort.by = "none"),
      paste0("treat1_", co))
}
out(topTreat(treat(cf, lfc = 1, robust = TRUE), coef = "CancerVsNormal", number = Inf,
             sort.by = "none"), "treat1_robust_CancerVsNormal")

# 6. duplicateCorrelation with batch as the blocking factor (groups only in the design)
design_b <- model.matrix(~0 + cancer)
colnames(design_b) <- make.names(colnames(design_b))
cm_b <- makeContrasts(CancerVsNormal = cancerCancer - cancerNormal,
                      BiopsyVsNormal = cancerBiopsy - cancerNormal, levels = design_b)
dc <- duplicateCorrelation(x, design_b, block = batch)
fit_b <- lmFit(x, design_b, block = batch, correlation = dc$consensus.correlation)
e <- eBayes(contrasts.fit(fit_b, cm_b))
out(topTable(e, coef = "CancerVsNormal", number = Inf, sort.by = "none"),
    "dupcor_CancerVsNormal")
priors$dupcor_consensus.correlation <- dc$consensus.correlation
priors$dupcor_df.prior <- e$df.prior; priors$dupcor_s2.prior <- e$s2.prior

# 7. arrayWeights (REML, the default method) on the ~0 + group + batch design
aw <- arrayWeights(x, design)
fit_w <- lmFit(x, design, weights = aw)
e <- eBayes(contrasts.fit(fit_w, cm)); tables(e, "arrayw")
out(data.frame(weight = aw, row.names = colnames(x)), "arrayw_weights")
priors$arrayw_df.prior <- e$df.prior; priors$arrayw_s2.prior <- e$s2.prior

# 8. missing values (lmFit's gene-wise path and contrasts.fit's NA handling): one NA in
# every 37th probe set, two in every 211th, and no Normal array at all for probe set 2
# (its Normal coefficient is not estimable, so both contrasts are NA there).
xm <- x
for (k in seq(1, nrow(x), by = 37)) xm[k, (k %% ncol(x)) + 1] <- NA
for (k in seq(5, nrow(x), by = 211)) xm[k, ((k %% ncol(x)) + c(1, 20)) %% ncol(x) + 1] <- NA
xm[2, cancer == "Normal"] <- NA
pos <- which(is.na(xm), arr.ind = TRUE)
write.table(data.frame(row = pos[, 1], col = pos[, 2]), "ref_missing_positions.tsv", sep = "\t",
            quote = FALSE, row.names = FALSE)
e <- eBayes(contrasts.fit(lmFit(xm, design), cm)); tables(e, "missing", colnames(cm))
priors$missing_df.prior <- e$df.prior; priors$missing_s2.prior <- e$s2.prior
# (treat() itself stops on the NA coefficients in limma 3.54.1, so it is not referenced.)

pr <- data.frame(key = names(priors), value = sprintf("%.15g", unlist(priors)))
write.table(pr, "ref_priors.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
writeLines(c(R.version.string, paste("limma", packageVersion("limma"))), "ref_versions.txt")
