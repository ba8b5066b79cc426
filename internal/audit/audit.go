// Package audit keeps the portal's audit trail: an append-only chain of events
// in which each event carries the SHA-256 of its predecessor, so that altering,
// removing or inserting a stored event is detected by Verify.
//
// It needs no transactions (the store may be FerretDB, which has none). The
// unique _id of each event (its position in the chain) serialises appends across
// portal instances, a one-document head makes appending independent of the
// trail's size, and a business change carries its event inside the changed
// document until the event is appended (see Insert, Update and Recover), so a
// change is never stored without its event.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/doclock"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Actor is who did it.
type Actor struct {
	Kind    string   `bson:"kind" json:"kind"`       // "person", "client" (API machine client), "system" or "anonymous"
	Subject string   `bson:"subject" json:"subject"` // OIDC sub, or client ID for clients
	Issuer  string   `bson:"issuer,omitempty" json:"issuer,omitempty"`
	Roles   []string `bson:"roles,omitempty" json:"roles,omitempty"`
	Org     string   `bson:"org,omitempty" json:"org,omitempty"` // partner ID or "department"
}

// Actor kinds. Anonymous is a request from someone not signed in (a refused
// sign-in, a denied unauthenticated call); Subject is then usually empty.
const (
	KindPerson    = "person"
	KindClient    = "client"
	KindSystem    = "system"
	KindAnonymous = "anonymous"
)

// Outcomes.
const (
	Success = "success"
	Denied  = "denied"
	Failed  = "failed"
)

// Event is one entry of the trail. Seq, PrevHash and Hash are assigned when the
// event is appended; whatever the caller puts there is ignored.
type Event struct {
	Seq       int64     `bson:"_id"`      // 1,2,3... position in the chain
	EventID   string    `bson:"event_id"` // random, unique
	Time      time.Time `bson:"time"`     // UTC, truncated to milliseconds (BSON's precision) before hashing
	Actor     Actor     `bson:"actor"`
	Action    string    `bson:"action"`     // e.g. "staff.view", "session.end", "sign_in"
	Resource  string    `bson:"resource"`   // e.g. "staff/65f0...", "session/ab12"
	PartnerID string    `bson:"partner_id"` // partner the resource belongs to; "" if none
	Outcome   string    `bson:"outcome"`
	ClientIP  string    `bson:"client_ip"`
	RequestID string    `bson:"request_id"`
	Detail    string    `bson:"detail,omitempty"` // short, never personal data
	PrevHash  string    `bson:"prev_hash"`
	Hash      string    `bson:"hash"`
}

// Collection names and the head document's _id. Exported names would invite
// other packages to write there; only this package may.
const (
	eventsCollection = "audit_events"
	headCollection   = "audit_head"
	headID           = "chain"
)

// MaxDetail bounds Detail: it is a short machine-readable note, and a bound keeps
// free text (and with it personal data) out of the trail.
const MaxDetail = 500

// appendAttempts bounds retries when other instances keep winning the next
// position; each lost race means someone else progressed, so this is only hit
// when something is badly wrong (for example the head names a position whose
// event keeps being rejected).
const appendAttempts = 100

// maxBatch bounds how many queued events one write stores.
const maxBatch = 100

// duplicateKey is the server's error code for a unique index violation.
const duplicateKey = 11000

// settleTimeout bounds the writes of one batch of appends, and those that follow
// a stored business change. They run detached from callers' contexts: a batch
// holds other callers' events, and a client that disconnects after its change
// was stored must not leave the event to wait for Recover.
const settleTimeout = 15 * time.Second

// Trail appends to, verifies and searches the audit trail in one database. It is
// safe for concurrent use, and several portal instances may share the trail.
type Trail struct {
	events *mongo.Collection
	head   *mongo.Collection

	ensured atomic.Bool // EnsureIndexes has succeeded

	// Events waiting to be appended, and whether a goroutine is storing them.
	qmu      sync.Mutex
	queue    []*appendRequest
	draining bool

	// mu guards the cached head: with it in memory an append needs no read,
	// only an insert and a head update.
	mu    sync.Mutex
	ready bool   // indexes and head document ensured, head loaded
	seq   int64  // last position this instance knows to be taken
	hash  string // hash of the event at seq

	// Events stored by InsertSettlingLater and not yet settled, and a channel
	// the background settler closes when it has nothing left.
	lmu       sync.Mutex
	later     []settling
	laterDone chan struct{}

	regMu      sync.Mutex
	registered map[string]*mongo.Collection
	locks      map[string]*doclock.Striped

	now func() time.Time
	// afterWrite runs between a business write and the append of its event, so a
	// test can fail there as a crash would (export_test.go).
	afterWrite func() error
}

// New returns the trail kept in db's audit_events and audit_head collections.
func New(db *mongo.Database) *Trail {
	return &Trail{
		events:     db.Collection(eventsCollection),
		head:       db.Collection(headCollection),
		registered: map[string]*mongo.Collection{},
		locks:      map[string]*doclock.Striped{},
		now:        time.Now,
	}
}

// EnsureIndexes creates the indexes real MongoDB needs and the chain's head
// document. It is idempotent and safe to call at every start; the first append
// calls it too, because the unique event_id index is what makes a repeated
// append (by Recover, or a retry) recognisable.
//
// Search sorts by _id (newest first, paging on _id), so each search index ends
// in _id: MongoDB then walks one index in order and stops at the page size
// instead of sorting every match.
func (t *Trail) EnsureIndexes(ctx context.Context) error {
	models := []mongo.IndexModel{
		{Keys: bson.D{{Key: "event_id", Value: 1}}, Options: options.Index().SetUnique(true).SetName("event_id_unique")},
		{Keys: bson.D{{Key: "time", Value: 1}}, Options: options.Index().SetName("time")},
		{Keys: bson.D{{Key: "partner_id", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("partner_seq")},
		{Keys: bson.D{{Key: "actor.subject", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("actor_seq")},
		{Keys: bson.D{{Key: "resource", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("resource_seq")},
		{Keys: bson.D{{Key: "action", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("action_seq")},
	}
	// One at a time: FerretDB v1 drops the connection when a createIndexes
	// naming several indexes finds them all present, as at every restart.
	for _, m := range models {
		if _, err := t.events.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create audit indexes: %w", err)
		}
	}
	_, err := t.head.InsertOne(ctx, bson.D{{Key: "_id", Value: headID}, {Key: "seq", Value: int64(0)}, {Key: "hash", Value: ""}})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("create audit chain head: %w", err)
	}
	t.ensured.Store(true)
	return nil
}

// Record appends e to the trail and returns it as stored. It fills EventID when
// empty and Time when zero, and assigns Seq, PrevHash and Hash.
func (t *Trail) Record(ctx context.Context, e Event) (Event, error) {
	e, err := t.prepare(e)
	if err != nil {
		return Event{}, err
	}
	return t.append(ctx, e)
}

// prepare validates e and fills what the caller may leave out, before anything is
// stored: a pending event must already be in its final form.
func (t *Trail) prepare(e Event) (Event, error) {
	if e.EventID == "" {
		e.EventID = newEventID()
	}
	if e.Time.IsZero() {
		e.Time = t.now()
	}
	// BSON keeps milliseconds: hash what will be read back, or nothing verifies.
	e.Time = e.Time.UTC().Truncate(time.Millisecond)
	e.Seq, e.PrevHash, e.Hash = 0, "", ""
	if err := validate(e); err != nil {
		return Event{}, err
	}
	return e, nil
}

func validate(e Event) error {
	if !validEventID(e.EventID) {
		return errors.New("audit event: event ID must be 1 to 64 letters, digits, '-' or '_'")
	}
	switch e.Actor.Kind {
	case KindPerson, KindClient, KindSystem, KindAnonymous:
	default:
		return fmt.Errorf("audit event: actor kind must be %q, %q, %q or %q (got %q)", KindPerson, KindClient, KindSystem, KindAnonymous, e.Actor.Kind)
	}
	if e.Action == "" {
		return errors.New("audit event: action is required")
	}
	switch e.Outcome {
	case Success, Denied, Failed:
	default:
		return fmt.Errorf("audit event %s: outcome must be %q, %q or %q (got %q)", e.Action, Success, Denied, Failed, e.Outcome)
	}
	if len(e.Detail) > MaxDetail {
		return fmt.Errorf("audit event %s: detail is longer than %d bytes", e.Action, MaxDetail)
	}
	// Invalid UTF-8 would not survive every driver, server and CSV reader intact,
	// and an event that reads back differently no longer verifies.
	for _, s := range append([]string{e.Actor.Kind, e.Actor.Subject, e.Actor.Issuer, e.Actor.Org, e.Action,
		e.Resource, e.PartnerID, e.Outcome, e.ClientIP, e.RequestID, e.Detail}, e.Actor.Roles...) {
		if !utf8.ValidString(s) {
			return fmt.Errorf("audit event %s: a field is not valid UTF-8", e.Action)
		}
	}
	return nil
}

// validEventID keeps IDs usable as a field name in a pending marker
// ("audit_pending.<event_id>"), where '.' and '$' have meaning.
func validEventID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func newEventID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

type headDoc struct {
	Seq  int64  `bson:"seq"`
	Hash string `bson:"hash"`
}

// appendRequest is one event waiting to be appended, and its result.
type appendRequest struct {
	e    Event
	out  Event
	err  error
	done chan struct{}
}

// append links e (already prepared) after the last event and stores it. If e's
// event_id is already in the trail, e was appended before (a retry, or Recover
// after a crash) and the stored event is returned instead.
//
// Appends are group-committed: events arriving while a write is in flight are
// queued and stored together by the next one, a single InsertMany and a single
// head update however many there are. Appending must be serial to chain, so
// without this a trail could take only as many events a second as one instance
// can make round trips in sequence (about 300 on the SQLite store).
//
// If ctx ends first the error is returned, but the event may still be appended.
func (t *Trail) append(ctx context.Context, e Event) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, fmt.Errorf("append audit event: %w", err)
	}
	r := &appendRequest{e: e, done: make(chan struct{})}
	t.enqueue(ctx, r)
	select {
	case <-r.done:
		return r.out, r.err
	case <-ctx.Done():
		return Event{}, fmt.Errorf("append audit event: %w", ctx.Err())
	}
}

// enqueue queues rs for the group commit, starting a drain if none runs.
func (t *Trail) enqueue(ctx context.Context, rs ...*appendRequest) {
	t.qmu.Lock()
	t.queue = append(t.queue, rs...)
	start := !t.draining
	t.draining = true
	t.qmu.Unlock()
	if start {
		// The queue outlives any one caller: a batch holds other callers' events.
		go t.drain(context.WithoutCancel(ctx))
	}
}

// drain stores queued events, a batch at a time, until the queue is empty.
func (t *Trail) drain(ctx context.Context) {
	for {
		t.qmu.Lock()
		if len(t.queue) == 0 {
			t.draining = false
			t.qmu.Unlock()
			return
		}
		n := min(len(t.queue), maxBatch)
		batch := slices.Clone(t.queue[:n])
		t.queue = slices.Delete(t.queue, 0, n)
		t.qmu.Unlock()

		wctx, cancel := context.WithTimeout(ctx, settleTimeout)
		t.appendBatch(wctx, batch)
		cancel()
		for _, r := range batch {
			close(r.done)
		}
	}
}

// appendBatch chains and stores batch in order, setting each request's result.
func (t *Trail) appendBatch(ctx context.Context, batch []*appendRequest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fail := func(rs []*appendRequest, err error) {
		for _, r := range rs {
			r.out, r.err = Event{}, err
		}
	}
	if err := t.loadLocked(ctx); err != nil {
		fail(batch, err)
		return
	}
	stored := false
	defer func() {
		if stored {
			t.pushHeadLocked(ctx)
		}
	}()
	pending := batch
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == appendAttempts {
			fail(pending, fmt.Errorf("append audit event: gave up after %d conflicting attempts", appendAttempts))
			return
		}
		docs := make([]any, len(pending))
		seq, prev := t.seq, t.hash
		for i, r := range pending {
			e := r.e
			seq++
			e.Seq, e.PrevHash = seq, prev
			e.Hash = e.computeHash()
			prev = e.Hash
			r.out, r.err = e, nil
			docs[i] = e
		}
		inserted, err := t.insertOrdered(ctx, docs)
		if err != nil {
			fail(pending, fmt.Errorf("append audit events %d to %d: %w", t.seq+1, seq, err))
			return
		}
		if inserted > 0 {
			last := pending[inserted-1].out
			t.seq, t.hash = last.Seq, last.Hash
			stored = true
		}
		rest := pending[inserted:]
		if len(rest) == 0 {
			return
		}
		// The first of rest conflicts: its position is taken, or its event_id is
		// (it is already in the trail); the server's message does not say which
		// on every backend. Usually another instance appended and moved the head
		// on, which one read of the one-document head shows. Reading the events
		// scans the whole trail on the SQLite store (2 s at 20,000 events), so it
		// is kept for the rare cases: a head left behind by a writer that stopped
		// between its two writes, or an event appended before.
		pending = rest
		moved, err := t.headMovedLocked(ctx)
		if err != nil {
			fail(rest, err)
			return
		}
		if moved {
			continue
		}
		waiting := make(map[string]bool, len(rest))
		for _, r := range rest {
			waiting[r.e.EventID] = true
		}
		progressed, found, err := t.catchUpLocked(ctx, waiting)
		if err != nil {
			fail(rest, err)
			return
		}
		pending = pending[:0:0]
		for _, r := range rest {
			if prior, ok := found[r.e.EventID]; ok {
				r.out, r.err = sameEvent(r.e, prior)
			} else {
				pending = append(pending, r)
			}
		}
		if progressed || len(pending) < len(rest) {
			continue
		}
		// The position was free, so the event_id was taken.
		r := pending[0]
		var prior Event
		err = t.events.FindOne(ctx, bson.D{{Key: "event_id", Value: r.e.EventID}}).Decode(&prior)
		switch {
		case err == nil:
			r.out, r.err = sameEvent(r.e, prior)
			pending = pending[1:]
		case !errors.Is(err, mongo.ErrNoDocuments):
			fail(pending, fmt.Errorf("look up audit event by ID: %w", err))
			return
		}
		// Neither: the conflicting write has gone again; try afresh.
	}
}

// headPolls is how often a conflicting append reads the head before reading
// the events.
const headPolls = 3

// headMovedLocked reports whether the head document is ahead of the cache, and
// adopts it if so. The winner of a conflict may be between its insert and its
// head update, so it looks again after a few milliseconds before giving up.
func (t *Trail) headMovedLocked(ctx context.Context) (bool, error) {
	for i := range headPolls {
		if i > 0 {
			select {
			case <-time.After(time.Duration(2*i) * time.Millisecond):
			case <-ctx.Done():
				return false, fmt.Errorf("append audit event: %w", ctx.Err())
			}
		}
		h, err := t.readHead(ctx)
		if err != nil {
			return false, err
		}
		if h.Seq > t.seq {
			t.seq, t.hash = h.Seq, h.Hash
			return true, nil
		}
	}
	return false, nil
}

// insertOrdered stores docs in order and reports how many were stored before
// one was refused as a duplicate; other errors are returned.
func (t *Trail) insertOrdered(ctx context.Context, docs []any) (int, error) {
	if len(docs) == 1 {
		// The common case when traffic is light; on FerretDB a one-document
		// insert is about a third quicker than InsertMany.
		_, err := t.events.InsertOne(ctx, docs[0])
		switch {
		case err == nil:
			return 1, nil
		case mongo.IsDuplicateKeyError(err):
			return 0, nil
		}
		return 0, err
	}
	// Ordered: the events before a conflict are stored, none after it.
	_, err := t.events.InsertMany(ctx, docs)
	if err == nil {
		return len(docs), nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 || !bwe.WriteErrors[0].HasErrorCode(duplicateKey) {
		return 0, err
	}
	return bwe.WriteErrors[0].Index, nil
}

// sameEvent returns stored when it is e already appended, and an error when e's
// event_id was used for a different event.
func sameEvent(e, stored Event) (Event, error) {
	if e.contentHash() != stored.contentHash() {
		return Event{}, fmt.Errorf("audit event ID %s is already used by event %d with different content", e.EventID, stored.Seq)
	}
	return stored, nil
}

// loadLocked prepares the trail and reads the head on first use.
func (t *Trail) loadLocked(ctx context.Context) error {
	if t.ready {
		return nil
	}
	if !t.ensured.Load() {
		if err := t.EnsureIndexes(ctx); err != nil {
			return err
		}
	}
	h, err := t.readHead(ctx)
	if err != nil {
		return err
	}
	t.seq, t.hash, t.ready = h.Seq, h.Hash, true
	return nil
}

func (t *Trail) readHead(ctx context.Context) (headDoc, error) {
	var h headDoc
	err := t.head.FindOne(ctx, bson.D{{Key: "_id", Value: headID}}).Decode(&h)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return headDoc{}, nil
	}
	if err != nil {
		return headDoc{}, fmt.Errorf("read audit chain head: %w", err)
	}
	return h, nil
}

// catchUpLocked moves the cached head to the last event of the unbroken run
// after it: from the stored head if that is further on, then along the events
// stored since (other instances' appends, or ones whose head update never
// happened). One query, not one per position: on the SQLite store every filtered
// read scans the collection. It reports whether the cache moved, and those of
// the events named in waiting that it passed.
func (t *Trail) catchUpLocked(ctx context.Context, waiting map[string]bool) (progressed bool, found map[string]Event, err error) {
	start := t.seq
	h, err := t.readHead(ctx)
	if err != nil {
		return false, nil, err
	}
	if h.Seq > t.seq {
		t.seq, t.hash = h.Seq, h.Hash
	}
	cur, err := t.events.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: t.seq}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return false, nil, fmt.Errorf("read audit events after %d: %w", t.seq, err)
	}
	defer cur.Close(ctx)
	found = map[string]Event{}
	for cur.Next(ctx) {
		var link struct {
			Seq     int64  `bson:"_id"`
			EventID string `bson:"event_id"`
			Hash    string `bson:"hash"`
		}
		// A gap or a malformed record is tampering, which Verify reports; stopping
		// there and appending into the gap keeps the trail usable while the break
		// stays detectable.
		if err := cur.Decode(&link); err != nil || link.Seq != t.seq+1 {
			break
		}
		if waiting[link.EventID] {
			var e Event
			if err := cur.Decode(&e); err == nil {
				found[e.EventID] = e
			}
		}
		t.seq, t.hash = link.Seq, link.Hash
	}
	if err := cur.Err(); err != nil {
		return false, nil, fmt.Errorf("read audit events after %d: %w", start, err)
	}
	if t.seq > h.Seq {
		t.pushHeadLocked(ctx)
	}
	return t.seq > start, found, nil
}

// pushHeadLocked moves the head document to the cached head. The update is
// guarded so that it only moves forward (on MongoDB; FerretDB applies updates
// without a guard, so there a concurrent push can move it back, which is
// harmless). If it fails the events are still stored and the head merely lags:
// the next append moves it on, and other instances find the events when they
// catch up, so callers are not told of a failure that lost nothing.
func (t *Trail) pushHeadLocked(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	_, _ = t.head.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: headID}, {Key: "seq", Value: bson.D{{Key: "$lt", Value: t.seq}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: t.seq}, {Key: "hash", Value: t.hash}}}})
}
