package backup

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/ratchetdb/ratchet/internal/sqlrows"
)

// postgresMethod backs up with pg_dump's custom format (a consistent snapshot of a database
// in use) and restores with pg_restore's script run by psql in one transaction, after
// dropping every object outside the system schemas in that same transaction.
type postgresMethod struct{}

func (postgresMethod) payload() string { return "payload.pgdump" }

func pgTool(name string) tool { return tool{names: []string{name}, pkg: postgresPackage} }

func (postgresMethod) dump(ctx context.Context, db Database, w io.Writer, _ string) (string, error) {
	t := pgTool("pg_dump")
	path, err := t.find()
	if err != nil {
		return "", err
	}
	version := t.version(ctx, path)
	p := command(ctx, path, pgPassword(db), pgEnv(db), "--format=custom", "--no-password", "--dbname="+pgConninfo(db))
	p.cmd.Stdout = w
	if err := p.run(); err != nil {
		if tooOld := pgMismatch(p.stderr.String()); tooOld != nil {
			return "", tooOld
		}
		return "", err
	}
	return version, nil
}

// pgServerMismatch matches pg_dump's refusal to dump a newer server.
var pgServerMismatch = regexp.MustCompile(`server version: (\S+); pg_dump version: (\S+)`)

// pgMismatch recognises pg_dump's "server version mismatch" and names the client package
// that matches the server.
func pgMismatch(stderr string) error {
	if !strings.Contains(stderr, "server version mismatch") {
		return nil
	}
	server, dump := "newer", "?"
	if m := pgServerMismatch.FindStringSubmatch(stderr); m != nil {
		server, dump = m[1], m[2]
	}
	major, _, _ := strings.Cut(server, ".")
	return &ToolError{
		Tool:    "pg_dump",
		Package: postgresPackage + "-" + major,
		Reason:  fmt.Sprintf("pg_dump %s is older than the PostgreSQL %s server", dump, server),
		Err:     ErrToolTooOld,
	}
}

// restore pipes pg_restore's script into psql, preceded by the statements that empty the
// database. The script of pg_restore --single-transaction ends with COMMIT, so psql commits
// only when pg_restore read the whole payload; psql stops at the first error and the
// transaction is rolled back.
// check finds the tools restore runs.
func (postgresMethod) check(Database) error {
	for _, t := range []tool{pgTool("pg_restore"), pgTool("psql")} {
		if _, err := t.find(); err != nil {
			return err
		}
	}
	return nil
}

func (postgresMethod) restore(ctx context.Context, db Database, r io.Reader) error {
	restoreTool, psqlTool := pgTool("pg_restore"), pgTool("psql")
	restorePath, err := restoreTool.find()
	if err != nil {
		return err
	}
	psqlPath, err := psqlTool.find()
	if err != nil {
		return err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	script := command(ctx, restorePath, "", nil, "--format=custom", "--single-transaction", "--file=-")
	script.cmd.Stdin = ctxReader{ctx, r}
	script.cmd.Stdout = pw
	psql := command(ctx, psqlPath, pgPassword(db), pgEnv(db),
		"--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1", "--dbname="+pgConninfo(db))
	// BEGIN puts the emptying in pg_restore's transaction; its own BEGIN only warns.
	psql.cmd.Stdin = io.MultiReader(strings.NewReader("BEGIN;\n"+pgEmptyDatabase), pr)
	psql.cmd.Stdout = io.Discard
	if err := script.cmd.Start(); err != nil {
		pw.Close()
		return err
	}
	pw.Close()
	psqlErr := psql.cmd.Run()
	pr.Close() // a pg_restore still writing after psql stopped gets a broken pipe
	scriptErr := script.cmd.Wait()
	switch {
	case psqlErr != nil:
		return psql.failure(psqlErr)
	case scriptErr != nil:
		if strings.Contains(script.stderr.String(), "unsupported version") {
			return &ToolError{Tool: "pg_restore", Package: postgresPackage, Err: ErrToolTooOld,
				Reason: "pg_restore " + restoreTool.version(ctx, restorePath) + " cannot read this backup, made by a newer pg_dump"}
		}
		return script.failure(scriptErr)
	}
	return nil
}

// pgEmptyDatabase drops everything in the database but the system schemas: extensions
// (other than those in pg_catalog), every schema but public, and public's tables, views,
// sequences, routines and types. The dump recreates what it holds.
const pgEmptyDatabase = `DO $ratchet_empty$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT e.extname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
	LOOP
		EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname);
	END LOOP;
	FOR r IN SELECT nspname FROM pg_namespace
		WHERE nspname NOT IN ('public', 'pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%'
	LOOP
		EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', r.nspname);
	END LOOP;
	FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
		ORDER BY c.relkind = 'S'
	LOOP
		EXECUTE format('DROP %s IF EXISTS public.%I CASCADE',
			CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
				WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
			r.relname);
	END LOOP;
	FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'public'
	LOOP
		EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', r.sig);
	END LOOP;
	FOR r IN SELECT t.oid::regtype AS typ FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = 'public' AND (t.typtype IN ('d', 'e', 'r')
			OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
	LOOP
		EXECUTE format('DROP TYPE IF EXISTS %s CASCADE', r.typ);
	END LOOP;
END
$ratchet_empty$;
`

func (postgresMethod) contents(ctx context.Context, db Database) ([]string, error) {
	return sqlrows.Strings(ctx, db.DB, `SELECT n.nspname || '.' || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
	AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
ORDER BY 1`)
}

// pgConninfo returns the libpq connection string of db, without its password.
func pgConninfo(db Database) string {
	kv := map[string]string{}
	for k, v := range db.Params {
		kv[k] = v
	}
	delete(kv, "password")
	for k, v := range map[string]string{"host": db.Host, "port": db.Port, "user": db.User} {
		if _, set := kv[k]; !set && v != "" {
			kv[k] = v
		}
	}
	kv["dbname"] = db.Name
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(kv[k]) + "'")
	}
	return b.String()
}

// pgPassword returns the password, given as a field or as a connection parameter.
func pgPassword(db Database) string {
	if db.Password != "" {
		return db.Password
	}
	return db.Params["password"]
}

// pgEnv returns the environment that gives libpq the password.
func pgEnv(db Database) []string {
	if pw := pgPassword(db); pw != "" {
		return []string{"PGPASSWORD=" + pw}
	}
	return nil
}
