package config

import (
	"strings"
	"unicode"
)

// assignment is one "key = value" of a config file.
type assignment struct {
	section string // normalized: lower case except DEFAULT
	key     string
	value   string
	line    int // line of the key
}

// is reports whether a sets key in section.
func (a assignment) is(section, key string) bool {
	return a.section == section && a.key == key
}

// parse reads the assignments of a config file the way oslo.config's iniparser does.
func parse(file, text string) ([]assignment, error) {
	text = strings.TrimPrefix(text, "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")

	var (
		out     []assignment
		section string
		pending *assignment // the assignment whose value may continue on the next lines
		values  []string
	)
	flush := func() {
		if pending != nil {
			pending.value = strings.Join(values, "\n")
			out = append(out, *pending)
			pending, values = nil, nil
		}
	}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		switch {
		case line == "":
			flush() // a blank line ends a multi-line value
			continue
		case line[0] == ' ' || line[0] == '\t':
			if pending == nil {
				return nil, lineError(file, n, "indented line continues no value: %q", line)
			}
			values = append(values, strings.TrimLeftFunc(line, unicode.IsSpace))
			continue
		}
		flush()
		switch line[0] {
		case '[':
			if !strings.HasSuffix(line, "]") {
				return nil, lineError(file, n, "section header lacks its closing ']': %q", line)
			}
			if len(line) <= 2 {
				return nil, lineError(file, n, "section header names no section: %q", line)
			}
			section = normalizeSection(line[1 : len(line)-1])
		case '#', ';':
			// comment
		default:
			key, value, ok := splitKeyValue(line)
			switch {
			case !ok:
				return nil, lineError(file, n, "want \"key = value\", a [section] header or a comment, got %q", line)
			case key == "":
				return nil, lineError(file, n, "no key before the '=' or ':': %q", line)
			case section == "":
				return nil, lineError(file, n, "%q comes before any [section] header", key)
			}
			pending = &assignment{section: section, key: key, line: n}
			values = []string{value}
		}
	}
	flush()
	return out, nil
}

// splitKeyValue splits a line at its first '=' or ':', trims both sides and removes
// matching quotes around the value, as oslo.config does.
func splitKeyValue(line string) (key, value string, ok bool) {
	i := strings.IndexAny(line, "=:")
	if i < 0 {
		return "", "", false
	}
	key, value = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
	if value != "" && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1:max(1, len(value)-1)] // a lone quote becomes empty, as in Python's value[1:-1]
	}
	return key, value, true
}

// normalizeSection returns the section name oslo.config looks options up under: lower
// case, except for DEFAULT.
func normalizeSection(name string) string {
	if name == "DEFAULT" {
		return name
	}
	return strings.ToLower(name)
}
