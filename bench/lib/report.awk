# report.awk: turns the measurements into the markdown tables of RESULTS.md.
#
# Input files, in this order:
#   labels.tsv   dialect, tool, label: the tools measured on each dialect, in table order;
#   results.tsv  dialect, N, tool, action, run, wall µs, peak RSS KB, ok|fail.
# Variables: dialects and ns, space-separated, in table order.
# Every figure is the median over the runs; a cell with any failed run says "failed".

BEGIN {
  FS = "\t"
  nd = split(dialects, D, " ")
  nn = split(ns, N, " ")
  NAME["sqlite"] = "SQLite"; NAME["postgresql"] = "PostgreSQL"; NAME["mysql"] = "MariaDB"
}

# labels.tsv
FNR == NR {
  ntools[$1]++
  TOOLS[$1, ntools[$1]] = $2
  LABEL[$1, $2] = $3
  if (!($2 in SEEN)) { SEEN[$2] = 1; ALL[++nall] = $2 }
  next
}

# results.tsv
{
  k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
  if ($8 != "ok") { FAILED[k] = 1; next }
  US[k] = US[k] " " $6
  KB[k] = KB[k] " " $7
}

END {
  summary()
  for (i = 1; i <= nd; i++)
    for (j = 1; j <= nn; j++)
      detail(D[i], N[j])
}

# median: the middle of a space-separated list of numbers (mean of the two middles).
function median(list,    a, n, i, j, v) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++) {
    v = a[i] + 0
    for (j = i - 1; j >= 1 && a[j] + 0 > v; j--) a[j + 1] = a[j]
    a[j + 1] = v
  }
  return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}

# state: "failed", "none" or "ok" for one (dialect, N, tool, action).
function state(d, n, t, act,    k) {
  k = d SUBSEP n SUBSEP t SUBSEP act
  if (k in FAILED) return "failed"
  if (!(k in US)) return "none"
  return "ok"
}

function wall(d, n, t, act) { return median(US[d, n, t, act]) }

# range: "min–max" of a list of microseconds, in seconds; the spread shows how noisy the
# machine was while the figures were taken.
function range(list,    a, n, i, lo, hi) {
  n = split(list, a, " ")
  lo = hi = a[1] + 0
  for (i = 2; i <= n; i++) {
    if (a[i] + 0 < lo) lo = a[i] + 0
    if (a[i] + 0 > hi) hi = a[i] + 0
  }
  return sprintf("%.3f–%.3f", lo / 1e6, hi / 1e6)
}
function rss_mb(d, n, t, act) { return median(KB[d, n, t, act]) / 1024 }

# cell: a formatted figure; kind is "s" (seconds), "range" (seconds), "ms", "mb" or "ratio".
function cell(d, n, t, act, kind,    s, floor) {
  s = state(d, n, t, act)
  if (s != "ok") return s == "failed" ? "failed" : "—"
  if (kind == "s") return sprintf("%.3f", wall(d, n, t, act) / 1e6)
  if (kind == "range") return range(US[d, n, t, act])
  if (kind == "ms") return sprintf("%.1f", wall(d, n, t, act) / 1e3)
  if (kind == "mb") return sprintf("%.1f", rss_mb(d, n, t, act))
  if (state(d, n, "floor", "apply") != "ok") return "—"
  floor = wall(d, n, "floor", "apply")
  return sprintf("%.2f×", wall(d, n, t, act) / floor)
}

function measured(d, t,    i) {
  for (i = 1; i <= ntools[d]; i++) if (TOOLS[d, i] == t) return 1
  return 0
}

# summary: apply-all time as a ratio to the client floor, every dialect and N side by side.
function summary(    i, j, t, row, sep) {
  print "## Apply all versions from empty, relative to the database's own client"
  print ""
  row = "| tool |"; sep = "|---|"
  for (i = 1; i <= nd; i++)
    for (j = 1; j <= nn; j++) { row = row " " NAME[D[i]] " N=" N[j] " |"; sep = sep "---:|" }
  print row; print sep
  row = "| client floor (s) |"
  for (i = 1; i <= nd; i++)
    for (j = 1; j <= nn; j++) row = row " " cell(D[i], N[j], "floor", "apply", "s") " |"
  print row
  for (t = 1; t <= nall; t++) {
    if (ALL[t] == "floor") continue
    row = "| " LABEL[first_dialect(ALL[t]), ALL[t]] " |"
    for (i = 1; i <= nd; i++)
      for (j = 1; j <= nn; j++)
        row = row " " (measured(D[i], ALL[t]) ? cell(D[i], N[j], ALL[t], "apply", "ratio") : "n/a") " |"
    print row
  }
  print ""
}

function first_dialect(t,    i) {
  for (i = 1; i <= nd; i++) if (measured(D[i], t)) return D[i]
}

# detail: every measured figure for one dialect and N.
function detail(d, n,    i, t) {
  print "### " NAME[d] ", N = " n
  print ""
  print "| tool | apply (s) | × floor | apply range (s) | apply RSS (MB) | no-op sync (ms) | no-op RSS (MB) | version (ms) | version RSS (MB) |"
  print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= ntools[d]; i++) {
    t = TOOLS[d, i]
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", LABEL[d, t],
      cell(d, n, t, "apply", "s"), cell(d, n, t, "apply", "ratio"), cell(d, n, t, "apply", "range"),
      cell(d, n, t, "apply", "mb"),
      cell(d, n, t, "noop", "ms"), cell(d, n, t, "noop", "mb"),
      cell(d, n, t, "version", "ms"), cell(d, n, t, "version", "mb")
  }
  print ""
}
