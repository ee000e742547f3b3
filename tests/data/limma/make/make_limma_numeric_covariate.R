# Reference for a numeric covariate entering as one slope (issue 15), made with
# R 4.2.2 + limma 3.54.1.  Run from tests/data/limma (after make_limma_refs.R):
#   Rscript make/make_limma_numeric_covariate.R
# Input: bladder_subset_expr.tsv.gz and bladder_samples.tsv (this folder).
# Output: bladder_samples_rin.tsv (the sheet plus a numeric column "rin" with 24
# distinct values, deterministic: no random numbers) and limma's tables for
# design ~0 + group + rin.
suppressMessages(library(limma))
x <- as.matrix(read.delim(gzfile("bladder_subset_expr.tsv.gz"), row.names = 1,
                          check.names = FALSE))
p <- read.delim("bladder_samples.tsv", stringsAsFactors = FALSE)
stopifnot(identical(p$sample, colnames(x)))

# An RNA-integrity-like score: 24 distinct values between 6.0 and 8.875, written
# with three decimals so the sheet holds exactly the numbers R fits.
i <- seq_len(nrow(p))
p$rin <- sprintf("%.3f", 6 + ((i * 7) %% 24) / 8)
write.table(p, "bladder_samples_rin.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
p <- read.delim("bladder_samples_rin.tsv", stringsAsFactors = FALSE)
stopifnot(is.numeric(p$rin), length(unique(p$rin)) == 24)

group <- factor(p$group)
rin <- p$rin
design <- model.matrix(~0 + group + rin)
colnames(design) <- sub("^group", "", colnames(design))
stopifnot(ncol(design) == 4)   # three groups + one slope, not 23 dummies
cm <- makeContrasts(CancerVsNormal = Cancer - Normal, BiopsyVsNormal = Biopsy - Normal,
                    levels = design)
e <- eBayes(contrasts.fit(lmFit(x, design), cm))
for (co in colnames(cm)) {
  write.table(signif(topTable(e, coef = co, number = Inf, sort.by = "none"), 12),
              gzfile(paste0("ref_rin_", co, ".tsv.gz")), sep = "\t", quote = FALSE,
              col.names = NA)
}
# The slope itself (coefficient of rin in the fit before contrasts).
fit <- eBayes(lmFit(x, design))
write.table(signif(topTable(fit, coef = "rin", number = Inf, sort.by = "none"), 12),
            gzfile("ref_rin_slope.tsv.gz"), sep = "\t", quote = FALSE, col.names = NA)
writeLines(c(R.version.string, paste("limma", packageVersion("limma"))),
           "ref_rin_versions.txt")
