package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// member is a business document that knows nothing of auditing.
type member struct {
	ID        bson.ObjectID `bson:"_id"`
	PartnerID string        `bson:"partner_id"`
	Name      string        `bson:"name"`
	Active    bool          `bson:"active"`
	Logins    int           `bson:"logins"`
}

// pendingIDs lists the events pending in the document, and reports whether it
// has the marker field at all (an emptied one stays until Recover).
func pendingIDs(t *testing.T, coll *mongo.Collection, id any) (ids []string, field bool) {
	t.Helper()
	raw, err := coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := raw.Lookup(audit.PendingField).DocumentOK()
	if !ok {
		return nil, false
	}
	elems, err := p.Elements()
	if err != nil {
		t.Fatal(err)
	}
	for _, el := range elems {
		ids = append(ids, el.Key())
	}
	return ids, true
}

// noneIsPending fails if the document has pending events, or, after Recover,
// any marker field.
func noneIsPending(t *testing.T, coll *mongo.Collection, id any, afterRecover bool) {
	t.Helper()
	ids, field := pendingIDs(t, coll, id)
	if len(ids) > 0 {
		t.Fatalf("events %v still pending", ids)
	}
	if afterRecover && field {
		t.Fatal("empty marker left after Recover")
	}
}

func TestInsertStoresDocumentAndEvent(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	m := member{ID: bson.NewObjectID(), PartnerID: "p1", Name: "A Person", Active: true}
	e := event(1)
	e.Action, e.Resource = "staff.create", "staff/"+m.ID.Hex()
	stored, err := tr.Insert(ctx, staff, m, e)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Seq != 1 || stored.Resource != e.Resource {
		t.Fatalf("stored %+v", stored)
	}
	noneIsPending(t, staff, m.ID, false)
	var back member
	if err := staff.FindOne(ctx, bson.D{{Key: "_id", Value: m.ID}}).Decode(&back); err != nil || back != m {
		t.Fatalf("stored %+v, %v; want %+v", back, err, m)
	}
	// Documents without an _id get one (the caller sets it when it needs it).
	if _, err := tr.Insert(ctx, staff, bson.M{"partner_id": "p1", "name": "B"}, event(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Insert(ctx, staff, bson.D{{Key: "audit_pending", Value: 1}}, event(3)); err == nil {
		t.Fatal("inserted a document that sets the marker itself")
	}
	if n, _ := staff.CountDocuments(ctx, bson.D{}); n != 2 {
		t.Fatalf("%d documents", n)
	}
	mustVerify(t, tr, 2)
}

func TestUpdateMergesMarkerIntoTheUpdate(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	m := member{ID: bson.NewObjectID(), PartnerID: "p1", Name: "A Person", Active: true}
	if _, err := staff.InsertOne(ctx, m); err != nil {
		t.Fatal(err)
	}
	filter := bson.D{{Key: "_id", Value: m.ID}, {Key: "partner_id", Value: "p1"}}
	for name, update := range map[string]bson.D{
		"$set and $inc":  {{Key: "$set", Value: bson.D{{Key: "name", Value: "Renamed"}}}, {Key: "$inc", Value: bson.D{{Key: "logins", Value: 1}}}},
		"$set as bson.M": {{Key: "$set", Value: bson.M{"active": false}}},
		"no $set":        {{Key: "$inc", Value: bson.D{{Key: "logins", Value: 1}}}},
	} {
		matched, ev, err := tr.Update(ctx, staff, filter, update, event(1))
		if err != nil || !matched || ev.Seq == 0 {
			t.Fatalf("%s: Update = %v, %+v, %v", name, matched, ev, err)
		}
	}
	var back member
	if err := staff.FindOne(ctx, filter).Decode(&back); err != nil {
		t.Fatal(err)
	}
	if back.Name != "Renamed" || back.Active || back.Logins != 2 {
		t.Fatalf("document is %+v", back)
	}
	noneIsPending(t, staff, m.ID, false)
	mustVerify(t, tr, 3)

	// A filter that matches nothing changes nothing and records nothing.
	matched, ev, err := tr.Update(ctx, staff, bson.D{{Key: "_id", Value: m.ID}, {Key: "partner_id", Value: "p2"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "Hijacked"}}}}, event(2))
	if err != nil || matched || ev.Seq != 0 {
		t.Fatalf("Update of another partner's record = %v, %+v, %v", matched, ev, err)
	}
	mustVerify(t, tr, 3)

	for name, update := range map[string]bson.D{
		"replacement":        {{Key: "name", Value: "x"}},
		"empty":              {},
		"sets the marker":    {{Key: "$set", Value: bson.D{{Key: "audit_pending.x", Value: 1}}}},
		"unsets the marker":  {{Key: "$unset", Value: bson.D{{Key: "audit_pending", Value: ""}}}},
		"renames the marker": {{Key: "$rename", Value: bson.D{{Key: "name", Value: "audit_pending"}}}},
		"non-document":       {{Key: "$set", Value: "x"}},
	} {
		if _, _, err := tr.Update(ctx, staff, filter, update, event(3)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := staff.FindOne(ctx, filter).Decode(&back); err != nil || back.Name != "Renamed" {
		t.Fatalf("document is %+v, %v", back, err)
	}
	mustVerify(t, tr, 3)
}

// The crash test: the business write succeeds and the process stops before the
// append. The change is stored with its event pending; readers are not
// disturbed; Recover appends the event and clears the marker.
func TestRecoverAppendsEventsLeftByACrash(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	crash := errors.New("process stopped")
	audit.FailAfterBusinessWrite(tr, crash)

	m := member{ID: bson.NewObjectID(), PartnerID: "p1", Name: "A Person", Active: true}
	created := event(1)
	created.Action = "staff.create"
	pending, err := tr.Insert(ctx, staff, m, created)
	if !errors.Is(err, crash) || !errors.Is(err, audit.ErrPending) {
		t.Fatalf("Insert = %v, want the crash, as ErrPending", err)
	}
	updated := event(2)
	updated.Action = "staff.leave"
	matched, _, err := tr.Update(ctx, staff, bson.D{{Key: "_id", Value: m.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "active", Value: false}}}}, updated)
	if !matched || !errors.Is(err, audit.ErrPending) {
		t.Fatalf("Update = %v, %v", matched, err)
	}

	// Both changes are stored, with both events pending and none appended.
	var back member
	if err := staff.FindOne(ctx, bson.D{{Key: "_id", Value: m.ID}}).Decode(&back); err != nil {
		t.Fatalf("decode a document carrying pending events into a struct without the field: %v", err)
	}
	if back.Active || back.Name != m.Name {
		t.Fatalf("document is %+v", back)
	}
	if ids, _ := pendingIDs(t, staff, m.ID); len(ids) != 2 || ids[0] != pending.EventID {
		t.Fatalf("pending = %v", ids)
	}
	if n := countEvents(t, db); n != 0 {
		t.Fatalf("%d events appended before recovery", n)
	}

	// A new process: the trail knows the collection only by registration.
	audit.ResumeAfterBusinessWrite(tr)
	restarted := audit.New(db)
	restarted.Register(staff)
	if n, err := restarted.Recover(ctx); err != nil || n != 0 {
		t.Fatalf("Recover within the grace period = %d, %v; want 0", n, err)
	}
	audit.SetClock(restarted, func() time.Time { return time.Now().Add(audit.DefaultRecoverGrace + time.Second) })
	n, err := restarted.Recover(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Recover = %d, %v; want 2", n, err)
	}
	noneIsPending(t, staff, m.ID, true)
	mustVerify(t, tr, 2)
	first := storedEvent(t, db, 1)
	if first.EventID != pending.EventID || first.Action != "staff.create" || !first.Time.Equal(pending.Time) {
		t.Fatalf("event 1 = %+v, want the pending create %+v", first, pending)
	}
	if storedEvent(t, db, 2).Action != "staff.leave" {
		t.Fatal("event 2 is not the update")
	}
	// Idempotent.
	if n, err := restarted.RecoverOlderThan(ctx, 0); err != nil || n != 0 {
		t.Fatalf("Recover again = %d, %v", n, err)
	}
	// The original instance carries on after the recovered events.
	if e := recordN(t, tr, 1)[0]; e.Seq != 3 {
		t.Fatalf("next event at %d", e.Seq)
	}
	mustVerify(t, tr, 3)
}

// A crash after the append but before the marker was cleared: Recover finds the
// event already in the chain and only clears the marker.
func TestRecoverDoesNotAppendTwice(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	audit.FailAfterBusinessWrite(tr, errors.New("stop"))
	id := bson.NewObjectID()
	pending, err := tr.Insert(ctx, staff, member{ID: id, PartnerID: "p1"}, event(1))
	if !errors.Is(err, audit.ErrPending) {
		t.Fatal(err)
	}
	audit.ResumeAfterBusinessWrite(tr)
	appended := record(t, tr, pending)[0] // what the crashed writer did before stopping
	recordN(t, tr, 2)
	if n, err := tr.RecoverOlderThan(ctx, 0); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v", n, err)
	}
	if n := countEvents(t, db); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
	if got := storedEvent(t, db, appended.Seq); got.EventID != pending.EventID {
		t.Fatalf("event %d is %s", appended.Seq, got.EventID)
	}
	noneIsPending(t, staff, id, true)
	mustVerify(t, tr, 3)
}

// Two changes of one document in flight at once each carry their own marker;
// clearing one leaves the other for its writer (or Recover).
func TestTwoPendingEventsInOneDocument(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	id := bson.NewObjectID()
	if _, err := tr.Insert(ctx, staff, member{ID: id, PartnerID: "p1"}, event(0)); err != nil {
		t.Fatal(err)
	}
	stalled := audit.New(db)
	audit.FailAfterBusinessWrite(stalled, errors.New("stalled"))
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "logins", Value: 1}}}}
	if _, _, err := stalled.Update(ctx, staff, bson.D{{Key: "_id", Value: id}}, inc, event(1)); !errors.Is(err, audit.ErrPending) {
		t.Fatal(err)
	}
	if _, _, err := tr.Update(ctx, staff, bson.D{{Key: "_id", Value: id}}, inc, event(2)); err != nil {
		t.Fatal(err)
	}
	if ids, _ := pendingIDs(t, staff, id); len(ids) != 1 {
		t.Fatalf("pending = %v, want only the stalled event", ids)
	}
	if n, err := tr.RecoverOlderThan(ctx, 0); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v", n, err)
	}
	noneIsPending(t, staff, id, true)
	var back member
	if err := staff.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&back); err != nil || back.Logins != 2 {
		t.Fatalf("logins = %d, %v", back.Logins, err)
	}
	mustVerify(t, tr, 3)
}

// Audited updates from several goroutines on two instances. Each document's
// changes all land and every event is appended once.
func TestConcurrentUpdates(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	trails := []*audit.Trail{tr, audit.New(db)}
	const goroutines, each = 4, 5
	ids := make([]bson.ObjectID, goroutines)
	for g := range ids {
		ids[g] = bson.NewObjectID()
		if _, err := tr.Insert(ctx, staff, member{ID: ids[g], PartnerID: "p1"}, event(g)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				_, _, err := trails[g%2].Update(ctx, staff, bson.D{{Key: "_id", Value: ids[g]}},
					bson.D{{Key: "$inc", Value: bson.D{{Key: "logins", Value: 1}}}}, event(i))
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range ids {
		var back member
		if err := staff.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&back); err != nil || back.Logins != each {
			t.Fatalf("logins = %d, %v; want %d", back.Logins, err, each)
		}
		noneIsPending(t, staff, id, false)
	}
	mustVerify(t, tr, goroutines*(each+1))
}

// Concurrent changes of the SAME document. MongoDB applies each update
// atomically; FerretDB v1 reads, modifies and writes the document without a
// guard, so concurrent updates of one document can overwrite each other there
// (the portal's problem generally, not the trail's). What holds on both: a
// change that survives was written with its marker, every event is appended
// once, and Recover clears any marker a stale write brought back.
func TestConcurrentUpdatesOfOneDocument(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	id := bson.NewObjectID()
	if _, err := tr.Insert(ctx, staff, member{ID: id, PartnerID: "p1"}, event(0)); err != nil {
		t.Fatal(err)
	}
	trails := []*audit.Trail{tr, audit.New(db)}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for g := range 4 {
		wg.Go(func() {
			for i := range 5 {
				_, _, err := trails[g%2].Update(ctx, staff, bson.D{{Key: "_id", Value: id}},
					bson.D{{Key: "$inc", Value: bson.D{{Key: "logins", Value: 1}}}}, event(i))
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := tr.RecoverOlderThan(ctx, 0); err != nil {
		t.Fatal(err)
	}
	noneIsPending(t, staff, id, true)
	mustVerify(t, tr, 21)
	var back member
	if err := staff.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&back); err != nil || back.Logins < 1 || back.Logins > 20 {
		t.Fatalf("logins = %d, %v", back.Logins, err)
	}
	if back.Logins != 20 {
		t.Logf("the store lost %d of 20 concurrent updates of one document", 20-back.Logins)
	}
}

// A completed change leaves an empty marker (removing it at once would cost a
// scan on the SQLite store); Recover removes it, whatever the grace period.
func TestRecoverRemovesEmptyMarkers(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	staff := db.Collection("staff")
	id := bson.NewObjectID()
	if _, err := tr.Insert(ctx, staff, member{ID: id, PartnerID: "p1"}, event(1)); err != nil {
		t.Fatal(err)
	}
	if ids, field := pendingIDs(t, staff, id); len(ids) != 0 || !field {
		t.Fatalf("pending %v, field %v; want an empty marker", ids, field)
	}
	restarted := audit.New(db)
	restarted.Register(staff)
	if n, err := restarted.Recover(ctx); err != nil || n != 0 {
		t.Fatalf("Recover = %d, %v", n, err)
	}
	noneIsPending(t, staff, id, true)
	var back member
	if err := staff.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&back); err != nil || back.PartnerID != "p1" {
		t.Fatalf("document is %+v, %v", back, err)
	}
	mustVerify(t, tr, 1)
}

// BenchmarkUpdate measures an audited update: one business write carrying the
// marker, the append, and the clearing write.
func BenchmarkUpdate(b *testing.B) {
	tr, db := newTrail(b)
	ctx := context.Background()
	staff := db.Collection("staff")
	id := bson.NewObjectID()
	if _, err := tr.Insert(ctx, staff, member{ID: id, PartnerID: "p1"}, event(0)); err != nil {
		b.Fatal(err)
	}
	filter := bson.D{{Key: "_id", Value: id}}
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "logins", Value: 1}}}}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := tr.Update(ctx, staff, filter, update, event(1)); err != nil {
			b.Fatal(err)
		}
	}
}
