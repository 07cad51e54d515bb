# shellcheck shell=bash
# Repository generation: the same N versions in ratchet's format and in each peer's, plus
# the one-script floor that the database's own client runs. Sourced by run.sh.

# version_sql V: prints the SQL of version V. Every version creates a table
# with a few columns and an index; every tenth also inserts 100 rows, one INSERT per row,
# as hand-written data migrations do (so statement round trips show in the figures).
# The SQL is portable: the same text runs on SQLite, PostgreSQL and MariaDB.
version_sql() {
  local v=$1 table i
  printf -v table 'item%04d' "$v"
  printf '%s\n' "CREATE TABLE $table (
    id INTEGER PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    qty INTEGER NOT NULL DEFAULT 0,
    price DECIMAL(10,2),
    note VARCHAR(255)
);
CREATE INDEX ${table}_name_idx ON $table (name);"
  if ((v % 10 == 0)); then
    for ((i = 1; i <= 100; i++)); do
      printf "INSERT INTO %s (id, name, qty, price) VALUES (%d, 'row %d', %d, %d.50);\n" \
        "$table" "$i" "$i" "$i" "$i"
    done
  fi
}

# write_ratchet_config DIR: the sqlalchemy-migrate repository header ratchet reads.
write_ratchet_config() {
  cat >"$1/migrate.cfg" <<'CFG'
[db_settings]
repository_id=bench
version_table=migrate_version
required_dbs=[]
use_timestamp_numbering=False
CFG
}

# generate_repos N DIR: writes DIR/{ratchet,goose,migrate,dbmate} and DIR/floor.sql for
# versions 1..N. Each tool gets its own file naming and annotations; the SQL is identical.
generate_repos() {
  local n=$1 dir=$2 v name sql v3 v5
  mkdir -p "$dir/ratchet/versions" "$dir/goose" "$dir/migrate" "$dir/dbmate"
  write_ratchet_config "$dir/ratchet"
  : >"$dir/floor.sql"
  for ((v = 1; v <= n; v++)); do
    # $(…) drops the final newline; the printf formats below put it back.
    sql=$(version_sql "$v")
    printf -v name 'create_item%04d' "$v"
    printf -v v3 '%03d' "$v"
    printf -v v5 '%05d' "$v"
    # sqlalchemy-migrate numbering: at least three digits, growing past 999.
    printf '%s\n' "$sql" >"$dir/ratchet/versions/${v3}_${name}_default_upgrade.sql"
    # goose: annotated file, one transaction per file by default.
    printf -- '-- +goose Up\n%s\n' "$sql" >"$dir/goose/${v5}_$name.sql"
    # golang-migrate: plain up file; the driver sends it as one multi-statement query.
    printf '%s\n' "$sql" >"$dir/migrate/${v5}_$name.up.sql"
    # dbmate: up and (empty) down sections in one file, one transaction per file.
    printf -- '-- migrate:up\n%s\n-- migrate:down\n' "$sql" >"$dir/dbmate/${v5}_$name.sql"
    # The floor: one script, one transaction per version. On MariaDB the DDL commits
    # implicitly anyway; the BEGIN/COMMIT pair still brackets each version.
    printf 'BEGIN;\n%s\nCOMMIT;\n' "$sql" >>"$dir/floor.sql"
  done
}
