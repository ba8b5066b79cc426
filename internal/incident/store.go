package incident

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/doclock"
	"github.com/department/safeguarding-portal/internal/paged"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var (
	// ErrNotFound means no such incident within the caller's reach.
	ErrNotFound = errors.New("incident not found")
	// ErrConflict means the incident changed since it was read, or is not
	// in a state that allows the change.
	ErrConflict = errors.New("incident changed or not in a state that allows this")
	// ErrKeyTaken means the partner already notified an incident with this
	// idempotency key: ByKey finds it.
	ErrKeyTaken = errors.New("an incident was already notified with this idempotency key")
)

// Store keeps incidents, every partner's in one collection: the department
// reads across partners, and every query names the partner (or contract)
// its caller may reach.
type Store struct {
	db    *mongo.Database
	trail *audit.Trail
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// locks serialise this process's changes to one incident.
	locks *doclock.Striped
	// talliesBehind is set when an incident was stored but its tally was
	// not: the next read of tallies puts it right first.
	talliesBehind atomic.Bool
}

// NewStore keeps incidents in db and records their changes in trail.
func NewStore(db *mongo.Database, trail *audit.Trail) *Store {
	s := &Store{db: db, trail: trail}
	trail.Register(s.incidents())
	s.locks = trail.GuardWrites(s.incidents())
	return s
}

func (s *Store) incidents() *mongo.Collection { return s.db.Collection("incidents") }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// EnsureIndexes creates what real MongoDB needs for incident reads: a
// partner's list in update order (the API's cursor), references, the
// department's lists by status, and the late ones performance points count.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	// One at a time: the embedded store fails a batch naming indexes that
	// already exist.
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "partner_id", Value: 1}, {Key: "updated_at", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("partner_updated")},
		{Keys: bson.D{{Key: "reference", Value: 1}}, Options: options.Index().SetName("reference").SetUnique(true)},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "notified_at", Value: 1}}, Options: options.Index().SetName("status_notified")},
		{Keys: bson.D{{Key: "contract_id", Value: 1}, {Key: "notified_at", Value: 1}}, Options: options.Index().SetName("contract_notified")},
		{Keys: bson.D{{Key: "late_by", Value: 1}, {Key: "notified_at", Value: 1}}, Options: options.Index().SetName("late_notified")},
	} {
		if _, err := s.incidents().Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create incident index: %w", err)
		}
	}
	// Only incidents notified with a key have one. The embedded store has no
	// partial indexes, but its unique indexes never match a missing field.
	byKey := bson.D{{Key: "partner_id", Value: 1}, {Key: "idempotency_key", Value: 1}}
	_, err := s.incidents().Indexes().CreateOne(ctx, mongo.IndexModel{Keys: byKey, Options: options.Index().SetName("partner_idempotency_key").
		SetUnique(true).SetPartialFilterExpression(bson.D{{Key: "idempotency_key", Value: bson.D{{Key: "$exists", Value: true}}}})})
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Name == "NotImplemented" {
		_, err = s.incidents().Indexes().CreateOne(ctx, mongo.IndexModel{Keys: byKey, Options: options.Index().SetName("partner_idempotency_key").SetUnique(true)})
	}
	if err != nil {
		return fmt.Errorf("create incident index: %w", err)
	}
	return nil
}

// referenceAlphabet leaves out letters read as digits (I, L, O) and U.
const referenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newReference is the reference people quote: short enough to read out on
// a telephone call, random so it reveals nothing about volumes.
func newReference(at time.Time) string {
	var b [7]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	out := []byte(fmt.Sprintf("SI-%d-", at.Year()))
	for _, c := range b {
		out = append(out, referenceAlphabet[int(c)%len(referenceAlphabet)])
	}
	return string(out)
}

// Create stores a new incident with its audit event, giving it its
// reference and, unless the caller chose one, its ID. The caller has checked
// the notice and started its clocks from in.NotifiedAt (now, if zero). If in has an IdempotencyKey the partner
// used before, nothing is stored and the error is ErrKeyTaken. firstResponse,
// if not nil, makes the response to keep for retries from the incident as
// stored.
//
// It is one write: the event is appended to the trail just after, in the
// background, so that notifying is as fast as the store can insert.
func (s *Store) Create(ctx context.Context, scope access.Scope, in *Incident, e audit.Event, firstResponse func(Incident) ([]byte, error)) error {
	if !scope.IncludesContract(in.ContractID, in.PartnerID) {
		return ErrNotFound
	}
	now := s.now()
	if in.ID.IsZero() {
		in.ID = bson.NewObjectID()
	}
	in.Indicators = sortedIndicators(in.Indicators)
	if in.Referrals == nil {
		in.Referrals = []Referral{}
	}
	in.Status = Notified
	in.LateBy = in.DepartmentClock().LateBy
	in.Version = 1
	in.CreatedAt, in.UpdatedAt = now, now
	// The caller started the clocks from when the notice arrived: the record
	// says the same moment, so its deadlines read exactly from it.
	if in.NotifiedAt.IsZero() {
		in.NotifiedAt = now
	}
	in.NotifiedAt = in.NotifiedAt.UTC().Truncate(time.Millisecond)
	in.Updates = []Update{{ID: bson.NewObjectID(), At: now, By: in.NotifiedBy, Kind: KindNotified,
		Text: "Notified the department through the " + map[string]string{"api": "API", "web": "portal"}[in.Source] + "."}}
	e.PartnerID = in.PartnerID
	e.Resource = "incident/" + in.ID.Hex()
	for attempt := 0; ; attempt++ {
		in.Reference = newReference(now)
		if firstResponse != nil {
			in.FirstResponse = nil
			body, err := firstResponse(*in)
			if err != nil {
				return fmt.Errorf("store incident: %w", err)
			}
			in.FirstResponse = body
		}
		_, err := s.trail.InsertSettlingLater(ctx, s.incidents(), in, e)
		if err == nil {
			// The incident is stored and answered for; a tally not written
			// now is written from it before tallies are next read.
			if err := s.writeTally(ctx, *in); err != nil {
				s.talliesBehind.Store(true)
			}
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("store incident: %w", err)
		}
		// Either the key was used, or another incident drew the same reference.
		if in.IdempotencyKey != "" {
			if _, kerr := s.ByKey(ctx, scope, in.PartnerID, in.IdempotencyKey); kerr == nil {
				return ErrKeyTaken
			}
		}
		if attempt == 3 {
			return fmt.Errorf("store incident: %w", err)
		}
	}
}

// ByKey returns the partner's incident notified with an idempotency key.
func (s *Store) ByKey(ctx context.Context, scope access.Scope, partnerID, key string) (Incident, error) {
	var in Incident
	err := s.incidents().FindOne(ctx, scope.ContractFieldFilter("contract_id",
		bson.E{Key: "partner_id", Value: partnerID}, bson.E{Key: "idempotency_key", Value: key})).Decode(&in)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Incident{}, ErrNotFound
	}
	if err != nil {
		return Incident{}, fmt.Errorf("read incident by idempotency key: %w", err)
	}
	if !scope.IncludesContract(in.ContractID, in.PartnerID) {
		return Incident{}, ErrNotFound
	}
	return in, nil
}

// Get returns an incident within the caller's reach.
func (s *Store) Get(ctx context.Context, scope access.Scope, id string) (Incident, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Incident{}, ErrNotFound
	}
	var in Incident
	err = s.incidents().FindOne(ctx, scope.ContractFieldFilter("contract_id", bson.E{Key: "_id", Value: oid})).Decode(&in)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Incident{}, ErrNotFound
	}
	if err != nil {
		return Incident{}, fmt.Errorf("read incident: %w", err)
	}
	// The filter decides; this repeats it in case a filter is ever built wrong.
	if !scope.IncludesContract(in.ContractID, in.PartnerID) {
		return Incident{}, ErrNotFound
	}
	return in, nil
}

// Cursor is where a list continues: after the incident updated at UpdatedAt
// with ID, in update order.
type Cursor struct {
	UpdatedAt time.Time
	ID        bson.ObjectID
}

// Query selects incidents to list.
type Query struct {
	Status       string    // "" for any
	UpdatedSince time.Time // zero for any
	After        *Cursor
	Limit        int
}

// List returns incidents within reach in update order (oldest change
// first, so a partner system can follow changes with updated_since and a
// cursor), and whether there are more.
func (s *Store) List(ctx context.Context, scope access.Scope, q Query) ([]Incident, bool, error) {
	var conds []bson.E
	if q.Status != "" {
		conds = append(conds, bson.E{Key: "status", Value: q.Status})
	}
	if !q.UpdatedSince.IsZero() {
		conds = append(conds, bson.E{Key: "updated_at", Value: bson.D{{Key: "$gte", Value: q.UpdatedSince.UTC()}}})
	}
	if q.After != nil {
		conds = append(conds, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "updated_at", Value: bson.D{{Key: "$gt", Value: q.After.UpdatedAt.UTC()}}}},
			bson.D{{Key: "updated_at", Value: q.After.UpdatedAt.UTC()}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: q.After.ID}}}},
		}})
	}
	limit := min(max(q.Limit, 1), 100)
	opts := options.Find().SetSort(bson.D{{Key: "updated_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit + 1))
	cur, err := s.incidents().Find(ctx, scope.ContractFieldFilter("contract_id", conds...), opts)
	if err != nil {
		return nil, false, fmt.Errorf("list incidents: %w", err)
	}
	var out []Incident
	if err := cur.All(ctx, &out); err != nil {
		return nil, false, fmt.Errorf("list incidents: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// Filter selects incidents for the department's and partners' lists.
type Filter struct {
	Status    string
	PartnerID string
	Category  string
	Indicator string
	// AwaitingAcknowledgement lists only incidents the department has not
	// acknowledged yet; OverdueAcknowledgement only those past the deadline
	// to (as of Now).
	AwaitingAcknowledgement bool
	OverdueAcknowledgement  bool
	Now                     time.Time
}

// listFields are what a list shows: never the account of what happened.
var listFields = bson.D{
	{Key: "reference", Value: 1}, {Key: "partner_id", Value: 1}, {Key: "contract_id", Value: 1}, {Key: "category", Value: 1},
	{Key: "critical", Value: 1}, {Key: "status", Value: 1}, {Key: "notified_at", Value: 1}, {Key: "aware_at", Value: 1},
	{Key: "occurred_at", Value: 1}, {Key: "clocks", Value: 1}, {Key: "site", Value: 1}, {Key: "indicators", Value: 1},
	{Key: "customer.age_group", Value: 1}, {Key: "updated_at", Value: 1}, {Key: "open_request", Value: 1}, {Key: "version", Value: 1}, {Key: "acknowledge_by", Value: 1},
}

// Search lists incidents within reach matching f, newest notification
// first, a page at a time, with how many match in all.
func (s *Store) Search(ctx context.Context, scope access.Scope, f Filter, page, perPage int) ([]Incident, int64, error) {
	var conds []bson.E
	if f.Status != "" {
		conds = append(conds, bson.E{Key: "status", Value: f.Status})
	}
	if f.AwaitingAcknowledgement || f.OverdueAcknowledgement {
		conds = append(conds, bson.E{Key: "status", Value: Notified})
	}
	if f.OverdueAcknowledgement {
		conds = append(conds, bson.E{Key: "acknowledge_by", Value: bson.D{{Key: "$lt", Value: f.Now.UTC()}}})
	}
	if f.PartnerID != "" {
		conds = append(conds, bson.E{Key: "partner_id", Value: f.PartnerID})
	}
	if f.Category != "" {
		conds = append(conds, bson.E{Key: "category", Value: f.Category})
	}
	if f.Indicator != "" {
		conds = append(conds, bson.E{Key: "indicators", Value: f.Indicator})
	}
	out, total, err := paged.Find[Incident](ctx, s.incidents(), scope.ContractFieldFilter("contract_id", conds...),
		bson.D{{Key: "notified_at", Value: -1}, {Key: "_id", Value: -1}}, listFields, page, perPage)
	if err != nil {
		return nil, 0, fmt.Errorf("search incidents: %w", err)
	}
	return out, total, nil
}

// Timeliness is how promptly the department was told of a contract's
// incidents.
type Timeliness struct {
	ContractID string
	PartnerID  string
	Notified   int
	Late       int
	// LateBy is the lateness of the late ones, added up.
	LateBy time.Duration
}

// OnTimePercent is the share notified on time, or 100 with none notified.
func (t Timeliness) OnTimePercent() float64 {
	if t.Notified == 0 {
		return 100
	}
	return float64(t.Notified-t.Late) * 100 / float64(t.Notified)
}

// AverageLateness is how late the late ones were, on average.
func (t Timeliness) AverageLateness() time.Duration {
	if t.Late == 0 {
		return 0
	}
	return t.LateBy / time.Duration(t.Late)
}

// TimelinessSince counts, per contract within reach, the incidents notified
// since a time and how many of them reached the department late. It reads
// the incidents' tallies, a few bytes each, not the incidents.
func (s *Store) TimelinessSince(ctx context.Context, scope access.Scope, since time.Time) ([]Timeliness, error) {
	if err := s.talliesCaughtUp(ctx); err != nil {
		return nil, err
	}
	cur, err := s.tallies().Find(ctx, scope.ContractFieldFilter("contract_id", bson.E{Key: "notified_at", Value: bson.D{{Key: "$gte", Value: since.UTC()}}}),
		options.Find().SetProjection(bson.D{{Key: "contract_id", Value: 1}, {Key: "partner_id", Value: 1}, {Key: "late_by", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("incident timeliness: %w", err)
	}
	var tallies []tallyDoc
	if err := cur.All(ctx, &tallies); err != nil {
		return nil, fmt.Errorf("incident timeliness: %w", err)
	}
	byContract := map[string]*Timeliness{}
	for _, t := range tallies {
		row := byContract[t.ContractID]
		if row == nil {
			row = &Timeliness{ContractID: t.ContractID, PartnerID: t.PartnerID}
			byContract[t.ContractID] = row
		}
		row.Notified++
		if t.LateBy > 0 {
			row.Late++
			row.LateBy += t.LateBy
		}
	}
	out := make([]Timeliness, 0, len(byContract))
	for _, row := range byContract {
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b Timeliness) int { return strings.Compare(a.ContractID, b.ContractID) })
	return out, nil
}

// Seed stores incidents in bulk, for filling an empty store with demo or
// scale data. Like the other seeds it records no audit events: nobody
// notified these.
func (s *Store) Seed(ctx context.Context, ins []Incident) error {
	const batch = 1000
	docs := make([]any, 0, batch)
	for start := 0; start < len(ins); start += batch {
		docs = docs[:0]
		for _, in := range ins[start:min(start+batch, len(ins))] {
			in.Indicators = sortedIndicators(in.Indicators)
			if in.Referrals == nil {
				in.Referrals = []Referral{}
			}
			docs = append(docs, in)
		}
		if _, err := s.incidents().InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("seed incidents: %w", err)
		}
		for i, d := range docs {
			docs[i] = tallyOf(d.(Incident))
		}
		// A portal running meanwhile may have reconciled some of these
		// tallies already: those are the same, and stand.
		_, err := s.tallies().InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		var bulk mongo.BulkWriteException
		if errors.As(err, &bulk) && bulk.WriteConcernError == nil && !slices.ContainsFunc(bulk.WriteErrors, func(we mongo.BulkWriteError) bool { return we.Code != 11000 }) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("seed incident tallies: %w", err)
		}
	}
	return nil
}
