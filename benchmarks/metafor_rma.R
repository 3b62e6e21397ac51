# Time R metafor's rma() on the same kind of workload as benchmarks/pooling.py.
# Usage: Rscript benchmarks/metafor_rma.R [N] [k]   (needs the r-cran-metafor package)
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
n <- if (length(args) >= 1) as.integer(args[1]) else 500L
k <- if (length(args) >= 2) as.integer(args[2]) else 10L
set.seed(2026)
fits <- function(method) {
  t0 <- proc.time()[["elapsed"]]
  for (i in seq_len(n)) {
    n1 <- sample(30:299, k, TRUE); n2 <- sample(30:299, k, TRUE)
    p2 <- runif(k, 0.1, 0.4); odds <- p2 / (1 - p2) * exp(rnorm(k, -0.3, 0.2))
    a <- rbinom(k, n1, odds / (1 + odds)); c <- rbinom(k, n2, p2)
    rma(measure = "OR", ai = a, n1i = n1, ci = c, n2i = n2, method = method)
  }
  (proc.time()[["elapsed"]] - t0) / n
}
for (m in c("DL", "REML")) cat(sprintf("metafor %s: %.3f ms per analysis (k=%d)\n", m, 1e3 * fits(m), k))
# Egger's test (regtest, model = "lm") and a meta-regression on one covariate (REML).
others <- function(what) {
  t0 <- proc.time()[["elapsed"]]
  for (i in seq_len(n)) {
    vi <- runif(k, 0.01, 0.3); x <- runif(k, 10, 60)
    yi <- rnorm(k, -0.4 + 0.02 * (x - 35), sqrt(vi + 0.05))
    if (what == "egger") regtest(yi, vi, model = "lm") else try(rma(yi, vi, mods = ~x), silent = TRUE)
  }
  (proc.time()[["elapsed"]] - t0) / n
}
for (w in c("egger", "metareg")) cat(sprintf("metafor %s: %.3f ms per analysis (k=%d)\n", w, 1e3 * others(w), k))
