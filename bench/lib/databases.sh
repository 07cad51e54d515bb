# shellcheck shell=bash
# Database servers: connection settings, creating and dropping the benchmark databases,
# and checking what a tool applied. Sourced by run.sh; needs WORK set.

# Server addresses; the defaults are the local test servers (DESIGN.md §9).
PG_HOST=${BENCH_PG_HOST:-127.0.0.1}
PG_PORT=${BENCH_PG_PORT:-5432}
PG_USER=${BENCH_PG_USER:-postgres}
MY_HOST=${BENCH_MY_HOST:-127.0.0.1}
MY_PORT=${BENCH_MY_PORT:-3306}
MY_USER=${BENCH_MY_USER:-root}

# pg_sql SQL [DB]: runs SQL through psql, printing bare values.
pg_sql() {
  psql -X -q -tA -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" \
    -d "${2:-postgres}" -c "$1"
}

# my_sql SQL [DB]: runs SQL through the mariadb client, printing bare values.
my_sql() {
  mariadb -N -B -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" ${2:+"$2"} -e "$1"
}

# sqlite_path NAME: where the SQLite database NAME lives. It sits in WORK, on the same
# file system as a user's database would, because SQLite's cost is mostly fsync.
sqlite_path() {
  printf '%s/db/%s.sqlite' "$WORK" "$1"
}

# db_create DIALECT NAME: makes an empty database. SQLite files are left for the tool to
# create, as a user's first run does; server databases must exist first for the peers.
# Every name is recorded so that cleanup drops it even after a failure.
db_create() {
  local dialect=$1 name=$2
  printf '%s %s\n' "$dialect" "$name" >>"$WORK/databases"
  case $dialect in
  sqlite) mkdir -p "$WORK/db" ;;
  postgresql) pg_sql "CREATE DATABASE $name" ;;
  # utf8mb4 explicitly: ratchet's legacy sanity check refuses non-utf8 tables.
  mysql) my_sql "CREATE DATABASE $name CHARACTER SET utf8mb4" ;;
  esac
}

# db_drop DIALECT NAME: removes the database, if it is there.
db_drop() {
  local dialect=$1 name=$2
  case $dialect in
  sqlite) rm -f "$(sqlite_path "$name")"{,-journal,-wal,-shm} ;;
  postgresql) pg_sql "DROP DATABASE IF EXISTS $name" ;;
  mysql) my_sql "DROP DATABASE IF EXISTS $name" ;;
  esac
}

# drop_all_databases: drops every database db_create recorded (the EXIT trap calls it).
drop_all_databases() {
  local dialect name
  [[ -f $WORK/databases ]] || return 0
  while read -r dialect name; do
    db_drop "$dialect" "$name" 2>/dev/null || printf 'warning: could not drop %s database %s\n' "$dialect" "$name" >&2
  done <"$WORK/databases"
}

# db_query DIALECT NAME SQL: runs SQL in database NAME, printing bare values.
db_query() {
  case $1 in
  sqlite) sqlite3 "$(sqlite_path "$2")" "$3" ;;
  postgresql) pg_sql "$3" "$2" ;;
  mysql) my_sql "$3" "$2" ;;
  esac
}

# verify_applied DIALECT NAME N: succeeds if the database has the N benchmark tables
# (item0001…), so that a tool that exits 0 without doing the work is caught.
verify_applied() {
  local dialect=$1 name=$2 n=$3 catalog got
  case $dialect in
  sqlite) catalog="sqlite_master WHERE type = 'table' AND name LIKE 'item%'" ;;
  postgresql) catalog="pg_tables WHERE schemaname = 'public' AND tablename LIKE 'item%'" ;;
  mysql) catalog="information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'item%'" ;;
  esac
  got=$(db_query "$dialect" "$name" "SELECT count(*) FROM $catalog")
  [[ $got == "$n" ]]
}

# server_versions: one line per database engine measured, with its client, for the
# machine facts; the durability settings matter as much as the versions.
server_versions() {
  if dialect_selected sqlite; then
    printf -- '- SQLite: sqlite3 CLI %s\n' "$(sqlite3 --version | cut -d' ' -f1)"
  fi
  if dialect_selected postgresql; then
    printf -- '- PostgreSQL: server %s (fsync=%s, synchronous_commit=%s); %s\n' \
      "$(pg_sql 'SHOW server_version')" "$(pg_sql 'SHOW fsync')" "$(pg_sql 'SHOW synchronous_commit')" \
      "$(psql --version)"
  fi
  if dialect_selected mysql; then
    printf -- '- MariaDB: server %s (innodb_flush_log_at_trx_commit=%s); client %s\n' \
      "$(my_sql 'SELECT VERSION()')" "$(my_sql 'SELECT @@innodb_flush_log_at_trx_commit')" \
      "$(mariadb --version | sed 's/,.*//; s/  */ /g')"
  fi
}
