package audit_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestRecordChainsEvents(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	before := time.Now()
	got := recordN(t, tr, 3)
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d: Seq = %d", i, e.Seq)
		}
		if len(e.EventID) != 32 || len(e.Hash) != 64 {
			t.Errorf("event %d: EventID %q, Hash %q", i, e.EventID, e.Hash)
		}
		if e.Time.Location() != time.UTC || e.Time.Nanosecond()%int(time.Millisecond) != 0 || e.Time.Before(before.Truncate(time.Millisecond)) {
			t.Errorf("event %d: Time = %v, want UTC now in whole milliseconds", i, e.Time)
		}
		want := ""
		if i > 0 {
			want = got[i-1].Hash
		}
		if e.PrevHash != want {
			t.Errorf("event %d: PrevHash = %q, want %q", i, e.PrevHash, want)
		}
		// What Record returns is what a reader gets back.
		if stored := storedEvent(t, db, e.Seq); !reflect.DeepEqual(stored, e) {
			t.Errorf("event %d stored as\n%+v\nreturned\n%+v", i, stored, e)
		}
	}
	if seq, hash := head(t, db); seq != 3 || hash != got[2].Hash {
		t.Errorf("head = %d %s, want 3 %s", seq, hash, got[2].Hash)
	}
	mustVerify(t, tr, 3)

	// A caller's time is kept, in UTC and to the millisecond; Seq and hashes are not the caller's.
	at := time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.FixedZone("X", 3600))
	e := event(9)
	e.Time, e.Seq, e.PrevHash, e.Hash = at, 99, "forged", "forged"
	stored, err := tr.Record(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Time.Equal(at.Truncate(time.Millisecond)) || stored.Time.Location() != time.UTC || stored.Seq != 4 || stored.PrevHash != got[2].Hash {
		t.Errorf("stored %+v", stored)
	}
	mustVerify(t, tr, 4)
}

func TestRecordRejectsMalformedEvents(t *testing.T) {
	tr, db := newTrail(t)
	for name, mutate := range map[string]func(*audit.Event){
		"no action":         func(e *audit.Event) { e.Action = "" },
		"bad outcome":       func(e *audit.Event) { e.Outcome = "ok" },
		"bad actor kind":    func(e *audit.Event) { e.Actor.Kind = "robot" },
		"dotted event id":   func(e *audit.Event) { e.EventID = "a.b" },
		"long detail":       func(e *audit.Event) { e.Detail = strings.Repeat("x", audit.MaxDetail+1) },
		"invalid UTF-8":     func(e *audit.Event) { e.Resource = "staff/\xff" },
		"invalid role":      func(e *audit.Event) { e.Actor.Roles = []string{"\xfe"} },
		"dollar event id":   func(e *audit.Event) { e.EventID = "$x" },
		"too long event id": func(e *audit.Event) { e.EventID = strings.Repeat("a", 65) },
	} {
		e := event(1)
		mutate(&e)
		if _, err := tr.Record(context.Background(), e); err == nil {
			t.Errorf("%s: recorded", name)
		}
	}
	if n := countEvents(t, db); n != 0 {
		t.Errorf("%d events stored", n)
	}
}

// Recording an event whose event_id is already in the trail (a retry after a
// lost reply) returns the stored event instead of appending it again, unless
// the content differs.
func TestRecordIsIdempotentPerEventID(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	e := event(1)
	e.EventID = "retry-1"
	e.Time = time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	first := record(t, tr, e)[0]
	recordN(t, tr, 2)
	again, err := tr.Record(ctx, e)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("Record again = %+v, %v; want %+v", again, err, first)
	}
	// A new Trail (another instance) does the same.
	again, err = audit.New(db).Record(ctx, e)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("Record on another instance = %+v, %v", again, err)
	}
	e.Action = "staff.delete"
	if _, err := tr.Record(ctx, e); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("Record with reused ID and different content: %v", err)
	}
	if n := countEvents(t, db); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
	mustVerify(t, tr, 3)
}

// The same event recorded at once from several goroutines (retries racing each
// other) lands once, whether its copies share a batch or not.
func TestConcurrentRetriesOfOneEvent(t *testing.T) {
	tr, db := newTrail(t)
	e := event(1)
	e.EventID = "raced"
	e.Time = time.Now()
	other := audit.New(db)
	var wg sync.WaitGroup
	results := make(chan audit.Event, 8)
	for g := range 8 {
		w := tr
		if g%4 == 3 {
			w = other
		}
		wg.Go(func() {
			stored, err := w.Record(context.Background(), e)
			if err != nil {
				t.Error(err)
			}
			results <- stored
		})
		if g == 4 {
			recordN(t, tr, 1) // something else in between
		}
	}
	wg.Wait()
	close(results)
	var seq int64
	for r := range results {
		if seq == 0 {
			seq = r.Seq
		}
		if r.Seq != seq || r.EventID != "raced" {
			t.Errorf("got event %d %s, want %d", r.Seq, r.EventID, seq)
		}
	}
	if n := countEvents(t, db); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
	mustVerify(t, tr, 2)
}

func TestEnsureIndexesIsIdempotent(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	recordN(t, tr, 2)
	for range 2 {
		if err := audit.New(db).EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The head is created once, not reset.
	if seq, _ := head(t, db); seq != 2 {
		t.Fatalf("head seq = %d after EnsureIndexes, want 2", seq)
	}
	cur, err := db.Collection("audit_events").Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var indexes []struct {
		Name   string `bson:"name"`
		Unique bool   `bson:"unique"`
	}
	if err := cur.All(ctx, &indexes); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, ix := range indexes {
		names[ix.Name] = ix.Unique
	}
	for _, want := range []string{"event_id_unique", "time", "partner_seq", "actor_seq", "resource_seq", "action_seq"} {
		if _, ok := names[want]; !ok {
			t.Errorf("index %s missing (have %v)", want, names)
		}
	}
	if !names["event_id_unique"] {
		t.Error("event_id index is not unique")
	}
}

// A writer that stopped between inserting its event and advancing the head
// leaves the head behind; the next append finds the events after it.
func TestAppendCatchesUpWithLaggingHead(t *testing.T) {
	tr, db := newTrail(t)
	ctx := context.Background()
	got := recordN(t, tr, 3)
	if _, err := db.Collection("audit_head").UpdateOne(ctx, bson.D{{Key: "_id", Value: "chain"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: int64(1)}, {Key: "hash", Value: got[0].Hash}}}}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, tr, 3) // a lagging head is not a break

	other := audit.New(db)
	e := record(t, other, event(4))[0]
	if e.Seq != 4 || e.PrevHash != got[2].Hash {
		t.Fatalf("appended at %d after %q", e.Seq, e.PrevHash)
	}
	if seq, hash := head(t, db); seq != 4 || hash != e.Hash {
		t.Fatalf("head = %d, want 4", seq)
	}
	mustVerify(t, tr, 4)

	// A missing head (never created, or removed) is rebuilt by catching up.
	if _, err := db.Collection("audit_head").DeleteOne(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	e = record(t, audit.New(db), event(5))[0]
	if e.Seq != 5 {
		t.Fatalf("appended at %d, want 5", e.Seq)
	}
	mustVerify(t, tr, 5)
}

// Two instances whose cached heads go stale in turn.
func TestInstancesTakeTurns(t *testing.T) {
	tr, db := newTrail(t)
	other := audit.New(db)
	var seqs []int64
	for i := range 6 {
		w := tr
		if i%3 == 1 {
			w = other
		}
		seqs = append(seqs, record(t, w, event(i))[0].Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6]" {
		t.Fatalf("seqs = %v", seqs)
	}
	mustVerify(t, tr, 6)
}

// Several goroutines on each of two instances (as two portal processes would be)
// append at once: every event lands exactly once and the chain verifies.
func TestConcurrentRecordingOnTwoInstances(t *testing.T) {
	_, db := newTrail(t)
	trails := []*audit.Trail{audit.New(db), audit.New(db)}
	const goroutines, each = 4, 12
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines*each)
	ids := make(chan string, 2*goroutines*each)
	for ti, tr := range trails {
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					e := event(i)
					e.RequestID = fmt.Sprintf("t%d-g%d-%d", ti, g, i)
					stored, err := tr.Record(context.Background(), e)
					if err != nil {
						errs <- err
						return
					}
					ids <- stored.EventID
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatal(err)
	}
	const total = 2 * goroutines * each
	mustVerify(t, trails[0], total)
	want := map[string]bool{}
	for id := range ids {
		want[id] = true
	}
	events, _, err := trails[1].Search(context.Background(), audit.Query{Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != total || len(want) != total {
		t.Fatalf("%d events stored, %d distinct IDs returned, want %d", len(events), len(want), total)
	}
	for _, e := range events {
		if !want[e.EventID] {
			t.Errorf("stored event %d was never returned", e.Seq)
		}
	}
	if seq, _ := head(t, db); seq != total {
		t.Errorf("head seq = %d, want %d", seq, total)
	}
}

func TestRecordHonoursCancelledContext(t *testing.T) {
	tr, db := newTrail(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Record(ctx, event(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Record with cancelled context: %v", err)
	}
	recordN(t, tr, 1)
	if n := countEvents(t, db); n != 1 {
		t.Fatalf("%d events", n)
	}
	mustVerify(t, tr, 1)
}

// BenchmarkRecord measures one append at a time on a trail that already holds
// the events of earlier runs: an insert and a head update, independent of the
// trail's size.
func BenchmarkRecord(b *testing.B) {
	tr, _ := newTrail(b)
	ctx := context.Background()
	e := event(1)
	record(b, tr, e) // load the head outside the timing
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tr.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordParallel measures appends from many requests at once, which
// share writes (group commit).
func BenchmarkRecordParallel(b *testing.B) {
	tr, _ := newTrail(b)
	ctx := context.Background()
	record(b, tr, event(1))
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tr.Record(ctx, event(2)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
