// Package doclock serialises one process's changes to a document. The
// embedded store (FerretDB v1) reads a document and then writes it whole, so
// of two concurrent updates to one document one can be lost; real MongoDB's
// updates are atomic, which is what covers several replicas there.
package doclock

import (
	"hash/fnv"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const stripes = 64

// Striped is a fixed set of mutexes a document's ID hashes to: memory does
// not grow with the documents, at the cost of now and then making two
// unrelated changes wait for each other. The zero value is ready to use.
type Striped struct {
	locks [stripes]sync.Mutex
}

func stripe(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % stripes)
}

// Lock locks the document with the hex ObjectID id and returns what unlocks it.
func (s *Striped) Lock(id string) (unlock func()) {
	m := &s.locks[stripe(id)]
	m.Lock()
	return m.Unlock
}

// LockAll locks the documents with ids (ObjectIDs, as values or as the
// trail holds them), taking their stripes in order so that it never
// deadlocks with itself or with Lock. It is an audit.Guard.
func (s *Striped) LockAll(ids []any) (unlock func()) {
	var taken [stripes]bool
	for _, id := range ids {
		var hex string
		switch v := id.(type) {
		case bson.ObjectID:
			hex = v.Hex()
		case bson.RawValue:
			if oid, ok := v.ObjectIDOK(); ok {
				hex = oid.Hex()
			}
		}
		taken[stripe(hex)] = true
	}
	for i := range taken {
		if taken[i] {
			s.locks[i].Lock()
		}
	}
	return func() {
		for i := range taken {
			if taken[i] {
				s.locks[i].Unlock()
			}
		}
	}
}
