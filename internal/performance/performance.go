// Package performance keeps the failures partners score against their
// contracts' key performance indicators, and the running score per
// contract and period that contract management meetings (monthly) and
// strategic review boards (quarterly) go through.
//
// A failure is a late incident notification, an action left overdue, a
// member of staff working without required training or vetting past a
// grace period, or an inspection rated inadequate. Failures are found in
// the other stores' records by a background job (see Detector), each with
// the evidence that it happened, and score the points the contract's terms
// set when it is recorded. A manager may waive one, with a reason: it stays
// on record, marked waived, and no longer counts.
//
// Periods are calendar months in London: a failure counts in the month it
// happened, or for one that runs on (an overdue action, someone still
// untrained) in each month it runs in.
package performance

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/doclock"
	"github.com/department/safeguarding-portal/internal/invisible"
	"github.com/department/safeguarding-portal/internal/paged"
	"github.com/department/safeguarding-portal/internal/partner"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Indicators a failure is scored against.
const (
	LateNotification  = "late_notification"
	OverdueAction     = "overdue_action"
	StaffNotCompliant = "staff_not_compliant"
	FailedInspection  = "failed_inspection"
)

// Indicators lists the indicators in the order pages show them.
var Indicators = []string{LateNotification, OverdueAction, StaffNotCompliant, FailedInspection}

var indicatorNames = map[string]string{
	LateNotification:  "Late incident notification",
	OverdueAction:     "Overdue action",
	StaffNotCompliant: "Staff without required training or vetting",
	FailedInspection:  "Failed inspection",
}

// IndicatorName is an indicator as people read it; "" for none.
func IndicatorName(indicator string) string { return indicatorNames[indicator] }

var (
	// ErrNotFound means no such failure within the caller's reach; one out
	// of reach and one that does not exist look the same.
	ErrNotFound = errors.New("performance failure not found")
	// ErrConflict means the failure changed since the caller read it, or
	// is already waived.
	ErrConflict = errors.New("changed by someone else or already waived")
	// ErrUncounted is wrapped when a waiver was stored but its contract's
	// score could not be worked out again: the next detection run does it.
	ErrUncounted = errors.New("waived; the score counts the waiver from the next detection run")
)

// ErrInvalid means the change itself is not acceptable; its message says
// why, as a GOV.UK error summary shows it.
type ErrInvalid struct{ Message string }

func (e *ErrInvalid) Error() string { return e.Message }

// Actor is who waived a failure: a person by subject and name.
type Actor struct {
	ID   string `bson:"id"`
	Name string `bson:"name"`
}

// Failure is one failure against one of a contract's indicators, with the
// evidence that it happened. Its ID is worked out from what failed (and,
// for a failure that runs on, the month), so finding it again records
// nothing new.
type Failure struct {
	ID         bson.ObjectID `bson:"_id"`
	ContractID string        `bson:"contract_id"`
	PartnerID  string        `bson:"partner_id"`
	Indicator  string        `bson:"indicator"`
	// Month is the first day of the calendar month it counts in (see calendar).
	Month time.Time `bson:"month"`
	// OccurredOn is the day it happened; for one that runs on, the first
	// day of it in Month.
	OccurredOn time.Time `bson:"occurred_on"`
	Evidence   Evidence  `bson:"evidence"`
	// Points are what it scored under the terms in force when recorded.
	Points     int       `bson:"points"`
	RecordedAt time.Time `bson:"recorded_at"`
	// Waived repeats whether Waiver is set, for the scores to group on.
	Waived  bool    `bson:"waived"`
	Waiver  *Waiver `bson:"waiver,omitempty"`
	Version int     `bson:"version"`
}

// Evidence is what shows a failure happened: references to the records
// themselves, and the facts that made them a failure. Only the fields of
// the failure's indicator are set.
type Evidence struct {
	// A late notification: the incident, when it reached the department and how late.
	IncidentID        string        `bson:"incident_id,omitempty"`
	IncidentReference string        `bson:"incident_reference,omitempty"`
	NotifiedAt        *time.Time    `bson:"notified_at,omitempty"`
	LateBy            time.Duration `bson:"late_by,omitempty"`
	// An overdue action: the action, its title and the day it was due.
	ActionID    string     `bson:"action_id,omitempty"`
	ActionTitle string     `bson:"action_title,omitempty"`
	DueOn       *time.Time `bson:"due_on,omitempty"`
	// A failed inspection: the inspection, its site, when and its rating.
	InspectionID string     `bson:"inspection_id,omitempty"`
	Site         string     `bson:"site,omitempty"`
	InspectedOn  *time.Time `bson:"inspected_on,omitempty"`
	Rating       string     `bson:"rating,omitempty"`
	// Staff without required training or vetting: who (by roster ID and
	// staff number, never by name), since when, and what is missing.
	StaffID     string     `bson:"staff_id,omitempty"`
	StaffNumber string     `bson:"staff_number,omitempty"`
	Since       *time.Time `bson:"since,omitempty"`
	Missing     []Missing  `bson:"missing,omitempty"`
}

// Missing is one requirement someone does not meet: its key (a module ID,
// or a vetting group's type IDs joined with "|"), its state (missing or
// expired) and the day it stopped being met.
type Missing struct {
	Key   string    `bson:"key"`
	State string    `bson:"state"`
	Since time.Time `bson:"since"`
}

// Waiver is a manager's decision that a failure should not count.
type Waiver struct {
	By     Actor     `bson:"by"`
	At     time.Time `bson:"at"`
	Reason string    `bson:"reason"`
}

// MaxReason bounds a waiver's reason.
const MaxReason = 2000

// Contracts lists the contracts within reach; partner.Store does.
type Contracts interface {
	Contracts(ctx context.Context, scope access.Scope) ([]partner.Contract, error)
}

// Store keeps every partner's failures in one collection: the department
// reads across partners, and every query names the contracts its caller
// may reach.
type Store struct {
	db        *mongo.Database
	trail     *audit.Trail
	contracts Contracts
	defaults  Terms
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// locks serialise this process's changes to one failure, scoreLocks
	// to one stored score.
	locks      *doclock.Striped
	scoreLocks *doclock.Striped
}

// NewStore keeps failures in db, records their changes in trail, finds
// contracts (and their own terms) in contracts, and scores contracts
// without terms of their own by defaults (DefaultTerms if nil).
func NewStore(db *mongo.Database, trail *audit.Trail, contracts Contracts, defaults *Terms) *Store {
	s := &Store{db: db, trail: trail, contracts: contracts, defaults: *cmp.Or(defaults, DefaultTerms())}
	trail.Register(s.failures())
	s.locks = trail.GuardWrites(s.failures())
	s.scoreLocks = trail.Locks("performance scores")
	return s
}

func (s *Store) failures() *mongo.Collection { return s.db.Collection("performance_failures") }

func (s *Store) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Millisecond)
}

// Defaults are the department's terms, for contracts without their own.
func (s *Store) Defaults() Terms { return s.defaults }

// TermsFor are the terms a contract is scored by: its own, or the defaults.
func (s *Store) TermsFor(c partner.Contract) Terms {
	if c.Performance != nil {
		return *c.Performance
	}
	return s.defaults
}

// EnsureIndexes creates what real MongoDB needs: the counts behind the
// scores of some months (answered from month_contract alone, without
// reading a failure), a contract's failures a month at a time in the order
// pages list them, and the stored scores of a month.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	for _, ix := range []struct {
		coll *mongo.Collection
		name string
		keys bson.D
	}{
		{s.failures(), "month_contract", bson.D{{Key: "month", Value: 1}, {Key: "contract_id", Value: 1}, {Key: "partner_id", Value: 1},
			{Key: "waived", Value: 1}, {Key: "points", Value: 1}}},
		{s.failures(), "contract_month", bson.D{{Key: "contract_id", Value: 1}, {Key: "month", Value: 1}, {Key: "occurred_on", Value: -1}, {Key: "_id", Value: -1}}},
		{s.scoreDocs(), "month_contract", bson.D{{Key: "month", Value: 1}, {Key: "partner_id", Value: 1}, {Key: "contract_id", Value: 1}}},
	} {
		// One at a time: the embedded store fails a batch naming indexes
		// that already exist, as they do at every start but the first.
		m := mongo.IndexModel{Keys: ix.keys, Options: options.Index().SetName(ix.name)}
		if _, err := ix.coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create %s index %s: %w", ix.coll.Name(), ix.name, err)
		}
	}
	return nil
}

// MonthOf is the first day of the London calendar month at instant t.
func MonthOf(t time.Time) time.Time { return monthOfDay(calendar.Today(t)) }

// monthOfDay is the first day of the month of calendar day d.
func monthOfDay(d time.Time) time.Time { return calendar.Date(d.Year(), d.Month(), 1) }

// QuarterOf is the first month of the calendar quarter holding month:
// January, April, July or October.
func QuarterOf(month time.Time) time.Time {
	return calendar.Date(month.Year(), month.Month()-(month.Month()-1)%3, 1)
}

// failureID is a failure's ID worked out from what identifies it, so
// every replica that finds the same failure names it the same.
func failureID(parts ...string) bson.ObjectID {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	var id bson.ObjectID
	copy(id[:], sum[:len(id)])
	return id
}

// scoped limits a query to the failures of contracts within reach, then to
// conds; a condition on a field the scope's filter names is joined with
// $and, as a filter naming one field twice is not read alike by every server.
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

// Get returns a failure within the caller's reach.
func (s *Store) Get(ctx context.Context, scope access.Scope, id string) (Failure, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Failure{}, ErrNotFound
	}
	var f Failure
	err = s.failures().FindOne(ctx, scoped(scope, bson.E{Key: "_id", Value: oid})).Decode(&f)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Failure{}, ErrNotFound
	}
	if err != nil {
		return Failure{}, fmt.Errorf("read performance failure %s: %w", id, err)
	}
	// The filter decides; this repeats it in case a filter is ever built wrong.
	if !scope.IncludesContract(f.ContractID, f.PartnerID) {
		return Failure{}, ErrNotFound
	}
	return f, nil
}

// Filter selects failures to list; empty fields do not filter.
type Filter struct {
	ContractID string
	// Month, if not zero, is the first day of the month to list.
	Month     time.Time
	Indicator string
}

// List lists failures within reach matching f, latest first, a page at a
// time, with how many match in all. Waived failures are listed too.
func (s *Store) List(ctx context.Context, scope access.Scope, f Filter, page, perPage int) ([]Failure, int64, error) {
	var conds []bson.E
	if f.ContractID != "" {
		conds = append(conds, bson.E{Key: "contract_id", Value: f.ContractID})
	}
	if !f.Month.IsZero() {
		conds = append(conds, bson.E{Key: "month", Value: monthOfDay(f.Month)})
	}
	if f.Indicator != "" {
		conds = append(conds, bson.E{Key: "indicator", Value: f.Indicator})
	}
	out, total, err := paged.Find[Failure](ctx, s.failures(), scoped(scope, conds...),
		bson.D{{Key: "occurred_on", Value: -1}, {Key: "_id", Value: -1}}, nil, page, perPage)
	if err != nil {
		return nil, 0, fmt.Errorf("list performance failures: %w", err)
	}
	return out, total, nil
}

// Waive records a manager's decision that a failure should not count,
// with the reason, and its audit event (which keeps the decision, never
// the reason). version is the version the manager saw. Errors:
// ErrNotFound, ErrConflict (changed meanwhile or already waived),
// *ErrInvalid; one wrapping audit.ErrPending or ErrUncounted means it was
// stored.
func (s *Store) Waive(ctx context.Context, scope access.Scope, id string, version int, reason string, by Actor, e audit.Event) (Failure, error) {
	if by.ID == "" || by.Name == "" {
		return Failure{}, errors.New("performance: a waiver must name who made it")
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return Failure{}, &ErrInvalid{"Enter the reason for waiving the failure"}
	case utf8.RuneCountInString(reason) > MaxReason:
		return Failure{}, &ErrInvalid{fmt.Sprintf("The reason must be %d characters or fewer", MaxReason)}
	case invisible.Hides(reason):
		return Failure{}, &ErrInvalid{"The reason must not contain hidden or control characters"}
	}
	f, err := s.waive(ctx, scope, id, version, reason, by, e)
	if err != nil && !errors.Is(err, audit.ErrPending) {
		return Failure{}, err
	}
	if terr := s.retally(ctx, f.ContractID, f.Month); terr != nil {
		return f, fmt.Errorf("%w: %w", ErrUncounted, terr)
	}
	return f, err
}

func (s *Store) waive(ctx context.Context, scope access.Scope, id string, version int, reason string, by Actor, e audit.Event) (Failure, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Failure{}, ErrNotFound
	}
	defer s.locks.Lock(oid.Hex())()
	f, err := s.Get(ctx, scope, id)
	if err != nil {
		return Failure{}, err
	}
	if f.Waived || f.Version != version {
		return Failure{}, ErrConflict
	}
	w := Waiver{By: by, At: s.now(), Reason: reason}
	e.Action = "performance.waive"
	e.Resource = "performance_failure/" + f.ID.Hex()
	e.PartnerID = f.PartnerID
	e.Outcome = audit.Success
	e.Detail = fmt.Sprintf("%s, %d points, %s", f.Indicator, f.Points, f.Month.Format("2006-01"))
	// The filter repeats what was checked, so a waiver made meanwhile on
	// another replica turns this one into a conflict, not a second waiver.
	filter := scoped(scope, bson.E{Key: "_id", Value: f.ID}, bson.E{Key: "version", Value: f.Version}, bson.E{Key: "waived", Value: false})
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "waived", Value: true}, {Key: "waiver", Value: w}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}
	matched, _, err := s.trail.Update(ctx, s.failures(), filter, update, e)
	switch {
	case err != nil && !errors.Is(err, audit.ErrPending):
		return Failure{}, fmt.Errorf("waive performance failure: %w", err)
	case !matched:
		return Failure{}, ErrConflict
	}
	f.Waived, f.Waiver, f.Version = true, &w, f.Version+1
	return f, err
}
