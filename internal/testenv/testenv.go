// Package testenv makes the tests that skip for want of something outside the project — a
// database server, Python's sqlalchemy-migrate, the splitter corpus — loud: go test shows a
// passing package's own output only with -v, so a package's TestMain calls [Main], which
// ends the run with a summary of those skips on the terminal.
package testenv

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

var skipped struct {
	sync.Mutex
	why map[string]int // reason → tests skipped for it
}

// Skip skips t for want of what reason names, and counts it for the summary.
func Skip(t testing.TB, reason string) {
	t.Helper()
	skipped.Lock()
	if skipped.why == nil {
		skipped.why = map[string]int{}
	}
	skipped.why[reason]++
	skipped.Unlock()
	t.Skip("SKIPPED: " + reason)
}

// Main runs the package's tests and returns the exit code for os.Exit. When tests were
// skipped through [Skip], it writes a summary to the terminal (or, with -v, to stderr,
// which go test then shows).
func Main(m *testing.M) int {
	code := m.Run()
	report(summary())
	return code
}

// summary returns the skips in a few lines, or "".
func summary() string {
	skipped.Lock()
	defer skipped.Unlock()
	if len(skipped.why) == 0 {
		return ""
	}
	reasons := make([]string, 0, len(skipped.why))
	total := 0
	for r, n := range skipped.why {
		reasons = append(reasons, fmt.Sprintf("  %d × %s", n, r))
		total += n
	}
	sort.Strings(reasons)
	pkg := "tests"
	if wd, err := os.Getwd(); err == nil {
		pkg = "tests in " + wd
	}
	return fmt.Sprintf("SKIPPED %d %s:\n%s\n", total, pkg, strings.Join(reasons, "\n"))
}

// report writes s where a person sees it: stderr under -v, otherwise the controlling
// terminal, if there is one (go test keeps a passing package's output to itself).
func report(s string) {
	if s == "" {
		return
	}
	var w io.Writer = os.Stderr
	if !testing.Verbose() {
		tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer tty.Close()
		w = tty
	}
	fmt.Fprint(w, s)
}
