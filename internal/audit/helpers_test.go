package audit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// newTrail returns a trail on a fresh database, with its indexes.
func newTrail(t testing.TB) (*audit.Trail, *mongo.Database) {
	t.Helper()
	db := storetest.Database(t)
	tr := audit.New(db)
	if err := tr.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tr, db
}

// event is a typical request event; i varies it.
func event(i int) audit.Event {
	return audit.Event{
		Actor:     audit.Actor{Kind: audit.KindPerson, Subject: fmt.Sprintf("sub-%d", i%3), Issuer: "https://idp.example", Roles: []string{"partner_admin", "viewer"}, Org: "p1"},
		Action:    "staff.view",
		Resource:  fmt.Sprintf("staff/%04d", i),
		PartnerID: "p1",
		Outcome:   audit.Success,
		ClientIP:  "192.0.2.1",
		RequestID: fmt.Sprintf("req-%d", i),
	}
}

func record(t testing.TB, tr *audit.Trail, events ...audit.Event) []audit.Event {
	t.Helper()
	var out []audit.Event
	for _, e := range events {
		stored, err := tr.Record(context.Background(), e)
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
		out = append(out, stored)
	}
	return out
}

func recordN(t testing.TB, tr *audit.Trail, n int) []audit.Event {
	t.Helper()
	events := make([]audit.Event, n)
	for i := range events {
		events[i] = event(i + 1)
	}
	return record(t, tr, events...)
}

func mustVerify(t testing.TB, tr *audit.Trail, want int64) {
	t.Helper()
	n, err := tr.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if n != want {
		t.Fatalf("Verify checked %d events, want %d", n, want)
	}
}

func countEvents(t testing.TB, db *mongo.Database) int64 {
	t.Helper()
	n, err := db.Collection("audit_events").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func storedEvent(t testing.TB, db *mongo.Database, seq int64) audit.Event {
	t.Helper()
	var e audit.Event
	if err := db.Collection("audit_events").FindOne(context.Background(), bson.D{{Key: "_id", Value: seq}}).Decode(&e); err != nil {
		t.Fatalf("read event %d: %v", seq, err)
	}
	return e
}

func head(t testing.TB, db *mongo.Database) (int64, string) {
	t.Helper()
	var h struct {
		Seq  int64  `bson:"seq"`
		Hash string `bson:"hash"`
	}
	if err := db.Collection("audit_head").FindOne(context.Background(), bson.D{{Key: "_id", Value: "chain"}}).Decode(&h); err != nil {
		t.Fatalf("read head: %v", err)
	}
	return h.Seq, h.Hash
}
