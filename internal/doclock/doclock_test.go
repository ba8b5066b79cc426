package doclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/doclock"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// LockAll holds every document it names against Lock, and many LockAlls
// over overlapping sets never deadlock.
func TestLockAllExcludesLockAndNeverDeadlocks(t *testing.T) {
	var s doclock.Striped
	ids := make([]bson.ObjectID, 20)
	for i := range ids {
		ids[i] = bson.NewObjectID()
	}
	unlock := s.LockAll([]any{ids[3], bson.RawValue{}})
	got := make(chan struct{})
	go func() {
		defer s.Lock(ids[3].Hex())()
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("Lock took a document LockAll holds")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	<-got

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				set := []any{ids[(g+i)%20], ids[(g*7+i)%20], ids[(i*3)%20]}
				s.LockAll(set)()
				s.Lock(ids[(g+i*5)%20].Hex())()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("overlapping LockAlls deadlocked")
	}
}
