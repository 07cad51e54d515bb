package repository

import (
	"fmt"
	"io/fs"
	"testing"
	"testing/fstest"
)

// bigFS returns a repository with n versions, each with a default and a
// sqlite upgrade script.
func bigFS(n int) fstest.MapFS {
	m := fstest.MapFS{
		configFile:  {Data: []byte(minimalConfig)},
		versionsDir: {Mode: fs.ModeDir | 0o755},
	}
	for v := 1; v <= n; v++ {
		for _, dbms := range []string{"default", "sqlite"} {
			name := fmt.Sprintf("%s/%04d_change_%d_%s_upgrade.sql", versionsDir, v, v, dbms)
			m[name] = &fstest.MapFile{Data: []byte("ALTER TABLE t ADD COLUMN c INT;\n")}
		}
	}
	return m
}

func BenchmarkLoad10000(b *testing.B) {
	fsys := bigFS(10000)
	b.ReportAllocs()
	for b.Loop() {
		r, err := Load(fsys)
		if err != nil {
			b.Fatal(err)
		}
		if r.Latest() != 10000 {
			b.Fatalf("Latest() = %d", r.Latest())
		}
	}
}

func TestLoadLarge(t *testing.T) {
	r := mustLoad(t, bigFS(10000))
	if got := len(r.Versions()); got != 10000 {
		t.Fatalf("len(Versions()) = %d, want 10000", got)
	}
	s, ok := lookup(t, r, 9999, "postgresql", OpUpgrade)
	if !ok || s.Path != "versions/9999_change_9999_default_upgrade.sql" {
		t.Errorf("Script(9999, postgresql) = %+v, %v", s, ok)
	}
}
