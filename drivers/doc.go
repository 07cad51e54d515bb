// Package drivers holds, one package each, what ratchet needs from the database/sql drivers
// it supports: importing one registers its driver with database/sql and provides the
// [ratchet.Driver] that tells the engine the database's error codes, lost sessions and how
// to run several statements in one round trip. The engine itself imports no driver.
//
//   - [github.com/ratchetdb/ratchet/drivers/sqlitedriver]: modernc.org/sqlite (pure Go)
//   - [github.com/ratchetdb/ratchet/drivers/pgxdriver]: github.com/jackc/pgx/v5 (stdlib)
//   - [github.com/ratchetdb/ratchet/drivers/mysqldriver]: github.com/go-sql-driver/mysql
package drivers
