package testdb

import (
	"database/sql"
	"testing"
)

// TestGaleraLocksAreNodeLocal starts a three-node cluster and shows why ratchet needs a lease
// there: GET_LOCK held on one node does not stop another node's session from taking the same
// lock, while a row written on one node is seen on the others.
func TestGaleraLocksAreNodeLocal(t *testing.T) {
	c := SharedCluster(t)
	name, err := c.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	var got [2]int
	dbs := [2]*sql.DB{}
	for i := range dbs {
		dbs[i] = Open(t, c.NodeURL(i, name))
		dbs[i].SetMaxOpenConns(1)
	}
	for i, db := range dbs {
		if err := db.QueryRow("SELECT GET_LOCK('x', 1)").Scan(&got[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got != [2]int{1, 1} {
		t.Errorf("GET_LOCK on two nodes = %v, want both taken (node-local locks)", got)
	}
	if _, err := dbs[0].Exec("CREATE TABLE r (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[0].Exec("INSERT INTO r VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dbs[1].QueryRow("SELECT count(*) FROM r").Scan(&n); err != nil || n != 1 {
		t.Errorf("node 2 sees %d rows (%v), want the row written on node 1", n, err)
	}
}
