package ratchet

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ratchetdb/ratchet/sqlsplit"
)

// TestBatchAt maps PostgreSQL's error position, in characters of the batch text, back to the
// statement it falls in, across multi-byte text and the separators.
func TestBatchAt(t *testing.T) {
	var b batch
	one, two := &Step{Version: 1}, &Step{Version: 2}
	b.add(one, sqlsplit.Statement{Text: "INSERT INTO é VALUES ('ü')", Line: 1}) // 26 characters, 28 bytes
	b.add(one, sqlsplit.Statement{Text: "SELECT 1", Line: 2})
	b.add(two, sqlsplit.Statement{Text: "SELEC 2", Line: 1})
	if got, want := b.text.String(), "INSERT INTO é VALUES ('ü')\n;\nSELECT 1\n;\nSELEC 2"; got != want {
		t.Fatalf("batch text = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		pos     int
		ok      bool
		version int
		line    int
	}{
		{0, false, 0, 0},
		{1, true, 1, 1},
		{26, true, 1, 1},
		{29, true, 1, 1}, // the separator's last character
		{30, true, 1, 2},
		{41, true, 2, 1},
		{47, true, 2, 1},
		{48, true, 2, 1}, // "at end of input"
		{51, false, 0, 0},
	} {
		item, ok := b.at(tt.pos)
		if ok != tt.ok || ok && (item.step.Version != tt.version || item.st.Line != tt.line) {
			t.Errorf("at(%d) = version %d line %d, %v; want version %d line %d, %v",
				tt.pos, item.step.Version, item.st.Line, ok, tt.version, tt.line, tt.ok)
		}
	}
}

func TestErrorPosition(t *testing.T) {
	pgErr := &pgconn.PgError{Code: "42601", Message: "syntax error", Position: 41}
	for _, tt := range []struct {
		err  error
		want int
	}{
		{pgErr, 41},
		{fmt.Errorf("exec: %w", pgErr), 41},
		{&pgconn.PgError{Code: "23505"}, 0},
		{fmt.Errorf("no position"), 0},
		{nil, 0},
	} {
		if got := errorPosition(tt.err); got != tt.want {
			t.Errorf("errorPosition(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
