package records

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Waiting is a record waiting for the department to verify or reject it.
// The queue holds only these, a few hundred at most, so contract managers'
// list never reads the record books of every partner's whole workforce.
type Waiting struct {
	RecordID    bson.ObjectID `bson:"_id"`
	PartnerID   string        `bson:"partner_id"`
	StaffID     bson.ObjectID `bson:"staff_id"`
	StaffName   string        `bson:"staff_name"`
	StaffNumber string        `bson:"staff_number"`
	Kind        string        `bson:"kind"` // "training" or "vetting"
	What        string        `bson:"what"` // module or vetting type ID
	HasEvidence bool          `bson:"has_evidence"`
	Submitted   time.Time     `bson:"submitted"`
}

func (s *Store) queue() *mongo.Collection { return s.db.Collection("verification_queue") }

// EnsureIndexes creates the queue's index for real MongoDB.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	_, err := s.queue().Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "partner_id", Value: 1}, {Key: "submitted", Value: 1}}, Options: options.Index().SetName("partner_submitted"),
	})
	if err != nil {
		return fmt.Errorf("create verification queue index: %w", err)
	}
	return nil
}

// Enqueue puts a new record in the department's queue. A record whose entry
// was lost (the process stopped between the two writes) is put back by
// Upkeep.Requeue, which `portal rebuild` runs.
func (s *Store) Enqueue(ctx context.Context, w Waiting) error {
	_, err := s.queue().ReplaceOne(ctx, bson.D{{Key: "_id", Value: w.RecordID}}, w, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("queue record for verification: %w", err)
	}
	return nil
}

// Dequeue removes a decided record from the queue.
func (s *Store) Dequeue(ctx context.Context, recordID bson.ObjectID) error {
	if _, err := s.queue().DeleteOne(ctx, bson.D{{Key: "_id", Value: recordID}}); err != nil {
		return fmt.Errorf("remove record from verification queue: %w", err)
	}
	return nil
}

// Queue lists the records waiting for verification within scope, oldest first.
func (s *Store) Queue(ctx context.Context, scope access.Scope, limit int) ([]Waiting, int64, error) {
	filter := scope.Filter("partner_id")
	total, err := s.queue().CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, fmt.Errorf("count verification queue: %w", err)
	}
	cur, err := s.queue().Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "submitted", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, 0, fmt.Errorf("read verification queue: %w", err)
	}
	var out []Waiting
	if err := cur.All(ctx, &out); err != nil {
		return nil, 0, fmt.Errorf("read verification queue: %w", err)
	}
	return out, total, nil
}

// Waiting returns one queue entry within scope.
func (s *Store) WaitingRecord(ctx context.Context, scope access.Scope, recordID bson.ObjectID) (Waiting, error) {
	var w Waiting
	err := s.queue().FindOne(ctx, bson.D{{Key: "_id", Value: recordID}}).Decode(&w)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && !scope.Includes(w.PartnerID)) {
		return Waiting{}, ErrNotFound
	}
	if err != nil {
		return Waiting{}, fmt.Errorf("read verification queue: %w", err)
	}
	return w, nil
}
