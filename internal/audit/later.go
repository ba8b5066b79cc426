package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/doclock"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The background settler appends events as they come, but clears their
// markers only when stores have gone quiet for laterPause, or every
// laterMaxDelay under sustained load, up to laterMaxClear at once: on the
// SQLite store clearing reads the whole collection however few it clears,
// so it is worth doing rarely and for many.
const (
	laterPause    = 500 * time.Millisecond
	laterMaxDelay = 30 * time.Second
	laterMaxClear = 5000
	// laterBatch bounds the documents one write names when clearing
	// markers Recover finds empty.
	laterBatch = 500
)

// settling is a stored change whose event is still to be appended and
// cleared from its document.
type settling struct {
	coll *mongo.Collection
	id   any
	e    Event
}

// settleLater queues a stored change's event for the background settler,
// starting it if it is idle.
func (t *Trail) settleLater(coll *mongo.Collection, id any, e Event) {
	t.lmu.Lock()
	defer t.lmu.Unlock()
	t.later = append(t.later, settling{coll: coll, id: id, e: e})
	if t.laterDone == nil {
		t.laterDone = make(chan struct{})
		go t.settleInBackground(t.laterDone)
	}
}

func (t *Trail) settleInBackground(done chan struct{}) {
	var appended []settling // appended, with markers still to clear
	var oldest time.Time
	for {
		t.lmu.Lock()
		batch := t.later
		t.later = nil
		if len(batch) == 0 && len(appended) == 0 {
			t.laterDone = nil
			t.lmu.Unlock()
			close(done)
			return
		}
		t.lmu.Unlock()
		if len(batch) > 0 {
			if len(appended) == 0 {
				oldest = time.Now()
			}
			appended = append(appended, t.appendSettling(batch)...)
		}
		if len(appended) > 0 && (len(batch) == 0 || time.Since(oldest) >= laterMaxDelay || len(appended) >= laterMaxClear) {
			t.clearSettled(appended)
			appended = nil
			continue
		}
		time.Sleep(laterPause)
	}
}

// appendSettling appends a batch's events, returning those appended. What
// fails stays pending for Recover.
func (t *Trail) appendSettling(batch []settling) []settling {
	if t.afterWrite != nil {
		if err := t.afterWrite(); err != nil {
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	reqs := make([]*appendRequest, len(batch))
	for i, s := range batch {
		reqs[i] = &appendRequest{e: s.e, done: make(chan struct{})}
	}
	t.enqueue(ctx, reqs...)
	var ok []settling
	for i, r := range reqs {
		<-r.done
		if r.err == nil {
			ok = append(ok, batch[i])
		}
	}
	return ok
}

// clearSettled removes appended events from their documents' markers, with
// one write per collection.
func (t *Trail) clearSettled(settled []settling) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	type clearing struct {
		ids   []any
		paths bson.D
	}
	byColl := map[*mongo.Collection]*clearing{}
	var order []*mongo.Collection
	for _, s := range settled {
		cl := byColl[s.coll]
		if cl == nil {
			cl = &clearing{}
			byColl[s.coll] = cl
			order = append(order, s.coll)
		}
		cl.ids = append(cl.ids, s.id)
		cl.paths = append(cl.paths, bson.E{Key: PendingField + "." + s.e.EventID, Value: ""})
	}
	for _, coll := range order {
		cl := byColl[coll]
		unlock := t.guard(coll, cl.ids)
		// A marker left behind is harmless: Recover finds its event appended.
		_, _ = coll.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: cl.ids}}}},
			bson.D{{Key: "$unset", Value: cl.paths}})
		unlock()
	}
}

// GuardWrites returns the lock set that serialises this process's writes
// to coll's documents, for stores whose updates are not atomic: the
// embedded store reads a document, then writes it whole, so a write in
// between is lost. Every store over coll must take these locks rather than
// its own, as must the trail's own later writes (clearing settled events):
// the server and the report builder each open stores over the same
// collections, and locks private to one of them left the other's changes,
// and the settler's, free to overwrite its own.
func (t *Trail) GuardWrites(coll *mongo.Collection) *doclock.Striped {
	return t.Locks("collection " + coll.Database().Name() + "." + coll.Name())
}

// Locks returns the process's lock set called name, the same for every
// store sharing this trail, for serialising changes other than to one
// document (such as to one contract's status through several documents).
func (t *Trail) Locks(name string) *doclock.Striped {
	t.regMu.Lock()
	defer t.regMu.Unlock()
	locks := t.locks[name]
	if locks == nil {
		locks = &doclock.Striped{}
		t.locks[name] = locks
	}
	return locks
}

func (t *Trail) guardedBy(coll *mongo.Collection) *doclock.Striped {
	t.regMu.Lock()
	defer t.regMu.Unlock()
	return t.locks["collection "+coll.Database().Name()+"."+coll.Name()]
}

func (t *Trail) guarded(coll *mongo.Collection) bool {
	return t.guardedBy(coll) != nil
}

func (t *Trail) guard(coll *mongo.Collection, ids []any) (unlock func()) {
	locks := t.guardedBy(coll)
	if locks == nil {
		return func() {}
	}
	return locks.LockAll(ids)
}

// Flush waits until every event queued by InsertSettlingLater so far has
// been appended (or has failed and been left for Recover).
func (t *Trail) Flush(ctx context.Context) error {
	for {
		t.lmu.Lock()
		done := t.laterDone
		t.lmu.Unlock()
		if done == nil {
			return nil
		}
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("flush audit events: %w", ctx.Err())
		}
	}
}
