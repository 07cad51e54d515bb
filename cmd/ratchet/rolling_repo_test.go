package main

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/ratchetdb/ratchet/dialect"
	"github.com/ratchetdb/ratchet/internal/testdb"
)

// The rolling repository of the tests in rolling_test.go: version 1 creates accounts with
// rollingSeeded rows, whose name is NOT NULL, and notes with rollingNotes rows; version 2,
// rolling, renames name to display_name, as the README's example does with images.status,
// with triggers that keep both in step while the previous release writes name and the next
// display_name; version 3, rolling too, gives notes a unique slug, backfilled from the title.
// Versions 2 and 3 make one window: every expand, then every migrate, then every contract.
// Each data migration also counts, in its table's migrations column, how often it migrated
// each row, which a row must never be more than once, whatever kills it.

// The numbers of accounts and notes version 1 creates.
const (
	rollingSeeded = 3000
	rollingNotes  = 1000
)

// rollingScripts are the repository's files, file name → SQL.
var rollingScripts = map[string]string{
	"001_accounts_default_upgrade.sql": rollingCreate + `
INSERT INTO accounts (id, name)
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)
SELECT (a.x - 1) * 100 + b.x, 'seed-' || ((a.x - 1) * 100 + b.x) FROM c a, c b WHERE a.x <= 30;
INSERT INTO notes (id, title)
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)
SELECT (a.x - 1) * 100 + b.x, 'Note ' || ((a.x - 1) * 100 + b.x) FROM c a, c b WHERE a.x <= 10;
`,
	"001_accounts_mysql_upgrade.sql": rollingCreate + `
INSERT INTO accounts (id, name)
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)
SELECT (a.x - 1) * 100 + b.x, concat('seed-', (a.x - 1) * 100 + b.x) FROM c a, c b WHERE a.x <= 30;
INSERT INTO notes (id, title)
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)
SELECT (a.x - 1) * 100 + b.x, concat('Note ', (a.x - 1) * 100 + b.x) FROM c a, c b WHERE a.x <= 10;
`,

	"002_display_name_postgresql_expand.sql": `ALTER TABLE accounts ADD COLUMN display_name VARCHAR(100);
ALTER TABLE accounts ALTER COLUMN name DROP NOT NULL;
-- ratchet:online begin
CREATE FUNCTION ratchet_v002_accounts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.display_name IS NULL THEN NEW.display_name := NEW.name;
    ELSIF NEW.name IS NULL THEN NEW.name := NEW.display_name; END IF;
  ELSIF NEW.name IS DISTINCT FROM OLD.name THEN NEW.display_name := NEW.name;
  ELSIF NEW.display_name IS DISTINCT FROM OLD.display_name THEN NEW.name := NEW.display_name;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ratchet_v002_accounts_sync BEFORE INSERT OR UPDATE ON accounts
  FOR EACH ROW EXECUTE PROCEDURE ratchet_v002_accounts_sync();
-- ratchet:online end
`,
	"002_display_name_mysql_expand.sql": `ALTER TABLE accounts ADD COLUMN display_name VARCHAR(100) NULL, MODIFY name VARCHAR(100) NULL,
  ALGORITHM=INPLACE, LOCK=NONE;
-- ratchet:online begin
CREATE TRIGGER ratchet_v002_accounts_bi BEFORE INSERT ON accounts FOR EACH ROW
BEGIN
  IF NEW.display_name IS NULL THEN SET NEW.display_name = NEW.name;
  ELSEIF NEW.name IS NULL THEN SET NEW.name = NEW.display_name; END IF;
END;
CREATE TRIGGER ratchet_v002_accounts_bu BEFORE UPDATE ON accounts FOR EACH ROW
BEGIN
  IF NOT (NEW.name <=> OLD.name) THEN SET NEW.display_name = NEW.name;
  ELSEIF NOT (NEW.display_name <=> OLD.display_name) THEN SET NEW.name = NEW.display_name; END IF;
END;
-- ratchet:online end
`,
	"002_display_name_sqlite_expand.sql": `CREATE TABLE accounts_new (
    id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(100),
    display_name VARCHAR(100),
    migrations INTEGER NOT NULL DEFAULT 0
);
INSERT INTO accounts_new (id, name, migrations) SELECT id, name, migrations FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
CREATE INDEX ix_accounts_name ON accounts (name);
-- ratchet:online begin
CREATE TRIGGER ratchet_v002_accounts_insert AFTER INSERT ON accounts
  WHEN NEW.display_name IS NULL OR NEW.name IS NULL
BEGIN
  UPDATE accounts SET display_name = coalesce(NEW.display_name, NEW.name), name = coalesce(NEW.name, NEW.display_name)
   WHERE id = NEW.id;
END;
CREATE TRIGGER ratchet_v002_accounts_name AFTER UPDATE OF name ON accounts
  WHEN NEW.name IS NOT OLD.name AND NEW.display_name IS NOT NEW.name
BEGIN
  UPDATE accounts SET display_name = NEW.name WHERE id = NEW.id;
END;
CREATE TRIGGER ratchet_v002_accounts_display_name AFTER UPDATE OF display_name ON accounts
  WHEN NEW.display_name IS NOT OLD.display_name AND NEW.name IS OLD.name AND NEW.name IS NOT NEW.display_name
BEGIN
  UPDATE accounts SET name = NEW.display_name WHERE id = NEW.id;
END;
-- ratchet:online end
`,

	"002_display_name_default_migrate.sql": `-- ratchet:repeat
-- ratchet:pending SELECT 1 FROM accounts WHERE display_name IS NULL AND name IS NOT NULL
UPDATE accounts SET display_name = name, migrations = migrations + 1
 WHERE id IN (SELECT id FROM accounts WHERE display_name IS NULL AND name IS NOT NULL LIMIT 50);
`,
	"002_display_name_mysql_migrate.sql": `-- ratchet:repeat
-- ratchet:pending SELECT 1 FROM accounts WHERE display_name IS NULL AND name IS NOT NULL
UPDATE accounts SET display_name = name, migrations = migrations + 1
 WHERE display_name IS NULL AND name IS NOT NULL LIMIT 50;
`,

	"002_display_name_postgresql_contract.sql": `DROP TRIGGER IF EXISTS ratchet_v002_accounts_sync ON accounts;
DROP FUNCTION IF EXISTS ratchet_v002_accounts_sync();
ALTER TABLE accounts ALTER COLUMN display_name SET NOT NULL;
ALTER TABLE accounts DROP COLUMN name;
`,
	// One statement per step, so that kills land between them: rollingInFlight reads what
	// each did from the schema.
	"002_display_name_mysql_contract.sql": `DROP TRIGGER IF EXISTS ratchet_v002_accounts_bi;
DROP TRIGGER IF EXISTS ratchet_v002_accounts_bu;
ALTER TABLE accounts MODIFY display_name VARCHAR(100) NOT NULL;
ALTER TABLE accounts DROP COLUMN name;
`,
	"002_display_name_sqlite_contract.sql": `DROP TRIGGER IF EXISTS ratchet_v002_accounts_insert;
DROP TRIGGER IF EXISTS ratchet_v002_accounts_name;
DROP TRIGGER IF EXISTS ratchet_v002_accounts_display_name;
-- ratchet:lint-ignore RU302 the table rebuild that makes display_name NOT NULL
CREATE TABLE accounts_new (
    id INTEGER NOT NULL PRIMARY KEY,
    display_name VARCHAR(100) NOT NULL,
    migrations INTEGER NOT NULL DEFAULT 0
);
INSERT INTO accounts_new (id, display_name, migrations) SELECT id, display_name, migrations FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
`,

	// Neither release writes notes, so version 3 needs no trigger.
	"003_note_slug_default_expand.sql": `ALTER TABLE notes ADD COLUMN slug VARCHAR(40);
`,
	"003_note_slug_default_migrate.sql": `-- ratchet:repeat
-- ratchet:pending SELECT 1 FROM notes WHERE slug IS NULL
UPDATE notes SET slug = lower(replace(title, ' ', '-')), migrations = migrations + 1
 WHERE id IN (SELECT id FROM notes WHERE slug IS NULL LIMIT 50);
`,
	"003_note_slug_mysql_migrate.sql": `-- ratchet:repeat
-- ratchet:pending SELECT 1 FROM notes WHERE slug IS NULL
UPDATE notes SET slug = lower(replace(title, ' ', '-')), migrations = migrations + 1
 WHERE slug IS NULL LIMIT 50;
`,
	"003_note_slug_default_contract.sql": `CREATE UNIQUE INDEX ux_notes_slug ON notes (slug);
`,
}

// rollingCreate is version 1's table; SQLite's index on name shows that the rebuild of
// expand keeps the table's indexes.
const rollingCreate = `CREATE TABLE accounts (
    id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    migrations INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_accounts_name ON accounts (name);
CREATE TABLE notes (
    id INTEGER NOT NULL PRIMARY KEY,
    title VARCHAR(40) NOT NULL,
    migrations INTEGER NOT NULL DEFAULT 0
);
`

// rollingRepo writes the rolling repository into a new directory.
func rollingRepo(t *testing.T) string {
	t.Helper()
	return writeRepo(t, rollingScripts)
}

// rollingInFlight reports whether statement k (from 1) of version v's phase on MySQL had
// taken effect, as an operator tells from the schema before choosing --in-flight.
func rollingInFlight(t *testing.T, tdb *testdb.DB, v int, phase string, k int) bool {
	t.Helper()
	cols := rollingColumns(t, tdb)
	trigger := func(name string) bool {
		var n int
		if err := tdb.DB.QueryRow("SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND trigger_name = ?", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	if v == 3 {
		var n int
		q := "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'notes' AND column_name = 'slug'"
		if phase == "contract" {
			q = "SELECT count(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = 'ux_notes_slug'"
		}
		if err := tdb.DB.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	switch phase + fmt.Sprint(k) {
	case "expand1":
		return cols["display_name"] != ""
	case "expand2":
		return trigger("ratchet_v002_accounts_bi")
	case "expand3":
		return trigger("ratchet_v002_accounts_bu")
	case "contract1":
		return !trigger("ratchet_v002_accounts_bi")
	case "contract2":
		return !trigger("ratchet_v002_accounts_bu")
	case "contract3":
		return cols["display_name"] == "NO"
	case "contract4":
		return cols["name"] == ""
	}
	t.Fatalf("no statement %d in version %d's %s script on MySQL", k, v, phase)
	return false
}

// rollingColumns returns the columns of accounts, each with "YES" if it is nullable, else
// "NO".
func rollingColumns(t *testing.T, tdb *testdb.DB) map[string]string {
	t.Helper()
	var q string
	switch tdb.Dialect {
	case dialect.SQLite:
		q = `SELECT name, CASE WHEN "notnull" = 1 OR pk = 1 THEN 'NO' ELSE 'YES' END FROM pragma_table_info('accounts')`
	case dialect.Postgres:
		q = `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'accounts'`
	default:
		q = `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'accounts'`
	}
	rows, err := tdb.DB.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols := map[string]string{}
	for rows.Next() {
		var name, nullable string
		if err := rows.Scan(&name, &nullable); err != nil {
			t.Fatal(err)
		}
		cols[strings.ToLower(name)] = nullable
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols
}

// rollingCatalog describes the schema outside ratchet's bookkeeping: tables, columns,
// indexes, triggers and functions, in a text that two databases of one dialect share when
// their schemas are the same.
func rollingCatalog(t *testing.T, tdb *testdb.DB) string {
	t.Helper()
	var queries []string
	switch tdb.Dialect {
	case dialect.SQLite:
		queries = []string{`SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master
			WHERE tbl_name NOT LIKE 'ratchet%' AND tbl_name <> 'migrate_version' ORDER BY type, name`}
	case dialect.Postgres:
		queries = []string{
			`SELECT table_name, column_name, ordinal_position, data_type, coalesce(character_maximum_length, 0), is_nullable, coalesce(column_default, '')
			FROM information_schema.columns WHERE table_schema = current_schema()
			AND table_name NOT LIKE 'ratchet%' AND table_name <> 'migrate_version' ORDER BY 1, 3`,
			`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()
			AND tablename NOT LIKE 'ratchet%' AND tablename <> 'migrate_version' ORDER BY 1`,
			`SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
			WHERE r.relname = 'accounts' ORDER BY 1`,
			`SELECT 'trigger', tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 2`,
			`SELECT 'function', proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE n.nspname = current_schema() ORDER BY 2`,
		}
	default:
		queries = []string{
			`SELECT table_name, column_name, ordinal_position, column_type, is_nullable, coalesce(column_default, '')
			FROM information_schema.columns WHERE table_schema = DATABASE()
			AND table_name NOT LIKE 'ratchet%' AND table_name <> 'migrate_version' ORDER BY 1, 3`,
			`SELECT table_name, index_name, seq_in_index, column_name, non_unique FROM information_schema.statistics
			WHERE table_schema = DATABASE() AND table_name NOT LIKE 'ratchet%' AND table_name <> 'migrate_version' ORDER BY 1, 2, 3`,
			`SELECT 'trigger', trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE() ORDER BY 2`,
			`SELECT 'routine', routine_name FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY 2`,
		}
	}
	return queriesText(t, tdb.DB, queries)
}

// rollingTriggers counts the triggers (and PostgreSQL functions) the rolling version
// creates that are in the database.
func rollingTriggers(t *testing.T, tdb *testdb.DB) int {
	t.Helper()
	var q string
	switch tdb.Dialect {
	case dialect.SQLite:
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'trigger'`
	case dialect.Postgres:
		q = `SELECT (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal) +
			(SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema())`
	default:
		q = `SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()`
	}
	return rollingCount(t, tdb.DB, q)
}

// rollingCount runs a query that returns one number.
func rollingCount(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
