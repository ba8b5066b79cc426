package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// PendingField is the field of a business document that holds its audit events
// until they are appended: a sub-document keyed by event_id. An event stays in
// it only between the business write and the append (or until Recover, after a
// crash); the emptied field itself stays until Recover removes it. The driver
// ignores the field when decoding into structs that do not declare it.
const PendingField = "audit_pending"

// ErrPending is wrapped by Insert and Update when the business change was stored
// but its event could not be appended yet. The event is kept in the document and
// Recover appends it, so the change must not be repeated.
var ErrPending = errors.New("change stored; its audit event is pending")

// DefaultRecoverGrace is how old a pending event must be before Recover takes
// it: younger ones most likely belong to a write still in progress, which will
// append them itself.
const DefaultRecoverGrace = time.Minute

// Register adds collections whose documents Recover searches for pending events.
// Insert and Update register theirs, but after a restart only registered
// collections are searched, so the app registers every audited collection at
// start-up.
func (t *Trail) Register(colls ...*mongo.Collection) {
	t.regMu.Lock()
	defer t.regMu.Unlock()
	for _, c := range colls {
		t.registered[c.Database().Name()+"."+c.Name()] = c
	}
}

// Insert stores doc in coll together with e as a pending audit event (one
// single-document write, so atomic on every backend), appends e to the chain,
// then removes e from the pending marker. Set doc's _id beforehand if the
// caller needs it. If the append fails, the returned error wraps ErrPending:
// doc is stored and Recover will append e.
func (t *Trail) Insert(ctx context.Context, coll *mongo.Collection, doc any, e Event) (Event, error) {
	e, id, err := t.insertWithMarker(ctx, coll, doc, e)
	if err != nil {
		return Event{}, err
	}
	return t.settle(ctx, coll, id, e)
}

// InsertSettlingLater is Insert for a hot write path: it returns once doc is
// stored with e pending in it, and e is appended and cleared in the
// background, together with others'. The change is as safe as with Insert
// (its event is in the same single-document write, and Recover appends it if
// this process stops first); it only reaches the trail a moment later. Flush
// waits for the background work.
func (t *Trail) InsertSettlingLater(ctx context.Context, coll *mongo.Collection, doc any, e Event) (Event, error) {
	e, id, err := t.insertWithMarker(ctx, coll, doc, e)
	if err != nil {
		return Event{}, err
	}
	t.settleLater(coll, id, e)
	return e, nil
}

func (t *Trail) insertWithMarker(ctx context.Context, coll *mongo.Collection, doc any, e Event) (Event, any, error) {
	e, err := t.prepare(e)
	if err != nil {
		return Event{}, nil, err
	}
	pending, err := bson.Marshal(e)
	if err != nil {
		return Event{}, nil, fmt.Errorf("encode pending audit event: %w", err)
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		return Event{}, nil, fmt.Errorf("encode %s document: %w", coll.Name(), err)
	}
	elems, err := bson.Raw(raw).Elements()
	if err != nil {
		return Event{}, nil, fmt.Errorf("encode %s document: %w", coll.Name(), err)
	}
	// Raw values re-encode byte for byte, so the stored document is exactly what
	// the caller's type would have stored, plus the marker.
	withMarker := make(bson.D, 0, len(elems)+1)
	for _, el := range elems {
		if el.Key() == PendingField {
			return Event{}, nil, fmt.Errorf("insert into %s: the document already has %s", coll.Name(), PendingField)
		}
		withMarker = append(withMarker, bson.E{Key: el.Key(), Value: el.Value()})
	}
	withMarker = append(withMarker, bson.E{Key: PendingField, Value: bson.D{{Key: e.EventID, Value: bson.Raw(pending)}}})
	t.Register(coll)
	res, err := coll.InsertOne(ctx, withMarker)
	if err != nil {
		return Event{}, nil, fmt.Errorf("insert into %s: %w", coll.Name(), err)
	}
	return e, res.InsertedID, nil
}

// Update applies update (operators such as $set and $inc; not a replacement
// document) to the single document matching filter, and in the same write adds
// e as a pending event; then appends e and removes it from the marker. matched
// is false, and nothing is recorded, when no document matches. If the append
// fails, the returned error wraps ErrPending: the change is stored and Recover
// will append e.
func (t *Trail) Update(ctx context.Context, coll *mongo.Collection, filter, update bson.D, e Event) (matched bool, ev Event, err error) {
	e, err = t.prepare(e)
	if err != nil {
		return false, Event{}, err
	}
	pending, err := bson.Marshal(e)
	if err != nil {
		return false, Event{}, fmt.Errorf("encode pending audit event: %w", err)
	}
	merged, err := withPending(update, e.EventID, bson.Raw(pending))
	if err != nil {
		return false, Event{}, fmt.Errorf("update %s: %w", coll.Name(), err)
	}
	if filter == nil {
		filter = bson.D{}
	}
	t.Register(coll)
	// FindOneAndUpdate rather than UpdateOne: the marker is cleared by _id, and
	// the filter may no longer match after the update.
	var target struct {
		ID bson.RawValue `bson:"_id"`
	}
	err = coll.FindOneAndUpdate(ctx, filter, merged).Decode(&target)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, Event{}, nil
	}
	if err != nil {
		return false, Event{}, fmt.Errorf("update %s: %w", coll.Name(), err)
	}
	ev, err = t.settle(ctx, coll, target.ID, e)
	return true, ev, err
}

// withPending returns update with the pending marker added to its $set (creating
// one if needed), refusing updates that are not operator documents or that touch
// the marker themselves.
func withPending(update bson.D, eventID string, pending bson.Raw) (bson.D, error) {
	if len(update) == 0 {
		return nil, errors.New("empty update")
	}
	out := make(bson.D, 0, len(update)+1)
	hasSet := false
	for _, op := range update {
		if !strings.HasPrefix(op.Key, "$") {
			return nil, fmt.Errorf("update must use operators such as $set, not replace the document (found %q)", op.Key)
		}
		fields, err := asD(op.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.Key, err)
		}
		for _, f := range fields {
			if touchesPending(f.Key) {
				return nil, fmt.Errorf("%s must not change %s", op.Key, PendingField)
			}
			if op.Key == "$rename" {
				if to, ok := f.Value.(bson.RawValue).StringValueOK(); ok && touchesPending(to) {
					return nil, fmt.Errorf("%s must not change %s", op.Key, PendingField)
				}
			}
		}
		if op.Key == "$set" {
			fields = append(fields, bson.E{Key: PendingField + "." + eventID, Value: pending})
			hasSet = true
		}
		out = append(out, bson.E{Key: op.Key, Value: fields})
	}
	if !hasSet {
		out = append(out, bson.E{Key: "$set", Value: bson.D{{Key: PendingField + "." + eventID, Value: pending}}})
	}
	return out, nil
}

func touchesPending(field string) bool {
	return field == PendingField || strings.HasPrefix(field, PendingField+".")
}

// asD turns an operator's argument (bson.D, bson.M, a struct...) into a bson.D
// of raw values, which re-encode exactly.
func asD(v any) (bson.D, error) {
	raw, err := bson.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("argument must be a document: %w", err)
	}
	elems, err := bson.Raw(raw).Elements()
	if err != nil {
		return nil, err
	}
	d := make(bson.D, 0, len(elems)+1)
	for _, el := range elems {
		d = append(d, bson.E{Key: el.Key(), Value: el.Value()})
	}
	return d, nil
}

// settle follows a stored business change: append its event, then clear the
// marker. The change is stored whatever the caller's context does now, so the
// rest runs detached from it (bounded by settleTimeout).
func (t *Trail) settle(ctx context.Context, coll *mongo.Collection, id any, e Event) (Event, error) {
	if t.afterWrite != nil {
		if err := t.afterWrite(); err != nil {
			return e, fmt.Errorf("%w: %w", ErrPending, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	stored, err := t.append(ctx, e)
	if err != nil {
		return e, fmt.Errorf("%w: %w", ErrPending, err)
	}
	// The event is in the chain: the caller's change and its record agree. A
	// marker left behind by a failure here is harmless (Recover finds the event
	// already appended and clears it), so it is not reported as a failure of a
	// change that succeeded.
	_ = clearPending(ctx, coll, id, e.EventID)
	return stored, nil
}

// clearPending removes eventID's entry from the document's marker. That can
// leave an empty marker, which Recover removes later: removing it here would
// need a filter on its content, and the SQLite store answers only a lone _id
// filter without decoding every document (at 20,000 documents about 45 ms per
// write against 650 ms). A marker is empty or absent exactly when nothing is
// pending, and the driver ignores it when decoding into structs.
func clearPending(ctx context.Context, coll *mongo.Collection, id any, eventID string) error {
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: PendingField + "." + eventID, Value: ""}}}}); err != nil {
		return fmt.Errorf("clear pending audit event in %s: %w", coll.Name(), err)
	}
	return nil
}

// removeEmptyMarkers removes every empty marker in coll in one write rather
// than one per document (each a scan on the SQLite store). In a guarded
// collection it names the documents, a few hundred at a time, so that it
// can hold their locks.
func (t *Trail) removeEmptyMarkers(ctx context.Context, coll *mongo.Collection) error {
	empty := bson.D{{Key: PendingField, Value: bson.D{}}}
	unset := bson.D{{Key: "$unset", Value: bson.D{{Key: PendingField, Value: ""}}}}
	if !t.guarded(coll) {
		if _, err := coll.UpdateMany(ctx, empty, unset); err != nil {
			return fmt.Errorf("remove empty audit markers in %s: %w", coll.Name(), err)
		}
		return nil
	}
	cur, err := coll.Find(ctx, empty, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("find empty audit markers in %s: %w", coll.Name(), err)
	}
	var docs []struct {
		ID bson.RawValue `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("find empty audit markers in %s: %w", coll.Name(), err)
	}
	for start := 0; start < len(docs); start += laterBatch {
		ids := make([]any, 0, laterBatch)
		for _, d := range docs[start:min(start+laterBatch, len(docs))] {
			ids = append(ids, d.ID)
		}
		unlock := t.guard(coll, ids)
		_, err := coll.UpdateMany(ctx, append(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, empty...), unset)
		unlock()
		if err != nil {
			return fmt.Errorf("remove empty audit markers in %s: %w", coll.Name(), err)
		}
	}
	return nil
}

// Recover appends the pending events left in registered collections by a crash
// (or a failed append) between a business write and its event, clears them, and
// removes emptied markers. It skips events younger than DefaultRecoverGrace,
// which are most likely in progress. It is idempotent and safe alongside normal
// traffic and other instances: an event appended twice is recognised by its
// event_id. Run it at start-up and every few minutes.
func (t *Trail) Recover(ctx context.Context) (recovered int, err error) {
	return t.RecoverOlderThan(ctx, DefaultRecoverGrace)
}

// RecoverOlderThan is Recover with another grace period; 0 takes every pending
// event (for tests and operators, when no write can be in progress).
func (t *Trail) RecoverOlderThan(ctx context.Context, minAge time.Duration) (recovered int, err error) {
	t.regMu.Lock()
	names := make([]string, 0, len(t.registered))
	for name := range t.registered {
		names = append(names, name)
	}
	sort.Strings(names)
	colls := make([]*mongo.Collection, len(names))
	for i, name := range names {
		colls[i] = t.registered[name]
	}
	t.regMu.Unlock()

	type item struct {
		coll *mongo.Collection
		id   bson.RawValue
		e    Event
	}
	var items []item
	empty := map[*mongo.Collection]bool{} // collections with empty markers to remove
	cutoff := t.now().Add(-minAge)
	for _, coll := range colls {
		// A scan on the SQLite store, but Recover runs at start-up and now and
		// then, never per request.
		cur, err := coll.Find(ctx, bson.D{{Key: PendingField, Value: bson.D{{Key: "$exists", Value: true}}}},
			options.Find().SetProjection(bson.D{{Key: PendingField, Value: 1}}))
		if err != nil {
			return recovered, fmt.Errorf("find pending audit events in %s: %w", coll.Name(), err)
		}
		for cur.Next(ctx) {
			var doc struct {
				ID      bson.RawValue `bson:"_id"`
				Pending bson.Raw      `bson:"audit_pending"`
			}
			if err := cur.Decode(&doc); err != nil {
				_ = cur.Close(ctx)
				return recovered, fmt.Errorf("decode pending audit events in %s: %w", coll.Name(), err)
			}
			elems, err := doc.Pending.Elements()
			if err != nil {
				_ = cur.Close(ctx)
				return recovered, fmt.Errorf("decode pending audit events in %s: %w", coll.Name(), err)
			}
			if len(elems) == 0 {
				empty[coll] = true
			}
			for _, el := range elems {
				var e Event
				if err := el.Value().Unmarshal(&e); err != nil {
					_ = cur.Close(ctx)
					return recovered, fmt.Errorf("decode pending audit event %s in %s: %w", el.Key(), coll.Name(), err)
				}
				if e.EventID != el.Key() {
					_ = cur.Close(ctx)
					return recovered, fmt.Errorf("pending audit event %s in %s is filed under %s", e.EventID, coll.Name(), el.Key())
				}
				if minAge > 0 && e.Time.After(cutoff) {
					continue
				}
				items = append(items, item{coll: coll, id: doc.ID, e: e})
			}
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			return recovered, fmt.Errorf("find pending audit events in %s: %w", coll.Name(), err)
		}
	}
	// Append in the order things happened, as far as the events know it.
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].e.Time.Equal(items[j].e.Time) {
			return items[i].e.Time.Before(items[j].e.Time)
		}
		return items[i].e.EventID < items[j].e.EventID
	})
	for _, it := range items {
		e, err := t.prepare(it.e)
		if err != nil {
			return recovered, fmt.Errorf("pending audit event %s in %s: %w", it.e.EventID, it.coll.Name(), err)
		}
		if _, err := t.append(ctx, e); err != nil {
			return recovered, fmt.Errorf("recover audit event %s: %w", e.EventID, err)
		}
		unlock := t.guard(it.coll, []any{it.id})
		err = clearPending(ctx, it.coll, it.id, e.EventID)
		unlock()
		if err != nil {
			return recovered, err
		}
		empty[it.coll] = true
		recovered++
	}
	for _, coll := range colls {
		if empty[coll] {
			if err := t.removeEmptyMarkers(ctx, coll); err != nil {
				return recovered, err
			}
		}
	}
	return recovered, nil
}
