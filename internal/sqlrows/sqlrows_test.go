package sqlrows

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	_ "modernc.org/sqlite"
)

func TestStrings(t *testing.T) {
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	got, err := Strings(ctx, db, "SELECT 'b' UNION ALL SELECT 'a' UNION ALL SELECT ?", "c")
	if want := []string{"b", "a", "c"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Strings = %q, %v; want %q", got, err, want)
	}
	if got, err := Strings(ctx, db, "SELECT 'x' WHERE 0"); err != nil || got != nil {
		t.Errorf("no rows: %q, %v; want nil, nil", got, err)
	}
	if _, err := Strings(ctx, db, "SELECT NULL"); err == nil {
		t.Error("a NULL value: no error")
	}
	if _, err := Strings(ctx, db, "SELEC 1"); err == nil {
		t.Error("a syntax error: no error")
	}
}
