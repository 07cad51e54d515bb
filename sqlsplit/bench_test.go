package sqlsplit

import (
	"strings"
	"testing"
)

// benchScript returns a script of at least size bytes made of typical migration
// statements for d.
func benchScript(d Dialect, size int) string {
	common := `-- Add the images table.
CREATE TABLE images (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(255), /* display name; optional */
    status VARCHAR(30) DEFAULT 'queued; not yet active',
    PRIMARY KEY (id)
);
INSERT INTO images (id, name, status) VALUES ('0001', 'it''s a "name"', 'active');
CREATE INDEX ix_images_status ON images (status);
`
	extra := map[Dialect]string{
		SQLite: `CREATE TRIGGER images_touch AFTER UPDATE ON images BEGIN
    UPDATE images SET status = CASE new.status WHEN 'a' THEN 'b' ELSE new.status END WHERE id = new.id;
END;
`,
		PostgreSQL: `CREATE FUNCTION touch() RETURNS trigger AS $body$
BEGIN
    NEW.updated_at := now(); -- keep; it
    RETURN NEW;
END;
$body$ LANGUAGE plpgsql;
CREATE FUNCTION one() RETURNS int LANGUAGE SQL BEGIN ATOMIC SELECT 1; END;
`,
		MySQL: `CREATE PROCEDURE touch(IN p INT)
BEGIN
    IF p > 0 THEN
        UPDATE images SET status = 'x\'y' WHERE id = p; # done
    END IF;
END;
DELIMITER $$
CREATE FUNCTION one() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END$$
DELIMITER ;
`,
	}[d]
	unit := common + extra
	return strings.Repeat(unit, size/len(unit)+1)
}

// BenchmarkSplit1MB splits a 1 MB script of typical migration statements.
func BenchmarkSplit1MB(b *testing.B) {
	for _, d := range []Dialect{SQLite, PostgreSQL, MySQL} {
		script := benchScript(d, 1<<20)
		b.Run(d.String(), func(b *testing.B) {
			b.SetBytes(int64(len(script)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Split(script, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
