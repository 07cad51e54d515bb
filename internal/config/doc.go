// Package config reads the INI files given with --config-file, the way oslo.config reads
// an OpenStack service's configuration, so that a glance-api.conf works as is.
//
// Only these options are read; other sections and keys are ignored:
//
//	[database]
//	connection = mysql+pymysql://glance:secret@db/glance
//
//	[ratchet]
//	repository = /usr/lib/python3/dist-packages/glance/db/sqlalchemy/migrate_repo
//	backup_dir = /var/backups/glance
//	# whole seconds, or a Go duration such as 90s or 2m
//	lock_timeout = 90
//
// The syntax is that of oslo.config's parser: "key = value" or "key: value" (the first '='
// or ':' separates them); white space around keys and values is trimmed and a value in
// matching single or double quotes loses them; a line that starts with '#' or ';' is a
// comment, but a '#' after a value is part of it; an indented line continues the value of
// the line before (the parts are joined with newlines) until a blank line; section names
// are case-insensitive except DEFAULT, keys are case-sensitive. Values are taken verbatim:
// there is no '%' interpolation, and oslo.config's "$name" substitution is not done either.
// Relative paths are kept as written, hence relative to the working directory.
//
// When several files are given, a value in a later file overrides the value of an earlier
// one, as with repeated --config-file options; an empty value ("connection =") unsets it.
package config
