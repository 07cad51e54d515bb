package ratchet

import (
	"context"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/ratchetdb/ratchet/sqlsplit"
	"github.com/ratchetdb/ratchet/internal/versiontable"
)

// A batch is statements sent to the database in one Exec: one round trip instead of one per
// statement. If it fails, the database says where only through PostgreSQL's error position;
// otherwise the caller rolls back and runs the statements again one by one to find the
// failing one (see runMode).
type batch struct {
	text  strings.Builder
	items []batchItem
}

// batchItem is one statement of a batch, with the step it belongs to.
type batchItem struct {
	step  *Step
	st    sqlsplit.Statement
	start int // the statement's first character in the batch text, counted in characters
	runes int // the batch text's length in characters up to the end of this statement
}

// batchSeparator ends each statement of a batch but the last: a newline before the ";",
// since a statement may end in a -- comment.
const batchSeparator = "\n;\n"

func (b *batch) add(step *Step, st sqlsplit.Statement) {
	start := 0
	if n := len(b.items); n > 0 {
		b.text.WriteString(batchSeparator)
		start = b.items[n-1].runes + len(batchSeparator)
	}
	b.text.WriteString(st.Text)
	b.items = append(b.items, batchItem{step: step, st: st, start: start, runes: start + utf8.RuneCountInString(st.Text)})
}

// len is the number of statements in the batch.
func (b *batch) len() int { return len(b.items) }

// size is the batch text's length in bytes.
func (b *batch) size() int { return b.text.Len() }

// exec sends the batch. A failure is a *ScriptError naming the failing statement when the
// database reported its position, a *ScriptError for a lost connection, the context's error
// for an interruption, and an *errBatchFailed otherwise.
func (b *batch) exec(ctx context.Context, q versiontable.Querier) error {
	_, err := q.ExecContext(ctx, b.text.String())
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case connectionLost(err):
		step := b.items[0].step
		return &ScriptError{Version: step.Version, Script: step.Script.Path, Err: err, ConnectionLost: true}
	}
	if item, ok := b.at(errorPosition(err)); ok {
		return statementError(*item.step, item.st, err)
	}
	return &errBatchFailed{err}
}

// at returns the statement holding the 1-based character position pos of the batch text.
func (b *batch) at(pos int) (batchItem, bool) {
	if pos <= 0 {
		return batchItem{}, false
	}
	for _, item := range b.items {
		if pos-1 < item.runes+len(batchSeparator) {
			return item, true
		}
	}
	return batchItem{}, false
}

// errorPosition returns where in the query the database reports that err occurred, as a
// 1-based character position, or 0: PostgreSQL's error cursor (pgx's pgconn.PgError.Position),
// read by reflection so that ratchet imports no driver. Errors found at run time, such as a
// unique violation, have none.
func errorPosition(err error) int {
	for ; err != nil; err = unwrapOne(err) {
		v := reflect.ValueOf(err)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct || v.Type().Name() != "PgError" || !strings.HasSuffix(v.Type().PkgPath(), "/pgconn") {
			continue
		}
		if f := v.FieldByName("Position"); f.IsValid() && f.CanInt() {
			return int(f.Int())
		}
	}
	return 0
}

// unwrapOne follows a single-error Unwrap chain (the drivers wrap their errors that way).
func unwrapOne(err error) error {
	u, ok := err.(interface{ Unwrap() error })
	if !ok {
		return nil
	}
	return u.Unwrap()
}
