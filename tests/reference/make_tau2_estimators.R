# Reference values for the tau2 estimators ML, HE, HS, SJ, EB, HSk, DLIT, SJIT, PMM and MP
# (metafor's alias of PM), and DL, REML, PM beside them for comparison, from metafor's
# rma(method = ...); tests/test_stats_tau2_estimators.py reads the output. GENQ and GENQM
# are left out (they need user weights).
#
# Usage (from the repository root; needs r-cran-metafor and r-cran-jsonlite from Debian):
#   Rscript tests/reference/make_tau2_estimators.R ../shared/reference tests/reference
#
# Writes tau2_estimators.json into the second folder. Only datasets already in the
# repository (or the shared folder) are read, each from its CSV, so R and the tests see
# the same numbers:
# - shared:  bcg (OR, RR), egger2001 (OR; HE truncated at 0), hine1989 (OR, RR; tau2 = 0
#            for all but SJ), normand1999 (MD, SMD)
# - local:   nielweise2007 (OR; single and double zeros; ML 0 while REML > 0)
# - sweep:   gibson2002 (MD: ML stuck at a local maximum, set to 0; SMD),
#            cannon2006_postacs (OR, RR; k = 2), raudenbush1985 and hackshaw1998 (generic),
#            fine1993 (OR: EB and PM differ in the 4th digit), curtis1998 (MD: PM has no root
#            below tau2.max, EB converges)
# metafor refuses some fits; the JSON keeps its message ("error") for the tests: DLIT does
# not converge in 100 iterations on bcg, egger2001, normand1999 SMD, gibson2002 SMD,
# hackshaw1998, bcg RR ~ alloc and bcg RR (so no trimfill); SJIT not on nielweise2007; PM,
# MP and PMM on curtis1998.
# Conventions as the other reference scripts (README "Methods"): escalc's defaults (0.5 added
# to the cells of zero-cell studies; SMD with vtype = "LS"), double zeros dropped for OR and
# RR; ratios on the log scale.
#
# Per dataset x measure x method: the z fit (k, tau2, estimate, se, CI, z, p, Q, metafor's
# I2, predict()'s interval), the test = "knha" fit (estimate, se, CI, t, p, predict()), and
# confint()'s Q-profile interval of tau2, I2 and H2; on bcg RR and gibson2002 SMD also at
# level = 90 ("<method>_level90"). Beside these: meta-regression of bcg log risk ratios on
# absolute latitude (z and knha) and on allocation (z), and regtest(model = "rma") and
# trimfill() of bcg RR, for each estimator; and qchisq(0.5, df), PMM's target.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
shared <- if (length(args) >= 1) args[1] else "../shared/reference"
out <- if (length(args) >= 2) args[2] else "tests/reference"
engine <- paste("R", getRversion(), "metafor", packageVersion("metafor"))
methods <- c("ML", "HE", "HS", "SJ", "EB", "DL", "REML", "PM", "HSk", "DLIT", "SJIT", "PMM", "MP")
folders <- list(shared = shared, local = out, sweep = file.path(out, "metadat_sweep"))

datasets <- list(
  bcg = list(folder = "shared", csv = "bcg.csv", measures = c("OR", "RR")),
  egger2001 = list(folder = "shared", csv = "egger2001.csv", measures = "OR"),
  hine1989 = list(folder = "shared", csv = "hine1989.csv", measures = c("OR", "RR")),
  normand1999 = list(folder = "shared", csv = "normand1999.csv", measures = c("MD", "SMD")),
  nielweise2007 = list(folder = "local", csv = "nielweise2007.csv", measures = "OR"),
  gibson2002 = list(folder = "sweep", csv = "sweep_gibson2002.csv", measures = c("MD", "SMD")),
  cannon2006_postacs = list(folder = "sweep", csv = "sweep_cannon2006_postacs.csv",
                            measures = c("OR", "RR")),
  raudenbush1985 = list(folder = "sweep", csv = "sweep_raudenbush1985.csv", measures = "GIV"),
  hackshaw1998 = list(folder = "sweep", csv = "sweep_hackshaw1998.csv", measures = "GIV"),
  fine1993 = list(folder = "sweep", csv = "sweep_fine1993.csv", measures = "OR"),
  curtis1998 = list(folder = "sweep", csv = "sweep_curtis1998.csv", measures = "MD")
)
level90 <- list(bcg = "RR", gibson2002 = "SMD")

effects <- function(d, measure) {
  if (measure == "GIV") return(list(yi = d$yi, vi = d$se^2))
  es <- if ("events_treat" %in% names(d)) {
    escalc(measure, ai = d$events_treat, n1i = d$total_treat, ci = d$events_ctrl,
           n2i = d$total_ctrl, drop00 = TRUE)
  } else {
    escalc(measure, m1i = d$mean_treat, sd1i = d$sd_treat, n1i = d$n_treat,
           m2i = d$mean_ctrl, sd2i = d$sd_ctrl, n2i = d$n_ctrl)
  }
  keep <- !is.na(es$yi)
  list(yi = es$yi[keep], vi = es$vi[keep])
}

safe <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))
fit_summary <- function(fit) {
  pred <- predict(fit)
  list(k = fit$k, tau2 = fit$tau2, estimate = c(fit$beta), se = fit$se, ci_low = fit$ci.lb,
       ci_high = fit$ci.ub, statistic = fit$zval, p = fit$pval, q = fit$QE,
       i2_tau2 = fit$I2, pi_low = pred$pi.lb, pi_high = pred$pi.ub)
}
q_profile <- function(fit) {
  ci <- confint(fit)$random
  list(tau2_ci_low = ci["tau^2", "ci.lb"], tau2_ci_high = ci["tau^2", "ci.ub"],
       i2_ci_low = ci["I^2(%)", "ci.lb"], i2_ci_high = ci["I^2(%)", "ci.ub"],
       h2_ci_low = ci["H^2", "ci.lb"], h2_ci_high = ci["H^2", "ci.ub"])
}
method_fits <- function(yi, vi, method, level) {
  safe({
    fit <- rma(yi, vi, method = method, level = level)
    list(z = fit_summary(fit),
         knha = fit_summary(rma(yi, vi, method = method, test = "knha", level = level)),
         confint = q_profile(fit))
  })
}

results <- list()
for (name in names(datasets)) {
  spec <- datasets[[name]]
  d <- read.csv(file.path(folders[[spec$folder]], spec$csv), check.names = FALSE)
  fits <- list()
  for (measure in spec$measures) {
    es <- effects(d, measure)
    fits[[measure]] <- list()
    for (m in methods) fits[[measure]][[m]] <- method_fits(es$yi, es$vi, m, 95)
    if (identical(level90[[name]], measure))
      for (m in methods)
        fits[[measure]][[paste0(m, "_level90")]] <- method_fits(es$yi, es$vi, m, 90)
  }
  results[[name]] <- list(folder = spec$folder, csv = spec$csv, results = fits)
}

# ---- meta-regression, Egger's mixed-effects test and trim-and-fill on bcg RR ----------
bcg <- read.csv(file.path(shared, "bcg.csv"), check.names = FALSE)
covariates <- read.csv(file.path(out, "bcg_covariates.csv"), check.names = FALSE)
stopifnot(identical(bcg$study, covariates$study))
bcg_es <- cbind(as.data.frame(effects(bcg, "RR")), covariates[, c("ablat", "alloc")])
metareg_summary <- function(fit) {
  list(coefficients = lapply(seq_along(fit$beta), function(i) list(
         name = rownames(fit$beta)[i], estimate = fit$beta[i], se = fit$se[i],
         statistic = fit$zval[i], p = fit$pval[i], ci_low = fit$ci.lb[i],
         ci_high = fit$ci.ub[i])),
       qm = fit$QM, qm_p = fit$QMp, qe = fit$QE, qe_p = fit$QEp, tau2 = fit$tau2,
       i2 = fit$I2, h2 = fit$H2, r2 = fit$R2)
}
formulas <- list(ablat = list(formula = ~ablat, tests = c("z", "knha")),
                 alloc = list(formula = ~alloc, tests = "z"))
metareg <- list()
for (mods in names(formulas)) for (m in methods) for (test in formulas[[mods]]$tests)
  metareg[[mods]][[m]][[test]] <- safe(metareg_summary(
    rma(yi, vi, mods = formulas[[mods]]$formula, data = bcg_es, method = m, test = test)))

# Egger's test from the effects (regtest's default method), so that it is there even when
# the model without moderators has no estimate (DLIT): trimfill() needs that model.
bias <- list()
for (m in methods) bias[[m]] <- list(
  egger_rma = safe({
    egr <- regtest(bcg_es$yi, bcg_es$vi, model = "rma", method = m)
    list(statistic = egr$zval, p = egr$pval)
  }),
  trimfill = safe({
    tf <- trimfill(rma(yi, vi, data = bcg_es, method = m))
    list(k0 = tf$k0, side = tf$side, estimate = c(tf$beta), ci_low = tf$ci.lb,
         ci_high = tf$ci.ub, tau2 = tf$tau2)
  })
)

median_df <- c(1:30, 50, 100, 1000)
writeLines(toJSON(list(engine = engine, methods = methods, datasets = results,
                       metareg = list(dataset = "bcg RR with bcg_covariates.csv",
                                      fits = metareg),
                       bias = list(dataset = "bcg RR", fits = bias),
                       chi2_median = list(df = median_df, value = qchisq(0.5, median_df))),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null", null = "null"),
           file.path(out, "tau2_estimators.json"))
