# R references for the count path (sigrestore.counts): filterByExpr, TMM, voom,
# voomWithQualityWeights, lmFit/eBayes/topTable/topTreat with voom weights, and a
# blocked design (duplicateCorrelation on voom output).
#
# Run from tests/data/counts:  Rscript make/make_references.R
# Input: sim_counts.tsv.gz (gene_id, gene_name, samples...) and sim_samples.tsv,
# written by make/make_fixture.py (sigrestore's count simulator).
suppressPackageStartupMessages({
  library(edgeR)
  library(limma)
})

f17 <- function(x) sprintf("%.17g", x)
write_num <- function(df, path) {
  num <- vapply(df, is.numeric, logical(1))
  df[num] <- lapply(df[num], f17)
  con <- if (grepl("\\.gz$", path)) gzfile(path, "w") else file(path, "w")
  write.table(df, con, sep = "\t", quote = FALSE, row.names = FALSE)
  close(con)
}

tab <- read.delim("sim_counts.tsv.gz", check.names = FALSE, stringsAsFactors = FALSE)
sheet <- read.delim("sim_samples.tsv", stringsAsFactors = FALSE)
counts <- as.matrix(tab[, sheet$sample])
rownames(counts) <- tab$gene_id
group <- factor(paste(sheet$cell_line, sheet$treatment, sep = "_"))
design <- model.matrix(~ 0 + group)
colnames(design) <- levels(group)
contr <- makeContrasts(
  fulvestrant_sensitive = sensitive_fulvestrant - sensitive_vehicle,
  fulvestrant_resistant = resistant_fulvestrant - resistant_vehicle,
  cotreatment_resistant = resistant_fulvestrant_rapamycin - resistant_vehicle,
  levels = design
)

# filterByExpr (group-aware, defaults), then edgeR's user-guide workflow:
# library sizes recomputed on the kept genes, TMM factors.
y <- DGEList(counts, group = group)
keep <- filterByExpr(y, group = group)
write_num(data.frame(gene_id = rownames(counts), keep = as.integer(keep)), "ref_filter_keep.tsv")
y <- y[keep, , keep.lib.sizes = FALSE]
y <- calcNormFactors(y)
write_num(data.frame(sample = colnames(y), lib_size = y$samples$lib.size,
                     norm_factor = y$samples$norm.factors), "ref_norm_factors.tsv")

tables <- function(fit, prefix) {
  for (cn in colnames(contr)) {
    tt <- topTable(fit, coef = cn, number = Inf, sort.by = "none")
    write_num(data.frame(gene_id = rownames(tt), tt[, c("logFC", "AveExpr", "t", "P.Value",
                                                        "adj.P.Val", "B")]),
              sprintf("ref_%s_%s.tsv.gz", prefix, cn))
  }
}

# voom
v <- voom(y, design, save.plot = TRUE)
write_num(data.frame(gene_id = rownames(v$E), v$E, check.names = FALSE), "ref_voom_E.tsv.gz")
write_num(data.frame(gene_id = rownames(v$E), v$weights, check.names = FALSE),
          "ref_voom_weights.tsv.gz")
write_num(data.frame(x = v$voom.line$x, y = v$voom.line$y), "ref_voom_lowess.tsv.gz")
fit <- eBayes(contrasts.fit(lmFit(v, design), contr))
tables(fit, "voom")
tr <- treat(contrasts.fit(lmFit(v, design), contr), lfc = 1)
tt <- topTreat(tr, coef = "fulvestrant_sensitive", number = Inf, sort.by = "none")
write_num(data.frame(gene_id = rownames(tt), tt[, c("logFC", "AveExpr", "t", "P.Value", "adj.P.Val")]),
          "ref_voom_treat1_fulvestrant_sensitive.tsv.gz")
write_num(data.frame(df_prior = fit$df.prior, s2_prior = fit$s2.prior), "ref_voom_priors.tsv")

# voomWithQualityWeights
vq <- voomWithQualityWeights(y, design)
write_num(data.frame(sample = colnames(vq$E), weight = vq$targets$sample.weights),
          "ref_vqw_sample_weights.tsv")
write_num(data.frame(gene_id = rownames(vq$E), vq$weights, check.names = FALSE),
          "ref_vqw_weights.tsv.gz")
tables(eBayes(contrasts.fit(lmFit(vq, design), contr)), "vqw")

# blocked design: replicate (the batch a replicate series was processed in) as block
block <- factor(sheet$replicate)
dc <- duplicateCorrelation(v, design, block = block)
write_num(data.frame(consensus = dc$consensus.correlation), "ref_block_correlation.tsv")
fitb <- lmFit(v, design, block = block, correlation = dc$consensus.correlation)
tables(eBayes(contrasts.fit(fitb, contr)), "block")

# R's lowess directly, on points with many ties and an even count
set.seed(7)
xl <- round(runif(1000, 0, 10), 1)
yl <- sin(xl) + rnorm(1000, sd = 0.3) + ifelse(runif(1000) < 0.02, 5, 0)
lw <- lowess(xl, yl, f = 0.3)
write_num(data.frame(x_in = xl, y_in = yl, x = lw$x, y = lw$y), "ref_lowess_ties.tsv.gz")

writeLines(c(R.version.string,
             paste("edgeR", as.character(packageVersion("edgeR"))),
             paste("limma", as.character(packageVersion("limma")))),
           "ref_versions.txt")
