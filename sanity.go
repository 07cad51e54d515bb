package ratchet

import (
	"context"
	"fmt"
	"strings"
)

// SanityError reports tables whose collation is not utf8 on MySQL/MariaDB, which the legacy
// tool refused to migrate (oslo.db's db_sync sanity check).
type SanityError struct{ Tables []string }

func (e *SanityError) Error() string {
	return fmt.Sprintf(`Tables "%s" have non utf8 collation, please make sure all tables are CHARSET=utf8`,
		strings.Join(e.Tables, ","))
}

// sanityCheck runs the dialect's sanity check, if it has one, ignoring the bookkeeping tables
// (and alembic's, as the legacy check did).
func (s *session) sanityCheck(ctx context.Context) error {
	if s.m.dialect.SanityCheck() == "" {
		return nil
	}
	rows, err := s.conn.QueryContext(ctx, s.m.dialect.SanityCheck(), s.table.Schema())
	if err != nil {
		return fmt.Errorf("checking table collations: %w", err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var name, collation string
		if err := rows.Scan(&name, &collation); err != nil {
			return fmt.Errorf("checking table collations: %w", err)
		}
		lower := strings.ToLower(name)
		if s.table.IsBookkeeping(lower) || lower == strings.ToLower(s.table.Name()) || lower == "alembic_version" {
			continue
		}
		bad = append(bad, name)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checking table collations: %w", err)
	}
	if len(bad) > 0 {
		return &SanityError{Tables: bad}
	}
	return nil
}
