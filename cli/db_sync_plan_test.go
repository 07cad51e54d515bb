package cli

import "testing"

func TestHasBareSemicolon(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"INSERT INTO t VALUES ('a;b')", false},
		{`INSERT INTO t VALUES ("a;b", 'it\'s;')`, false},
		{"SELECT `odd;name` FROM t", false},
		{"SELECT 1 -- a; comment\n", false},
		{"SELECT 1 # a; comment\nFROM t", false},
		{"SELECT /* a; b */ 1", false},
		{"CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", true},
		{"CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 'x;'; END", true},
		{"SELECT 1 -- comment\n; ", true},
		{"SELECT a-1; ", true},
	}
	for _, tt := range tests {
		if got := hasBareSemicolon(tt.text); got != tt.want {
			t.Errorf("hasBareSemicolon(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestFirstLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"CREATE t (\n  id INT\n)", "CREATE t ( …"},
		{"SELECT 1  \n  ", "SELECT 1"},
		{"SELECT 'ééééé'", "SELECT 'éé …"},
	}
	for _, tt := range tests {
		if got := firstLine(tt.in, 10); got != tt.want {
			t.Errorf("firstLine(%q, 10) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
