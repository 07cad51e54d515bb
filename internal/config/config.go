package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Settings are the values found in config files; empty or zero means "not set".
type Settings struct {
	Connection  string        // [database] connection
	Repository  string        // [ratchet] repository
	BackupDir   string        // [ratchet] backup_dir
	LockTimeout time.Duration // [ratchet] lock_timeout: integer seconds (oslo style) or a Go duration ("90s", "2m")
	Lock        string        // [ratchet] lock: the migration lock's method (checked by the caller)
	// LeaseDuration is [ratchet] lease_duration, read as lock_timeout is.
	LeaseDuration time.Duration

	// Sources maps the key of each option that is set ("connection", "repository",
	// "backup_dir", "lock_timeout", "lock", "lease_duration") to "file:line" where its
	// value comes from, for error messages. It is never nil.
	Sources map[string]string
}

// Error reports a config file that cannot be read, a line that cannot be parsed or a value
// that is not valid.
type Error struct {
	File   string
	Line   int // 0 when the error concerns the whole file
	Reason string

	err error // underlying I/O error, if any
}

// Error returns "<file>:<line>: <reason>", or "<file>: <reason>" without a line.
func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Reason
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// Unwrap returns the I/O error that caused e, if any, so that errors.Is(err,
// fs.ErrNotExist) and similar checks work.
func (e *Error) Unwrap() error {
	return e.err
}

func lineError(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Reason: fmt.Sprintf(format, args...)}
}

// Load reads the files in order; a value in a later file overrides an earlier one
// (oslo.config semantics for repeated --config-file). Unknown sections and keys are
// ignored, so a glance-api.conf works as is. The error, an [*Error], names the file, and
// the line where there is one: a missing or unreadable file, a malformed line, a bad
// lock_timeout value. With no paths, Load returns empty Settings.
func Load(paths ...string) (*Settings, error) {
	s := &Settings{Sources: map[string]string{}}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			reason := err.Error()
			if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
				reason = pe.Err.Error()
			}
			return nil, &Error{File: path, Reason: "cannot read config file: " + reason, err: err}
		}
		assignments, err := parse(path, string(data))
		if err != nil {
			return nil, err
		}
		for _, a := range assignments {
			if err := s.set(path, a); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// set applies one assignment if it is one of the options ratchet reads.
func (s *Settings) set(file string, a assignment) error {
	switch {
	case a.is("database", "connection"):
		s.Connection = a.value
	case a.is("ratchet", "repository"):
		s.Repository = a.value
	case a.is("ratchet", "backup_dir"):
		s.BackupDir = a.value
	case a.is("ratchet", "lock_timeout"), a.is("ratchet", "lease_duration"):
		d, err := parseLockTimeout(a.value)
		if err != nil {
			return lineError(file, a.line, "%s = %q: %v", a.key, a.value, err)
		}
		if a.key == "lock_timeout" {
			s.LockTimeout = d
		} else {
			s.LeaseDuration = d
		}
	case a.is("ratchet", "lock"):
		s.Lock = a.value
	default:
		return nil
	}
	if a.value == "" {
		delete(s.Sources, a.key)
	} else {
		s.Sources[a.key] = fmt.Sprintf("%s:%d", file, a.line)
	}
	return nil
}

// parseLockTimeout parses a whole number of seconds or a Go duration; empty means not set.
func parseLockTimeout(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err == nil && n <= 0, errors.Is(err, strconv.ErrRange) && strings.HasPrefix(v, "-"):
		return 0, errors.New("must be positive")
	case err == nil && n <= math.MaxInt64/int64(time.Second):
		return time.Duration(n) * time.Second, nil
	case err == nil, errors.Is(err, strconv.ErrRange):
		return 0, errors.New("too large")
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, errors.New("want a whole number of seconds or a duration such as 90s or 2m")
	case d <= 0:
		return 0, errors.New("must be positive")
	}
	return d, nil
}
