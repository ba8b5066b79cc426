package audit

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// BrokenError names the first event at which the trail fails verification. Seq
// is the position in the chain (for a missing event, the position it should
// hold); Seq 0 with no EventID means the chain head itself.
type BrokenError struct {
	Seq     int64
	EventID string
	Problem string
}

func (e *BrokenError) Error() string {
	switch {
	case e.Seq == 0 && e.EventID == "":
		return "audit chain head: " + e.Problem
	case e.EventID == "":
		return fmt.Sprintf("audit event %d: %s", e.Seq, e.Problem)
	default:
		return fmt.Sprintf("audit event %d (id %s): %s", e.Seq, e.EventID, e.Problem)
	}
}

// The fields a stored event may have. Anything else was not hashed, so it was
// not written by the portal.
var (
	eventFields = map[string]bool{"_id": true, "event_id": true, "time": true, "actor": true, "action": true,
		"resource": true, "partner_id": true, "outcome": true, "client_ip": true, "request_id": true,
		"detail": true, "prev_hash": true, "hash": true}
	actorFields = map[string]bool{"kind": true, "subject": true, "issuer": true, "roles": true, "org": true}
)

// Verify reads the whole trail in order and checks that positions run 1, 2, 3...
// without gaps, that each event's prev_hash is its predecessor's hash and its
// hash matches its content, and that the chain head is not beyond the last event
// and agrees with the event it names (which detects removal of the newest
// events). It returns the number of events checked and, on the first problem, a
// *BrokenError naming the event. It only reads, and is safe while events are
// being appended.
//
// The head may legitimately lag behind the last event (a writer stopped between
// its two writes), so events after the head are accepted as long as they chain.
func (t *Trail) Verify(ctx context.Context) (checked int64, err error) {
	// The head is read first: appends made while the events stream can only put
	// it behind what is read, never beyond.
	var head headDoc
	headFound := true
	var rawHead bson.Raw
	err = t.head.FindOne(ctx, bson.D{{Key: "_id", Value: headID}}).Decode(&rawHead)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		headFound = false
	case err != nil:
		return 0, fmt.Errorf("read audit chain head: %w", err)
	default:
		if err := bson.Unmarshal(rawHead, &head); err != nil {
			return 0, &BrokenError{Problem: fmt.Sprintf("malformed (%v)", err)}
		}
		if head.Seq < 0 || (head.Seq == 0 && head.Hash != "") {
			return 0, &BrokenError{Problem: fmt.Sprintf("records an impossible position %d", head.Seq)}
		}
	}

	cur, err := t.events.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(1000))
	if err != nil {
		return 0, fmt.Errorf("read audit events: %w", err)
	}
	defer cur.Close(ctx)
	expected := int64(1)
	prevHash := ""
	for cur.Next(ctx) {
		e, problem := decodeStored(cur.Current)
		if problem != "" {
			id, _ := cur.Current.Lookup("event_id").StringValueOK()
			return checked, &BrokenError{Seq: expected, EventID: id, Problem: fmt.Sprintf("malformed record with _id %s (%s)", cur.Current.Lookup("_id"), problem)}
		}
		switch {
		case e.Seq < expected:
			// Only a position below 1 sorts before the expected one.
			return checked, &BrokenError{Seq: e.Seq, EventID: e.EventID, Problem: "is not a position in the chain (positions start at 1)"}
		case e.Seq > expected:
			return checked, &BrokenError{Seq: expected, Problem: fmt.Sprintf("missing (the trail jumps from event %d to event %d)", expected-1, e.Seq)}
		case e.PrevHash != prevHash && expected == 1:
			return checked, &BrokenError{Seq: e.Seq, EventID: e.EventID, Problem: "prev_hash of the first event is not empty"}
		case e.PrevHash != prevHash:
			return checked, &BrokenError{Seq: e.Seq, EventID: e.EventID, Problem: fmt.Sprintf("prev_hash does not match the hash of event %d", e.Seq-1)}
		case e.computeHash() != e.Hash:
			return checked, &BrokenError{Seq: e.Seq, EventID: e.EventID, Problem: "hash does not match the event's content"}
		case headFound && e.Seq == head.Seq && e.Hash != head.Hash:
			return checked, &BrokenError{Seq: e.Seq, EventID: e.EventID, Problem: "hash does not match the chain head"}
		}
		prevHash = e.Hash
		expected++
		checked++
	}
	if err := cur.Err(); err != nil {
		return checked, fmt.Errorf("read audit events: %w", err)
	}
	if !headFound && checked > 0 {
		return checked, &BrokenError{Problem: fmt.Sprintf("missing, though the trail has %d events", checked)}
	}
	if head.Seq > checked {
		return checked, &BrokenError{Seq: checked + 1, Problem: fmt.Sprintf("missing (the chain head records %d events but the trail ends at event %d)", head.Seq, checked)}
	}
	return checked, nil
}

// decodeStored decodes a stored event, refusing fields the portal never writes.
func decodeStored(raw bson.Raw) (Event, string) {
	elems, err := raw.Elements()
	if err != nil {
		return Event{}, err.Error()
	}
	for _, el := range elems {
		if !eventFields[el.Key()] {
			return Event{}, fmt.Sprintf("unexpected field %q", el.Key())
		}
	}
	actor, ok := raw.Lookup("actor").DocumentOK()
	if !ok {
		return Event{}, "actor is not a document"
	}
	actorElems, err := actor.Elements()
	if err != nil {
		return Event{}, err.Error()
	}
	for _, el := range actorElems {
		if !actorFields[el.Key()] {
			return Event{}, fmt.Sprintf("unexpected field %q in actor", el.Key())
		}
	}
	var e Event
	if err := bson.Unmarshal(raw, &e); err != nil {
		return Event{}, err.Error()
	}
	return e, ""
}
