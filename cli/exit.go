package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/ratchetdb/ratchet"
	"github.com/ratchetdb/ratchet/repository"
)

// Exit codes of every command.
const (
	ExitOK            = 0   // done, or already up to date
	ExitFailed        = 1   // the operation failed: database or script error, lock timeout, not under version control, integrity
	ExitUsage         = 2   // bad input: arguments, repository, URL, unknown version, downgrade request
	ExitPending       = 3   // db check: versions are pending (upgrade needed)
	ExitDataMigration = 4   // db check: a data migration is pending (rolling upgrades)
	ExitContract      = 5   // db check: a contract phase is pending (rolling upgrades)
	ExitInterrupted   = 130 // interrupted (Ctrl-C): the running version was rolled back
)

// exitError carries an exit code for an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as bad input (exit 2).
func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

func usageErrorf(format string, args ...any) error {
	return usageError(fmt.Errorf(format, args...))
}

// silentExit ends a command with an exit code whose explanation was already printed
// (db check, repo lint).
type silentExit struct{ code int }

func (e *silentExit) Error() string { return fmt.Sprintf("exit %d", e.code) }

// exitCode maps an error to the documented exit code.
func exitCode(ctx context.Context, err error) int {
	var ee *exitError
	var se *silentExit
	var re *repository.Error
	switch {
	case errors.As(err, &se):
		return se.code
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, ratchet.ErrDataPending):
		return ExitDataMigration
	case errors.As(err, &re):
		// A script that cannot be read or is not SQL is found before anything runs.
		return ExitUsage
	case errors.Is(err, ratchet.ErrDowngrade),
		errors.Is(err, ratchet.ErrVersionNotFound),
		errors.Is(err, ratchet.ErrInvalidVersion),
		errors.Is(err, ratchet.ErrNoScript),
		errors.Is(err, ratchet.ErrNotAtomic),
		errors.Is(err, ratchet.ErrOutOfOrder),
		errors.Is(err, ratchet.ErrRefusedStatement),
		errors.Is(err, ratchet.ErrInvalidRepository):
		return ExitUsage
	default:
		return ExitFailed
	}
}
