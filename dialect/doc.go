// Package dialect describes the database backends ratchet supports — SQLite, PostgreSQL and
// MySQL/MariaDB — as data: the DDL of the bookkeeping tables, identifier quoting, bind
// parameter style, the splitter rules and capability flags such as transactional DDL.
//
// The engine reads these values and never branches on a backend's name, so adding a backend
// means adding one file here.
package dialect
