// Package oversight holds how contract managers hold partners to account:
// the inspections they make of a partner's contract, and the actions they
// raise against the partner (from an inspection, an incident or a review),
// which the partner answers with evidence until the department accepts the
// answer and closes the action.
//
// Inspections and actions belong to a contract, and through it to the
// partner that holds it: the partner is always taken from the contract as
// the caller can reach it, never from what the caller says, so neither can
// be filed against a partner that does not hold the contract.
package oversight

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/doclock"
	"github.com/department/safeguarding-portal/internal/invisible"
	"github.com/department/safeguarding-portal/internal/partner"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var (
	// ErrNotFound means no such inspection, action or contract within the
	// caller's reach. Something that exists out of reach and something that
	// does not exist at all look the same, so a guessed ID reveals nothing.
	ErrNotFound = errors.New("inspection, action or contract not found")
	// ErrConflict means the record changed since the caller read it, or is
	// not in a state that allows the change.
	ErrConflict = errors.New("changed by someone else or not in a state that allows this")
)

// ErrInvalid means the change itself is not acceptable; its message says
// why, for the person, as a GOV.UK error summary shows it.
type ErrInvalid struct{ Message string }

func (e *ErrInvalid) Error() string { return e.Message }

// Contracts finds a contract within the caller's reach; partner.Store does.
type Contracts interface {
	GetContract(ctx context.Context, scope access.Scope, id string) (partner.Contract, error)
}

// Actor is who did something: a person by subject and name, or a system.
type Actor struct {
	Kind string `bson:"kind"` // "person" or "system"
	ID   string `bson:"id"`
	Name string `bson:"name"`
}

// EvidenceRef is an evidence file (kept by the evidence store under the
// partner) attached to an inspection or to an action's chronology. The
// hash and size are those taken at upload, so what was relied on can be
// shown to be what is still stored.
type EvidenceRef struct {
	File   bson.ObjectID `bson:"file"`
	Name   string        `bson:"name"`
	SHA256 string        `bson:"sha256"`
	Size   int64         `bson:"size"`
}

// Limits on what people type: generous for an account of findings, bounded
// so a page, a report and the store stay usable.
const (
	maxShortText = 200
	maxNote      = 2_000
	maxLongText  = 10_000
	maxEvidence  = 10
	maxFileName  = 255
	maxSourceID  = 100
)

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	printable = regexp.MustCompile(`^[\x21-\x7e]+$`)
)

// Store keeps inspections and actions, every partner's in one collection
// each: the department reads across partners, and every query names the
// partners (and contracts) its caller may reach.
type Store struct {
	db        *mongo.Database
	trail     *audit.Trail
	contracts Contracts
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// inspectionLocks and actionLocks serialise this process's changes to
	// one record.
	inspectionLocks, actionLocks *doclock.Striped
}

// NewStore keeps inspections and actions in db, records their changes in
// trail, and finds the contracts they belong to in contracts.
func NewStore(db *mongo.Database, trail *audit.Trail, contracts Contracts) *Store {
	s := &Store{db: db, trail: trail, contracts: contracts}
	trail.Register(s.inspections(), s.actions())
	s.inspectionLocks = trail.GuardWrites(s.inspections())
	s.actionLocks = trail.GuardWrites(s.actions())
	return s
}

func (s *Store) inspections() *mongo.Collection { return s.db.Collection("inspections") }
func (s *Store) actions() *mongo.Collection     { return s.db.Collection("actions") }

// now is truncated to what the store keeps, so a record returned from a
// write equals the record read back.
func (s *Store) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Millisecond)
}

// EnsureIndexes creates what real MongoDB needs for the hot reads: lists
// by partner and by contract in the order pages show them, the dashboards'
// latest inspection and open action counts per contract (both answered
// from the index in its own order, the counts without reading a document),
// and the actions raised from one inspection, incident or review.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	asc, desc := 1, -1
	for _, ix := range []struct {
		coll *mongo.Collection
		name string
		keys bson.D
	}{
		{s.inspections(), "partner_planned", bson.D{{Key: "partner_id", Value: asc}, {Key: "planned_for", Value: desc}, {Key: "_id", Value: desc}}},
		{s.inspections(), "contract_planned", bson.D{{Key: "contract_id", Value: asc}, {Key: "planned_for", Value: desc}, {Key: "_id", Value: desc}}},
		{s.inspections(), "status_contract_completed", bson.D{{Key: "status", Value: asc}, {Key: "partner_id", Value: asc},
			{Key: "contract_id", Value: asc}, {Key: "completed_on", Value: desc}, {Key: "_id", Value: desc}}},
		{s.actions(), "partner_due", bson.D{{Key: "partner_id", Value: asc}, {Key: "due_on", Value: asc}, {Key: "_id", Value: asc}}},
		{s.actions(), "contract_due", bson.D{{Key: "contract_id", Value: asc}, {Key: "due_on", Value: asc}, {Key: "_id", Value: asc}}},
		{s.actions(), "status_contract_due", bson.D{{Key: "status", Value: asc}, {Key: "partner_id", Value: asc},
			{Key: "contract_id", Value: asc}, {Key: "due_on", Value: asc}}},
		{s.actions(), "source", bson.D{{Key: "source.kind", Value: asc}, {Key: "source.id", Value: asc}}},
	} {
		// One at a time: the embedded store fails a batch naming indexes
		// that already exist, as they do at every start but the first.
		if _, err := ix.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: options.Index().SetName(ix.name)}); err != nil {
			return fmt.Errorf("create %s index %s: %w", ix.coll.Name(), ix.name, err)
		}
	}
	return nil
}

// contract finds the contract a new record is about, within reach.
func (s *Store) contract(ctx context.Context, scope access.Scope, id string) (partner.Contract, error) {
	c, err := s.contracts.GetContract(ctx, scope, id)
	if errors.Is(err, partner.ErrNotFound) {
		return partner.Contract{}, ErrNotFound
	}
	if err != nil {
		return partner.Contract{}, fmt.Errorf("find contract %s: %w", id, err)
	}
	// The contract store decides; this repeats it in case its filter is ever built wrong.
	if c.ID != id || !scope.Includes(c.PartnerID) || !scope.IncludesContract(c.ID, c.PartnerID) {
		return partner.Contract{}, ErrNotFound
	}
	return c, nil
}

// scoped limits a query to the records of the contracts within reach, then
// to conds. A condition on a field the scope's own filter names is joined
// with $and, as a filter naming one field twice is not read the same way
// by every server.
func scoped(scope access.Scope, conds ...bson.E) bson.D {
	f := scope.ContractFieldFilter("contract_id")
	for _, c := range conds {
		for _, sf := range f {
			if sf.Key == c.Key {
				return bson.D{{Key: "$and", Value: bson.A{f, bson.D(conds)}}}
			}
		}
	}
	return append(f, conds...)
}

// narrowed is the scope limited to one partner when a list asks for one.
func narrowed(scope access.Scope, partnerID string) access.Scope {
	if partnerID == "" {
		return scope
	}
	return scope.Within(partnerID)
}

// findOne reads the record with id in coll into out, if it is within reach.
func findOne(ctx context.Context, coll *mongo.Collection, scope access.Scope, id string, out any) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return ErrNotFound
	}
	raw, err := coll.FindOne(ctx, scoped(scope, bson.E{Key: "_id", Value: oid})).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrNotFound
	}
	what := strings.TrimSuffix(coll.Name(), "s")
	if err != nil {
		return fmt.Errorf("read %s %s: %w", what, id, err)
	}
	// The filter decides; this repeats it in case a filter is ever built wrong.
	contractID, _ := raw.Lookup("contract_id").StringValueOK()
	partnerID, _ := raw.Lookup("partner_id").StringValueOK()
	if !scope.IncludesContract(contractID, partnerID) {
		return ErrNotFound
	}
	if err := bson.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("read %s %s: %w", what, id, err)
	}
	return nil
}

// stamp is what a change read of a record and insists on when it writes:
// if another change landed in between, the write matches nothing.
type stamp struct {
	id      bson.ObjectID
	partner string
	status  string
	version int
}

// update applies set (and push, if any) to the record as it was read, with
// its audit event, and bumps its version. The caller holds the record's
// lock. An error wrapping audit.ErrPending means the change was stored.
func (s *Store) update(ctx context.Context, scope access.Scope, coll *mongo.Collection, was stamp, set, push bson.D, e audit.Event) error {
	u := bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}
	if push != nil {
		u = append(u, bson.E{Key: "$push", Value: push})
	}
	e.PartnerID = was.partner
	e.Resource = strings.TrimSuffix(coll.Name(), "s") + "/" + was.id.Hex()
	e.Outcome = audit.Success
	// The filter repeats what was checked, so a change made meanwhile by
	// another replica turns this one into a conflict rather than a lost update.
	filter := scoped(scope, bson.E{Key: "_id", Value: was.id}, bson.E{Key: "version", Value: was.version}, bson.E{Key: "status", Value: was.status})
	matched, _, err := s.trail.Update(ctx, coll, filter, u, e)
	switch {
	case err != nil && !errors.Is(err, audit.ErrPending):
		return fmt.Errorf("%s: %w", e.Action, err)
	case !matched:
		return ErrConflict
	case err != nil:
		return fmt.Errorf("%s: %w", e.Action, err)
	}
	return nil
}

// insert stores a new record with its audit event. An error wrapping
// audit.ErrPending means the record was stored.
func (s *Store) insert(ctx context.Context, coll *mongo.Collection, id bson.ObjectID, partnerID string, doc any, e audit.Event) error {
	e.PartnerID = partnerID
	e.Resource = strings.TrimSuffix(coll.Name(), "s") + "/" + id.Hex()
	e.Outcome = audit.Success
	if _, err := s.trail.Insert(ctx, coll, doc, e); err != nil {
		return fmt.Errorf("%s: %w", e.Action, err)
	}
	return nil
}

func checkActor(by Actor) error {
	if by.ID == "" || by.Name == "" {
		return errors.New("oversight: the change must name who made it")
	}
	return nil
}

// checkText checks text people typed; what names it in the messages, as
// in "Enter the findings".
func checkText(what, text string, required bool, most int) error {
	switch {
	case strings.TrimSpace(text) == "":
		if required {
			return &ErrInvalid{"Enter " + what}
		}
	case utf8.RuneCountInString(text) > most:
		return &ErrInvalid{fmt.Sprintf("%s must be %d characters or fewer", capital(what), most)}
	case invisible.Hides(text):
		return &ErrInvalid{capital(what) + " must not contain hidden or control characters"}
	}
	return nil
}

// checkEvidence checks references to files the evidence store kept. The
// files themselves were checked on upload; a reference that is not whole
// means the upload went wrong, and the person can only upload again.
func checkEvidence(refs []EvidenceRef) error {
	if len(refs) > maxEvidence {
		return &ErrInvalid{fmt.Sprintf("Attach %d files or fewer", maxEvidence)}
	}
	seen := map[bson.ObjectID]bool{}
	for _, r := range refs {
		switch {
		case r.File.IsZero() || !sha256Hex.MatchString(r.SHA256) || r.Size <= 0 ||
			strings.TrimSpace(r.Name) == "" || len(r.Name) > maxFileName || invisible.Hides(r.Name):
			return &ErrInvalid{"A file could not be attached. Upload it again"}
		case seen[r.File]:
			return &ErrInvalid{"Attach each file once"}
		}
		seen[r.File] = true
	}
	return nil
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// day is the audit trail's form of a date: machine-readable, not personal.
func day(d time.Time) string { return d.Format(time.DateOnly) }

// today is the London calendar day now.
func (s *Store) today() time.Time { return calendar.Today(s.now()) }

// evidence is never nil once stored, so a page ranges over it without a check.
func evidence(refs []EvidenceRef) []EvidenceRef {
	if refs == nil {
		return []EvidenceRef{}
	}
	return refs
}
