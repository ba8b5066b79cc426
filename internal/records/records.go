// Package records holds what proves a partner's staff are fit to work with
// vulnerable customers: training completions and vetting checks, the
// department's verification of their evidence, and the upkeep of each staff
// member's compliance as those records change.
//
// All of one person's records live in one document (their "record book",
// keyed by their roster ID) in the partner's own collection. A person has a
// few dozen records at most, and every question the portal asks of them ("is
// this person compliant, and why?") needs all of them at once: one read by
// _id, which every backend answers from its primary key. Records are only
// ever appended, never removed or reordered, so a record's position in its
// list is stable and a decision about it is a single field update.
package records

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Verification states of a record's evidence.
const (
	Unverified = "unverified"
	Verified   = "verified"
	Rejected   = "rejected"
)

// Vetting outcomes. Conviction details are never accepted or stored: only
// whether the check was clear or, if information was disclosed, that it was
// risk-assessed and who approved the person to work.
const (
	OutcomeClear        = "clear"
	OutcomeRiskAssessed = "risk_assessed"
)

var (
	// ErrNotFound means no such person or record within the caller's reach.
	ErrNotFound = errors.New("record not found")
	// ErrDecided means the record's evidence was already verified or rejected.
	ErrDecided = errors.New("record already verified or rejected")
)

// Decision is the department's verdict on a record's evidence.
type Decision struct {
	Status string    `bson:"status"` // Verified or Rejected
	Reason string    `bson:"reason,omitempty"`
	By     string    `bson:"by"` // as people read their name
	At     time.Time `bson:"at"`
}

// Training is one completion of a training module.
type Training struct {
	ID        bson.ObjectID `bson:"id"`
	Module    string        `bson:"module"`
	Completed time.Time     `bson:"completed"` // calendar date
	Provider  string        `bson:"provider"`
	// Evidence is the certificate file, if one was attached.
	Evidence     *bson.ObjectID `bson:"evidence,omitempty"`
	EvidenceName string         `bson:"evidence_name,omitempty"`
	Verification string         `bson:"verification"`
	Decision     *Decision      `bson:"decision,omitempty"`
	RecordedBy   string         `bson:"recorded_by"`
	RecordedAt   time.Time      `bson:"recorded_at"`
	// ImportID names the completions import that added it, if one did.
	ImportID string `bson:"import_id,omitempty"`
}

// Vetting is one vetting check: a DBS certificate, a national security
// vetting clearance or a right to work check.
type Vetting struct {
	ID   bson.ObjectID `bson:"id"`
	Type string        `bson:"type"`
	// Reference is the certificate number (12 digits for DBS) or the
	// clearance or share code reference.
	Reference string    `bson:"reference,omitempty"`
	Issued    time.Time `bson:"issued"` // calendar date
	// UpdateService says the person subscribes to the DBS Update Service, so
	// a status check can stand in for a new application.
	UpdateService bool       `bson:"update_service,omitempty"`
	StatusChecked *time.Time `bson:"status_checked,omitempty"`
	Outcome       string     `bson:"outcome"`
	// RiskApprovedBy is who approved the person to work after information
	// was disclosed and assessed.
	RiskApprovedBy string `bson:"risk_approved_by,omitempty"`
	// RecheckBy is an explicit re-check date, such as the day time-limited
	// permission to work ends; it overrides the policy period.
	RecheckBy    *time.Time     `bson:"recheck_by,omitempty"`
	Evidence     *bson.ObjectID `bson:"evidence,omitempty"`
	EvidenceName string         `bson:"evidence_name,omitempty"`
	Verification string         `bson:"verification"`
	Decision     *Decision      `bson:"decision,omitempty"`
	RecordedBy   string         `bson:"recorded_by"`
	RecordedAt   time.Time      `bson:"recorded_at"`
}

// Book is all of one person's records.
type Book struct {
	StaffID   bson.ObjectID `bson:"_id"`
	PartnerID string        `bson:"partner_id"`
	Training  []Training    `bson:"training"`
	Vetting   []Vetting     `bson:"vetting"`
}

// Store keeps record books, one partner's collection at a time.
type Store struct {
	db    *mongo.Database
	trail *audit.Trail
	// locks serialise this process's writes to one book: the embedded store
	// can lose one of two concurrent updates to a document.
	locks [64]sync.Mutex
}

// NewStore keeps record books in db and records their changes in trail.
func NewStore(db *mongo.Database, trail *audit.Trail) *Store {
	return &Store{db: db, trail: trail}
}

var partnerIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

func (s *Store) books(scope access.Scope, partnerID string) (*mongo.Collection, error) {
	if !partnerIDPattern.MatchString(partnerID) || !scope.Includes(partnerID) {
		return nil, ErrNotFound
	}
	return s.db.Collection("records_" + partnerID), nil
}

// Register tells the audit trail about a partner's book collection, so
// changes a crash left half-recorded there are found at start-up.
func (s *Store) Register(partnerID string) {
	if coll, err := s.books(access.PartnerScope(partnerID), partnerID); err == nil {
		s.trail.Register(coll)
	}
}

func (s *Store) lock(staffID bson.ObjectID) func() {
	m := &s.locks[staffID[len(staffID)-1]%byte(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// Get returns a person's record book; a person with no records has an empty one.
func (s *Store) Get(ctx context.Context, scope access.Scope, partnerID string, staffID bson.ObjectID) (Book, error) {
	coll, err := s.books(scope, partnerID)
	if err != nil {
		return Book{}, err
	}
	var b Book
	err = coll.FindOne(ctx, bson.D{{Key: "_id", Value: staffID}}).Decode(&b)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Book{StaffID: staffID, PartnerID: partnerID}, nil
	}
	if err != nil {
		return Book{}, fmt.Errorf("read record book: %w", err)
	}
	if b.PartnerID != partnerID {
		return Book{}, ErrNotFound
	}
	return b, nil
}

// Each calls fn with every record book of the partner, for rebuilds.
func (s *Store) Each(ctx context.Context, scope access.Scope, partnerID string, fn func(Book) error) error {
	coll, err := s.books(scope, partnerID)
	if err != nil {
		return err
	}
	cur, err := coll.Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("read record books: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var b Book
		if err := cur.Decode(&b); err != nil {
			return fmt.Errorf("decode record book: %w", err)
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read record books: %w", err)
	}
	return nil
}

// add appends one record to a list of the person's book, creating the book
// with its first record, together with the audit event.
func (s *Store) add(ctx context.Context, scope access.Scope, partnerID string, staffID bson.ObjectID, list string, record any, e audit.Event) error {
	coll, err := s.books(scope, partnerID)
	if err != nil {
		return err
	}
	defer s.lock(staffID)()
	e.PartnerID = partnerID
	push := bson.D{{Key: "$push", Value: bson.D{{Key: list, Value: record}}}}
	matched, _, err := s.trail.Update(ctx, coll, bson.D{{Key: "_id", Value: staffID}}, push, e)
	if err != nil || matched {
		return storedErr("add record", err)
	}
	book := Book{StaffID: staffID, PartnerID: partnerID, Training: []Training{}, Vetting: []Vetting{}}
	switch r := record.(type) {
	case Training:
		book.Training = append(book.Training, r)
	case Vetting:
		book.Vetting = append(book.Vetting, r)
	}
	_, err = s.trail.Insert(ctx, coll, book, e)
	if mongo.IsDuplicateKeyError(err) {
		// Another replica created the book first: add to it.
		_, _, err = s.trail.Update(ctx, coll, bson.D{{Key: "_id", Value: staffID}}, push, e)
	}
	return storedErr("add record", err)
}

// storedErr wraps err with what failed, keeping audit.ErrPending visible:
// the change is stored, its audit event still to be chained.
func storedErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// AddTraining records a completion, unverified, with its audit event.
func (s *Store) AddTraining(ctx context.Context, scope access.Scope, partnerID string, staffID bson.ObjectID, t Training, e audit.Event) (Training, error) {
	t.ID = bson.NewObjectID()
	t.Verification = Unverified
	t.Decision = nil
	t.RecordedAt = time.Now().UTC()
	e.Resource = "staff/" + staffID.Hex() + "/training/" + t.ID.Hex()
	return t, s.add(ctx, scope, partnerID, staffID, "training", t, e)
}

// AddVetting records a vetting check, unverified, with its audit event.
func (s *Store) AddVetting(ctx context.Context, scope access.Scope, partnerID string, staffID bson.ObjectID, v Vetting, e audit.Event) (Vetting, error) {
	v.ID = bson.NewObjectID()
	v.Verification = Unverified
	v.Decision = nil
	v.RecordedAt = time.Now().UTC()
	e.Resource = "staff/" + staffID.Hex() + "/vetting/" + v.ID.Hex()
	return v, s.add(ctx, scope, partnerID, staffID, "vetting", v, e)
}

// Decide verifies or rejects the evidence of one record, once.
func (s *Store) Decide(ctx context.Context, scope access.Scope, partnerID string, staffID, recordID bson.ObjectID, d Decision, e audit.Event) error {
	coll, err := s.books(scope, partnerID)
	if err != nil {
		return err
	}
	if d.Status != Verified && d.Status != Rejected {
		return fmt.Errorf("decide record: unknown decision %q", d.Status)
	}
	defer s.lock(staffID)()
	b, err := s.Get(ctx, scope, partnerID, staffID)
	if err != nil {
		return err
	}
	list, at, state := b.find(recordID)
	switch {
	case at < 0:
		return ErrNotFound
	case state != Unverified:
		return ErrDecided
	}
	d.At = d.At.UTC()
	path := fmt.Sprintf("%s.%d", list, at)
	e.PartnerID = partnerID
	e.Resource = "staff/" + staffID.Hex() + "/" + list + "/" + recordID.Hex()
	// The filter repeats the record's ID at its position: records are never
	// reordered, so this only guards against a book that is not what was read.
	_, _, err = s.trail.Update(ctx, coll,
		bson.D{{Key: "_id", Value: staffID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: path + ".verification", Value: d.Status}, {Key: path + ".decision", Value: d}}}}, e)
	return storedErr("record decision", err)
}

// find locates a record in the book: which list, where, and its state.
func (b Book) find(id bson.ObjectID) (list string, at int, state string) {
	for i, t := range b.Training {
		if t.ID == id {
			return "training", i, t.Verification
		}
	}
	for i, v := range b.Vetting {
		if v.ID == id {
			return "vetting", i, v.Verification
		}
	}
	return "", -1, ""
}

// TrainingRecord returns the book's training record with id.
func (b Book) TrainingRecord(id bson.ObjectID) (Training, bool) {
	for _, t := range b.Training {
		if t.ID == id {
			return t, true
		}
	}
	return Training{}, false
}

// VettingRecord returns the book's vetting record with id.
func (b Book) VettingRecord(id bson.ObjectID) (Vetting, bool) {
	for _, v := range b.Vetting {
		if v.ID == id {
			return v, true
		}
	}
	return Vetting{}, false
}
