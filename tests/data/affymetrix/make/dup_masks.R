# What affyio reports for a text CEL whose [MASKS]/[OUTLIERS] list a cell twice.
# usage: Rscript dup_masks.R DIR   (DIR holds DupMasks.v3.CEL)
suppressMessages(library(affyio))
r <- read.celfile(file.path(commandArgs(TRUE)[1], "DupMasks.v3.CEL"))
cat("n_masks", NROW(r$MASKS), "n_outliers", NROW(r$OUTLIERS), "\n")
print(r$MASKS)
print(r$OUTLIERS)
