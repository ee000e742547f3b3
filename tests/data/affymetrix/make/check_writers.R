# Check that R/Bioconductor reads the files sigrestore writes (run once, by hand).
# usage: Rscript check_writers.R DIR
# DIR holds what `python make_writer_check.py DIR` wrote: SIMSMALL.CDF (ASCII),
# SIMSMALLX.CDF (XDA), s0/s1/s2.CEL (text v3, XDA v4, Command Console) and
# gzipped copies g0/g1/g2.CEL.gz, plus expected.tsv (PM/MM per probe set,
# 1-based) and sums.tsv (intensity sums) from sigrestore itself.
suppressMessages({library(makecdfenv); library(affyio)})
d <- commandArgs(TRUE)[1]
expected <- readLines(file.path(d, "expected.tsv"))
ok <- TRUE
for (cdf in c("SIMSMALL.CDF", "SIMSMALLX.CDF")) {
  env <- make.cdf.env(cdf, cdf.path = d, verbose = FALSE)
  ps <- sort(ls(env))
  got <- sapply(ps, function(p) {
    m <- get(p, env)
    paste(p, paste(m[, "pm"], collapse = ","), paste(m[, "mm"], collapse = ","), sep = "\t")
  })
  same <- identical(unname(got), expected)
  cat(cdf, "makecdfenv PM/MM identical to sigrestore:", same, "\n")
  ok <- ok && same
}
sums <- read.delim(file.path(d, "sums.tsv"), stringsAsFactors = FALSE)
for (i in seq_len(nrow(sums))) {
  f <- file.path(d, sums$file[i])
  h <- read.celfile.header(f)
  x <- read.celfile(f)
  s <- sum(x$INTENSITY$MEAN)
  same <- isTRUE(all.equal(s, sums$intensity_sum[i], tolerance = 1e-12)) &&
    h$cdfName == "SIMSMALL" && all(h$`CEL dimensions` == c(68, 68))
  cat(sums$file[i], h$cdfName, h$`CEL dimensions`, sprintf("%.6f", s), "matches:", same, "\n")
  ok <- ok && same
}
if (!ok) quit(status = 1)
