package cli

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

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

// versionArgs accepts at most n VERSION arguments and refuses an empty one, given as an
// argument or as --version/--current_version: an empty word (an unset shell variable, say)
// must not read as "latest".
func versionArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := maxArgs(n)(cmd, args); err != nil {
			return err
		}
		for _, a := range args {
			if strings.TrimSpace(a) == "" {
				return usageErrorf("invalid version %q: must be a non-negative integer", a)
			}
		}
		for _, name := range []string{"version", "current_version"} {
			if f := cmd.Flags().Lookup(name); f != nil && f.Changed && strings.TrimSpace(f.Value.String()) == "" {
				return usageErrorf("invalid --%s %q: must be a non-negative integer", name, f.Value.String())
			}
		}
		return nil
	}
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
