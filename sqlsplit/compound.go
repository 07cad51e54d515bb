package sqlsplit

import "strings"

// blockKind is the construct that opened a block.
type blockKind uint8

const (
	blockBegin    blockKind = iota + 1 // BEGIN … END
	blockCaseExpr                      // CASE … END inside an expression
	blockCaseStmt                      // CASE … END CASE statement (MySQL)
	blockIf                            // IF … END IF statement (MySQL)
	blockLoop                          // LOOP … END LOOP (MySQL)
	blockWhile                         // WHILE … END WHILE (MySQL)
	blockRepeat                        // REPEAT … END REPEAT (MySQL)
)

// describe names the construct in error messages.
func (k blockKind) describe() string {
	switch k {
	case blockBegin:
		return "BEGIN … END block"
	case blockCaseExpr:
		return "CASE … END expression"
	case blockCaseStmt:
		return "CASE … END CASE statement"
	case blockIf:
		return "IF … END IF statement"
	case blockLoop:
		return "LOOP … END LOOP statement"
	case blockWhile:
		return "WHILE … END WHILE statement"
	case blockRepeat:
		return "REPEAT … END REPEAT statement"
	}
	return "block"
}

// block is one open block.
type block struct {
	kind  blockKind
	paren int // parenthesis depth of its opening keyword
	off   int // byte offset of its opening keyword
}

// headState tracks how far the start of a statement has been recognised.
type headState uint8

const (
	headFirst   headState = iota // before the statement's first word
	headCreate                   // after CREATE, before the object kind
	headRoutine                  // a CREATE whose body may hold blocks: tracking
	headOff                      // any other statement: nothing to track
)

// prevWord is the value of tracker.prev after a word or quoted token.
const prevWord = 0

// endSuffixes are the words that may follow END as part of it (END IF, END LOOP, …).
const endSuffixes = keywordSet(1<<kwIf | 1<<kwLoop | 1<<kwWhile | 1<<kwRepeat | 1<<kwCase)

// tracker follows the compound blocks of one statement, so that the ";" inside a
// routine or trigger body do not end it. It sees the statement as a stream of words and
// punctuation (quotes and comments already skipped) and only needs to tell, at each ";",
// whether a block is open.
//
// A BEGIN in the head of a routine opens its body. Inside a body, the statements that
// nest (BEGIN, and in MySQL IF, LOOP, WHILE, REPEAT and CASE) open a block only where a
// statement starts: after ";", after BEGIN, THEN, ELSE, DO, LOOP, REPEAT or a label.
// That keeps "begin" and "end" usable as column names. CASE opens a block anywhere,
// because a CASE expression also ends with END.
type tracker struct {
	rules  blockRules
	head   headState
	object keyword // the kind of object created, once head is headRoutine
	stack  []block

	prev      byte // the last punctuation byte, or prevWord
	stmtStart bool // the next word starts a statement
	label     bool // the last token may be a label, if ":" follows
	afterEnd  bool // the last word was an END that closed a statement block
	declare   bool // the current statement inside the body starts with DECLARE
	handler   bool // … and declares a HANDLER, whose action may be a BEGIN block
}

// reset prepares the tracker for a new statement. An inactive tracker ignores the
// statement: nothing in it can hold the terminator back.
func (t *tracker) reset(active bool) {
	*t = tracker{rules: t.rules, stack: t.stack[:0], head: headOff}
	if active {
		t.head = headFirst
	}
}

// active reports whether the tracker still needs to see the statement's words.
func (t *tracker) active() bool {
	return t.head != headOff
}

// depth returns the number of open blocks.
func (t *tracker) depth() int {
	return len(t.stack)
}

// innermost returns the innermost open block; depth must be positive.
func (t *tracker) innermost() block {
	return t.stack[len(t.stack)-1]
}

// push opens a block. A handler's BEGIN block is its action, so the DECLARE is over.
func (t *tracker) push(kind blockKind, paren, off int) {
	t.stack = append(t.stack, block{kind: kind, paren: paren, off: off})
	t.declare, t.handler = false, false
}

// word feeds a word. qualified words (t.begin, @end, :begin, begin.x) are identifiers,
// never keywords.
func (t *tracker) word(k keyword, qualified bool, paren, off int) {
	switch t.head {
	case headOff:
		return
	case headFirst:
		t.head = headOff
		if k == kwCreate && !qualified {
			t.head = headCreate
		}
	case headCreate:
		switch {
		case t.rules.objects.has(k):
			t.head = headRoutine
			t.object = k
		case t.rules.fillers.has(k), t.rules.definer && (t.prev == '=' || t.prev == '@'):
		default:
			t.head = headOff
		}
	case headRoutine:
		t.routineWord(k, qualified, paren, off)
	}
	t.prev = prevWord
}

// routineWord feeds a word of a routine or trigger.
func (t *tracker) routineWord(k keyword, qualified bool, paren, off int) {
	afterEnd := t.afterEnd
	t.afterEnd = false
	if qualified {
		t.plainWord()
		return
	}
	if afterEnd && endSuffixes.has(k) {
		return
	}
	inBody := len(t.stack) > 0
	var top block
	if inBody {
		top = t.innermost()
	}
	inExpr := inBody && top.kind == blockCaseExpr
	atStmt := t.stmtStart && paren == 0 && !inExpr
	flow := atStmt && t.rules.controlFlow
	switch k {
	case kwBegin:
		if atStmt || (paren == 0 && !inExpr && (t.handler || !inBody && !isOperator(t.prev))) {
			t.push(blockBegin, paren, off)
			t.enterStatement()
			return
		}
	case kwCase:
		if flow {
			t.push(blockCaseStmt, paren, off)
		} else {
			t.push(blockCaseExpr, paren, off)
		}
		t.stmtStart, t.label = false, false
		return
	case kwIf, kwWhile, kwLoop, kwRepeat:
		if flow {
			kind := flowBlock(k)
			t.push(kind, paren, off)
			if kind == blockLoop || kind == blockRepeat {
				// Their statement list follows at once; IF and WHILE have a condition first.
				t.enterStatement()
			} else {
				t.stmtStart, t.label = false, false
			}
			return
		}
	case kwEnd:
		if inBody && top.paren == paren &&
			(t.stmtStart || t.rules.endAnywhere || top.kind == blockCaseExpr || top.kind == blockRepeat) {
			t.stack = t.stack[:len(t.stack)-1]
			t.afterEnd = t.rules.controlFlow && top.kind != blockCaseExpr
			t.stmtStart, t.label = false, false
			return
		}
	case kwThen, kwElse:
		if inBody && paren == 0 && (top.kind == blockIf || top.kind == blockCaseStmt) {
			t.enterStatement()
			return
		}
	case kwDo:
		if paren == 0 && (inBody && top.kind == blockWhile || !inBody && t.object == kwEvent) {
			t.enterStatement()
			return
		}
	case kwRow:
		if paren == 0 && !inBody && t.object == kwTrigger {
			t.enterStatement()
			return
		}
	case kwDeclare:
		t.declare = t.declare || atStmt
	case kwHandler:
		t.handler = t.handler || t.declare
	}
	t.plainWord()
}

// flowBlock returns the block a MySQL control-flow keyword opens.
func flowBlock(k keyword) blockKind {
	switch k {
	case kwIf:
		return blockIf
	case kwWhile:
		return blockWhile
	case kwLoop:
		return blockLoop
	}
	return blockRepeat
}

// enterStatement records that the next word starts a statement.
func (t *tracker) enterStatement() {
	t.stmtStart, t.label = true, false
}

// plainWord records a word that is not a keyword the tracker acts on. A word that starts
// a statement, or stands in a routine's head, may be a label.
func (t *tracker) plainWord() {
	t.label = t.stmtStart || len(t.stack) == 0
	t.stmtStart = false
}

// quoted feeds a quoted string or identifier; a backtick-quoted one may be a label.
func (t *tracker) quoted(backtick bool) {
	switch t.head {
	case headOff:
		return
	case headFirst:
		t.head = headOff
	case headRoutine:
		t.label = backtick && (t.stmtStart || len(t.stack) == 0)
		t.stmtStart, t.afterEnd = false, false
	}
	t.prev = prevWord
}

// punct feeds a punctuation byte, including a ";" that did not end the statement.
func (t *tracker) punct(c byte) {
	switch t.head {
	case headOff:
		return
	case headFirst:
		t.head = headOff
	case headRoutine:
		switch c {
		case ';':
			t.stmtStart = len(t.stack) > 0 && t.innermost().kind != blockCaseExpr
			t.declare, t.handler = false, false
		case ':':
			t.stmtStart = t.label
		default:
			t.stmtStart = false
		}
		t.label, t.afterEnd = false, false
	}
	t.prev = c
}

// isOperator reports whether c, before BEGIN, makes it an operand rather than a body.
func isOperator(c byte) bool {
	return c != prevWord && strings.IndexByte("=<>!,(+-*/%|&^~", c) >= 0
}
