package dburl

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		// URLs
		{"oracle://scott:tiger@h/db", "oracle://scott:xxxxx@h/db"},
		{`cannot connect to "postgres://u:p@ss@h:5432/db?sslmode=disable": connection refused`,
			`cannot connect to "postgres://u:xxxxx@h:5432/db?sslmode=disable": connection refused`},
		{"a mysql+pymysql://root:one@h/x and b postgresql://me:two@h/y",
			"a mysql+pymysql://root:xxxxx@h/x and b postgresql://me:xxxxx@h/y"},
		{"(mysql://u:pa/ss@h/db)", "(mysql://u:xxxxx@h/db)"},
		{"postgres://:secret@h/db", "postgres://:xxxxx@h/db"},
		{"postgres://u:xxxxx@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://u:@h/db", "postgres://u:@h/db"},
		{"see https://example.com:8080/a:b for details", "see https://example.com:8080/a:b for details"},
		{"postgres://h:5432/db?x=a@b", "postgres://h:xxxxx@b"}, // documented: hides too much rather than too little
		{"scheme:// nothing", "scheme:// nothing"},
		{"://", "://"},
		{"x://a://u:p@h", "x://a:xxxxx@h"},
		// go-sql-driver/mysql DSNs
		{"root:secret@tcp(127.0.0.1:3306)/glance?parseTime=true", "root:xxxxx@tcp(127.0.0.1:3306)/glance?parseTime=true"},
		{"open 'u:p@ss:w@unix(/run/mysqld.sock)/db': denied", "open 'u:xxxxx@unix(/run/mysqld.sock)/db': denied"},
		{"u:s@tcp6([::1]:3306)/db", "u:xxxxx@tcp6([::1]:3306)/db"},
		{"root@tcp(h:3306)/db", "root@tcp(h:3306)/db"},
		// key/value pairs
		{"host=h password=secret dbname=x", "host=h password=xxxxx dbname=x"},
		{"host=h PASSWORD = 'se cret\\' x' dbname=x", "host=h PASSWORD = 'xxxxx' dbname=x"},
		{`{"password="sec ret"}`, `{"password="xxxxx"}`},
		{"?user=u&password=secret&sslmode=disable", "?user=u&password=xxxxx&sslmode=disable"},
		{"passwd=abc", "passwd=xxxxx"},
		{"DB_PASSWORD=abc;", "DB_PASSWORD=xxxxx"},
		{"password='unterminated", "password='xxxxx"},
		{"password=", "password="},
		{"password= ", "password= "},
		{"passwords are hidden", "passwords are hidden"},
		{"the password is wrong", "the password is wrong"},
		{"passw", "passw"},
		{"passwd", "passwd"},
		{"", ""},
	}
	for _, tt := range tests {
		got := Redact(tt.in)
		if got != tt.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		if again := Redact(got); again != got {
			t.Errorf("Redact is not idempotent on %q: %q", got, again)
		}
	}
}

// TestRedactIsCheap checks that text without anything to hide costs no allocation.
func TestRedactIsCheap(t *testing.T) {
	msg := strings.Repeat("ratchet: version 3 failed: no such table: images (file 003_add.sql:12) ", 20)
	if n := testing.AllocsPerRun(100, func() { Redact(msg) }); n != 0 {
		t.Errorf("Redact allocated %v times on a message without passwords", n)
	}
}

func BenchmarkRedact(b *testing.B) {
	msg := strings.Repeat("failed to connect to postgres://glance:secret@db.example.com/glance: refused; ", 10)
	for b.Loop() {
		Redact(msg)
	}
}
