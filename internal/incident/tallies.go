package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Tally is what figures count of an incident: under which contract it was
// notified, when, how late, and what kind of harm to the customer it was.
// Each incident's tally is kept as a small document of its own, written
// when the incident is notified and never changed (none of these fields
// changes afterwards), so the dashboard's counts and governance reports
// read a few bytes per incident instead of its whole chronology, and no
// customer's details leave the store for them.
type Tally struct {
	ContractID string        `bson:"contract_id"`
	Category   string        `bson:"category"`
	Indicators []string      `bson:"indicators"`
	Critical   bool          `bson:"critical"`
	NotifiedAt time.Time     `bson:"notified_at"`
	LateBy     time.Duration `bson:"late_by"`
}

type tallyDoc struct {
	ID        bson.ObjectID `bson:"_id"` // the incident's
	PartnerID string        `bson:"partner_id"`
	Tally     `bson:",inline"`
}

func tallyOf(in Incident) tallyDoc {
	return tallyDoc{ID: in.ID, PartnerID: in.PartnerID, Tally: Tally{ContractID: in.ContractID, Category: in.Category,
		Indicators: in.Indicators, Critical: in.Critical, NotifiedAt: in.NotifiedAt, LateBy: in.LateBy}}
}

func (s *Store) tallies() *mongo.Collection { return s.db.Collection("incident_tallies") }

func (s *Store) writeTally(ctx context.Context, in Incident) error {
	_, err := s.tallies().ReplaceOne(ctx, bson.D{{Key: "_id", Value: in.ID}}, tallyOf(in), options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store incident tally: %w", err)
	}
	return nil
}

// EnsureTallies makes the tallies' indexes and writes any tally missing:
// for incidents stored before tallies were kept, or whose tally was not
// written when they were notified.
func (s *Store) EnsureTallies(ctx context.Context) error {
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "contract_id", Value: 1}, {Key: "notified_at", Value: 1}}, Options: options.Index().SetName("contract_notified")},
		{Keys: bson.D{{Key: "notified_at", Value: 1}}, Options: options.Index().SetName("notified")},
	} {
		if _, err := s.tallies().Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create incident tally index: %w", err)
		}
	}
	_, err := s.ReconcileTallies(ctx)
	return err
}

// ReconcileTallies writes the tallies missing, and says how many it wrote.
// When the counts agree, which is nearly always, it reads nothing else.
func (s *Store) ReconcileTallies(ctx context.Context) (int, error) {
	s.talliesBehind.Store(false)
	incidents, err := s.incidents().EstimatedDocumentCount(ctx)
	if err != nil {
		return 0, fmt.Errorf("count incidents: %w", err)
	}
	tallies, err := s.tallies().EstimatedDocumentCount(ctx)
	if err != nil {
		return 0, fmt.Errorf("count incident tallies: %w", err)
	}
	if incidents == tallies {
		return 0, nil
	}
	have := map[bson.ObjectID]bool{}
	cur, err := s.tallies().Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("read incident tallies: %w", err)
	}
	for cur.Next(ctx) {
		var d struct {
			ID bson.ObjectID `bson:"_id"`
		}
		if err := cur.Decode(&d); err != nil {
			return 0, fmt.Errorf("read incident tallies: %w", err)
		}
		have[d.ID] = true
	}
	if err := cur.Err(); err != nil {
		return 0, fmt.Errorf("read incident tallies: %w", err)
	}
	cur, err = s.incidents().Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{
		{Key: "partner_id", Value: 1}, {Key: "contract_id", Value: 1}, {Key: "category", Value: 1}, {Key: "indicators", Value: 1},
		{Key: "critical", Value: 1}, {Key: "notified_at", Value: 1}, {Key: "late_by", Value: 1},
	}))
	if err != nil {
		return 0, fmt.Errorf("read incidents to tally: %w", err)
	}
	defer cur.Close(ctx)
	written := 0
	for cur.Next(ctx) {
		var in Incident
		if err := cur.Decode(&in); err != nil {
			return written, fmt.Errorf("read incidents to tally: %w", err)
		}
		if have[in.ID] {
			continue
		}
		if err := s.writeTally(ctx, in); err != nil {
			return written, err
		}
		written++
	}
	if err := cur.Err(); err != nil {
		return written, fmt.Errorf("read incidents to tally: %w", err)
	}
	return written, nil
}

// talliesCaughtUp writes the tallies this process failed to write with
// their incidents, if any, before tallies are read.
func (s *Store) talliesCaughtUp(ctx context.Context) error {
	if !s.talliesBehind.Load() {
		return nil
	}
	_, err := s.ReconcileTallies(ctx)
	return err
}

// NotifiedBetween reads the tallies of the incidents within reach notified
// from one instant up to, not including, another; a zero end means up to
// now and beyond.
func (s *Store) NotifiedBetween(ctx context.Context, scope access.Scope, from, to time.Time) ([]Tally, error) {
	if err := s.talliesCaughtUp(ctx); err != nil {
		return nil, err
	}
	when := bson.D{{Key: "$gte", Value: from.UTC()}}
	if !to.IsZero() {
		when = append(when, bson.E{Key: "$lt", Value: to.UTC()})
	}
	cur, err := s.tallies().Find(ctx, scope.ContractFieldFilter("contract_id", bson.E{Key: "notified_at", Value: when}),
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "partner_id", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("incidents notified from %s: %w", from.Format(time.DateOnly), err)
	}
	var out []Tally
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("incidents notified from %s: %w", from.Format(time.DateOnly), err)
	}
	return out, nil
}
