package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// wantBroken checks that Verify fails naming seq (and eventID when not empty).
func wantBroken(t *testing.T, tr *audit.Trail, seq int64, eventID, problem string) {
	t.Helper()
	_, err := tr.Verify(context.Background())
	var broken *audit.BrokenError
	if !errors.As(err, &broken) {
		t.Fatalf("Verify = %v, want a BrokenError at event %d", err, seq)
	}
	if broken.Seq != seq || broken.EventID != eventID || !strings.Contains(broken.Problem, problem) {
		t.Fatalf("Verify = %v, want event %d (id %q) %q", err, seq, eventID, problem)
	}
}

func rawEvent(t *testing.T, db *mongo.Database, seq int64) bson.Raw {
	t.Helper()
	raw, err := db.Collection("audit_events").FindOne(context.Background(), bson.D{{Key: "_id", Value: seq}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func restore(t *testing.T, db *mongo.Database, raw bson.Raw) {
	t.Helper()
	if _, err := db.Collection("audit_events").ReplaceOne(context.Background(), bson.D{{Key: "_id", Value: raw.Lookup("_id")}}, raw); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyEmptyAndCleanTrails(t *testing.T) {
	tr, db := newTrail(t)
	mustVerify(t, tr, 0)
	// Never initialised at all (no head either) is an empty trail too.
	mustVerify(t, audit.New(db.Client().Database(db.Name()+"_none")), 0)
	recordN(t, tr, 10)
	mustVerify(t, tr, 10)
}

// Altering any one field of a stored event, as someone with write access to the
// database might, is reported at that event.
func TestVerifyDetectsAlteredFields(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	events := recordN(t, tr, 10)
	mid := events[4]
	original := rawEvent(t, db, mid.Seq)
	for field, value := range map[string]any{
		"event_id":      "0123456789abcdef0123456789abcdef",
		"time":          mid.Time.Add(time.Millisecond),
		"actor.kind":    audit.KindSystem,
		"actor.subject": "someone-else",
		"actor.issuer":  "https://other.example",
		"actor.roles":   bson.A{"partner_admin"},
		"actor.org":     "p2",
		"action":        "staff.delete",
		"resource":      "staff/9999",
		"partner_id":    "p2",
		"outcome":       audit.Denied,
		"client_ip":     "198.51.100.7",
		"request_id":    "req-x",
		"detail":        "added",
		"prev_hash":     strings.Repeat("0", 64),
		"hash":          strings.Repeat("f", 64),
	} {
		t.Run(field, func(t *testing.T) {
			if _, err := db.Collection("audit_events").UpdateOne(ctx, bson.D{{Key: "_id", Value: mid.Seq}},
				bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: value}}}}); err != nil {
				t.Fatal(err)
			}
			id := mid.EventID
			if field == "event_id" {
				id = value.(string)
			}
			problem := "hash does not match the event's content"
			if field == "prev_hash" {
				problem = "prev_hash does not match the hash of event 4"
			}
			wantBroken(t, tr, mid.Seq, id, problem)
			restore(t, db, original)
			mustVerify(t, tr, 10)
		})
	}
	t.Run("removed optional field", func(t *testing.T) {
		if _, err := db.Collection("audit_events").UpdateOne(ctx, bson.D{{Key: "_id", Value: mid.Seq}},
			bson.D{{Key: "$unset", Value: bson.D{{Key: "actor.roles", Value: ""}}}}); err != nil {
			t.Fatal(err)
		}
		wantBroken(t, tr, mid.Seq, mid.EventID, "hash does not match")
		restore(t, db, original)
	})
	t.Run("added field", func(t *testing.T) {
		if _, err := db.Collection("audit_events").UpdateOne(ctx, bson.D{{Key: "_id", Value: mid.Seq}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "note", Value: "harmless?"}}}}); err != nil {
			t.Fatal(err)
		}
		wantBroken(t, tr, mid.Seq, mid.EventID, `unexpected field "note"`)
		restore(t, db, original)
	})
	t.Run("rehashed event", func(t *testing.T) {
		// Someone who knows the algorithm rehashes the altered event: the next
		// event's link gives it away.
		forged := mid
		forged.Outcome = audit.Denied
		forged.Hash = audit.ComputeHash(forged)
		if _, err := db.Collection("audit_events").ReplaceOne(ctx, bson.D{{Key: "_id", Value: mid.Seq}}, forged); err != nil {
			t.Fatal(err)
		}
		wantBroken(t, tr, mid.Seq+1, events[5].EventID, "prev_hash does not match the hash of event 5")
		restore(t, db, original)
	})
	mustVerify(t, tr, 10)
}

func TestVerifyDetectsDeletedMiddleEvent(t *testing.T) {
	tr, db := newTrail(t)
	recordN(t, tr, 10)
	if _, err := db.Collection("audit_events").DeleteOne(context.Background(), bson.D{{Key: "_id", Value: int64(5)}}); err != nil {
		t.Fatal(err)
	}
	wantBroken(t, tr, 5, "", "missing (the trail jumps from event 4 to event 6)")
}

func TestVerifyDetectsDeletedLastEvents(t *testing.T) {
	tr, db := newTrail(t)
	recordN(t, tr, 10)
	if _, err := db.Collection("audit_events").DeleteMany(context.Background(), bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: int64(9)}}}}); err != nil {
		t.Fatal(err)
	}
	wantBroken(t, tr, 9, "", "the chain head records 10 events but the trail ends at event 8")
}

func TestVerifyDetectsForgedEvents(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		id      any
		forge   func(e *audit.Event)
		seq     int64
		problem string
	}{
		"appended with a made-up hash": {int64(11), func(e *audit.Event) { e.Hash = strings.Repeat("a", 64) }, 11, "hash does not match the event's content"},
		"appended without the link":    {int64(11), func(e *audit.Event) { e.PrevHash = ""; e.Hash = audit.ComputeHash(*e) }, 11, "prev_hash does not match the hash of event 10"},
		"beyond a gap":                 {int64(13), func(*audit.Event) {}, 11, "missing (the trail jumps from event 10 to event 13)"},
		"between two events":           {5.5, func(*audit.Event) {}, 6, `malformed record with _id {"$numberDouble":"5.5"}`},
		"before the first event":       {int64(0), func(*audit.Event) {}, 0, "is not a position in the chain"},
	} {
		t.Run(name, func(t *testing.T) {
			tr, db := newTrail(t)
			events := recordN(t, tr, 10)
			forged := event(99)
			forged.EventID = "forged"
			forged.Time = time.Now().UTC().Truncate(time.Millisecond)
			forged.Seq = 11
			forged.PrevHash = events[9].Hash
			forged.Hash = audit.ComputeHash(forged)
			tc.forge(&forged)
			doc, err := bson.Marshal(forged)
			if err != nil {
				t.Fatal(err)
			}
			var d bson.D
			if err := bson.Unmarshal(doc, &d); err != nil {
				t.Fatal(err)
			}
			d[0].Value = tc.id
			if _, err := db.Collection("audit_events").InsertOne(ctx, d); err != nil {
				t.Fatal(err)
			}
			id := "forged"
			if tc.seq == 11 && tc.id == int64(13) {
				id = "" // the missing position is named, not the event after it
			}
			wantBroken(t, tr, tc.seq, id, tc.problem)
		})
	}
}

func TestVerifyDetectsEditedHead(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		set     bson.D
		seq     int64
		eventID bool
		problem string
	}{
		"hash":                 {bson.D{{Key: "hash", Value: strings.Repeat("b", 64)}}, 10, true, "hash does not match the chain head"},
		"seq beyond the trail": {bson.D{{Key: "seq", Value: int64(12)}}, 11, false, "the chain head records 12 events but the trail ends at event 10"},
		"seq moved back":       {bson.D{{Key: "seq", Value: int64(7)}}, 7, true, "hash does not match the chain head"},
		"negative seq":         {bson.D{{Key: "seq", Value: int64(-1)}}, 0, false, "impossible position"},
	} {
		t.Run(name, func(t *testing.T) {
			tr, db := newTrail(t)
			events := recordN(t, tr, 10)
			if _, err := db.Collection("audit_head").UpdateOne(ctx, bson.D{{Key: "_id", Value: "chain"}}, bson.D{{Key: "$set", Value: tc.set}}); err != nil {
				t.Fatal(err)
			}
			id := ""
			if tc.eventID {
				id = events[tc.seq-1].EventID
			}
			wantBroken(t, tr, tc.seq, id, tc.problem)
		})
	}
	t.Run("removed", func(t *testing.T) {
		tr, db := newTrail(t)
		recordN(t, tr, 3)
		if _, err := db.Collection("audit_head").DeleteOne(ctx, bson.D{}); err != nil {
			t.Fatal(err)
		}
		wantBroken(t, tr, 0, "", "missing, though the trail has 3 events")
	})
}

func TestBrokenErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  audit.BrokenError
		want string
	}{
		{audit.BrokenError{Seq: 42, EventID: "ab12", Problem: "hash does not match"}, "audit event 42 (id ab12): hash does not match"},
		{audit.BrokenError{Seq: 42, Problem: "missing"}, "audit event 42: missing"},
		{audit.BrokenError{Problem: "missing"}, "audit chain head: missing"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
