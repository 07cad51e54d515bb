package repository

import "strconv"

// Kind says what runs a script.
type Kind int

const (
	// SQL is a .sql file whose statements ratchet executes.
	SQL Kind = iota + 1
	// Go is a migration registered with [Repository.Register].
	Go
	// Python is a legacy .py script. It is loaded so that it can be named in
	// errors and lint findings, but ratchet never runs it.
	Python
)

// String returns "sql", "go" or "python", or "Kind(n)" for any other value.
func (k Kind) String() string {
	switch k {
	case SQL:
		return "sql"
	case Go:
		return "go"
	case Python:
		return "python"
	default:
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
}
