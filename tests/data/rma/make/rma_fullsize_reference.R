# Reference RMA values for tests/test_preprocess_fullsize.py.
# Usage: Rscript rma_fullsize_reference.R <dir with SRTestU133.CDF + sim1..6.CEL> <out.tsv>
# R 4.2.2, affy 1.76.0, makecdfenv 1.74.0, preprocessCore 1.60.2.
suppressPackageStartupMessages({
  library(affy)
  library(makecdfenv)
})
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
out <- args[2]

t0 <- proc.time()[["elapsed"]]
env <- make.cdf.env("SRTestU133.CDF", cdf.path = dir, compress = FALSE)
# affy looks the environment up in .GlobalEnv under the CDF name as the CEL gives it
assign("SRTestU133", env, envir = .GlobalEnv)
t1 <- proc.time()[["elapsed"]]
files <- file.path(dir, sprintf("sim%d.CEL", 1:6))
ab <- ReadAffy(filenames = files, cdfname = "SRTestU133")
t2 <- proc.time()[["elapsed"]]
eset <- rma(ab)
t3 <- proc.time()[["elapsed"]]
x <- exprs(eset)
colnames(x) <- sub("\\.CEL$", "", colnames(x))
message(sprintf("cdf env %.2f s, ReadAffy %.2f s, rma %.2f s", t1 - t0, t2 - t1, t3 - t2))

# Subset kept in the repository: every 20th probe set in R's order plus all AFFX controls,
# with their 0-based positions in R's order.
keep <- sort(unique(c(seq(1, nrow(x), by = 20), grep("^AFFX", rownames(x)))))
sub <- data.frame(position = keep - 1, x[keep, , drop = FALSE], check.names = FALSE)
sub <- cbind(probeset = rownames(x)[keep], sub)
sub[, -(1:2)] <- lapply(sub[, -(1:2)], function(v) signif(v, 12))
con <- gzfile(out, "w")
write.table(sub, con, sep = "\t", quote = FALSE, row.names = FALSE)
close(con)
