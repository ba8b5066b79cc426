// Package staff holds a partner's roster: the people who work on the
// department's contracts and must be trained and vetted.
package staff

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

// ErrNotFound means no such roster entry within the caller's reach.
var ErrNotFound = errors.New("staff member not found")

// CountActive reports how many active staff are within scope.
func (s *Store) CountActive(ctx context.Context, scope access.Scope) (int64, error) {
	n, err := s.coll.CountDocuments(ctx, scope.Filter("partner_id", bson.E{Key: "active", Value: true}))
	if err != nil {
		return 0, fmt.Errorf("count staff: %w", err)
	}
	return n, nil
}

// ByEmail finds the roster entry within scope for a signed-in staff member.
func (s *Store) ByEmail(ctx context.Context, scope access.Scope, email string) (*Member, error) {
	if email == "" {
		return nil, nil
	}
	var m Member
	err := s.coll.FindOne(ctx, scope.Filter("partner_id", bson.E{Key: "email", Value: email})).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find staff member by email: %w", err)
	}
	return &m, nil
}

// Get returns the roster entry with id, if it is within scope. An ID from
// another partner is simply not found.
func (s *Store) Get(ctx context.Context, scope access.Scope, id string) (Member, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Member{}, ErrNotFound
	}
	var m Member
	err = s.coll.FindOne(ctx, scope.Filter("partner_id", bson.E{Key: "_id", Value: oid})).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Member{}, ErrNotFound
	}
	if err != nil {
		return Member{}, fmt.Errorf("get staff member: %w", err)
	}
	return m, nil
}

// List returns up to limit roster entries within scope, by staff number.
func (s *Store) List(ctx context.Context, scope access.Scope, limit int64) ([]Member, error) {
	cur, err := s.coll.Find(ctx, scope.Filter("partner_id"),
		options.Find().SetSort(bson.D{{Key: "staff_number", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	var out []Member
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read staff: %w", err)
	}
	return out, nil
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
