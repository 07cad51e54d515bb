package dburl

import "testing"

func TestPassword(t *testing.T) {
	tests := map[string]string{
		"postgresql://glance:s%40cret@db/glance":          "s@cret",
		"mysql+pymysql://glance:p:w@db/glance":            "p:w",
		"mysql://db/glance?user=glance&password=from-qry": "from-qry",
		"postgresql://glance@db/glance":                   "",
		"sqlite:///glance.db":                             "",
	}
	for raw, want := range tests {
		u, err := Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if got := u.Password(); got != want {
			t.Errorf("Parse(%q).Password() = %q, want %q", raw, got, want)
		}
	}
	if got := (&URL{}).Password(); got != "" {
		t.Errorf("zero URL: Password() = %q", got)
	}
}
