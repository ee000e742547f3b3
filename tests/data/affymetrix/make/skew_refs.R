# affyio on the non-square fixtures: dimensions, intensities at two corners,
# the CDF's dimensions and its first probe set's cells.
# usage: Rscript skew_refs.R DIR   (DIR holds Skew.xda.CEL and Skew.xda.CDF)
suppressMessages(library(affyio))
d <- commandArgs(TRUE)[1]
f <- file.path(d, "Skew.xda.CEL")
dims <- read.celfile.header(f)$`CEL dimensions`
mean <- read.celfile(f)$INTENSITY$MEAN  # cell order: x + cols * y
at <- function(x, y) mean[x + dims[1] * y + 1]
cat("CEL dimensions (cols, rows):", dims, "\n")
cat("MEAN at x=33,y=0:", at(33, 0), "; at x=0,y=19:", at(0, 19), "\n")
cdf <- read.cdffile.list(file.path(d, "Skew.xda.CDF"))
cat("CDF Cols, Rows:", cdf$Header$Dimensions[c("Cols", "Rows")], "\n")
u <- cdf$Units[[1]]$Block[[1]]$UnitInfo
cat("first probe set", cdf$Units[[1]]$Block[[1]]$Name, "x:", u$x, "y:", u$y, "\n")
