# Reference values for study labels that repeat (multi-arm trials, strata): metafor pools
# each row as its own comparison. tests/test_pool_repeated_labels.py reads the files.
#
# Usage (from the repository root, needs r-cran-metafor, r-cran-metadat and r-cran-jsonlite
# from Debian):
#   Rscript tests/reference/make_repeated_labels.R tests/reference
#
# Writes anand1999.csv, hartmannboyce2018.csv and axfors2021.csv (the metadat datasets in
# the extraction columns, labels as the datasets give them, so some repeat) and
# repeated_labels.json (rma DL and REML with double-zero rows left out, and rma.mh, for OR
# and RR, on every row).
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/reference"
engine <- paste("R", getRversion(), "metafor", packageVersion("metafor"))

as_extraction <- function(study, ai, n1i, ci, n2i) {
  d <- data.frame(study = study, events_treat = ai, total_treat = n1i,
                  events_ctrl = ci, total_ctrl = n2i)
  d[-1] <- lapply(d[-1], as.numeric)
  d
}
anand <- metadat::dat.anand1999
hb <- metadat::dat.hartmannboyce2018
ax <- metadat::dat.axfors2021
datasets <- list(
  anand1999 = as_extraction(paste(anand$study, anand$year), anand$ai, anand$n1i,
                            anand$ci, anand$n2i),
  hartmannboyce2018 = as_extraction(hb$study, hb$x.nrt, hb$n.nrt, hb$x.ctrl, hb$n.ctrl),
  axfors2021 = as_extraction(ax$id, ax$hcq_arm_event, ax$hcq_arm_total,
                             ax$control_arm_event, ax$control_arm_total)
)

summarise <- function(fit) {
  list(k = fit$k, estimate = as.numeric(fit$beta), se = fit$se, ci_low = fit$ci.lb,
       ci_high = fit$ci.ub, tau2 = fit$tau2, i2 = fit$I2, q = fit$QE)
}
results <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
  cells <- list(ai = d$events_treat, n1i = d$total_treat, ci = d$events_ctrl,
                n2i = d$total_ctrl)
  for (measure in c("OR", "RR")) {
    for (method in c("DL", "REML")) {
      fit <- do.call(rma, c(cells, list(measure = measure, method = method, drop00 = TRUE)))
      results[[name]][[measure]][[method]] <- summarise(fit)
    }
    fit <- do.call(rma.mh, c(cells, list(measure = measure)))
    results[[name]][[measure]][["MH"]] <- summarise(fit)
  }
  results[[name]][["repeated"]] <- sum(duplicated(d$study))
}
writeLines(toJSON(c(list(engine = engine), results), auto_unbox = TRUE, digits = NA,
                  pretty = TRUE, na = "null"),
           file.path(out, "repeated_labels.json"))
