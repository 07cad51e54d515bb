# shellcheck shell=bash
# Measuring one command: wall time from bash's microsecond clock (GNU time's %e has only
# 10 ms resolution, too coarse for no-op runs) and peak RSS from GNU time's %M. Results go
# to WORK/results.tsv, one line per measurement. Sourced by run.sh.

# log MESSAGE…: progress on stderr, so that stdout carries only the report.
log() {
  printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2
}

# die MESSAGE…: stops the run; the EXIT trap cleans up.
die() {
  printf 'bench: %s\n' "$*" >&2
  exit 1
}

# measure: runs CMD with CMD_IN as standard input and sets WALL_US and RSS_KB. Returns the
# command's status; its output is kept in WORK/last.out for the failure message.
measure() {
  local t0 t1 status=0 lines
  t0=${EPOCHREALTIME/./}
  /usr/bin/time -f '%M' -o "$WORK/last.rss" "${CMD[@]}" <"$CMD_IN" >"$WORK/last.out" 2>&1 || status=$?
  t1=${EPOCHREALTIME/./}
  WALL_US=$((t1 - t0))
  # On failure GNU time writes "Command exited with non-zero status N" before the figure.
  mapfile -t lines <"$WORK/last.rss"
  RSS_KB=${lines[-1]:-0}
  return "$status"
}

# record DIALECT N TOOL ACTION RUN STATUS: appends the last measurement to results.tsv.
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$WALL_US" "$RSS_KB" "$6" \
    >>"$WORK/results.tsv"
}

# report_failure TOOL ACTION DIALECT N: shows why a measured command failed. The run goes
# on, and the report marks the cell as failed, so one broken peer does not hide the rest.
report_failure() {
  printf '\nbench: %s %s failed on %s (N=%s): %s\n' "$1" "$2" "$3" "$4" "${CMD[*]}" >&2
  tail -n 5 "$WORK/last.out" | sed 's/^/    /' >&2
}

# bench_action TOOL ACTION DIALECT N RUN NAME: measures one action and records it. An
# apply that exits 0 without creating the N tables counts as failed, not as a fast run.
bench_action() {
  local tool=$1 action=$2 dialect=$3 n=$4 run=$5 name=$6 status=ok
  set_command "$tool" "$action" "$dialect" "$name" "$WORK/repos/$n"
  if ! measure; then
    status=fail
    report_failure "$tool" "$action" "$dialect" "$n"
  elif [[ $action == apply ]] && ! verify_applied "$dialect" "$name" "$n"; then
    status=fail
    printf '\nbench: %s exited 0 on %s (N=%s) but did not create the %s tables\n' "$tool" "$dialect" "$n" "$n" >&2
  fi
  record "$dialect" "$n" "$tool" "$action" "$run" "$status"
  [[ $status == ok ]]
}

# bench_tool TOOL DIALECT N RUN: on a fresh empty database, applies all N versions, then
# times the up-to-date run and the version query (not for the floor, which keeps no
# version). Drops the database afterwards and prints the apply time as progress.
bench_tool() {
  local tool=$1 dialect=$2 n=$3 run=$4 name progress=failed
  DB_SEQ=$((DB_SEQ + 1))
  name=ratchet_bench_$$_$DB_SEQ
  db_create "$dialect" "$name"
  if bench_action "$tool" apply "$dialect" "$n" "$run" "$name"; then
    printf -v progress '%d.%03ds' $((WALL_US / 1000000)) $((WALL_US / 1000 % 1000))
    if [[ $tool != floor ]] && bench_action "$tool" noop "$dialect" "$n" "$run" "$name"; then
      bench_action "$tool" version "$dialect" "$n" "$run" "$name" || true
    fi
  fi
  db_drop "$dialect" "$name"
  printf ' %s %s' "$tool" "$progress" >&2
}

# warm_up DIALECT N: one untimed apply by the client, so that the first timed run does not
# pay alone for cold caches (the server's buffers, the page cache of the SQL files).
warm_up() {
  local dialect=$1 n=$2 name
  name=ratchet_bench_$$_warm_$n
  db_create "$dialect" "$name"
  set_command floor apply "$dialect" "$name" "$WORK/repos/$n"
  measure || report_failure floor warm-up "$dialect" "$n"
  db_drop "$dialect" "$name"
}
