package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/spreadsheet"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Search page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Query selects events for auditors. Empty fields do not filter.
type Query struct {
	Actor     string // matches actor.subject exactly
	PartnerID string
	// Resource matches exactly, or as a prefix when it ends with "/": "staff/"
	// selects every staff record's events, "staff/65f0" only that record's.
	Resource  string
	Action    string
	From, To  time.Time // inclusive from, exclusive to; zero = open
	BeforeSeq int64     // keyset pagination: only events with _id < BeforeSeq; 0 = newest
	Limit     int       // default 50, max 500
}

// filter uses only equality and $gte/$lt ranges, which every backend supports
// and MongoDB answers from the indexes EnsureIndexes creates.
func (q Query) filter() bson.D {
	f := bson.D{}
	if q.Actor != "" {
		f = append(f, bson.E{Key: "actor.subject", Value: q.Actor})
	}
	if q.PartnerID != "" {
		f = append(f, bson.E{Key: "partner_id", Value: q.PartnerID})
	}
	if strings.HasSuffix(q.Resource, "/") {
		// Strings compare bytewise, so [p, p with '/' raised to '0') is exactly
		// the strings starting with p; a range uses the index where $regex may not.
		upper := q.Resource[:len(q.Resource)-1] + "0"
		f = append(f, bson.E{Key: "resource", Value: bson.D{{Key: "$gte", Value: q.Resource}, {Key: "$lt", Value: upper}}})
	} else if q.Resource != "" {
		f = append(f, bson.E{Key: "resource", Value: q.Resource})
	}
	if q.Action != "" {
		f = append(f, bson.E{Key: "action", Value: q.Action})
	}
	var when bson.D
	if !q.From.IsZero() {
		when = append(when, bson.E{Key: "$gte", Value: ceilMillisecond(q.From)})
	}
	if !q.To.IsZero() {
		when = append(when, bson.E{Key: "$lt", Value: ceilMillisecond(q.To)})
	}
	if when != nil {
		f = append(f, bson.E{Key: "time", Value: when})
	}
	if q.BeforeSeq > 0 {
		f = append(f, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: q.BeforeSeq}}})
	}
	return f
}

// ceilMillisecond rounds up to the stored precision: the driver would truncate,
// letting From admit an event just before it and To exclude one just before it.
func ceilMillisecond(t time.Time) time.Time {
	r := t.Truncate(time.Millisecond)
	if r.Before(t) {
		r = r.Add(time.Millisecond)
	}
	return r
}

func (q Query) limit() int {
	switch {
	case q.Limit <= 0:
		return DefaultLimit
	case q.Limit > MaxLimit:
		return MaxLimit
	}
	return q.Limit
}

// Search returns a page of matching events, newest first, and whether there
// are more: pass the last event's Seq as BeforeSeq for the next page. (On the
// SQLite development store each search scans the trail; MongoDB uses indexes.)
func (t *Trail) Search(ctx context.Context, q Query) (events []Event, more bool, err error) {
	limit := q.limit()
	cur, err := t.events.Find(ctx, q.filter(), options.Find().
		SetSort(bson.D{{Key: "_id", Value: -1}}).
		SetLimit(int64(limit+1)))
	if err != nil {
		return nil, false, fmt.Errorf("search audit events: %w", err)
	}
	if err := cur.All(ctx, &events); err != nil {
		return nil, false, fmt.Errorf("search audit events: %w", err)
	}
	if len(events) > limit {
		return events[:limit], true, nil
	}
	return events, false, nil
}

var csvHeader = []string{"seq", "event_id", "time", "actor_kind", "actor_subject", "actor_issuer", "actor_roles",
	"actor_org", "action", "resource", "partner_id", "outcome", "client_ip", "request_id", "detail", "prev_hash", "hash"}

// WriteCSV writes every event matching q (Limit is ignored) as CSV with a header
// row, oldest first so the prev_hash/hash links can be followed down the file.
// Events stream from a cursor, so an export of any size uses little memory.
// Roles are joined with ';'. Cells that a spreadsheet would run as a formula get
// a leading apostrophe.
func (t *Trail) WriteCSV(ctx context.Context, w io.Writer, q Query) error {
	cur, err := t.events.Find(ctx, q.filter(), options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("export audit events: %w", err)
	}
	defer cur.Close(ctx)
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write audit CSV: %w", err)
	}
	for cur.Next(ctx) {
		var e Event
		if err := cur.Decode(&e); err != nil {
			return fmt.Errorf("decode audit event: %w", err)
		}
		row := []string{strconv.FormatInt(e.Seq, 10), e.EventID, formatTime(e.Time), e.Actor.Kind, e.Actor.Subject,
			e.Actor.Issuer, strings.Join(e.Actor.Roles, ";"), e.Actor.Org, e.Action, e.Resource, e.PartnerID,
			e.Outcome, e.ClientIP, e.RequestID, e.Detail, e.PrevHash, e.Hash}
		for i := range row {
			row[i] = spreadsheet.Defuse(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write audit CSV: %w", err)
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("export audit events: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write audit CSV: %w", err)
	}
	return nil
}
