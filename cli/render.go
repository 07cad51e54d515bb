package cli

import (
	"encoding/json"
	"fmt"
	"io"
)

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// output writes a command's result: doc as JSON with --output json, else the text lines.
func (g *globals) print(s *settings, doc any, text string) error {
	if s.json {
		return writeJSON(g.stdout, doc)
	}
	if text != "" {
		_, err := fmt.Fprintln(g.stdout, text)
		return err
	}
	return nil
}

// warn writes a warning line to stderr.
func (g *globals) warn(msg string) {
	fmt.Fprintf(g.stderr, "%s: warning: %s\n", g.app.name, msg)
}
