// Package staff holds each partner's roster: the people who work on the
// department's contracts and must be trained and vetted.
//
// Each partner's roster is its own collection ("staff_<partner>"). A query
// can only ever touch one partner's people, and on the embedded store (which
// scans whole collections) a roster read costs that partner's size, not the
// whole portfolio's.
package staff

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
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

// Categories in the order forms offer them.
var Categories = []string{CustomerFacingAdults, RegulatedChildren, NotCustomerFacing}

var (
	// ErrNotFound means no such roster entry within the caller's reach.
	ErrNotFound = errors.New("staff member not found")
	// ErrDuplicate means the partner already has someone with that staff number.
	ErrDuplicate = errors.New("staff number already on the roster")
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
	UpdatedAt   time.Time     `bson:"updated_at"`
	// ImportID names the import that added the entry, if one did: its audit
	// event covers the entries added in bulk.
	ImportID string `bson:"import_id,omitempty"`
	// Assessment is the person's compliance as last evaluated from their
	// records, kept with them so lists and summaries never re-evaluate a
	// whole workforce. Nil until first evaluated.
	Assessment *Assessment `bson:"assessment,omitempty"`
}

// Assessment is a person's compliance under each of the partner's contracts,
// derived from their records (see package records) and stored for reading.
type Assessment struct {
	Contracts []Standing `bson:"contracts"`
	// Rejected and NoEvidence count the person's records whose evidence was
	// rejected or never attached: what the partner has to put right.
	Rejected   int `bson:"rejected,omitempty"`
	NoEvidence int `bson:"no_evidence,omitempty"`
	// EvaluatedOn is the day evaluated; StaleFrom the first day on which a
	// state may change with no new record (something comes up for renewal),
	// so the assessment must be made again from then.
	EvaluatedOn time.Time  `bson:"evaluated_on"`
	StaleFrom   *time.Time `bson:"stale_from,omitempty"`
	// Basis fingerprints what was evaluated against (the category and each
	// contract's requirement set): when it differs, the assessment is stale.
	Basis string `bson:"basis"`
}

// Standing is a person's compliance under one contract's requirement set.
type Standing struct {
	ContractID string `bson:"contract_id"`
	Applies    bool   `bson:"applies"`
	Compliant  bool   `bson:"compliant"`
	// Gaps are the requirements not met, and those met but expiring soon.
	Gaps    []Gap      `bson:"gaps,omitempty"`
	NextDue *time.Time `bson:"next_due,omitempty"`
}

// Gap is one requirement a person does not fully meet.
type Gap struct {
	Key   string     `bson:"key"`   // module ID or vetting group
	State string     `bson:"state"` // a compliance.State other than met
	Due   *time.Time `bson:"due,omitempty"`
}

// StandingUnder returns the person's standing under a contract, if assessed.
func (m Member) StandingUnder(contractID string) (Standing, bool) {
	if m.Assessment == nil {
		return Standing{}, false
	}
	for _, st := range m.Assessment.Contracts {
		if st.ContractID == contractID {
			return st, true
		}
	}
	return Standing{}, false
}

// ActiveOn reports whether the member still works for the partner at t:
// leavers drop out on their leaving date.
func (m Member) ActiveOn(t time.Time) bool {
	return m.LeavingDate == nil || m.LeavingDate.After(t)
}

// SameDetails reports whether two entries hold the same facts, ignoring
// identity and bookkeeping: what makes a re-import a no-op.
func (m Member) SameDetails(o Member) bool {
	same := m.StaffNumber == o.StaffNumber && m.Name == o.Name && m.Email == o.Email &&
		m.RoleTitle == o.RoleTitle && m.Category == o.Category && m.StartDate.Equal(o.StartDate) &&
		len(m.Sites) == len(o.Sites) && (m.LeavingDate == nil) == (o.LeavingDate == nil)
	if !same {
		return false
	}
	if m.LeavingDate != nil && !m.LeavingDate.Equal(*o.LeavingDate) {
		return false
	}
	for i := range m.Sites {
		if m.Sites[i] != o.Sites[i] {
			return false
		}
	}
	return true
}

// Store reads and writes rosters, one partner at a time, always within a scope.
type Store struct {
	db     *mongo.Database
	trail  *audit.Trail
	copies *copies
}

// NewStore keeps rosters in db and records their changes in trail.
func NewStore(db *mongo.Database, trail *audit.Trail) *Store {
	return &Store{db: db, trail: trail, copies: newCopies()}
}

var partnerIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// roster is the partner's collection, if the scope reaches the partner.
func (s *Store) roster(scope access.Scope, partnerID string) (*mongo.Collection, error) {
	if !partnerIDPattern.MatchString(partnerID) || !scope.Includes(partnerID) {
		return nil, ErrNotFound
	}
	return s.db.Collection("staff_" + partnerID), nil
}

// EnsureIndexes creates what real MongoDB needs for the partner's roster: one
// staff number per person, and the list's sort and filters. It also registers
// the roster with the audit trail, so changes a crash left half-recorded are found.
func (s *Store) EnsureIndexes(ctx context.Context, partnerID string) error {
	coll, err := s.roster(access.PartnerScope(partnerID), partnerID)
	if err != nil {
		return fmt.Errorf("roster indexes: invalid partner ID %q", partnerID)
	}
	s.trail.Register(coll)
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "staff_number", Value: 1}}, Options: options.Index().SetUnique(true).SetName("staff_number")},
		{Keys: bson.D{{Key: "active", Value: 1}, {Key: "staff_number", Value: 1}}, Options: options.Index().SetName("active_staff_number")},
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetName("email")},
		{Keys: bson.D{{Key: "sites", Value: 1}}, Options: options.Index().SetName("sites")},
	} {
		// One at a time: FerretDB drops the connection when a multi-index
		// createIndexes finds them all present, as it does at every restart.
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create roster index for %s: %w", partnerID, err)
		}
	}
	return nil
}

// CountActive reports how many staff the partner has who have not left.
func (s *Store) CountActive(ctx context.Context, scope access.Scope, partnerID string) (int64, error) {
	coll, err := s.roster(scope, partnerID)
	if err != nil {
		return 0, nil
	}
	rc, err := s.current(ctx, coll, partnerID)
	if err != nil {
		return 0, fmt.Errorf("count staff: %w", err)
	}
	now := time.Now()
	var n int64
	for _, m := range rc.members {
		if m.ActiveOn(now) {
			n++
		}
	}
	return n, nil
}

// ByEmail finds a signed-in staff member's own roster entry.
func (s *Store) ByEmail(ctx context.Context, scope access.Scope, partnerID, email string) (*Member, error) {
	coll, err := s.roster(scope, partnerID)
	if err != nil || email == "" {
		return nil, nil
	}
	var m Member
	err = coll.FindOne(ctx, bson.D{{Key: "email", Value: strings.ToLower(email)}}).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find staff member by email: %w", err)
	}
	return &m, nil
}

// Get returns the roster entry with id, if the partner is within scope. An ID
// from another partner's roster is simply not found.
func (s *Store) Get(ctx context.Context, scope access.Scope, partnerID, id string) (Member, error) {
	coll, err := s.roster(scope, partnerID)
	if err != nil {
		return Member{}, err
	}
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Member{}, ErrNotFound
	}
	var m Member
	err = coll.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Member{}, ErrNotFound
	}
	if err != nil {
		return Member{}, fmt.Errorf("get staff member: %w", err)
	}
	return m, nil
}

// Statuses a roster list can show.
const (
	StatusActive = "active"
	StatusLeft   = "left"
	StatusAll    = "all"
)

// Query selects and pages a roster list.
type Query struct {
	Search   string // part of a name, or the start of a staff number
	Category string
	Site     string
	Status   string // StatusActive (default), StatusLeft or StatusAll
	Page     int    // from 1
	PerPage  int
}

// Page is one page of a roster list.
type Page struct {
	Members []Member
	Total   int64
	Page    int
	Pages   int
}

// matches reports whether the member at i of the copy is selected.
func (q Query) matches(rc *rosterCopy, i int, now time.Time) bool {
	m := rc.members[i]
	switch q.Status {
	case StatusLeft:
		if m.ActiveOn(now) {
			return false
		}
	case StatusAll:
	default:
		if !m.ActiveOn(now) {
			return false
		}
	}
	if q.Category != "" && m.Category != q.Category {
		return false
	}
	if q.Site != "" && !slices.Contains(m.Sites, q.Site) {
		return false
	}
	if term := strings.ToLower(strings.TrimSpace(q.Search)); term != "" {
		return strings.HasPrefix(rc.numbers[i], term) || strings.Contains(rc.names[i], term)
	}
	return true
}

// List returns one page of the partner's roster, by staff number.
func (s *Store) List(ctx context.Context, scope access.Scope, partnerID string, q Query) (Page, error) {
	coll, err := s.roster(scope, partnerID)
	if err != nil {
		return Page{}, err
	}
	if q.PerPage <= 0 || q.PerPage > 200 {
		q.PerPage = 50
	}
	if q.Page < 1 {
		q.Page = 1
	}
	rc, err := s.current(ctx, coll, partnerID)
	if err != nil {
		return Page{}, fmt.Errorf("list roster: %w", err)
	}
	now := time.Now()
	var selected []int
	for i := range rc.members {
		if q.matches(rc, i, now) {
			selected = append(selected, i)
		}
	}
	total := len(selected)
	pages := max(1, (total+q.PerPage-1)/q.PerPage)
	q.Page = min(q.Page, pages)
	from := min((q.Page-1)*q.PerPage, total)
	to := min(from+q.PerPage, total)
	members := make([]Member, 0, to-from)
	for _, i := range selected[from:to] {
		members = append(members, rc.members[i])
	}
	return Page{Members: members, Total: int64(total), Page: q.Page, Pages: pages}, nil
}

// Sites lists the sites named on the partner's roster, for the list's filter.
func (s *Store) Sites(ctx context.Context, scope access.Scope, partnerID string) ([]string, error) {
	coll, err := s.roster(scope, partnerID)
	if err != nil {
		return nil, err
	}
	rc, err := s.current(ctx, coll, partnerID)
	if err != nil {
		return nil, fmt.Errorf("list roster sites: %w", err)
	}
	seen := map[string]bool{}
	var sites []string
	for _, m := range rc.members {
		for _, site := range m.Sites {
			if !seen[site] {
				seen[site] = true
				sites = append(sites, site)
			}
		}
	}
	slices.Sort(sites)
	return sites, nil
}

// Each calls fn for every entry on the partner's roster, by staff number, for exports.
func (s *Store) Each(ctx context.Context, scope access.Scope, partnerID string, fn func(Member) error) error {
	coll, err := s.roster(scope, partnerID)
	if err != nil {
		return err
	}
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "staff_number", Value: 1}}))
	if err != nil {
		return fmt.Errorf("read roster: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var m Member
		if err := cur.Decode(&m); err != nil {
			return fmt.Errorf("decode roster entry: %w", err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read roster: %w", err)
	}
	return nil
}

// ByStaffNumber maps every staff number on the partner's roster (lower
// case) to its entry: an import compares a whole file against it.
func (s *Store) ByStaffNumber(ctx context.Context, scope access.Scope, partnerID string) (map[string]Member, error) {
	coll, err := s.roster(scope, partnerID)
	if err != nil {
		return nil, err
	}
	rc, err := s.current(ctx, coll, partnerID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Member, len(rc.members))
	for _, m := range rc.members {
		out[strings.ToLower(m.StaffNumber)] = m
	}
	return out, nil
}

// Add puts a new person on the partner's roster, with its audit event.
func (s *Store) Add(ctx context.Context, scope access.Scope, m Member, e audit.Event) (Member, error) {
	coll, err := s.roster(scope, m.PartnerID)
	if err != nil {
		return Member{}, err
	}
	m.ID = bson.NewObjectID()
	m.UpdatedAt = time.Now().UTC()
	m.Active = m.LeavingDate == nil || m.LeavingDate.After(m.UpdatedAt)
	m.Email = strings.ToLower(m.Email)
	e.Resource = "staff/" + m.ID.Hex()
	e.PartnerID = m.PartnerID
	if _, err := s.trail.Insert(ctx, coll, m, e); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return Member{}, ErrDuplicate
		}
		if errors.Is(err, audit.ErrPending) {
			// Stored, its event still to be chained: the caller may treat it as saved.
			s.changed(ctx, m.PartnerID, m)
			return m, fmt.Errorf("add staff member: %w", err)
		}
		return Member{}, fmt.Errorf("add staff member: %w", err)
	}
	s.changed(ctx, m.PartnerID, m)
	return m, nil
}

// Update replaces the details of an existing entry, with its audit event.
func (s *Store) Update(ctx context.Context, scope access.Scope, m Member, e audit.Event) error {
	coll, err := s.roster(scope, m.PartnerID)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	m.Email = strings.ToLower(m.Email)
	m.Active = m.ActiveOn(now)
	m.UpdatedAt = now
	set := bson.D{
		{Key: "staff_number", Value: m.StaffNumber},
		{Key: "name", Value: m.Name},
		{Key: "email", Value: m.Email},
		{Key: "role_title", Value: m.RoleTitle},
		{Key: "category", Value: m.Category},
		{Key: "sites", Value: m.Sites},
		{Key: "start_date", Value: m.StartDate},
		{Key: "active", Value: m.Active},
		{Key: "updated_at", Value: now},
	}
	update := bson.D{{Key: "$set", Value: set}}
	if m.LeavingDate != nil {
		set = append(set, bson.E{Key: "leaving_date", Value: *m.LeavingDate})
		update = bson.D{{Key: "$set", Value: set}}
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "leaving_date", Value: ""}}})
	}
	e.Resource = "staff/" + m.ID.Hex()
	e.PartnerID = m.PartnerID
	matched, _, err := s.trail.Update(ctx, coll, bson.D{{Key: "_id", Value: m.ID}}, update, e)
	if mongo.IsDuplicateKeyError(err) {
		return ErrDuplicate
	}
	if matched && (err == nil || errors.Is(err, audit.ErrPending)) {
		s.changed(ctx, m.PartnerID, m)
	}
	if err != nil {
		return fmt.Errorf("update staff member: %w", err)
	}
	if !matched {
		return ErrNotFound
	}
	return nil
}

// InsertMany adds new entries to one partner's roster in batches, for imports
// and seeding, giving each an ID; the caller records the audit event for the
// whole batch.
func (s *Store) InsertMany(ctx context.Context, scope access.Scope, partnerID string, members []Member) error {
	coll, err := s.roster(scope, partnerID)
	if err != nil {
		return err
	}
	const batch = 1000
	now := time.Now().UTC()
	for start := 0; start < len(members); start += batch {
		end := min(start+batch, len(members))
		docs := make([]any, 0, end-start)
		for i := start; i < end; i++ {
			if members[i].ID.IsZero() {
				members[i].ID = bson.NewObjectID() // so the caller knows it
			}
			m := members[i]
			if m.PartnerID != partnerID {
				return fmt.Errorf("insert staff: member %s belongs to %q, not %q", m.StaffNumber, m.PartnerID, partnerID)
			}
			m.Email = strings.ToLower(m.Email)
			if m.UpdatedAt.IsZero() {
				m.UpdatedAt = now
			}
			docs = append(docs, m)
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			// Part of a batch may have landed: copies must not miss it.
			s.changed(ctx, partnerID)
			return fmt.Errorf("insert staff: %w", err)
		}
		written := make([]Member, len(docs))
		for i, d := range docs {
			written[i] = d.(Member)
		}
		s.changed(ctx, partnerID, written...)
	}
	return nil
}

// SetAssessments stores people's newly evaluated compliance. It is derived
// data, so it carries no audit event of its own: the record changes that
// caused it have theirs.
func (s *Store) SetAssessments(ctx context.Context, scope access.Scope, partnerID string, assessed map[bson.ObjectID]Assessment) error {
	coll, err := s.roster(scope, partnerID)
	if err != nil {
		return err
	}
	if len(assessed) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, 0, len(assessed))
	for id, a := range assessed {
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "assessment", Value: a}}}}))
	}
	const batch = 500
	var failed error
	for start := 0; start < len(models); start += batch {
		if _, err := coll.BulkWrite(ctx, models[start:min(start+batch, len(models))], options.BulkWrite().SetOrdered(false)); err != nil {
			failed = fmt.Errorf("store assessments: %w", err)
			break
		}
	}
	if failed != nil {
		s.changedWith(ctx, partnerID, nil)
		return failed
	}
	s.changedWith(ctx, partnerID, func(members []Member) []Member {
		for i := range members {
			if a, ok := assessed[members[i].ID]; ok {
				members[i].Assessment = &a
			}
		}
		return members
	})
	return nil
}

// Members returns every person on the partner's roster, by staff number,
// from this process's copy: callers must not change them.
func (s *Store) Members(ctx context.Context, scope access.Scope, partnerID string) ([]Member, error) {
	coll, err := s.roster(scope, partnerID)
	if err != nil {
		return nil, err
	}
	rc, err := s.current(ctx, coll, partnerID)
	if err != nil {
		return nil, err
	}
	return rc.members, nil
}
