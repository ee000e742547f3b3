# R references for tests/test_geo_readers.py and tests/test_geo_values.py.
# Run from the repository root (Debian: r-bioc-geoquery, r-bioc-limma):
#   Rscript tests/data/geo/make/geo_reference.R
# Writes tests/data/geo/reference/*.tsv.
suppressPackageStartupMessages({
  library(GEOquery)
  library(limma)
  library(Biobase)
})
dir <- "tests/data/geo"
out <- file.path(dir, "reference")
dir.create(out, showWarnings = FALSE)
w <- function(x, name, row.names = TRUE) {
  write.table(x, file.path(out, name), sep = "\t", quote = FALSE, na = "NA",
              row.names = row.names, col.names = if (row.names) NA else TRUE)
}
fmt <- function(m) { # 17 significant digits: the tests compare to 1e-12
  f <- apply(m, 2, function(v) ifelse(is.na(v), NA, formatC(v, digits = 17, format = "g")))
  dimnames(f) <- dimnames(m)
  f
}

# GEO2R's log2 rule, as in the script GEO2R generates.
geo2r_log <- function(ex) {
  qx <- as.numeric(quantile(ex, c(0., 0.25, 0.5, 0.75, 0.99, 1.0), na.rm = TRUE))
  LogC <- (qx[5] > 100) || (qx[6] - qx[1] > 50 && qx[2] > 0)
  list(qx = qx, LogC = LogC)
}
decisions <- list()

for (acc in c("GSE781-GPL97", "GSE999999", "GSE781-GPL96")) {
  es <- getGEO(filename = file.path(dir, paste0(acc, "_series_matrix.txt.gz")), getGPL = FALSE)
  ex <- exprs(es)
  w(fmt(ex), paste0(acc, "_exprs.tsv"))
  pd <- pData(es)
  w(pd, paste0(acc, "_pdata.tsv"))
  d <- geo2r_log(ex)
  decisions[[acc]] <- c(d$qx, d$LogC)
}

gds <- getGEO(filename = file.path(dir, "GDS507_subset.soft.gz"))
eset <- GDS2eSet(gds, do.log2 = FALSE, GPL = getGEO(filename = "tests/data/annotation/GPL97_subset.annot.gz"))
w(fmt(exprs(eset)), "GDS507_exprs.tsv")
w(pData(eset), "GDS507_pdata.tsv")
d <- geo2r_log(exprs(eset))
decisions[["GDS507"]] <- c(d$qx, d$LogC)

# Family SOFT: the VALUE columns of the GPL97 samples, joined on ID_REF.
gse <- getGEO(filename = file.path(dir, "GSE781_family_subset.soft.gz"))
gsms <- Filter(function(g) Meta(g)$platform_id == "GPL97", GSMList(gse))
tabs <- lapply(names(gsms), function(n) {
  t <- Table(gsms[[n]])[, c("ID_REF", "VALUE")]
  colnames(t)[2] <- n
  t
})
joined <- Reduce(function(a, b) merge(a, b, by = "ID_REF", all = TRUE, sort = FALSE), tabs)
rownames(joined) <- joined$ID_REF
w(fmt(as.matrix(joined[, -1])), "GSE781_family_GPL97_values.tsv")
chars <- data.frame(
  sample = names(gsms),
  title = sapply(gsms, function(g) Meta(g)$title),
  platform = sapply(gsms, function(g) Meta(g)$platform_id)
)
w(chars, "GSE781_family_GPL97_samples.tsv", row.names = FALSE)

dec <- do.call(rbind, decisions)
colnames(dec) <- c("q0", "q25", "q50", "q75", "q99", "q100", "LogC")
w(fmt(dec), "log2_decisions.tsv")

# limma as GEO2R runs it, on the GSE781-GPL97 matrix (one missing value):
# log2 by the rule above, design ~ 0 + disease state, contrast RCC - normal.
es <- getGEO(filename = file.path(dir, "GSE781-GPL97_series_matrix.txt.gz"), getGPL = FALSE)
ex <- exprs(es)
if (geo2r_log(ex)$LogC) { ex[which(ex <= 0)] <- NaN; ex <- log2(ex) }
group <- factor(make.names(pData(es)[["disease state:ch1"]]))
design <- model.matrix(~ 0 + group)
colnames(design) <- levels(group)
fit <- lmFit(ex, design)
fit2 <- eBayes(contrasts.fit(fit, makeContrasts(RCC - normal, levels = design)))
tt <- topTable(fit2, number = Inf, sort.by = "none")
w(fmt(as.matrix(tt[, c("logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B")])),
  "GSE781-GPL97_limma_RCC_vs_normal.tsv")

# The same after quantile normalization (limma's normalizeBetweenArrays).
exq <- normalizeBetweenArrays(ex, method = "quantile")
w(fmt(exq), "GSE781-GPL97_log2_quantile.tsv")
fit <- lmFit(exq, design)
fit2 <- eBayes(contrasts.fit(fit, makeContrasts(RCC - normal, levels = design)))
tt <- topTable(fit2, number = Inf, sort.by = "none")
w(fmt(as.matrix(tt[, c("logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B")])),
  "GSE781-GPL97_quantile_limma_RCC_vs_normal.tsv")

writeLines(c(R.version.string,
             paste("GEOquery", packageVersion("GEOquery")),
             paste("limma", packageVersion("limma")),
             paste("Biobase", packageVersion("Biobase"))),
           file.path(out, "versions.txt"))
