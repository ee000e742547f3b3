# Reference values of Storey's pi0 (qvalue::pi0est) for tests/test_restoration_pi0.py.
# Run from tests/data/restoration:  Rscript make/pi0_reference.R
# Writes pi0_pvalues.tsv (the p-values of every case) and pi0_reference.tsv,
# convest_pvalues.tsv and convest_reference.tsv (limma::convest on more vectors).
suppressPackageStartupMessages({
  library(qvalue)
  library(limma)
})
set.seed(20261201)
cases <- list(
  # 70% null, 30% small p-values
  mixed_300 = c(runif(210), rbeta(90, 0.2, 4)),
  # a restoration-like set: 40% restored, 5% reversed (p near 1), rest null
  reversed_200 = c(runif(110), rbeta(80, 0.3, 6), 1 - rbeta(10, 0.3, 6)),
  # nearly all null
  null_150 = runif(150),
  # small signature
  small_25 = c(runif(15), rbeta(10, 0.2, 5)),
  # mostly non-null (pi0 near the floor)
  strong_100 = c(runif(10), rbeta(90, 0.1, 20))
)
# qvalue's pi0est returns NA (and smooth.spline stops) when no p-value is
# >= the largest lambda (its bin counts come from tabulate()), so every case
# gets two p-values above 0.95.
cases <- lapply(cases, function(p) c(p, 0.96, 0.99))
lambda <- seq(0.05, 0.95, 0.05)
pv <- do.call(rbind, lapply(names(cases), function(k) {
  data.frame(case = k, p = sprintf("%.17g", cases[[k]]))
}))
write.table(pv, "pi0_pvalues.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
ref <- do.call(rbind, lapply(names(cases), function(k) {
  p <- cases[[k]]
  data.frame(
    case = k,
    smoother = pi0est(p, lambda = lambda, pi0.method = "smoother")$pi0,
    bootstrap = pi0est(p, lambda = lambda, pi0.method = "bootstrap")$pi0,
    lambda_05 = pi0est(p, lambda = 0.5)$pi0,
    propTrueNull_lfdr = propTrueNull(p, method = "lfdr"),
    convest = convest(p)
  )
}))
ref$smoother <- sprintf("%.17g", ref$smoother)
ref$bootstrap <- sprintf("%.17g", ref$bootstrap)
ref$lambda_05 <- sprintf("%.17g", ref$lambda_05)
ref$propTrueNull_lfdr <- sprintf("%.17g", ref$propTrueNull_lfdr)
ref$convest <- sprintf("%.17g", ref$convest)
write.table(ref, "pi0_reference.tsv", sep = "\t", quote = FALSE, row.names = FALSE)

# limma::convest (default niter = 100, tol = 1e-6) on further vectors, drawn
# after the ones above (the same seed stream, so those stay unchanged): weak
# alternatives (the case convest was tried for), p-values on the 0.01 grid
# (convest interpolates its density on that grid), exact 0 and 1, a large set.
more <- list(
  weak_400 = c(runif(240), rbeta(160, 0.7, 1.5)),
  grid_120 = c(round(runif(80), 2), round(rbeta(40, 0.3, 4), 2)),
  ends_60 = c(0, 1, 1, runif(40), rbeta(17, 0.2, 5)),
  large_3000 = c(runif(2400), rbeta(600, 0.25, 5)),
  tiny_5 = c(0.01, 0.2, 0.5, 0.7, 0.9)
)
cv <- do.call(rbind, lapply(names(more), function(k) {
  data.frame(case = k, p = sprintf("%.17g", more[[k]]))
}))
write.table(cv, "convest_pvalues.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
cref <- data.frame(
  case = names(more),
  convest = sapply(more, function(p) sprintf("%.17g", convest(p))),
  propTrueNull_convest = sapply(more, function(p) sprintf("%.17g", propTrueNull(p, method = "convest")))
)
write.table(cref, "convest_reference.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
cat(R.version.string, "qvalue", as.character(packageVersion("qvalue")),
    "limma", as.character(packageVersion("limma")), "\n")
