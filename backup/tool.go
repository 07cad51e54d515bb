package backup

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ratchetdb/ratchet/internal/dburl"
)

// Debian packages that provide the external tools.
const (
	postgresPackage = "postgresql-client"
	mariadbPackage  = "mariadb-client"
)

// tool is an external program, known under one or more names tried in order.
type tool struct {
	names []string
	pkg   string // the Debian package that provides it
}

// find returns the path of the first of the tool's names found in PATH.
func (t tool) find() (string, error) {
	for _, n := range t.names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", &ToolError{Tool: strings.Join(t.names, " or "), Package: t.pkg, Err: ErrToolMissing}
}

// version returns the first line of `<tool> --version`, white space normalised, or "" when
// the tool does not say.
func (t tool) version(ctx context.Context, path string) string {
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.Join(strings.Fields(first), " ")
}

// process is one run of a tool: its command, the tail of its error output and the secret
// to keep out of messages.
type process struct {
	ctx    context.Context
	name   string // the tool's name, for messages
	cmd    *exec.Cmd
	stderr *tailBuffer
	secret string
}

// command prepares a run of the tool at path. env is added to the process environment; the
// tool's messages are in English so that they can be recognised. Cancelling ctx terminates
// the tool.
func command(ctx context.Context, path string, secret string, env []string, args ...string) *process {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "LC_MESSAGES=C")
	cmd.Env = append(cmd.Env, env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	p := &process{ctx: ctx, name: filepath.Base(path), cmd: cmd, stderr: &tailBuffer{}, secret: secret}
	cmd.Stderr = p.stderr
	return p
}

// run runs the process to completion.
func (p *process) run() error {
	if err := p.cmd.Run(); err != nil {
		return p.failure(err)
	}
	return nil
}

// failure turns the error of a run into a [*ToolError] carrying the tool's own message, or
// into the context's error when the run was cancelled.
func (p *process) failure(err error) error {
	if ctxErr := p.ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return &ToolError{Tool: p.name, Reason: err.Error(), Stderr: p.message(), Err: ErrToolFailed}
}

// message returns the tool's error lines, passwords removed: the lines that report an error,
// or the last line when none does.
func (p *process) message() string {
	var lines, errs []string
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		lines = append(lines, l)
		low := strings.ToLower(l)
		if strings.Contains(low, "error") || strings.Contains(low, "fatal") || strings.Contains(low, "denied") {
			errs = append(errs, l)
		}
	}
	if len(errs) == 0 && len(lines) > 0 {
		errs = lines[len(lines)-1:]
	}
	if len(errs) > 3 {
		errs = errs[len(errs)-3:]
	}
	return redact(strings.Join(errs, "; "), p.secret)
}

// redact removes the password from s, verbatim and inside any URL or DSN.
func redact(s, secret string) string {
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "xxxxx")
	}
	return dburl.Redact(s)
}

// tailBuffer keeps the last tailSize bytes written to it.
type tailBuffer struct{ buf bytes.Buffer }

const tailSize = 8 << 10

// Write keeps p, dropping the oldest bytes beyond tailSize.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if extra := t.buf.Len() - tailSize; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

// String returns what was kept.
func (t *tailBuffer) String() string { return t.buf.String() }
