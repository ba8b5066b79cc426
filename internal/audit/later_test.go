package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestInsertSettlingLaterAppendsEveryEventOnce(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	const n = 120
	ids := make([]bson.ObjectID, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = bson.NewObjectID()
			e := event(i)
			e.Resource = "staff/" + ids[i].Hex()
			if _, err := tr.InsertSettlingLater(ctx, staff, member{ID: ids[i], PartnerID: "p1", Name: "A Person"}, e); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Stored at once, whatever the trail has done yet.
	if got, err := staff.CountDocuments(ctx, bson.D{}); err != nil || got != n {
		t.Fatalf("%d documents stored (%v), want %d", got, err, n)
	}
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, tr, n)
	for _, id := range ids {
		noneIsPending(t, staff, id, false)
	}
	// Nothing was left for Recover: everything was appended exactly once.
	if got, err := tr.RecoverOlderThan(ctx, 0); err != nil || got != 0 {
		t.Fatalf("Recover appended %d (%v), want 0", got, err)
	}
	mustVerify(t, tr, n)
}

func TestInsertSettlingLaterLeavesFailuresToRecover(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	audit.FailAfterBusinessWrite(tr, errors.New("the process stopped"))
	m := member{ID: bson.NewObjectID(), PartnerID: "p1", Name: "A Person"}
	if _, err := tr.InsertSettlingLater(ctx, staff, m, event(1)); err != nil {
		t.Fatal(err)
	}
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ids, _ := pendingIDs(t, staff, m.ID); len(ids) != 1 {
		t.Fatalf("pending %v, want the one event", ids)
	}
	if countEvents(t, db) != 0 {
		t.Fatal("an event was appended although the settle failed")
	}
	audit.ResumeAfterBusinessWrite(tr)
	if got, err := tr.RecoverOlderThan(ctx, 0); err != nil || got != 1 {
		t.Fatalf("Recover appended %d (%v), want 1", got, err)
	}
	noneIsPending(t, staff, m.ID, true)
	mustVerify(t, tr, 1)
}

// In a guarded collection Recover removes emptied markers under the
// owner's locks, which are the same for every store sharing the trail.
func TestRecoverRemovesEmptyMarkersUnderTheGuard(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	locks := tr.GuardWrites(staff)
	if tr.GuardWrites(staff) != locks || tr.GuardWrites(db.Collection("other")) == locks {
		t.Fatal("stores over one collection would not share its locks")
	}
	var ids []bson.ObjectID
	for i := range 3 {
		m := member{ID: bson.NewObjectID(), PartnerID: "p1", Name: "A Person"}
		ids = append(ids, m.ID)
		if _, err := tr.Insert(ctx, staff, m, event(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, field := pendingIDs(t, staff, ids[0]); !field {
		t.Fatal("no emptied marker to remove")
	}
	unlock := locks.Lock(ids[1].Hex())
	recovered := make(chan error, 1)
	go func() {
		_, err := tr.RecoverOlderThan(ctx, 0)
		recovered <- err
	}()
	select {
	case err := <-recovered:
		t.Fatalf("Recover changed the documents while their owner held a lock (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	if err := <-recovered; err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		noneIsPending(t, staff, id, true)
	}
}
