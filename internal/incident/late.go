package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// LateNotice is an incident that reached the department after its
// deadline: what performance management holds against the partner.
type LateNotice struct {
	ID         bson.ObjectID `bson:"_id"`
	Reference  string        `bson:"reference"`
	PartnerID  string        `bson:"partner_id"`
	ContractID string        `bson:"contract_id"`
	NotifiedAt time.Time     `bson:"notified_at"`
	LateBy     time.Duration `bson:"late_by"`
}

// LateSince lists the incidents within reach notified late since a time,
// oldest first. Only late incidents carry late_by, so on MongoDB the
// late_notified index reads the late ones and no others.
func (s *Store) LateSince(ctx context.Context, scope access.Scope, since time.Time) ([]LateNotice, error) {
	filter := scope.ContractFieldFilter("contract_id",
		bson.E{Key: "late_by", Value: bson.D{{Key: "$gt", Value: 0}}},
		bson.E{Key: "notified_at", Value: bson.D{{Key: "$gte", Value: since.UTC()}}})
	opts := options.Find().SetSort(bson.D{{Key: "notified_at", Value: 1}, {Key: "_id", Value: 1}}).SetProjection(bson.D{
		{Key: "reference", Value: 1}, {Key: "partner_id", Value: 1}, {Key: "contract_id", Value: 1},
		{Key: "notified_at", Value: 1}, {Key: "late_by", Value: 1},
	})
	cur, err := s.incidents().Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("late incidents: %w", err)
	}
	out := []LateNotice{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("late incidents: %w", err)
	}
	return out, nil
}
