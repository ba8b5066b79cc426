// Package partner holds the commercial partners the department outsources
// customer-facing services to, and their contracts.
package partner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/requirements"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The store's errors. Pages map each to what the person sees.
var (
	// ErrNotFound means no such partner or contract within the caller's reach.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means a partner or contract with that ID already exists.
	ErrDuplicate = errors.New("already exists")
	// ErrConflict means the contract changed since the caller read it, so
	// their change was not applied: saving it would silently undo someone
	// else's, and a requirement change's history would describe the wrong edit.
	ErrConflict = errors.New("changed by someone else")
	// ErrUnchanged means the change would leave the contract as it is; a
	// status or requirement history entry that changes nothing misleads.
	ErrUnchanged = errors.New("nothing changed")
)

// Partner is a commercial partner. Its ID is also the organisation claim its
// people carry from their identity provider.
type Partner struct {
	ID                   string    `bson:"_id"`
	Name                 string    `bson:"name"`
	CompaniesHouseNumber string    `bson:"companies_house_number"`
	Contacts             []Contact `bson:"contacts"`
	// CreatedBy is the subject of the department user who added the partner
	// in the portal (empty for partners loaded otherwise). It lets a contract
	// manager go on to add the first contract of a partner they just added,
	// before any contract puts the partner in their scope; see Claimable.
	CreatedBy string `bson:"created_by,omitempty"`
}

// ComplianceAddresses are the addresses the department writes to about
// the partner's compliance (reminders of actions, reports ready): its
// contacts whose role names compliance, or, if it has none, every contact.
// Each address once, in lower case and a stable order.
func (p Partner) ComplianceAddresses() []string {
	var compliance, all []string
	for _, c := range p.Contacts {
		addr, err := mail.ParseAddress(strings.TrimSpace(c.Email))
		if err != nil {
			continue
		}
		to := strings.ToLower(addr.Address)
		all = append(all, to)
		if strings.Contains(strings.ToLower(c.Role), "compliance") {
			compliance = append(compliance, to)
		}
	}
	out := compliance
	if len(out) == 0 {
		out = all
	}
	slices.Sort(out)
	return slices.Compact(out)
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

	// Why the status was last set, by whom (as people read their name) and
	// when. A status change's reason is shown to the partner: it is how they
	// learn why their contract is under review or suspended.
	StatusReason    string    `bson:"status_reason,omitempty"`
	StatusChangedBy string    `bson:"status_changed_by,omitempty"`
	StatusChangedAt time.Time `bson:"status_changed_at,omitempty"`
	// StatusHistory is every status the contract has had, oldest first.
	StatusHistory []StatusChange `bson:"status_history,omitempty"`

	// Requirements is the contract's tailored requirement set; nil means the
	// catalogue's default applies, and follows it when the default changes.
	// It is stored in the form storedSet describes, not as is.
	Requirements *requirements.Set `bson:"-"`
	// RequirementHistory is every tailoring of the set, oldest first.
	RequirementHistory []RequirementChange `bson:"requirement_history,omitempty"`

	// Performance is the contract's own performance terms; nil means the
	// department's defaults apply, and follow them when they change.
	Performance *PerformanceTerms `bson:"performance,omitempty"`

	// Version counts changes made through the portal. Every change names the
	// version it was based on and is refused if another landed first.
	// Contracts stored before versioning read as 0.
	Version int64 `bson:"version,omitempty"`
}

// StatusChange is one entry in a contract's status history.
type StatusChange struct {
	Status string    `bson:"status"`
	Reason string    `bson:"reason"`
	By     string    `bson:"by"`
	At     time.Time `bson:"at"`
}

// RequirementChange is one tailoring of a contract's requirement set,
// described as lines people read (see requirements.Diff).
type RequirementChange struct {
	At      time.Time `bson:"at"`
	By      string    `bson:"by"`
	Changes []string  `bson:"changes"`
}

var serviceLineNames = map[string]string{
	AsylumInterviews:      "Asylum interviews",
	AsylumAccommodation:   "Asylum accommodation",
	VisaApplicationCentre: "Visa application centre",
	Screening:             "Screening",
	OtherService:          "Other",
}

// ServiceLines lists the service lines in the order forms offer them.
var ServiceLines = []string{AsylumInterviews, AsylumAccommodation, VisaApplicationCentre, Screening, OtherService}

// Statuses lists the contract statuses in the order forms offer them.
var Statuses = []string{Active, UnderReview, Suspended, Terminated}

// ServiceLineName is the service line as people read it.
func (c Contract) ServiceLineName() string { return serviceLineNames[c.ServiceLine] }

// ServiceLineName is a service line as people read it.
func ServiceLineName(line string) string { return serviceLineNames[line] }

// Store reads and writes partners and contracts.
type Store struct {
	partners  *mongo.Collection
	contracts *mongo.Collection
	// trail records every change; without it the store only reads.
	trail *audit.Trail
}

// NewStore uses db's partners and contracts collections. It can only read
// until given the audit trail with WithTrail.
func NewStore(db *mongo.Database) *Store {
	return &Store{partners: db.Collection("partners"), contracts: db.Collection("contracts")}
}

// WithTrail returns a store that records its changes in trail, and registers
// its collections with it so that Recover finds changes a crash left with
// their audit events pending.
func (s *Store) WithTrail(trail *audit.Trail) *Store {
	out := *s
	out.trail = trail
	trail.Register(s.partners, s.contracts)
	return &out
}

// EnsureIndexes creates what real MongoDB needs for the contract queries:
// a contract manager's scope is worked out from managers on every request,
// and partner pages list contracts by partner_id.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	for name, keys := range map[string]bson.D{
		"managers":   {{Key: "managers", Value: 1}},
		"partner_id": {{Key: "partner_id", Value: 1}, {Key: "_id", Value: 1}},
	} {
		// One at a time: FerretDB drops the connection when a multi-index
		// createIndexes finds them all present, as it does at every restart.
		m := mongo.IndexModel{Keys: keys, Options: options.Index().SetName(name)}
		if _, err := s.contracts.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create contracts index %s: %w", name, err)
		}
	}
	return nil
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
	var docs []contractDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read contracts: %w", err)
	}
	out := make([]Contract, len(docs))
	for i, d := range docs {
		out[i] = d.contract()
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
		if len(c.StatusHistory) == 0 {
			// A contract's status always has a reason and a history, as if created on a form.
			c.StatusReason = cmp.Or(c.StatusReason, AddedReason)
			if c.StatusChangedAt.IsZero() {
				c.StatusChangedAt = now()
			}
			c.StatusHistory = []StatusChange{{Status: c.Status, Reason: c.StatusReason, By: c.StatusChangedBy, At: c.StatusChangedAt}}
		}
		if _, err := s.contracts.InsertOne(ctx, docOf(c)); err != nil {
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
