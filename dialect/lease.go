package dialect

import "strings"

// LeaseSQL is a migration lock held as a row of ratchet's lock table: a lease that its
// holder renews while it works and that others take over only once it has expired. Every
// write is a single statement on the row's primary key, so that a cluster that certifies
// writes (Galera) lets one writer win; every time is the database's clock. The table name is
// filled in by [LeaseSQL.For]; parameters are given in the order each field lists.
type LeaseSQL struct {
	// Create creates the lock table if it does not exist.
	Create string
	// Insert takes a lease nobody holds (no row): repository id, holder token, host, pid,
	// lease length in microseconds. It inserts one row or, if the row exists, none.
	Insert string
	// TakeOver takes an expired lease: holder token, host, pid, lease length in
	// microseconds, repository id. It updates one row, or none while the lease is valid.
	TakeOver string
	// Renew extends the holder's lease: lease length in microseconds, repository id, holder
	// token. It updates no row when the holder lost the lease.
	Renew string
	// Release removes the holder's row: repository id, holder token.
	Release string
	// Holder describes the lease for a timeout message: repository id. It returns the
	// host, the pid, when it was acquired (UTC text) and the microseconds until it expires
	// (negative when expired).
	Holder string
}

// leaseTable is the placeholder for the lock table's name in a dialect's LeaseSQL.
const leaseTable = "{table}"

// For returns the statements for the lock table named table (quoted and qualified as
// needed).
func (l LeaseSQL) For(table string) LeaseSQL {
	r := strings.NewReplacer(leaseTable, table)
	return LeaseSQL{
		Create: r.Replace(l.Create), Insert: r.Replace(l.Insert), TakeOver: r.Replace(l.TakeOver),
		Renew: r.Replace(l.Renew), Release: r.Replace(l.Release), Holder: r.Replace(l.Holder),
	}
}

// Lease returns the lease lock's SQL, or nil where the database serialises writers itself
// (SQLite).
func (d Dialect) Lease() *LeaseSQL {
	if l := d.spec().lease; l != nil {
		c := *l
		return &c
	}
	return nil
}

// ClusterProbe returns a query whose one row (name, value) says, with value ON, that the
// server replicates writes synchronously to other nodes where a session lock does not reach
// (MariaDB Galera's wsrep_on); no row or another value means a single server. "" where the
// dialect has no such cluster.
func (d Dialect) ClusterProbe() string { return d.spec().clusterProbe }

// SchemaUpgradeMethod returns a query whose one row (name, value) names how the cluster
// replicates DDL (Galera's wsrep_OSU_method: TOI or RSU), or "" where there is none.
func (d Dialect) SchemaUpgradeMethod() string { return d.spec().schemaUpgrade }

// SettingSQL reads and sets a session setting: Read returns its value, Set (%d: the value)
// changes it, Value is the value ratchet sets.
type SettingSQL struct {
	Read, Set string
	Value     int64
}

// CausalReads returns the setting that makes a cluster node's session wait, before each
// statement, until the node has applied every write the cluster committed before it
// (Galera's wsrep_sync_wait: reads, updates and deletes, inserts), or nil.
func (d Dialect) CausalReads() *SettingSQL {
	if c := d.spec().causalReads; c != nil {
		v := *c
		return &v
	}
	return nil
}
