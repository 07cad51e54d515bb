package sqlsplit

import "strconv"

// Dialect selects the lexical rules Split applies to a script.
type Dialect int

// The dialects Split understands. MariaDB uses the MySQL rules.
const (
	SQLite Dialect = iota + 1
	PostgreSQL
	MySQL
)

// String returns the dialect's name: "sqlite", "postgresql" or "mysql".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case PostgreSQL:
		return "postgresql"
	case MySQL:
		return "mysql"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// lexRules are the differences between dialects, kept as data so that the scanner never
// asks which dialect it is reading.
type lexRules struct {
	// backslashEscapes: a backslash escapes the next byte inside '…' and "…" (MySQL).
	backslashEscapes bool
	// backticks: `…` quotes an identifier, `` escapes a backtick (SQLite, MySQL).
	backticks bool
	// brackets: […] quotes an identifier (SQLite).
	brackets bool
	// hashComments: # starts a line comment (MySQL).
	hashComments bool
	// dashCommentNeedsSpace: -- starts a comment only when followed by whitespace, a
	// control character or the end of input (MySQL).
	dashCommentNeedsSpace bool
	// nestedComments: /* … */ comments nest (PostgreSQL).
	nestedComments bool
	// dollarQuotes: $$…$$ and $tag$…$tag$ quote strings (PostgreSQL).
	dollarQuotes bool
	// escapeStrings: E'…' strings use backslash escapes (PostgreSQL).
	escapeStrings bool
	// executableComments: /*!NNNNN … */ and /*M!NNNNNN … */ are statement text, not
	// comments (MySQL, MariaDB).
	executableComments bool
	// metaCommands: a backslash at the start of a line outside literals is a psql
	// meta-command (\connect, \set, …), which no server can run (PostgreSQL).
	metaCommands bool
	// delimiterDirective: the client DELIMITER directive changes the terminator (MySQL).
	delimiterDirective bool
	// parenHoldsTerminator: a ";" inside parentheses does not end a statement, as in psql
	// (PostgreSQL CREATE RULE … DO (…; …)).
	parenHoldsTerminator bool
	// colonParams: a word right after ":" is a bind parameter name, never a keyword.
	colonParams bool
	// blocks are the rules for keeping compound statements whole.
	blocks blockRules
}

// blockRules describe which statements have BEGIN … END bodies whose ";" do not end the
// statement, and how their blocks nest.
type blockRules struct {
	// objects are the object kinds whose CREATE statement may have a compound body.
	objects keywordSet
	// fillers are the words allowed between CREATE and the object kind.
	fillers keywordSet
	// definer: any word right after "=" or "@" may also stand between CREATE and the
	// object kind (MySQL DEFINER=user@host).
	definer bool
	// controlFlow: IF, LOOP, WHILE, REPEAT and CASE statements, labels and handlers nest
	// inside bodies (MySQL stored programs).
	controlFlow bool
	// endAnywhere: END closes the innermost block wherever it appears at that block's
	// parenthesis depth, as psql counts it (PostgreSQL). Otherwise an END that closes a
	// BEGIN must start a statement, so "SET x = end" does not close anything.
	endAnywhere bool
}

// rules returns the lexical rules of d, or false for an unknown dialect.
func (d Dialect) rules() (lexRules, bool) {
	switch d {
	case SQLite:
		return lexRules{
			backticks:   true,
			brackets:    true,
			colonParams: true,
			blocks: blockRules{
				objects: setOf(kwTrigger),
				fillers: setOf(kwTemp, kwTemporary),
			},
		}, true
	case PostgreSQL:
		return lexRules{
			nestedComments:       true,
			dollarQuotes:         true,
			escapeStrings:        true,
			parenHoldsTerminator: true,
			colonParams:          true,
			metaCommands:         true,
			blocks: blockRules{
				objects:     setOf(kwFunction, kwProcedure),
				fillers:     setOf(kwOr, kwReplace),
				endAnywhere: true,
			},
		}, true
	case MySQL:
		return lexRules{
			backslashEscapes:      true,
			backticks:             true,
			hashComments:          true,
			dashCommentNeedsSpace: true,
			executableComments:    true,
			delimiterDirective:    true,
			blocks: blockRules{
				objects:     setOf(kwProcedure, kwFunction, kwTrigger, kwEvent),
				fillers:     setOf(kwOr, kwReplace, kwDefiner, kwAggregate),
				definer:     true,
				controlFlow: true,
			},
		}, true
	}
	return lexRules{}, false
}
