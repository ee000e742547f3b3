# Reference numbers for tests/test_restoration_statistics.py, made once with R 4.2.2:
#   cd tests/data/restoration && Rscript make/r_reference.R
# Writes r_reference_tests.tsv (hypergeometric and Wilson cases) and
# r_reference_scores.tsv (slope through the origin and Spearman of the toy signature).
options(digits = 15)

# Hypergeometric over-representation and Wilson intervals.
# k: restored, n: |S|, K: hits in the universe, N: universe size, conf: level.
cases <- data.frame(
  k = c(3, 0, 5, 40, 80, 1, 12, 250),
  n = c(5, 5, 5, 99, 200, 1, 30, 600),
  K = c(6, 6, 5, 82, 82, 1, 100, 900),
  N = c(12, 12, 12, 2000, 2000, 10, 1000, 20000),
  conf = c(0.95, 0.95, 0.95, 0.95, 0.95, 0.9, 0.99, 0.95)
)
cases$hypergeom_p <- phyper(cases$k - 1, cases$K, cases$N - cases$K, cases$n, lower.tail = FALSE)
ci <- t(mapply(function(k, n, conf) prop.test(k, n, conf.level = conf, correct = FALSE)$conf.int,
               cases$k, cases$n, cases$conf))
cases$wilson_low <- ci[, 1]
cases$wilson_high <- ci[, 2]
write.table(format(cases, digits = 15), "r_reference_tests.tsv", sep = "\t",
            quote = FALSE, row.names = FALSE)

# Toy signature of the tests (reference and restoration logFC over S).
x <- c(2, 1.5, -2, -1.2, 1.0)
y <- c(1.8, -1.0, -0.5, -0.9, 0.2)
scores <- data.frame(
  slope = unname(coef(lm(y ~ 0 + x))),
  spearman = cor(x, y, method = "spearman")
)
write.table(format(scores, digits = 15), "r_reference_scores.tsv", sep = "\t",
            quote = FALSE, row.names = FALSE)
