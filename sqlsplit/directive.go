package sqlsplit

import (
	"fmt"
	"slices"
	"strings"
)

// Directives are comment lines that start "-- ratchet:" and change how a script runs. Those of
// a script's header (its first lines that are blank or comments) apply to the whole script;
// the online markers delimit statements anywhere between statements.
const directivePrefix = "-- ratchet:"

// Directive names.
const (
	DirectiveNoTransaction = "no-transaction" // run outside a transaction, journalled
	DirectiveRepeat        = "repeat"         // run the one DML statement until it changes no row
	DirectivePending       = "pending"        // a SELECT that returns a row while work remains
	DirectiveBarrier       = "barrier"        // the version starts a new rolling window
	directiveOnline        = "online"         // "online begin" … "online end"
	directiveLintIgnore    = "lint-ignore"    // a waiver, read by the linter
)

// headerDirectives may appear only in a script's header; onlineBegin/onlineEnd only outside it
// or in it, between statements.
var headerDirectives = []string{DirectiveNoTransaction, DirectiveRepeat, DirectivePending, DirectiveBarrier}

// Directive is one "-- ratchet:" line.
type Directive struct {
	Name  string // "repeat", "pending", "online", …
	Value string // what follows the name: the query of "pending", "begin"/"end" of "online"
	Line  int    // 1-based
}

// Directives returns the "-- ratchet:" lines of script and checks them: a name ratchet does
// not know, a header directive below the header, a value where none is taken, or a
// "pending" without a query is a *SyntaxError naming the line.
func Directives(script string) ([]Directive, error) {
	script = strings.TrimPrefix(script, byteOrderMark)
	var out []Directive
	header := true
	n, first := 0, 0 // first: the first non-blank line
	for line := range strings.Lines(script) {
		n++
		text := strings.Trim(line, " \t\r\n")
		if text != "" && first == 0 {
			first = n
		}
		if text != "" && !strings.HasPrefix(text, "--") {
			header = false
		}
		rest, ok := strings.CutPrefix(text, directivePrefix)
		if !ok {
			continue
		}
		name, value, _ := strings.Cut(rest, " ")
		d := Directive{Name: name, Value: strings.TrimSpace(value), Line: n}
		switch {
		case d.Name == directiveOnline:
			if d.Value != "begin" && d.Value != "end" {
				return nil, &SyntaxError{Line: n, Msg: fmt.Sprintf("%q: write %sonline begin or %sonline end", text, directivePrefix, directivePrefix)}
			}
		case d.Name == directiveLintIgnore:
		case !slices.Contains(headerDirectives, d.Name):
			return nil, &SyntaxError{Line: n, Msg: fmt.Sprintf("unknown directive %q (ratchet knows no-transaction, repeat, pending, barrier, online begin/end and lint-ignore)", text)}
		case !header:
			return nil, &SyntaxError{Line: n, Msg: fmt.Sprintf("%q must be in the script's first comment lines, before any statement", text)}
		case d.Name == DirectivePending && d.Value == "":
			return nil, &SyntaxError{Line: n, Msg: fmt.Sprintf("%q needs a query: %spending SELECT 1 FROM … WHERE …", text, directivePrefix)}
		case d.Name != DirectivePending && d.Value != "":
			return nil, &SyntaxError{Line: n, Msg: fmt.Sprintf("%q takes no value", text)}
		case d.Name == DirectiveNoTransaction && n != first:
			return nil, &SyntaxError{Line: n, Msg: fmt.Sprintf("%q must be the script's first line", text)}
		}
		out = append(out, d)
	}
	return out, nil
}

// Find returns the first directive named name.
func Find(ds []Directive, name string) (Directive, bool) {
	for _, d := range ds {
		if d.Name == name {
			return d, true
		}
	}
	return Directive{}, false
}

// Online reports, for each of stmts (split from script), whether it lies between a
// "-- ratchet:online begin" line and the next "-- ratchet:online end" line: statements that
// only a rolling upgrade runs, skipped offline. It returns nil for a script without online
// blocks. Markers that do not pair up, or that fall inside a statement, are a *SyntaxError.
func Online(script string, ds []Directive, stmts []Statement) ([]bool, error) {
	if _, ok := Find(ds, directiveOnline); !ok {
		return nil, nil // nothing to mark: most scripts, which cost nothing here
	}
	// The statements' offsets count a byte order mark, so the line offsets do too.
	online := make([]bool, len(stmts))
	lineStart := lineOffsets(script)
	open := 0 // line of the open block's begin marker, 0 for none
	next := 0 // the first statement not yet placed
	for _, d := range ds {
		if d.Name != directiveOnline {
			continue
		}
		at := lineStart[d.Line-1]
		for next < len(stmts) && stmts[next].Offset < at {
			online[next] = open > 0
			if stmts[next].Offset+len(stmts[next].Text) > at {
				return nil, &SyntaxError{Line: d.Line, Msg: fmt.Sprintf("%sonline %s is inside the statement that starts at line %d; put it between statements", directivePrefix, d.Value, stmts[next].Line)}
			}
			next++
		}
		switch {
		case d.Value == "begin" && open > 0:
			return nil, &SyntaxError{Line: d.Line, Msg: fmt.Sprintf("%sonline begin inside the online block opened at line %d", directivePrefix, open)}
		case d.Value == "end" && open == 0:
			return nil, &SyntaxError{Line: d.Line, Msg: fmt.Sprintf("%sonline end without an online block to end", directivePrefix)}
		case d.Value == "begin":
			open = d.Line
		default:
			open = 0
		}
	}
	if open > 0 {
		return nil, &SyntaxError{Line: open, Msg: fmt.Sprintf("the online block opened here has no %sonline end", directivePrefix)}
	}
	return online, nil
}

// lineOffsets returns the byte offset of the start of each line of s.
func lineOffsets(s string) []int {
	offsets := []int{0}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			offsets = append(offsets, i+1)
		}
	}
	return offsets
}
