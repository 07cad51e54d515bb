package ratchet

import (
	"context"
	"errors"
	"testing"
)

var errConflict = errors.New("rolled back: conflicts with another transaction")

// conflictingDriver says that errConflict is a conflict.
type conflictingDriver struct{ genericDriver }

func (conflictingDriver) Conflict(err error) bool { return errors.Is(err, errConflict) }

// TestRetryConflicts: bookkeeping rolled back by a conflict runs again, a bounded number of
// times; any other error, and success, end it at once.
func TestRetryConflicts(t *testing.T) {
	s := &session{m: &Migrator{driver: conflictingDriver{}}}
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		conflicts int   // how many calls conflict before the outcome
		outcome   error // what the call after them returns
		wantCalls int
		wantErr   error
	}{
		{"success", 0, nil, 1, nil},
		{"two conflicts, then success", 2, nil, 3, nil},
		{"another error", 0, errors.ErrUnsupported, 1, errors.ErrUnsupported},
		{"a conflict, then another error", 1, errors.ErrUnsupported, 2, errors.ErrUnsupported},
		{"conflicts every time", 100, nil, conflictRetries + 1, errConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			err := s.retryConflicts(ctx, func() error {
				calls++
				if calls <= c.conflicts {
					return errConflict
				}
				return c.outcome
			})
			if calls != c.wantCalls || !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Errorf("%d calls, %v; want %d calls, %v", calls, err, c.wantCalls, c.wantErr)
			}
		})
	}
	// Without a ConflictDriver nothing is a conflict.
	s = &session{m: &Migrator{driver: genericDriver{}}}
	calls := 0
	if err := s.retryConflicts(ctx, func() error { calls++; return errConflict }); calls != 1 || !errors.Is(err, errConflict) {
		t.Errorf("generic driver: %d calls, %v; want 1 call", calls, err)
	}
}

// TestParseLockMethod: the names round-trip; anything else is refused.
func TestParseLockMethod(t *testing.T) {
	for _, m := range []LockMethod{LockAuto, LockAdvisory, LockLease} {
		if got, err := ParseLockMethod(m.String()); err != nil || got != m {
			t.Errorf("ParseLockMethod(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseLockMethod("foo"); err == nil {
		t.Error("ParseLockMethod(\"foo\") accepted")
	}
}
