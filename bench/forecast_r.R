# The reference forecasters for bench/bench_accuracy: R's forecast package
# (Hyndman & Khandakar, "Automatic time series forecasting: the forecast
# package for R", JSS 2008) on the same histories bespoke forecasts.
#
#   Rscript bench/forecast_r.R HISTORIES.csv OUT.csv HORIZON [CORES]
#
# HISTORIES.csv has one task per line: id,v1,v2,... (hourly values, NA for
# missing; the last value is the one just before the forecast origin).
# For each task and each of ets, mstl and auto.arima, OUT.csv gets HORIZON
# lines: id,model,h,mean,p90,p95,p99,seconds, where pXX are the upper
# bounds of the 80%, 90% and 98% intervals (so the 90th, 95th and 99th
# percentiles) and seconds is the time that model took on that task.
#
# Missing values are interpolated first (forecast::na.interp), as mstl
# requires it and ets would otherwise keep only the longest stretch
# without gaps. ets and auto.arima see a daily season (frequency 24, the
# most ets allows); mstl sees the day and the week (msts 24, 168) and
# forecasts the seasonally adjusted part with ets, its default. Each model
# gets its defaults otherwise, except that auto.arima's default maximum-
# likelihood fit is given ARIMA_LIMIT seconds (it took up to 240 s on one
# series here): when it runs out, the fit is redone with method = "CSS"
# (conditional sum of squares, auto.arima's documented faster option) and
# both times are counted. Tasks run in parallel on CORES processes
# (parallel::mclapply; default 2).
suppressPackageStartupMessages(library(forecast))
suppressPackageStartupMessages(library(parallel))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3)
	stop("usage: forecast_r.R HISTORIES.csv OUT.csv HORIZON [CORES]")
horizon <- as.integer(args[3])
cores <- if (length(args) >= 4) as.integer(args[4]) else 2L
ARIMA_LIMIT <- 10

# auto.arima with a time limit: the default fit in a child process,
# killed after ARIMA_LIMIT seconds and replaced by the CSS fit.
arima_limited <- function(y) {
	job <- mcparallel(auto.arima(y), silent = TRUE)
	res <- mccollect(job, wait = FALSE, timeout = ARIMA_LIMIT)
	if (is.null(res)) {
		tools::pskill(job$pid)
		mccollect(job, wait = FALSE)
		return(auto.arima(y, method = "CSS"))
	}
	fit <- res[[1]]
	if (inherits(fit, "try-error"))
		stop(fit)
	fit
}

lines <- readLines(args[1])

one <- function(model, y) {
	t0 <- proc.time()[["elapsed"]]
	f <- tryCatch({
		if (model == "ets") {
			forecast(ets(ts(y, frequency = 24)), h = horizon,
				 level = c(80, 90, 98))
		} else if (model == "mstl") {
			forecast(mstl(msts(y, seasonal.periods = c(24, 168))),
				 h = horizon, level = c(80, 90, 98))
		} else {
			forecast(arima_limited(ts(y, frequency = 24)),
				 h = horizon, level = c(80, 90, 98))
		}
	}, error = function(e) NULL)
	secs <- proc.time()[["elapsed"]] - t0
	if (is.null(f))
		return(NULL)
	data.frame(model = model, h = seq_len(horizon),
		   mean = as.numeric(f$mean),
		   p90 = as.numeric(f$upper[, 1]),
		   p95 = as.numeric(f$upper[, 2]),
		   p99 = as.numeric(f$upper[, 3]), seconds = secs)
}

task <- function(line) {
	f <- strsplit(line, ",", fixed = TRUE)[[1]]
	id <- f[1]
	y <- suppressWarnings(as.numeric(f[-1]))
	y <- na.interp(ts(y, frequency = 24))
	out <- lapply(c("ets", "mstl", "auto.arima"), one, y = as.numeric(y))
	out <- do.call(rbind, out)
	if (is.null(out))
		return(NULL)
	cbind(id = id, out)
}

res <- mclapply(lines, task, mc.cores = cores, mc.preschedule = FALSE)
res <- do.call(rbind, res[!vapply(res, is.null, TRUE)])
write.csv(res, args[2], row.names = FALSE, quote = FALSE)
