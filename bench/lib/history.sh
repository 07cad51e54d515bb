# shellcheck shell=bash
# Long histories: what an up-to-date run costs when the repository holds many versions.
# Sourced by run.sh.

# generate_history N DIR: a ratchet repository of N one-statement versions, written by one
# awk process (a shell loop over 10,000 files takes far longer than the measurement).
generate_history() {
  local n=$1 dir=$2
  mkdir -p "$dir/versions"
  write_ratchet_config "$dir"
  awk -v n="$n" -v dir="$dir/versions" 'BEGIN {
    for (v = 1; v <= n; v++) {
      file = sprintf("%s/%03d_create_item%05d_default_upgrade.sql", dir, v, v)
      printf "CREATE TABLE item%05d (id INTEGER PRIMARY KEY, name VARCHAR(100));\n", v > file
      close(file)
    }
  }'
}

# bench_history N: on SQLite, puts an empty database under version control at N (the
# versions' tables do not matter to what is measured) and times `db version` and an
# up-to-date `db sync` RUNS times each. Results go to results.tsv as tool "ratchet", actions
# "history-version" and "history-noop".
bench_history() {
  local n=$1 dir=$WORK/repos/history-$1 name run action status
  log "long history: $n versions on SQLite"
  generate_history "$n" "$dir"
  DB_SEQ=$((DB_SEQ + 1))
  name=ratchet_bench_$$_$DB_SEQ
  "$RATCHET" --repository "$dir" --database "sqlite:///$(sqlite_path "$name")" db version_control "$n" >/dev/null ||
    die "ratchet db version_control $n failed"
  CMD_IN=/dev/null
  for ((run = 1; run <= RUNS; run++)); do
    for action in version noop; do
      CMD=("$RATCHET" --repository "$dir" --database "sqlite:///$(sqlite_path "$name")" db)
      if [[ $action == version ]]; then CMD+=(version); else CMD+=(sync); fi
      status=ok
      measure || { status=fail && report_failure ratchet "history-$action" sqlite "$n"; }
      record sqlite "$n" ratchet "history-$action" "$run" "$status"
    done
  done
  db_drop sqlite "$name"
}

# history_report: the long-history section of the report, medians of the runs.
history_report() {
  [[ -n $HISTORY ]] || return 0
  printf '\n## Long history: up-to-date runs with %s versions (SQLite)\n\n' "$HISTORY"
  printf 'An empty database put under version control at version %s (`db version_control`), so\n' "$HISTORY"
  printf 'that only the repository'"'"'s size matters; %s run(s), medians.\n\n' "$RUNS"
  printf '| command | wall (ms) | peak RSS (MB) |\n|---|---:|---:|\n'
  awk -F'\t' -v n="$HISTORY" '
    function median(list,   a, k) { k = split(list, a, " "); asort(a); return a[int((k + 1) / 2)] }
    $1 == "sqlite" && $2 == n && $4 ~ /^history-/ && $8 == "ok" { wall[$4] = wall[$4] " " $6; rss[$4] = rss[$4] " " $7 }
    END {
      split("history-version history-noop", order, " ")
      label["history-version"] = "`db version`"; label["history-noop"] = "`db sync` (nothing to do)"
      for (i = 1; i <= 2; i++) {
        a = order[i]
        if (a in wall) printf "| %s | %.1f | %.1f |\n", label[a], median(wall[a]) / 1000, median(rss[a]) / 1024
        else printf "| %s | failed | — |\n", label[a]
      }
    }' "$WORK/results.tsv"
}
