# shellcheck shell=bash
# The contenders: ratchet built from this checkout, the peers at pinned versions, and the
# database's own client. Each tool has one cmd_<tool> function that sets CMD (the argv to
# time) and CMD_IN (its standard input) for an action: apply (all versions from empty),
# noop (the same command again, with nothing pending) or version. Sourced by run.sh.

# Pinned peer versions, so that two runs of the script compare the same programs.
GOOSE_VERSION=v3.29.0
MIGRATE_VERSION=v4.20.1
DBMATE_VERSION=2.36.0

# install_tools: builds ratchet and installs the peers into WORK/bin. Sets RATCHET, GOOSE,
# MIGRATE, DBMATE and HAVE_ATOMIC.
install_tools() {
  mkdir -p "$WORK/bin" "$WORK/npm"
  log "building ratchet from $ROOT"
  (cd "$ROOT" && go build -o "$WORK/bin/ratchet" ./cmd/ratchet)
  RATCHET=$WORK/bin/ratchet
  HAVE_ATOMIC=false
  if "$RATCHET" db sync --help 2>/dev/null | grep -q -- '--atomic'; then
    HAVE_ATOMIC=true
  fi

  # go install from outside the checkout, so that this module's go.mod plays no part.
  log "installing goose $GOOSE_VERSION and golang-migrate $MIGRATE_VERSION (go install)"
  (cd "$WORK" && GOBIN=$WORK/bin go install "github.com/pressly/goose/v3/cmd/goose@$GOOSE_VERSION")
  # golang-migrate compiles its drivers in by build tag; "sqlite" is the pure-Go (modernc)
  # driver, where "sqlite3" would need cgo.
  (cd "$WORK" && GOBIN=$WORK/bin go install -tags 'postgres mysql sqlite' \
    "github.com/golang-migrate/migrate/v4/cmd/migrate@$MIGRATE_VERSION")
  GOOSE=$WORK/bin/goose
  MIGRATE=$WORK/bin/migrate

  log "installing dbmate $DBMATE_VERSION (npm)"
  (cd "$WORK/npm" && npm install --silent --no-audit --no-fund "dbmate@$DBMATE_VERSION" >/dev/null)
  # The package's "dbmate" command is a node script that spawns the platform binary from
  # @dbmate/<platform>; time the binary itself, not node's start-up.
  DBMATE=$(find "$WORK/npm/node_modules/@dbmate" -path '*/bin/dbmate' -type f | head -n 1)
  [[ -x $DBMATE ]] || die "dbmate $DBMATE_VERSION: no binary under $WORK/npm/node_modules/@dbmate"
}

# tools_for DIALECT: prints the tools measured on DIALECT, the floor first.
tools_for() {
  local tools=(floor ratchet)
  # --atomic needs transactional DDL; ratchet refuses it on MySQL/MariaDB by design.
  if $HAVE_ATOMIC && [[ $1 != mysql ]]; then
    tools+=(atomic)
  fi
  tools+=(goose migrate dbmate)
  printf '%s\n' "${tools[*]}"
}

# tool_label TOOL DIALECT: the name a reader sees in the tables.
tool_label() {
  case $1 in
  floor) printf '%s (floor)' "$(client_name "$2")" ;;
  ratchet) printf 'ratchet' ;;
  atomic) printf 'ratchet --atomic' ;;
  goose) printf 'goose %s' "$GOOSE_VERSION" ;;
  migrate) printf 'golang-migrate %s' "$MIGRATE_VERSION" ;;
  dbmate) printf 'dbmate %s' "$DBMATE_VERSION" ;;
  esac
}

# client_name DIALECT: the database's own command-line client.
client_name() {
  case $1 in
  sqlite) printf 'sqlite3' ;;
  postgresql) printf 'psql' ;;
  mysql) printf 'mariadb' ;;
  esac
}

# set_command TOOL ACTION DIALECT NAME REPO: sets CMD and CMD_IN for one measurement of
# TOOL on database NAME, with the repositories generated in REPO.
set_command() {
  CMD=()
  CMD_IN=/dev/null
  "cmd_$1" "${@:2}"
}

# cmd_floor ACTION DIALECT NAME REPO: the client runs floor.sql, one transaction per
# version, stopping at the first error. It only applies.
# shellcheck disable=SC2034 # CMD_IN is read by measure in measure.sh
cmd_floor() {
  local dialect=$2 name=$3 repo=$4
  case $dialect in
  sqlite)
    CMD=(sqlite3 -bail "$(sqlite_path "$name")")
    CMD_IN=$repo/floor.sql
    ;;
  postgresql) CMD=(psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$name" -f "$repo/floor.sql") ;;
  mysql)
    CMD=(mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" "$name")
    CMD_IN=$repo/floor.sql
    ;;
  esac
}

# cmd_ratchet ACTION DIALECT NAME REPO: ratchet db sync / db version.
cmd_ratchet() {
  local action=$1 dialect=$2 name=$3 repo=$4 url
  case $dialect in
  sqlite) url="sqlite:///$(sqlite_path "$name")" ;;
  postgresql) url="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$name?sslmode=disable" ;;
  mysql) url="mysql://$MY_USER@$MY_HOST:$MY_PORT/$name" ;;
  esac
  CMD=("$RATCHET" --repository "$repo/ratchet" --database "$url" db)
  case $action in
  apply | noop) CMD+=(sync) ;;
  version) CMD+=(version) ;;
  esac
}

# cmd_atomic ACTION DIALECT NAME REPO: ratchet db sync --atomic (all pending versions in
# one transaction); version is the plain db version.
cmd_atomic() {
  cmd_ratchet "$@"
  if [[ $1 != version ]]; then
    CMD+=(--atomic)
  fi
}

# cmd_goose ACTION DIALECT NAME REPO: goose up / goose version.
cmd_goose() {
  local action=$1 dialect=$2 name=$3 repo=$4 driver dsn
  case $dialect in
  sqlite) driver=sqlite3 dsn=$(sqlite_path "$name") ;;
  postgresql) driver=postgres dsn="postgres://$PG_USER@$PG_HOST:$PG_PORT/$name?sslmode=disable" ;;
  mysql) driver=mysql dsn="$MY_USER@tcp($MY_HOST:$MY_PORT)/$name?parseTime=true" ;;
  esac
  CMD=("$GOOSE" -dir "$repo/goose" "$driver" "$dsn")
  case $action in
  apply | noop) CMD+=(up) ;;
  version) CMD+=(version) ;;
  esac
}

# cmd_migrate ACTION DIALECT NAME REPO: golang-migrate up / version. Its MySQL driver
# sends each file as one query, which needs multiStatements.
cmd_migrate() {
  local action=$1 dialect=$2 name=$3 repo=$4 url
  case $dialect in
  sqlite) url="sqlite://$(sqlite_path "$name")" ;;
  postgresql) url="postgres://$PG_USER@$PG_HOST:$PG_PORT/$name?sslmode=disable" ;;
  mysql) url="mysql://$MY_USER@tcp($MY_HOST:$MY_PORT)/$name?multiStatements=true" ;;
  esac
  CMD=("$MIGRATE" -path "$repo/migrate" -database "$url")
  case $action in
  apply | noop) CMD+=(up) ;;
  version) CMD+=(version) ;;
  esac
}

# cmd_dbmate ACTION DIALECT NAME REPO: dbmate migrate / status (dbmate has no command that
# prints only the version; status is its read-only counterpart).
cmd_dbmate() {
  local action=$1 dialect=$2 name=$3 repo=$4 url
  case $dialect in
  sqlite) url="sqlite:$(sqlite_path "$name")" ;;
  postgresql) url="postgres://$PG_USER@$PG_HOST:$PG_PORT/$name?sslmode=disable" ;;
  mysql) url="mysql://$MY_USER@$MY_HOST:$MY_PORT/$name" ;;
  esac
  CMD=("$DBMATE" --url "$url" --migrations-dir "$repo/dbmate" --no-dump-schema)
  case $action in
  apply | noop) CMD+=(migrate) ;;
  version) CMD+=(status) ;;
  esac
}

# tool_versions: one line per program, for the machine facts.
# shellcheck disable=SC2016 # the backticks are markdown, not command substitution
tool_versions() {
  local commit atomic=''
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || printf 'unknown')
  if [[ -n $(git -C "$ROOT" status --porcelain -- ':!bench' 2>/dev/null) ]]; then
    commit+=' plus uncommitted changes'
  fi
  $HAVE_ATOMIC || atomic='; it has no `db sync --atomic` yet'
  printf -- '- ratchet: commit %s, built with `go build ./cmd/ratchet` (pure Go)%s\n' "$commit" "$atomic"
  printf -- '- goose: %s (`go install`, default drivers)\n' "$GOOSE_VERSION"
  printf -- '- golang-migrate: %s (`go install -tags "postgres mysql sqlite"`)\n' "$MIGRATE_VERSION"
  printf -- '- dbmate: %s (the npm package'"'"'s binary)\n' "$("$DBMATE" --version | awk '{ print $NF }')"
}
