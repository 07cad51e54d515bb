package cli

import (
	"regexp"
	"strconv"

	"github.com/ratchetdb/ratchet"
)

// parseVersion parses a VERSION argument: a non-negative integer. "" means absent (def).
func parseVersion(what, arg string, def int) (int, error) {
	if arg == "" {
		return def, nil
	}
	v, err := strconv.Atoi(arg)
	switch {
	case err != nil:
		return 0, usageErrorf("invalid %s %q: must be a non-negative integer", what, arg)
	case v < 0:
		return 0, usageErrorf("invalid %s %d: version numbers cannot be negative", what, v)
	}
	return v, nil
}

// parseTarget parses an optional target VERSION; absent or the legacy "None" means latest.
func parseTarget(arg string) (int, error) {
	if arg == "None" {
		return ratchet.Latest, nil
	}
	return parseVersion("version", arg, ratchet.Latest)
}

// negativeFlag recognises a negative number that the flag parser took for a flag
// ("unknown shorthand flag: '5' in -5").
var negativeFlag = regexp.MustCompile(`in (-\d+)$`)
