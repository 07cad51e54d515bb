#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/run.sh: how long ratchet takes to bring an empty database up to date, against the
# database's own client (the practical floor) and against goose, golang-migrate and dbmate,
# on SQLite, PostgreSQL and MariaDB, in one run on one machine. Writes bench/RESULTS.md.
#
# Needs: Go, node/npm, GNU time, the sqlite3/psql/mariadb clients (installed from Debian when
# missing and run as root), PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and MariaDB
# on 127.0.0.1:3306 (root, no password); BENCH_PG_* / BENCH_MY_* override the addresses.
set -euo pipefail
# EPOCHREALTIME and awk's number formatting must use a decimal point.
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
# shellcheck source=lib/measure.sh
. "$BENCH/lib/measure.sh"
# shellcheck source=lib/generate.sh
. "$BENCH/lib/generate.sh"
# shellcheck source=lib/databases.sh
. "$BENCH/lib/databases.sh"
# shellcheck source=lib/tools.sh
. "$BENCH/lib/tools.sh"
# shellcheck source=lib/report.sh
. "$BENCH/lib/report.sh"
# shellcheck source=lib/history.sh
. "$BENCH/lib/history.sh"

NS="100 1000"
RUNS=3
HISTORY=10000
DIALECTS="sqlite postgresql mysql"
OUT=$BENCH/RESULTS.md
WORK=
DB_SEQ=0
LOAD_START=

usage() {
  cat <<'USAGE'
usage: bench/run.sh [-n "100 1000"] [-r 3] [-d "sqlite postgresql mysql"] [-l 10000] [-o FILE] [--quick]

  -n LIST   numbers of versions to generate and apply (default "100 1000")
  -l N      versions of the long-history measurement on SQLite (default 10000; 0: skip it)
  -r RUNS   runs per figure; the report gives the median (default 3)
  -d LIST   dialects among sqlite, postgresql, mysql (default all three)
  -o FILE   where to write the report (default bench/RESULTS.md); it is also printed
  --quick   smoke test: N=100, one run, a long history of 1000
USAGE
}

# parse_args ARGS…: sets NS, RUNS, DIALECTS and OUT.
parse_args() {
  while (($#)); do
    case $1 in
    -n) NS=${2:?-n needs a list of numbers} && shift ;;
    -r) RUNS=${2:?-r needs a number} && shift ;;
    -d) DIALECTS=${2:?-d needs a list of dialects} && shift ;;
    -l) HISTORY=${2:?-l needs a number} && shift ;;
    -o) OUT=${2:?-o needs a file} && shift ;;
    --quick) NS=100 RUNS=1 HISTORY=1000 ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && die "unknown argument: $1" ;;
    esac
    shift
  done
  local n d
  [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "-r: not a positive number: $RUNS"
  [[ $HISTORY =~ ^[0-9]+$ ]] || die "-l: not a number: $HISTORY"
  if [[ $HISTORY == 0 ]] || ! dialect_selected sqlite; then HISTORY=; fi
  for n in $NS; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "-n: not a positive number: $n"
  done
  for d in $DIALECTS; do
    [[ $d =~ ^(sqlite|postgresql|mysql)$ ]] || die "-d: unknown dialect $d (sqlite, postgresql, mysql)"
  done
}

# dialect_selected DIALECT: succeeds if DIALECT is measured in this run.
dialect_selected() {
  [[ " $DIALECTS " == *" $1 "* ]]
}

# require_commands: installs the Debian packages for missing commands (as root), or stops
# naming them, before anything is built or measured.
require_commands() {
  local missing=() pkgs=()
  [[ -x /usr/bin/time ]] || pkgs+=(time)
  command -v sqlite3 >/dev/null || pkgs+=(sqlite3)
  dialect_selected postgresql && ! command -v psql >/dev/null && pkgs+=(postgresql-client)
  dialect_selected mysql && ! command -v mariadb >/dev/null && pkgs+=(mariadb-client)
  if ((${#pkgs[@]})); then
    ((EUID == 0)) || die "missing Debian packages: ${pkgs[*]} (apt-get install ${pkgs[*]})"
    log "installing ${pkgs[*]} from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
  command -v go >/dev/null || missing+=(go)
  command -v npm >/dev/null || missing+=(npm)
  ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]}"
  if dialect_selected postgresql; then
    pg_sql 'SELECT 1' >/dev/null || die "PostgreSQL is not reachable at $PG_HOST:$PG_PORT as $PG_USER"
  fi
  if dialect_selected mysql; then
    my_sql 'SELECT 1' >/dev/null || die "MariaDB is not reachable at $MY_HOST:$MY_PORT as $MY_USER"
  fi
}

# cleanup: drops every database this run created and removes the work folder, whatever
# way the script ends.
cleanup() {
  [[ -n $WORK && -d $WORK ]] || return 0
  drop_all_databases
  rm -rf "$WORK"
}

# run_all: for every N and dialect, a warm-up, then the runs: in each, every tool applies
# all versions to a fresh database. The tools take turns within a run, starting one further
# along each run, so that drift in the machine's speed and the cost of going first (the
# server flushing the previous database's drop) fall on all of them alike.
run_all() {
  local n dialect run i tools
  for n in $NS; do
    for dialect in $DIALECTS; do
      read -ra tools <<<"$(tools_for "$dialect")"
      warm_up "$dialect" "$n"
      for ((run = 1; run <= RUNS; run++)); do
        printf '[bench] %s N=%s run %s/%s:' "$dialect" "$n" "$run" "$RUNS" >&2
        for ((i = 0; i < ${#tools[@]}; i++)); do
          bench_tool "${tools[(i + run - 1) % ${#tools[@]}]}" "$dialect" "$n" "$run"
        done
        printf '\n' >&2
      done
    done
  done
}

main() {
  parse_args "$@"
  require_commands
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/ratchet-bench.XXXXXX")
  trap cleanup EXIT
  # Turn signals into a normal exit, so that the EXIT trap drops the databases.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  : >"$WORK/results.tsv"
  # Other work on the machine skews every figure; the report states how busy it was.
  LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
  install_tools
  $HAVE_ATOMIC || log "ratchet has no 'db sync --atomic' yet: that row is left out"
  local n
  for n in $NS; do
    log "generating repositories of $n versions"
    generate_repos "$n" "$WORK/repos/$n"
  done
  run_all
  [[ -z $HISTORY ]] || bench_history "$HISTORY"
  render_report >"$WORK/report.md"
  cp "$WORK/report.md" "$OUT"
  cat "$WORK/report.md"
  log "written to $OUT"
}

main "$@"
