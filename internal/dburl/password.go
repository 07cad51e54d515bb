package dburl

// Password returns the URL's decoded password, "" if it has none. It is meant for handing
// the password to a database tool through its environment (PGPASSWORD, MYSQL_PWD); never
// print it or put it on a command line.
func (u *URL) Password() string {
	return u.details().password
}
