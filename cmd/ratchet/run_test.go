package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchetdb/ratchet/internal/dburl"
)

// cmdResult is what a finished command did.
type cmdResult struct {
	cmdline        string
	code           int
	stdout, stderr string
}

// String shows the command, its exit code and both outputs, passwords redacted.
func (r cmdResult) String() string {
	return dburl.Redact(fmt.Sprintf("`%s` exited %d\n--- stdout:\n%s--- stderr:\n%s", r.cmdline, r.code, r.stdout, r.stderr))
}

// mustSucceed fails the test, showing everything the command printed, unless it exited 0;
// it returns the command's stdout.
func (r cmdResult) mustSucceed(t *testing.T) string {
	t.Helper()
	if r.code != 0 {
		t.Fatal(r)
	}
	return r.stdout
}

// runIn runs argv in dir.
func runIn(t *testing.T, dir string, argv ...string) cmdResult {
	t.Helper()
	return runInEnv(t, dir, nil, argv...)
}

// runInEnv runs argv in dir with extra environment variables.
func runInEnv(t *testing.T, dir string, env []string, argv ...string) cmdResult {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := cmdResult{cmdline: strings.Join(argv, " ")}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s: %v", dburl.Redact(r.cmdline), err)
		}
		r.code = ee.ExitCode()
	}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	return r
}

// ratchet runs the built binary and returns its exit code, stdout and stderr.
func ratchet(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	r := runRatchet(t, args...)
	return r.code, r.stdout, r.stderr
}

// runRatchet runs the built binary.
func runRatchet(t *testing.T, args ...string) cmdResult {
	t.Helper()
	return runIn(t, "", append([]string{ratchetBin}, args...)...)
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startPastFirstVersion starts the binary and returns once it has reported version 1 applied,
// and a little more, so that version 2 is running: for tests that signal it mid-version.
// Its output can be read while it runs.
func startPastFirstVersion(t *testing.T, args ...string) (cmd *exec.Cmd, stdout, stderr *lockedBuffer) {
	t.Helper()
	cmd, stdout, stderr = startRatchet(t, args...)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "0 -> 1") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	return cmd, stdout, stderr
}

// startRatchet starts the built binary and returns it running.
func startRatchet(t *testing.T, args ...string) (cmd *exec.Cmd, stdout, stderr *lockedBuffer) {
	t.Helper()
	cmd = exec.Command(ratchetBin, args...)
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdout, stderr
}
