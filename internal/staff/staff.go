// Package staff holds a partner's roster: the people who work on the
// department's contracts and must be trained and vetted.
package staff

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Staff categories decide which training and vetting a person needs.
const (
	CustomerFacingAdults = "customer_facing_adults"
	RegulatedChildren    = "regulated_activity_children"
	NotCustomerFacing    = "not_customer_facing"
)

// Member is one person on a partner's roster. Leavers are kept, inactive.
type Member struct {
	ID          bson.ObjectID `bson:"_id,omitempty"`
	PartnerID   string        `bson:"partner_id"`
	StaffNumber string        `bson:"staff_number"`
	Name        string        `bson:"name"`
	Email       string        `bson:"email,omitempty"`
	RoleTitle   string        `bson:"role_title"`
	Category    string        `bson:"category"`
	Sites       []string      `bson:"sites"`
	StartDate   time.Time     `bson:"start_date"`
	LeavingDate *time.Time    `bson:"leaving_date,omitempty"`
	Active      bool          `bson:"active"`
}

// Store reads and writes roster entries, always within one partner.
type Store struct{ coll *mongo.Collection }

// NewStore uses db's staff collection.
func NewStore(db *mongo.Database) *Store { return &Store{coll: db.Collection("staff")} }

// Indexes are what real MongoDB needs for the roster's hot reads and its
// one-staff-number-per-partner rule.
func Indexes() mongo.IndexModel {
	return mongo.IndexModel{
		Keys:    bson.D{{Key: "partner_id", Value: 1}, {Key: "staff_number", Value: 1}},
		Options: options.Index().SetUnique(true).SetName("partner_staff_number"),
	}
}

// EnsureIndexes creates the roster's indexes.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if _, err := s.coll.Indexes().CreateOne(ctx, Indexes()); err != nil {
		return fmt.Errorf("create staff indexes: %w", err)
	}
	return nil
}

// CountActive reports how many active staff the partner has.
func (s *Store) CountActive(ctx context.Context, partnerID string) (int64, error) {
	n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "partner_id", Value: partnerID}, {Key: "active", Value: true}})
	if err != nil {
		return 0, fmt.Errorf("count staff: %w", err)
	}
	return n, nil
}

// ByEmail finds the partner's roster entry for a signed-in staff member.
func (s *Store) ByEmail(ctx context.Context, partnerID, email string) (*Member, error) {
	var m Member
	err := s.coll.FindOne(ctx, bson.D{{Key: "partner_id", Value: partnerID}, {Key: "email", Value: email}}).Decode(&m)
	if err == mongo.ErrNoDocuments {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find staff member by email: %w", err)
	}
	return &m, nil
}

// InsertMany adds roster entries for one partner; used by the seed.
func (s *Store) InsertMany(ctx context.Context, partnerID string, members []Member) error {
	docs := make([]any, len(members))
	for i := range members {
		if members[i].PartnerID != partnerID {
			return fmt.Errorf("insert staff: member %s belongs to %q, not %q", members[i].StaffNumber, members[i].PartnerID, partnerID)
		}
		docs[i] = members[i]
	}
	if _, err := s.coll.InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("insert staff: %w", err)
	}
	return nil
}
