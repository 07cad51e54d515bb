package testdb

import (
	"os"
	"testing"

	"github.com/ratchetdb/ratchet/internal/testenv"
)

// TestMain ends the run with a summary of the tests skipped for want of a server, a tool
// or the corpus, on the terminal: go test shows a passing package's output only with -v.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
