package sqlsplit

// keyword identifies the few words the block tracker cares about.
type keyword uint8

const (
	kwNone keyword = iota
	kwAggregate
	kwBegin
	kwCase
	kwCreate
	kwDeclare
	kwDefiner
	kwDo
	kwElse
	kwEnd
	kwEvent
	kwFunction
	kwHandler
	kwIf
	kwLoop
	kwOr
	kwProcedure
	kwRepeat
	kwReplace
	kwRow
	kwTemp
	kwTemporary
	kwThen
	kwTrigger
	kwWhile
)

// keywordSet is a set of keywords.
type keywordSet uint32

// setOf returns the set holding kws.
func setOf(kws ...keyword) keywordSet {
	var s keywordSet
	for _, k := range kws {
		s |= 1 << k
	}
	return s
}

// has reports whether k is in s. kwNone is never in a set.
func (s keywordSet) has(k keyword) bool {
	return k != kwNone && s&(1<<k) != 0
}

// maxKeywordLen is the length of the longest keyword.
const maxKeywordLen = 9

// lookupKeyword returns the keyword w spells in any letter case, or kwNone.
func lookupKeyword(w string) keyword {
	if len(w) < 2 || len(w) > maxKeywordLen {
		return kwNone
	}
	var buf [maxKeywordLen]byte
	for i := range len(w) {
		c := w[i]
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z':
		default:
			return kwNone
		}
		buf[i] = c
	}
	switch string(buf[:len(w)]) {
	case "AGGREGATE":
		return kwAggregate
	case "BEGIN":
		return kwBegin
	case "CASE":
		return kwCase
	case "CREATE":
		return kwCreate
	case "DECLARE":
		return kwDeclare
	case "DEFINER":
		return kwDefiner
	case "DO":
		return kwDo
	case "ELSE":
		return kwElse
	case "END":
		return kwEnd
	case "EVENT":
		return kwEvent
	case "FUNCTION":
		return kwFunction
	case "HANDLER":
		return kwHandler
	case "IF":
		return kwIf
	case "LOOP":
		return kwLoop
	case "OR":
		return kwOr
	case "PROCEDURE":
		return kwProcedure
	case "REPEAT":
		return kwRepeat
	case "REPLACE":
		return kwReplace
	case "ROW":
		return kwRow
	case "TEMP":
		return kwTemp
	case "TEMPORARY":
		return kwTemporary
	case "THEN":
		return kwThen
	case "TRIGGER":
		return kwTrigger
	case "WHILE":
		return kwWhile
	}
	return kwNone
}
