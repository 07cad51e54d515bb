package repository

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// configFile is the name of the repository's settings file.
const configFile = "migrate.cfg"

// defaultSection is the ConfigParser section whose options every other
// section inherits.
const defaultSection = "DEFAULT"

// maxInterpolationDepth bounds nested %(name)s references, as in Python's
// ConfigParser.
const maxInterpolationDepth = 10

// config is a parsed INI file with the semantics of Python's
// configparser.ConfigParser, which is what sqlalchemy-migrate reads
// migrate.cfg with: "key = value" or "key: value", option names
// case-insensitive, full-line comments starting with "#" or ";", indented
// continuation lines, a DEFAULT section, and %-interpolation on read ("%%" is
// "%", "%(name)s" is another option's value).
type config struct {
	sections map[string]map[string]string // raw values by section, then lower-case option
	defaults map[string]string
}

// parseConfig parses data as a ConfigParser file. Errors name the line.
func parseConfig(data string) (*config, error) {
	data = strings.TrimPrefix(data, "\uFEFF")
	data = strings.ReplaceAll(data, "\r\n", "\n")
	data = strings.ReplaceAll(data, "\r", "\n")

	c := &config{sections: map[string]map[string]string{}, defaults: map[string]string{}}
	var (
		cur         map[string]string // current section
		curName     string
		opt         string   // option being read, "" if none
		lines       []string // its value lines
		indentLevel int
	)
	flush := func() {
		if opt != "" {
			cur[opt] = strings.TrimRightFunc(strings.Join(lines, "\n"), unicode.IsSpace)
		}
		opt, lines = "", nil
	}
	for i, line := range strings.Split(data, "\n") {
		lineno := i + 1
		value := strings.TrimSpace(line)
		isComment := strings.HasPrefix(value, "#") || strings.HasPrefix(value, ";")
		if value == "" || isComment {
			if !isComment && opt != "" {
				lines = append(lines, "") // a blank line inside a multi-line value
			}
			continue
		}
		indent := len(line) - len(strings.TrimLeftFunc(line, unicode.IsSpace))
		if opt != "" && indent > indentLevel {
			lines = append(lines, value)
			continue
		}
		indentLevel = indent
		if header, ok := sectionHeader(value); ok {
			flush()
			if header == defaultSection {
				cur, curName = c.defaults, header
				continue
			}
			if _, dup := c.sections[header]; dup {
				return nil, configError("line %d: section [%s] appears twice", lineno, header)
			}
			cur, curName = map[string]string{}, header
			c.sections[header] = cur
			continue
		}
		if cur == nil {
			return nil, configError("line %d: %q is outside any section (the file must start with [db_settings])", lineno, value)
		}
		k := strings.IndexAny(value, "=:")
		if k < 0 {
			return nil, configError("line %d: %q is not a \"name = value\" line", lineno, value)
		}
		name := strings.ToLower(strings.TrimSpace(value[:k]))
		if name == "" {
			return nil, configError("line %d: %q has no option name", lineno, value)
		}
		flush()
		if _, dup := cur[name]; dup {
			return nil, configError("line %d: option %s appears twice in section [%s]", lineno, name, curName)
		}
		cur[name] = "" // reserve the name so that a duplicate is detected
		opt, lines = name, []string{strings.TrimSpace(value[k+1:])}
	}
	flush()
	return c, nil
}

// sectionHeader reports whether value is a "[name]" line and returns name.
// Like ConfigParser, it takes everything up to the last "]".
func sectionHeader(value string) (string, bool) {
	if value[0] != '[' {
		return "", false
	}
	end := strings.LastIndexByte(value, ']')
	if end < 2 {
		return "", false
	}
	return value[1:end], true
}

// hasSection reports whether the file has the named section.
func (c *config) hasSection(section string) bool {
	_, ok := c.sections[section]
	return ok
}

// get returns the interpolated value of option in section, falling back to
// the DEFAULT section. ok is false if neither has the option.
func (c *config) get(section, option string) (value string, ok bool, err error) {
	raw, ok := c.raw(section, option)
	if !ok {
		return "", false, nil
	}
	value, err = c.interpolate(section, raw, 1)
	if err != nil {
		return "", true, configError("[%s] %s: %v", section, option, err)
	}
	return value, true, nil
}

// raw returns the uninterpolated value of option in section or DEFAULT.
func (c *config) raw(section, option string) (string, bool) {
	option = strings.ToLower(option)
	if v, ok := c.sections[section][option]; ok {
		return v, true
	}
	v, ok := c.defaults[option]
	return v, ok
}

// interpolate expands "%%" and "%(name)s" in raw.
func (c *config) interpolate(section, raw string, depth int) (string, error) {
	if depth > maxInterpolationDepth {
		return "", fmt.Errorf("%%(name)s references nested more than %d deep", maxInterpolationDepth)
	}
	if !strings.Contains(raw, "%") {
		return raw, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(raw, '%')
		if i < 0 {
			b.WriteString(raw)
			return b.String(), nil
		}
		b.WriteString(raw[:i])
		raw = raw[i:]
		switch {
		case strings.HasPrefix(raw, "%%"):
			b.WriteByte('%')
			raw = raw[2:]
		case strings.HasPrefix(raw, "%("):
			end := strings.Index(raw, ")s")
			if end < 3 || strings.Contains(raw[2:end], ")") {
				return "", fmt.Errorf("bad %%(name)s reference in %q", raw)
			}
			name := raw[2:end]
			v, ok := c.raw(section, name)
			if !ok {
				return "", fmt.Errorf("%%(%s)s refers to an option that does not exist", name)
			}
			v, err := c.interpolate(section, v, depth+1)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			raw = raw[end+2:]
		default:
			return "", fmt.Errorf("%q: a %% must be followed by %% or (name)s; write %%%% for a literal %%", raw)
		}
	}
}

// parseBool parses a boolean the way ConfigParser.getboolean does.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s is not a boolean (use true/false, yes/no, on/off or 1/0)", strconv.Quote(s))
}

// configError returns an [*Error] about migrate.cfg.
func configError(format string, args ...any) *Error {
	return &Error{Path: configFile, Reason: fmt.Sprintf(format, args...)}
}
