# Reference values for the analyses beyond pooling (tests/test_stats_*.py read the JSON files).
#
# Usage (from the repository root, needs r-cran-metafor, r-cran-metadat, r-cran-jsonlite and
# r-cran-biasedurn from Debian):
#   Rscript tests/reference/make_reference.R ../shared/reference tests/reference
#
# The shared datasets (bcg, egger2001, hine1989, normand1999) are read from the shared
# folder, so R and the tests see the same rows. This script writes nielweise2007.csv
# (metadat::dat.nielweise2007: single- and double-zero studies) and bcg_covariates.csv
# (absolute latitude, year and allocation of metadat::dat.bcg) next to the JSON files.
#
# RevMan 5 conventions: R meta (settings.meta("RevMan5")) is not packaged for Debian, so
# those values come from the RevMan 5 formulas written out below in base R and pooled with
# metafor (see the README's methods section for the definitions).
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
shared <- if (length(args) >= 1) args[1] else "../shared/reference"
out <- if (length(args) >= 2) args[2] else "tests/reference"
engine <- paste("R", getRversion(), "metafor", packageVersion("metafor"))

write_json_file <- function(x, name) {
  x <- c(list(engine = engine), x)
  writeLines(toJSON(x, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
             file.path(out, name))
}
read_shared <- function(name) {
  d <- read.csv(file.path(shared, paste0(name, ".csv")), check.names = FALSE)
  d[-1] <- lapply(d[-1], as.numeric)
  d
}

nielweise <- metadat::dat.nielweise2007
nielweise <- data.frame(study = paste(nielweise$author, nielweise$year),
                        events_treat = nielweise$ai, total_treat = nielweise$n1i,
                        events_ctrl = nielweise$ci, total_ctrl = nielweise$n2i)
nielweise[-1] <- lapply(nielweise[-1], as.numeric)
write.csv(nielweise, file.path(out, "nielweise2007.csv"), row.names = FALSE)
bcg_cov <- data.frame(study = paste0(metadat::dat.bcg$author, " ", metadat::dat.bcg$year),
                      year = metadat::dat.bcg$year, ablat = metadat::dat.bcg$ablat,
                      alloc = metadat::dat.bcg$alloc)
write.csv(bcg_cov, file.path(out, "bcg_covariates.csv"), row.names = FALSE)

binary <- list(bcg = read_shared("bcg"), egger2001 = read_shared("egger2001"),
               hine1989 = read_shared("hine1989"), nielweise2007 = nielweise)
continuous <- list(normand1999 = read_shared("normand1999"))

effects <- function(d, measure) {
  if (measure %in% c("MD", "SMD"))
    return(escalc(measure, m1i = mean_treat, sd1i = sd_treat, n1i = n_treat,
                  m2i = mean_ctrl, sd2i = sd_ctrl, n2i = n_ctrl, data = d))
  es <- escalc(measure, ai = events_treat, n1i = total_treat, ci = events_ctrl,
               n2i = total_ctrl, data = d, drop00 = measure != "RD")
  es
}

fit_summary <- function(fit) {
  list(k = fit$k, estimate = c(fit$beta), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
       statistic = fit$zval, p = fit$pval, q = fit$QE, tau2 = fit$tau2)
}

# ---- RevMan 5 conventions ------------------------------------------------------------
revman_binary <- function(d, measure) {
  a <- d$events_treat; n1 <- d$total_treat; c <- d$events_ctrl; n2 <- d$total_ctrl
  b <- n1 - a; dd <- n2 - c
  zero <- a == 0 | b == 0 | c == 0 | dd == 0
  inc <- ifelse(zero, 0.5, 0)
  a1 <- a + inc; b1 <- b + inc; c1 <- c + inc; d1 <- dd + inc
  # RD: observed difference; 0.5 only inside the standard error.
  yi <- a / n1 - c / n2
  vi <- a1 * b1 / (a1 + b1)^3 + c1 * d1 / (c1 + d1)^3
  # Mantel-Haenszel RD as R meta with MH.exact = FALSE: the observed study RDs weighted by
  # n1 n2 / N of the corrected cells, Greenland-Robins variance of the corrected cells.
  n1c <- a1 + b1; n2c <- c1 + d1; Nc <- n1c + n2c
  rd_mh <- sum(n1c * n2c / Nc * yi) / sum(n1c * n2c / Nc)
  var_gr <- sum((a1 * b1 * n2c^3 + c1 * d1 * n1c^3) / (n1c * n2c * Nc^2)) /
    sum(n1c * n2c / Nc)^2
  q <- sum((yi - rd_mh)^2 / vi)
  se <- sqrt(var_gr)
  z <- rd_mh / se
  mh_fixed <- list(k = length(yi), estimate = rd_mh, se = se, ci_low = rd_mh - qnorm(0.975) * se,
                   ci_high = rd_mh + qnorm(0.975) * se, statistic = z, p = 2 * pnorm(-abs(z)),
                   q = q, tau2 = 0)
  sw <- sum(1 / vi)
  tau2 <- max(0, (q - (length(yi) - 1)) / (sw - sum(1 / vi^2) / sw))
  mh_random <- fit_summary(rma(yi, vi, tau2 = tau2, method = "DL"))
  mh_random$q <- q
  list(studies = list(yi = yi, vi = vi),
       IV_fixed = fit_summary(rma(yi, vi, method = "EE")),
       IV_random_DL = fit_summary(rma(yi, vi, method = "DL")),
       MH_fixed = mh_fixed, MH_random = mh_random)
}

revman_smd <- function(d) {
  n1 <- d$n_treat; n2 <- d$n_ctrl; N <- n1 + n2
  s <- sqrt(((n1 - 1) * d$sd_treat^2 + (n2 - 1) * d$sd_ctrl^2) / (N - 2))
  yi <- (d$mean_treat - d$mean_ctrl) / s * (1 - 3 / (4 * N - 9))
  vi <- N / (n1 * n2) + yi^2 / (2 * (N - 3.94))
  list(studies = list(yi = yi, vi = vi),
       IV_fixed = fit_summary(rma(yi, vi, method = "EE")),
       IV_random_DL = fit_summary(rma(yi, vi, method = "DL")))
}

revman <- list()
for (name in names(binary)) revman[[name]] <- list(RD = revman_binary(binary[[name]], "RD"))
revman$normand1999 <- list(SMD = revman_smd(continuous$normand1999))
# The Cochrane 2025 view and the small-study tests on the same RevMan 5 study effects.
modern_fit <- function(yi, vi) {
  fit <- rma(yi, vi, method = "REML", test = "adhoc")
  pred <- predict(fit)
  list(estimate = c(fit$beta), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
       tau2 = fit$tau2, pi_low = pred$pi.lb, pi_high = pred$pi.ub)
}
revman_bias <- function(yi, vi, ni) {
  out <- list()
  for (method in c("DL", "REML")) {
    fit <- rma(yi, vi, method = method)
    eg <- regtest(fit, model = "lm"); egr <- regtest(fit, model = "rma")
    rk <- suppressWarnings(ranktest(fit)); tf <- trimfill(fit)
    out[[method]] <- list(
      egger = list(statistic = eg$zval, df = eg$dfs, p = eg$pval),
      egger_rma = list(statistic = egr$zval, p = egr$pval),
      begg = list(statistic = unname(rk$tau), p = rk$pval),
      trimfill = list(k0 = tf$k0, side = tf$side, estimate = c(tf$beta), ci_low = tf$ci.lb,
                      ci_high = tf$ci.ub, tau2 = tf$tau2))
    if (!is.null(ni)) {
      pe <- regtest(yi, vi, ni = ni, model = "lm", predictor = "ninv")
      out[[method]]$peters <- list(statistic = pe$zval, df = pe$dfs, p = pe$pval)
    }
  }
  out
}
revman_modern <- list(); revman_bias_results <- list()
for (name in names(revman)) for (measure in names(revman[[name]])) {
  st <- revman[[name]][[measure]]$studies
  d <- if (name %in% names(binary)) binary[[name]] else continuous[[name]]
  ni <- if (measure == "RD") d$total_treat + d$total_ctrl else NULL
  revman_modern[[name]][[measure]] <- modern_fit(st$yi, st$vi)
  revman_bias_results[[name]][[measure]] <- revman_bias(st$yi, st$vi, ni)
}
# Sato's variance for the same M-H RD (metafor rma.mh), for the variance option.
sato <- lapply(binary, function(d) {
  fit <- rma.mh(measure = "RD", ai = events_treat, n1i = total_treat, ci = events_ctrl,
                n2i = total_ctrl, data = d)
  list(estimate = c(fit$beta), se = fit$se)
})
write_json_file(list(note = "RevMan 5 formulas in base R, pooled with metafor", results = revman,
                     mh_rd_sato = sato, modern = revman_modern, bias = revman_bias_results),
                "revman5.json")

# ---- Small-study effects ---------------------------------------------------------------
harbord <- function(d) {
  a <- d$events_treat; n1 <- d$total_treat; c <- d$events_ctrl; n2 <- d$total_ctrl
  N <- n1 + n2; m <- a + c
  z <- a - n1 * m / N
  v <- n1 * n2 * m * (N - m) / (N^2 * (N - 1))
  keep <- v > 0
  fit <- summary(lm(I(z[keep] / sqrt(v[keep])) ~ sqrt(v[keep])))
  list(statistic = coef(fit)[1, 3], df = fit$df[2], p = coef(fit)[1, 4])
}

bias_for_fit <- function(fit, d, measure) {
  eg <- regtest(fit, model = "lm")
  egr <- regtest(fit, model = "rma")
  rk <- suppressWarnings(ranktest(fit))
  tf <- trimfill(fit)
  res <- list(
    egger = list(statistic = eg$zval, df = eg$dfs, p = eg$pval),
    egger_rma = list(statistic = egr$zval, p = egr$pval),
    begg = list(statistic = unname(rk$tau), p = rk$pval),
    trimfill = list(k0 = tf$k0, side = tf$side, estimate = c(tf$beta), ci_low = tf$ci.lb,
                    ci_high = tf$ci.ub, tau2 = tf$tau2))
  if (!is.null(attr(fit$yi, "ni"))) {
    pe <- regtest(fit, model = "lm", predictor = "ninv")
    res$peters <- list(statistic = pe$zval, df = pe$dfs, p = pe$pval)
  }
  if (measure == "OR") res$harbord <- harbord(d)
  res
}

bias <- list()
fits <- c(EE = "EE", DL = "DL", REML = "REML", PM = "PM")
for (name in names(binary)) {
  for (measure in c("OR", "RR")) {
    es <- effects(binary[[name]], measure)
    for (key in names(fits)) {
      fit <- rma(yi, vi, data = es, method = fits[[key]])
      bias[[name]][[measure]][[key]] <- bias_for_fit(fit, binary[[name]], measure)
    }
  }
}
es <- effects(continuous$normand1999, "SMD")
for (key in names(fits)) {
  fit <- rma(yi, vi, data = es, method = fits[[key]])
  bias$normand1999$SMD[[key]] <- bias_for_fit(fit, continuous$normand1999, "SMD")
}
write_json_file(list(results = bias), "bias.json")

# ---- Meta-regression and subgroups ----------------------------------------------------
bcg_es <- cbind(effects(binary$bcg, "RR"), bcg_cov[, c("year", "ablat", "alloc")])
metareg_summary <- function(fit) {
  list(coefficients = lapply(seq_along(fit$beta), function(i) list(
         name = rownames(fit$beta)[i], estimate = fit$beta[i], se = fit$se[i],
         statistic = fit$zval[i], p = fit$pval[i], ci_low = fit$ci.lb[i], ci_high = fit$ci.ub[i])),
       qm = fit$QM, qm_df = fit$QMdf, qm_p = fit$QMp, qe = fit$QE, qe_df = fit$k - fit$p,
       qe_p = fit$QEp, tau2 = fit$tau2, i2 = fit$I2, h2 = fit$H2,
       r2 = if (is.null(fit$R2)) NULL else fit$R2, k = fit$k)
}
formulas <- list(ablat = ~ablat, ablat_year = ~ablat + year, alloc = ~alloc)
metareg <- list()
for (mods in names(formulas)) for (method in c("DL", "REML", "PM")) for (test in c("z", "knha")) {
  fit <- rma(yi, vi, mods = formulas[[mods]], data = bcg_es, method = method, test = test)
  metareg[[mods]][[method]][[test]] <- metareg_summary(fit)
  ci <- confint(fit)$random
  metareg[[mods]][[method]][[test]]$tau2_ci <- unname(ci["tau^2", c("ci.lb", "ci.ub")])
  metareg[[mods]][[method]][[test]]$i2_ci <- unname(ci["I^2(%)", c("ci.lb", "ci.ub")])
}
for (mods in names(formulas)) {
  fit <- rma(yi, vi, mods = formulas[[mods]], data = bcg_es, method = "EE")
  metareg[[mods]][["EE"]][["z"]] <- metareg_summary(fit)
}
subgroup_results <- list()
for (method in c("DL", "REML")) {
  groups <- split(bcg_es, bcg_es$alloc)
  sep <- lapply(groups, function(g) fit_summary(rma(yi, vi, data = g, method = method)))
  est <- sapply(sep, function(s) s$estimate); se <- sapply(sep, function(s) s$se)
  between <- rma(est, sei = se, method = "EE")
  common <- rma(yi, vi, mods = ~alloc - 1, data = bcg_es, method = method)
  test <- rma(yi, vi, mods = ~alloc, data = bcg_es, method = method)
  subgroup_results[[method]] <- list(
    separate = list(groups = sep, q_between = between$QE, df_between = between$k - 1,
                    p_between = between$QEp),
    common = list(groups = lapply(seq_along(common$beta), function(i) list(
                    name = sub("^alloc", "", rownames(common$beta)[i]), estimate = common$beta[i],
                    se = common$se[i], ci_low = common$ci.lb[i], ci_high = common$ci.ub[i])),
                  tau2 = common$tau2, q_between = test$QM, df_between = test$QMdf[1],
                  p_between = test$QMp))
}
write_json_file(list(dataset = "bcg (RR) with metadat::dat.bcg covariates", metareg = metareg,
                     subgroups = subgroup_results), "metareg.json")

# ---- Cochrane 2025 view: Q-profile CI, ad hoc HKSJ, prediction intervals -------------
modern <- list()
cases <- c(lapply(binary, function(d) list(data = d, measures = c("OR", "RR", "RD"))),
           lapply(continuous, function(d) list(data = d, measures = c("MD", "SMD"))))
for (name in names(cases)) for (measure in cases[[name]]$measures) {
  es <- effects(cases[[name]]$data, measure)
  for (method in c("DL", "REML", "PM")) {
    fit <- rma(yi, vi, data = es, method = method)
    ci <- confint(fit)$random
    adhoc <- rma(yi, vi, data = es, method = method, test = "adhoc")
    knha <- rma(yi, vi, data = es, method = method, test = "knha")
    k <- fit$k; half <- function(q) q * sqrt(fit$tau2 + fit$se^2)
    pred_adhoc <- predict(adhoc); pred_knha <- predict(knha)
    modern[[name]][[measure]][[method]] <- list(
      tau2 = fit$tau2, tau2_ci_low = ci["tau^2", "ci.lb"], tau2_ci_high = ci["tau^2", "ci.ub"],
      i2 = fit$I2, i2_ci_low = ci["I^2(%)", "ci.lb"], i2_ci_high = ci["I^2(%)", "ci.ub"],
      h2_ci_low = ci["H^2", "ci.lb"], h2_ci_high = ci["H^2", "ci.ub"],
      adhoc = list(se = adhoc$se, ci_low = adhoc$ci.lb, ci_high = adhoc$ci.ub,
                   statistic = adhoc$zval, p = adhoc$pval),
      hksj_se = knha$se,
      pi_z = c(fit$beta) + c(-1, 1) * half(qnorm(0.975)),
      pi_t_k1 = c(fit$beta) + c(-1, 1) * half(qt(0.975, k - 1)),
      pi_t_k2 = if (k > 2) c(fit$beta) + c(-1, 1) * half(qt(0.975, k - 2)) else NULL,
      # predict() on the HKSJ fits: t on k - 1 df around the HKSJ (or ad hoc) SE.
      pi_adhoc = c(pred_adhoc$pi.lb, pred_adhoc$pi.ub),
      pi_knha = c(pred_knha$pi.lb, pred_knha$pi.ub),
      pi_adhoc_t_k2 = if (k > 2) c(adhoc$beta) + c(-1, 1) * qt(0.975, k - 2) *
        sqrt(adhoc$tau2 + adhoc$se^2) else NULL)
  }
}
write_json_file(list(note = "analysis scale (log for OR and RR)", results = modern),
                "heterogeneity_ci.json")

# ---- Zero-event panel ------------------------------------------------------------------
zero_panel <- function(d) {
  cells <- list(ai = d$events_treat, n1i = d$total_treat, ci = d$events_ctrl, n2i = d$total_ctrl)
  a <- d$events_treat; n1 <- d$total_treat; c <- d$events_ctrl; n2 <- d$total_ctrl
  zero <- a == 0 | c == 0 | a == n1 | c == n2
  dz <- (a == 0 & c == 0) | (a == n1 & c == n2)
  # Treatment-arm continuity correction (Sweeting 2004): corrections summing to 1,
  # proportional to the reciprocal of the opposite arm's size.
  inc1 <- ifelse(zero & !dz, n1 / (n1 + n2), 0); inc2 <- ifelse(zero & !dz, n2 / (n1 + n2), 0)
  keep <- !dz
  tacc <- rma.mh(measure = "OR", ai = (a + inc1)[keep], bi = (n1 - a + inc1)[keep],
                 ci = (c + inc2)[keep], di = (n2 - c + inc2)[keep])
  mh_raw <- do.call(rma.mh, c(list(measure = "OR"), cells))
  half <- ifelse(zero & !dz, 0.5, 0)
  mh_half <- rma.mh(measure = "OR", ai = (a + half)[keep], bi = (n1 - a + half)[keep],
                    ci = (c + half)[keep], di = (n2 - c + half)[keep])
  iv_half <- rma(yi, vi, data = effects(d, "OR"), method = "EE")
  peto <- do.call(rma.peto, cells)
  cm <- do.call(rma.glmm, c(list(measure = "OR", model = "CM.EL", method = "EE"), cells))
  rd <- do.call(rma.mh, c(list(measure = "RD"), cells))
  one <- function(fit) list(k = fit$k, estimate = c(fit$beta), se = fit$se, ci_low = fit$ci.lb,
                            ci_high = fit$ci.ub, p = fit$pval)
  list(iv_half = one(iv_half), mh_half = one(mh_half), mh_uncorrected = one(mh_raw),
       tacc = one(tacc),
       peto = one(peto), exact_conditional = one(cm), rd_mh = one(rd))
}
write_json_file(list(note = "OR rows on the log scale; fixed effect throughout",
                     results = list(nielweise2007 = zero_panel(nielweise),
                                    egger2001 = zero_panel(binary$egger2001))),
                "zero_events.json")
