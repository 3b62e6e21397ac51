# Independent sweep of the pooling engine against metafor on metadat datasets that the other
# reference files do not use (tests/test_stats_metadat_sweep.py reads the output).
#
# Usage (from the repository root; needs r-cran-metafor, r-cran-metadat and r-cran-jsonlite
# from Debian):
#   Rscript tests/reference/make_metadat_sweep.R tests/reference/metadat_sweep
#
# Writes sweep_<name>.csv (each dataset in the extraction columns: binary, continuous, or
# generic `study, yi, se`) and metadat_sweep.json. Every fit is computed from the CSV as
# read back, so R and livingmeta see the same numbers.
#
# Conventions (aligned to livingmeta's documented ones, README "Methods"):
# - Zero cells: 0.5 added to every cell of a zero-cell study (metafor's default add = 1/2,
#   to = "only0"), for OR, RR and RD alike.
# - Double zeros: left out for OR and RR (README "Double zeros"; escalc drop00 = TRUE,
#   rma.mh/rma.peto drop00 = TRUE), kept for RD (drop00 = FALSE, in rma.mh both steps).
# - M-H fixed: `MH_fixed` is rma.mh as it is (raw cells; livingmeta mh_exact = True);
#   `MH_fixed_revman` puts the 0.5 correction inside the M-H estimate too (rma.mh with
#   add = c(1/2, 1/2), to = c("only0", "only0"); livingmeta's default mh_exact = False).
# - M-H random (RevMan 5, README "Pooling"): Q around the M-H estimate (rma.mh's QE),
#   DerSimonian-Laird tau2 from that Q, then rma(yi, vi, tau2 = tau2).
# - I2: `i2` is RevMan's max(0, (Q - df) / Q) in percent; `i2_tau2` is metafor's I2 of a
#   random-effects fit (tau2-based).
# - Prediction intervals: `pi_low`/`pi_high` are predict() on the fit (z for test = "z",
#   t on k - 1 df for "knha" and "adhoc"); `pi_t_k1` and `pi_t_k2` are the same formula
#   with t on k - 1 and k - 2 df around the z fit's SE (livingmeta pi_method).
# - convention = "revman5" (README "RevMan 5 convention"): RevMan's RD (observed in
#   zero-cell studies), Greenland-Robins M-H RD variance and Hedges' g, written out in base
#   R as make_reference.R does, pooled with metafor.
# - the other tau2 estimators (ML, HE, HS, SJ, EB) are checked by make_tau2_estimators.R,
#   not here.
# Ratios are on the log scale throughout.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/reference"
engine <- paste("R", getRversion(), "metafor", packageVersion("metafor"),
                "metadat", packageVersion("metadat"))

# ---- datasets ------------------------------------------------------------------------
binary <- function(study, ai, n1i, ci, n2i) {
  d <- data.frame(study = study, events_treat = ai, total_treat = n1i, events_ctrl = ci,
                  total_ctrl = n2i)
  d <- d[stats::complete.cases(d), ]
  d$study <- make.unique(as.character(d$study), sep = " #")
  d[-1] <- lapply(d[-1], as.numeric)
  d
}
continuous <- function(study, m1i, sd1i, n1i, m2i, sd2i, n2i) {
  d <- data.frame(study = study, mean_treat = m1i, sd_treat = sd1i, n_treat = n1i,
                  mean_ctrl = m2i, sd_ctrl = sd2i, n_ctrl = n2i)
  d <- d[stats::complete.cases(d), ]
  d$study <- make.unique(as.character(d$study), sep = " #")
  d[-1] <- lapply(d[-1], as.numeric)
  d
}
generic <- function(study, yi, vi) {
  d <- data.frame(study = study, yi = as.numeric(yi), se = sqrt(as.numeric(vi)))
  d <- d[stats::complete.cases(d), ]
  d$study <- make.unique(as.character(d$study), sep = " #")
  d
}

md <- function(name) getExportedValue("metadat", paste0("dat.", name))
yus <- md("yusuf1985")
yus_group <- function(tab, grp) yus[yus$table == tab & sub("\\..*", "", yus$id) == grp, ]
y93 <- yus_group("9", "3"); y94 <- yus_group("9", "4")
can <- md("cannon2006"); col <- md("collins1985a"); fin <- md("fine1993")
dam <- md("damico2009"); dor <- md("dorn2007"); har <- md("hart1999")
gib <- md("gibson2002"); cur <- md("curtis1998"); mol <- md("molloy2014")
coh <- md("cohen1981"); pig <- md("pignon2000"); bas <- md("baskerville2012")
nw8 <- md("nielweise2008"); bd <- md("bangertdrowns2004"); hk <- md("hackshaw1998")
rb <- md("raudenbush1985")
zcor <- function(ri, ni) escalc("ZCOR", ri = ri, ni = ni)
irr <- escalc("IRR", x1i = nw8$x1i, t1i = nw8$t1i, x2i = nw8$x2i, t2i = nw8$t2i)
mol_z <- zcor(mol$ri, mol$ni); coh_z <- zcor(coh$ri, coh$ni)

datasets <- list(
  # binary
  collins1985a = list(source = "dat.collins1985a: bleeding (b.xti/nti vs b.xci/nci); 2 NA rows dropped; single and double zeros",
    data = binary(paste(col$trial, col$id), col$b.xti, col$nti, col$b.xci, col$nci)),
  yusuf1985_t9g3 = list(source = "dat.yusuf1985 table 9, group 3 (ids 3.x); 2 NA rows dropped; many single and 6 double zeros",
    data = binary(paste(y93$trial, y93$id), y93$ai, y93$n1i, y93$ci, y93$n2i)),
  yusuf1985_t9g4 = list(source = "dat.yusuf1985 table 9, group 4 (ids 4.x): k = 3",
    data = binary(y94$trial, y94$ai, y94$n1i, y94$ci, y94$n2i)),
  cannon2006 = list(source = "dat.cannon2006: endpoint 1 (ep1t/nt vs ep1c/nc), k = 4",
    data = binary(can$trial, can$ep1t, can$nt, can$ep1c, can$nc)),
  cannon2006_tnt = list(source = "dat.cannon2006, TNT only, endpoint 1: k = 1",
    data = binary(can$trial[can$trial == "TNT"], can$ep1t[can$trial == "TNT"],
                  can$nt[can$trial == "TNT"], can$ep1c[can$trial == "TNT"],
                  can$nc[can$trial == "TNT"])),
  cannon2006_postacs = list(source = "dat.cannon2006, post-ACS trials only, endpoint 1: k = 2",
    data = binary(can$trial[can$pop == "post-ACS"], can$ep1t[can$pop == "post-ACS"],
                  can$nt[can$pop == "post-ACS"], can$ep1c[can$pop == "post-ACS"],
                  can$nc[can$pop == "post-ACS"])),
  li2007 = list(source = "dat.li2007: magnesium in MI, k = 22 (ISIS-4 and MAGIC dominate; single zeros)",
    data = with(md("li2007"), binary(paste(study, year), ai, n1i, ci, n2i))),
  lee2004 = list(source = "dat.lee2004: acupoint stimulation, k = 16",
    data = with(md("lee2004"), binary(paste(study, year), ai, n1i, ci, n2i))),
  damico2009 = list(source = "dat.damico2009: antibiotic prophylaxis (xt/nt vs xc/nc), k = 16, large heterogeneity",
    data = binary(paste(dam$study, dam$year), dam$xt, dam$nt, dam$xc, dam$nc)),
  laopaiboon2015 = list(source = "dat.laopaiboon2015: azithromycin, k = 15",
    data = with(md("laopaiboon2015"), binary(paste(author, year), ai, n1i, ci, n2i))),
  hahn2001 = list(source = "dat.hahn2001: reduced osmolarity ORS, k = 12 with 3 double zeros",
    data = with(md("hahn2001"), binary(study, ai, n1i, ci, n2i))),
  lau1992 = list(source = "dat.lau1992: streptokinase in MI, k = 33",
    data = with(md("lau1992"), binary(paste(trial, year), ai, n1i, ci, n2i))),
  linde2005 = list(source = "dat.linde2005: St John's wort response; 2 NA rows dropped; one double zero",
    data = with(md("linde2005"), binary(study, ai, n1i, ci, n2i))),
  dorn2007 = list(source = "dat.dorn2007: x.a/n.a vs x.p/n.p, k = 19",
    data = binary(paste(dor$study, dor$year), dor$x.a, dor$n.a, dor$x.p, dor$n.p)),
  fine1993 = list(source = "dat.fine1993: e1i/nei vs c1i/nci; 1 NA row dropped",
    data = binary(paste("Study", fin$study), fin$e1i, fin$nei, fin$c1i, fin$nci)),
  hart1999 = list(source = "dat.hart1999: warfarin, x1i/n1i vs x2i/n2i (patients), k = 6",
    data = binary(paste(har$study, har$year), har$x1i, har$n1i, har$x2i, har$n2i)),
  # continuous
  gibson2002 = list(source = "dat.gibson2002: rows with means and SDs (k = 13)",
    data = continuous(paste(gib$author, gib$year), gib$m1i, gib$sd1i, gib$n1i, gib$m2i,
                      gib$sd2i, gib$n2i)),
  curtis1998 = list(source = "dat.curtis1998: k = 102, arms of 2 to 48 (tiny-df Hedges' g), raw means on mixed scales",
    data = continuous(paste("Paper", cur$paper, "id", cur$id), cur$m1i, cur$sd1i, cur$n1i,
                      cur$m2i, cur$sd2i, cur$n2i)),
  # generic inverse variance
  hackshaw1998 = list(source = "dat.hackshaw1998: log OR yi, vi as given",
    data = generic(paste(hk$author, hk$year), hk$yi, hk$vi)),
  raudenbush1985 = list(source = "dat.raudenbush1985: SMD yi, vi as given",
    data = generic(paste(rb$author, rb$year), rb$yi, rb$vi)),
  bangertdrowns2004 = list(source = "dat.bangertdrowns2004: SMD yi, vi as given, k = 48",
    data = generic(paste(bd$author, bd$year), bd$yi, bd$vi)),
  molloy2014 = list(source = "dat.molloy2014: Fisher z of ri (escalc ZCOR)",
    data = generic(paste(mol$authors, mol$year), mol_z$yi, mol_z$vi)),
  cohen1981 = list(source = "dat.cohen1981: Fisher z of ri (escalc ZCOR)",
    data = generic(coh$study, coh_z$yi, coh_z$vi)),
  pignon2000 = list(source = "dat.pignon2000: yi = OmE / V, vi = 1 / V (Peto log OR), k = 65",
    data = generic(pig$trial, pig$OmE / pig$V, 1 / pig$V)),
  baskerville2012 = list(source = "dat.baskerville2012: smd, se as given",
    data = generic(paste(bas$author, bas$year), bas$smd, bas$se^2)),
  nielweise2008 = list(source = "dat.nielweise2008: log incidence rate ratio (escalc IRR)",
    data = generic(paste(nw8$authors, nw8$year), irr$yi, irr$vi))
)

# ---- fits ----------------------------------------------------------------------------
safe <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))
revman_i2 <- function(q, df) if (df > 0 && q > 0) 100 * max(0, (q - df) / q) else 0
summary_fit <- function(fit, random) {
  k <- if (!is.null(fit$k.yi)) fit$k.yi else fit$k
  res <- list(k = k, estimate = c(fit$beta), se = fit$se, ci_low = fit$ci.lb,
              ci_high = fit$ci.ub, statistic = fit$zval, p = fit$pval, q = fit$QE,
              df = k - 1, p_q = fit$QEp, tau2 = fit$tau2, i2 = revman_i2(fit$QE, k - 1))
  if (random) {
    res$i2_tau2 <- fit$I2
    pred <- predict(fit)
    res$pi_low <- pred$pi.lb
    res$pi_high <- pred$pi.ub
  } else {
    res$i2_metafor <- fit$I2  # metafor's I2 of a fixed fit: the same Q-based formula
  }
  w <- weights(fit)  # in percent; rma.peto gives 0 for the double zeros it leaves out
  if (!is.null(fit$yi.f) && length(w) == length(fit$yi.f)) w <- w[!is.na(fit$yi.f)]
  res$weights <- I(unname(w[!is.na(w)]))  # I(): an array even for k = 1
  res
}
pi_t <- function(fit, df) {
  if (df < 1) return(NULL)
  half <- qt(1 - fit$level / 2, df) * sqrt(fit$se^2 + fit$tau2)
  c(c(fit$beta) - half, c(fit$beta) + half)
}
random_fit <- function(yi, vi, method, level) {
  fit <- rma(yi, vi, method = method, level = level)
  res <- summary_fit(fit, TRUE)
  res$pi_t_k1 <- pi_t(fit, fit$k - 1)
  res$pi_t_k2 <- pi_t(fit, fit$k - 2)
  ci <- safe(confint(fit)$random)
  if (is.matrix(ci)) {
    res$tau2_ci_low <- ci["tau^2", "ci.lb"]; res$tau2_ci_high <- ci["tau^2", "ci.ub"]
    res$i2_ci_low <- ci["I^2(%)", "ci.lb"]; res$i2_ci_high <- ci["I^2(%)", "ci.ub"]
    res$h2_ci_low <- ci["H^2", "ci.lb"]; res$h2_ci_high <- ci["H^2", "ci.ub"]
  }
  res
}
iv_fits <- function(yi, vi, level) {
  keep <- !is.na(yi)
  yi <- yi[keep]; vi <- vi[keep]
  r <- list(IV_fixed = safe(summary_fit(rma(yi, vi, method = "EE", level = level), FALSE)))
  for (m in c("DL", "REML", "PM")) {
    r[[paste0("IV_random_", m)]] <- safe(random_fit(yi, vi, m, level))
    for (test in c("knha", "adhoc"))
      r[[paste0("IV_random_", m, "_", test)]] <-
        safe(summary_fit(rma(yi, vi, method = m, test = test, level = level), TRUE))
  }
  r
}

binary_fits <- function(d, level) {
  cells <- list(ai = d$events_treat, n1i = d$total_treat, ci = d$events_ctrl,
                n2i = d$total_ctrl)
  out <- list()
  for (measure in c("OR", "RR", "RD")) {
    drop <- measure != "RD"
    es <- do.call(escalc, c(list(measure = measure), cells, list(drop00 = drop)))
    r <- iv_fits(es$yi, es$vi, level)
    mh <- function(add2, to2)
      do.call(rma.mh, c(list(measure = measure), cells,
                        list(add = c(1/2, add2), to = c("only0", to2), drop00 = c(drop, drop),
                             level = level)))
    r$MH_fixed <- safe(summary_fit(mh(0, "none"), FALSE))
    r$MH_fixed_revman <- safe(summary_fit(mh(1/2, "only0"), FALSE))
    r$MH_random_revman <- safe({
      fit_mh <- mh(1/2, "only0")
      keep <- !is.na(es$yi); yi <- es$yi[keep]; vi <- es$vi[keep]
      w <- 1 / vi
      tau2 <- if (length(yi) < 2) 0 else
        max(0, (fit_mh$QE - (length(yi) - 1)) / (sum(w) - sum(w^2) / sum(w)))
      fit <- rma(yi, vi, tau2 = tau2, method = "DL", level = level)
      res <- summary_fit(fit, TRUE)
      res$q <- fit_mh$QE; res$p_q <- fit_mh$QEp; res$i2 <- revman_i2(fit_mh$QE, res$df)
      res
    })
    if (measure == "OR")
      r$Peto_fixed <- safe(summary_fit(
        do.call(rma.peto, c(cells, list(drop00 = TRUE, level = level))), FALSE))
    if (measure == "RD") r <- c(r, revman_rd(d, level))
    out[[measure]] <- r
  }
  out
}

# RevMan 5's RD (make_reference.R's formulas): observed RD, 0.5 only in the variance;
# M-H RD of the observed study RDs with weights n1 n2 / N and Greenland-Robins variance
# on the corrected cells; RevMan's random effects: DL tau2 from Q around the M-H RD.
revman_rd <- function(d, level) {
  a <- d$events_treat; n1 <- d$total_treat; c <- d$events_ctrl; n2 <- d$total_ctrl
  b <- n1 - a; dd <- n2 - c
  inc <- ifelse(a == 0 | b == 0 | c == 0 | dd == 0, 0.5, 0)
  a1 <- a + inc; b1 <- b + inc; c1 <- c + inc; d1 <- dd + inc
  yi <- a / n1 - c / n2
  vi <- a1 * b1 / (a1 + b1)^3 + c1 * d1 / (c1 + d1)^3
  n1c <- a1 + b1; n2c <- c1 + d1; Nc <- n1c + n2c
  wmh <- n1c * n2c / Nc
  est <- sum(wmh * yi) / sum(wmh)
  se <- sqrt(sum((a1 * b1 * n2c^3 + c1 * d1 * n1c^3) / (n1c * n2c * Nc^2)) / sum(wmh)^2)
  k <- length(yi)
  q <- sum((yi - est)^2 / vi)
  z <- est / se
  crit <- qnorm(1 - (1 - level / 100) / 2)
  mh_fixed <- list(k = k, estimate = est, se = se, ci_low = est - crit * se,
                   ci_high = est + crit * se, statistic = z, p = 2 * pnorm(-abs(z)),
                   q = q, df = k - 1, p_q = pchisq(q, k - 1, lower.tail = FALSE), tau2 = 0,
                   i2 = revman_i2(q, k - 1), weights = I(100 * wmh / sum(wmh)))
  w <- 1 / vi
  tau2 <- if (k < 2) 0 else max(0, (q - (k - 1)) / (sum(w) - sum(w^2) / sum(w)))
  mh_random <- summary_fit(rma(yi, vi, tau2 = tau2, method = "DL", level = level), TRUE)
  mh_random$q <- q; mh_random$p_q <- mh_fixed$p_q; mh_random$i2 <- mh_fixed$i2
  list(IV_fixed_revman5 = summary_fit(rma(yi, vi, method = "EE", level = level), FALSE),
       IV_random_DL_revman5 = summary_fit(rma(yi, vi, method = "DL", level = level), TRUE),
       MH_fixed_revman5 = mh_fixed, MH_random_revman5 = mh_random)
}

continuous_fits <- function(d, level) {
  arms <- list(m1i = d$mean_treat, sd1i = d$sd_treat, n1i = d$n_treat, m2i = d$mean_ctrl,
               sd2i = d$sd_ctrl, n2i = d$n_ctrl)
  out <- list()
  for (measure in c("MD", "SMD")) {
    es <- do.call(escalc, c(list(measure = measure), arms))  # vtype = "LS" (default)
    out[[measure]] <- iv_fits(es$yi, es$vi, level)
  }
  # RevMan 5's Hedges' g: J = 1 - 3 / (4N - 9), v = N / (n1 n2) + g^2 / (2 (N - 3.94)).
  n1 <- d$n_treat; n2 <- d$n_ctrl; N <- n1 + n2
  s <- sqrt(((n1 - 1) * d$sd_treat^2 + (n2 - 1) * d$sd_ctrl^2) / (N - 2))
  g <- (d$mean_treat - d$mean_ctrl) / s * (1 - 3 / (4 * N - 9))
  v <- N / (n1 * n2) + g^2 / (2 * (N - 3.94))
  out$SMD$IV_fixed_revman5 <- summary_fit(rma(g, v, method = "EE", level = level), FALSE)
  out$SMD$IV_random_DL_revman5 <- summary_fit(rma(g, v, method = "DL", level = level), TRUE)
  out
}

# One study (k = 1): metafor reports Q = 0 with P = 1 and I2 = 0; livingmeta documents I2
# as "Not applicable" for a single study and leaves the P of Q on 0 df undefined, so those
# are written as null (compared with livingmeta's NaN). Everything else is compared.
single_study <- function(fits) {
  for (m in names(fits)) for (key in names(fits[[m]])) if (is.null(fits[[m]][[key]]$error))
    for (field in c("p_q", "i2", "i2_tau2", "i2_metafor"))
      if (!is.null(fits[[m]][[key]][[field]])) fits[[m]][[key]][[field]] <- NA
  fits
}
# A second confidence level on a few datasets: the same fits at level = 90, keys "_level90".
level90 <- c("damico2009", "gibson2002", "raudenbush1985")

results <- list()
for (name in names(datasets)) {
  csv <- file.path(out, paste0("sweep_", name, ".csv"))
  write.csv(datasets[[name]]$data, csv, row.names = FALSE)
  d <- read.csv(csv, check.names = FALSE)  # fit what the tests read
  type <- if ("events_treat" %in% names(d)) "binary" else
    if ("mean_treat" %in% names(d)) "continuous" else "generic"
  fit_all <- function(level)
    switch(type, binary = binary_fits(d, level), continuous = continuous_fits(d, level),
           generic = list(GIV = iv_fits(d$yi, d$se^2, level)))
  fits <- fit_all(95)
  if (name %in% level90) {
    f90 <- fit_all(90)
    for (m in names(f90)) fits[[m]] <- c(fits[[m]], setNames(f90[[m]],
                                                          paste0(names(f90[[m]]), "_level90")))
  }
  if (nrow(d) == 1) fits <- single_study(fits)
  results[[name]] <- list(source = datasets[[name]]$source, type = type,
                          csv = basename(csv), rows = nrow(d), results = fits)
}
writeLines(toJSON(list(engine = engine, datasets = results), auto_unbox = TRUE,
                  digits = NA, pretty = TRUE, na = "null", null = "null"),
           file.path(out, "metadat_sweep.json"))
