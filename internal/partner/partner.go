// Package partner holds the commercial partners the department outsources
// customer-facing services to, and their contracts.
package partner

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

// ErrNotFound means no such partner or contract within the caller's reach.
var ErrNotFound = errors.New("not found")

// Partner is a commercial partner. Its ID is also the organisation claim its
// people carry from their identity provider.
type Partner struct {
	ID                   string    `bson:"_id"`
	Name                 string    `bson:"name"`
	CompaniesHouseNumber string    `bson:"companies_house_number"`
	Contacts             []Contact `bson:"contacts"`
}

// Contact is a named person at a partner the department can reach.
type Contact struct {
	Name  string `bson:"name"`
	Role  string `bson:"role"`
	Email string `bson:"email"`
}

// Service lines a contract can cover.
const (
	AsylumInterviews      = "asylum_interviews"
	AsylumAccommodation   = "asylum_accommodation"
	VisaApplicationCentre = "visa_application_centre"
	Screening             = "screening"
	OtherService          = "other"
)

// Contract statuses.
const (
	Active      = "active"
	UnderReview = "under_review"
	Suspended   = "suspended"
	Terminated  = "terminated"
)

// Contract binds a partner to deliver a service line to the department's standards.
type Contract struct {
	ID          string    `bson:"_id"` // the contract reference, e.g. "CS-ACC-2025-014"
	PartnerID   string    `bson:"partner_id"`
	Title       string    `bson:"title"`
	ServiceLine string    `bson:"service_line"`
	StartDate   time.Time `bson:"start_date"`
	EndDate     time.Time `bson:"end_date"`
	Status      string    `bson:"status"`
	// Managers are the subjects of the contract managers assigned to it.
	Managers []string `bson:"managers"`
}

var serviceLineNames = map[string]string{
	AsylumInterviews:      "Asylum interviews",
	AsylumAccommodation:   "Asylum accommodation",
	VisaApplicationCentre: "Visa application centre",
	Screening:             "Screening",
	OtherService:          "Other",
}

// ServiceLineName is the service line as people read it.
func (c Contract) ServiceLineName() string { return serviceLineNames[c.ServiceLine] }

// Store reads and writes partners and contracts.
type Store struct {
	partners  *mongo.Collection
	contracts *mongo.Collection
}

// NewStore uses db's partners and contracts collections.
func NewStore(db *mongo.Database) *Store {
	return &Store{partners: db.Collection("partners"), contracts: db.Collection("contracts")}
}

// Get returns the partner with id, if it is within scope.
func (s *Store) Get(ctx context.Context, scope access.Scope, id string) (Partner, error) {
	if !scope.Includes(id) {
		return Partner{}, ErrNotFound
	}
	var p Partner
	err := s.partners.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Partner{}, ErrNotFound
	}
	if err != nil {
		return Partner{}, fmt.Errorf("get partner: %w", err)
	}
	return p, nil
}

// List returns the partners within scope by name. There are tens, not thousands.
func (s *Store) List(ctx context.Context, scope access.Scope) ([]Partner, error) {
	filter := bson.D{}
	if !scope.All() {
		in := bson.A{}
		for _, p := range scope.Partners() {
			in = append(in, p)
		}
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: in}}}}
	}
	cur, err := s.partners.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "name", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	var out []Partner
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read partners: %w", err)
	}
	return out, nil
}

// Contracts returns the contracts within scope.
func (s *Store) Contracts(ctx context.Context, scope access.Scope) ([]Contract, error) {
	return s.findContracts(ctx, scope.ContractFilter())
}

// ManagedBy maps the contracts assigned to a contract manager to their
// partners. It is how a manager's scope is worked out, so it cannot take one.
func (s *Store) ManagedBy(ctx context.Context, managerSubject string) (map[string]string, error) {
	contracts, err := s.findContracts(ctx, bson.D{{Key: "managers", Value: managerSubject}})
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(contracts))
	for _, c := range contracts {
		m[c.ID] = c.PartnerID
	}
	return m, nil
}

// Names maps every partner's ID to its name, for labelling. Names are not
// confidential: partners' contracts are published.
func (s *Store) Names(ctx context.Context) (map[string]string, error) {
	cur, err := s.partners.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "name", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list partner names: %w", err)
	}
	var ps []Partner
	if err := cur.All(ctx, &ps); err != nil {
		return nil, fmt.Errorf("read partner names: %w", err)
	}
	names := make(map[string]string, len(ps))
	for _, p := range ps {
		names[p.ID] = p.Name
	}
	return names, nil
}

func (s *Store) findContracts(ctx context.Context, filter bson.D) ([]Contract, error) {
	cur, err := s.contracts.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("find contracts: %w", err)
	}
	var out []Contract
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read contracts: %w", err)
	}
	return out, nil
}

// Insert adds partners and contracts; used by the seed.
func (s *Store) Insert(ctx context.Context, partners []Partner, contracts []Contract) error {
	for _, p := range partners {
		if _, err := s.partners.InsertOne(ctx, p); err != nil {
			return fmt.Errorf("insert partner %s: %w", p.ID, err)
		}
	}
	for _, c := range contracts {
		if _, err := s.contracts.InsertOne(ctx, c); err != nil {
			return fmt.Errorf("insert contract %s: %w", c.ID, err)
		}
	}
	return nil
}

// Count reports how many partners exist.
func (s *Store) Count(ctx context.Context) (int64, error) {
	n, err := s.partners.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("count partners: %w", err)
	}
	return n, nil
}
