package partner

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/requirements"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// ReferencePattern is a contract reference: CS, a three-letter service code,
// the year and a sequence number, e.g. CS-ACC-2025-014.
var ReferencePattern = regexp.MustCompile(`^CS-[A-Z]{3}-[0-9]{4}-[0-9]{3}$`)

// MaxReason bounds a status change's reason: long enough to explain a
// suspension, short enough to read on the contract page.
const MaxReason = 2000

// MaxManagers bounds a contract's managers: a handful in practice.
const MaxManagers = 20

// AddedReason is the status reason a contract starts with when none is given.
const AddedReason = "Contract added to the portal"

// check guards the invariants every stored contract keeps, whatever form or
// tool produced it; the pages say what is wrong in people's words first.
func (c Contract) check() error {
	switch {
	case !ReferencePattern.MatchString(c.ID):
		return fmt.Errorf("invalid contract reference %q", c.ID)
	case !IDPattern.MatchString(c.PartnerID):
		return fmt.Errorf("contract %s: invalid partner ID %q", c.ID, c.PartnerID)
	case strings.TrimSpace(c.Title) == "":
		return fmt.Errorf("contract %s has no title", c.ID)
	case serviceLineNames[c.ServiceLine] == "":
		return fmt.Errorf("contract %s: unknown service line %q", c.ID, c.ServiceLine)
	case !slices.Contains(Statuses, c.Status):
		return fmt.Errorf("contract %s: unknown status %q", c.ID, c.Status)
	case c.StartDate.IsZero() || !c.EndDate.After(c.StartDate):
		return fmt.Errorf("contract %s must end after it starts", c.ID)
	case len(c.Managers) == 0 || len(c.Managers) > MaxManagers:
		return fmt.Errorf("contract %s must have 1 to %d managers", c.ID, MaxManagers)
	case slices.Contains(c.Managers, ""):
		return fmt.Errorf("contract %s has an empty manager", c.ID)
	}
	return nil
}

// contractFilter finds contract id only if it is within scope, plus conds.
// The scope's own filter may already constrain _id (a contract manager's
// assigned contracts), so the two are combined with $and rather than merged
// into one document with _id twice. An unlimited scope leaves a plain _id
// filter, which the SQLite store answers without scanning.
func contractFilter(scope access.Scope, id string, conds ...bson.E) bson.D {
	f := append(bson.D{{Key: "_id", Value: id}}, conds...)
	sf := scope.ContractFilter()
	if len(sf) == 0 {
		return f
	}
	return bson.D{{Key: "$and", Value: bson.A{sf, f}}}
}

// versionIs matches a contract still at version v. Contracts stored before
// versioning have no version field and count as version 0.
func versionIs(v int64) bson.E {
	if v == 0 {
		return bson.E{Key: "version", Value: bson.D{{Key: "$in", Value: bson.A{int64(0), nil}}}}
	}
	return bson.E{Key: "version", Value: v}
}

// GetContract returns the contract with id, if it is within scope.
func (s *Store) GetContract(ctx context.Context, scope access.Scope, id string) (Contract, error) {
	var d contractDoc
	err := s.contracts.FindOne(ctx, contractFilter(scope, id)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Contract{}, ErrNotFound
	}
	if err != nil {
		return Contract{}, fmt.Errorf("get contract: %w", err)
	}
	return d.contract(), nil
}

// CreateContract adds a contract to a partner within scope, with its audit
// event. It starts with status c.Status (active if empty), recorded as the
// first entry of its status history with c.StatusReason (AddedReason if
// empty) as set by c.StatusChangedBy. Its requirement set is the default
// until tailored. ErrNotFound if the partner is out of reach, ErrDuplicate if
// the reference is taken.
func (s *Store) CreateContract(ctx context.Context, scope access.Scope, c Contract, e audit.Event) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	if _, err := s.Get(ctx, scope, c.PartnerID); err != nil {
		return err
	}
	if c.Status == "" {
		c.Status = Active
	}
	if c.StatusReason == "" {
		c.StatusReason = AddedReason
	}
	c.Managers = dedupe(c.Managers)
	if err := c.check(); err != nil {
		return err
	}
	c.StatusChangedAt = now()
	c.StatusHistory = []StatusChange{{Status: c.Status, Reason: c.StatusReason, By: c.StatusChangedBy, At: c.StatusChangedAt}}
	c.Requirements = nil
	c.RequirementHistory = nil
	c.Version = 0
	e.Resource = "contract/" + c.ID
	e.PartnerID = c.PartnerID
	if _, err := s.trail.Insert(ctx, s.contracts, docOf(c), e); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return ErrDuplicate
		}
		return fmt.Errorf("create contract %s: %w", c.ID, err)
	}
	return nil
}

// UpdateContract changes a contract's title, service line, dates and
// managers, with its audit event. c.Version is the version the change was
// based on. The reference and partner never change. Errors: ErrNotFound
// (out of scope), ErrConflict (changed meanwhile), ErrUnchanged.
func (s *Store) UpdateContract(ctx context.Context, scope access.Scope, c Contract, e audit.Event) error {
	cur, err := s.current(ctx, scope, c.ID, c.Version)
	if err != nil {
		return err
	}
	c.PartnerID, c.Status = cur.PartnerID, cur.Status
	c.Managers = dedupe(c.Managers)
	if err := c.check(); err != nil {
		return err
	}
	if c.Title == cur.Title && c.ServiceLine == cur.ServiceLine && c.StartDate.Equal(cur.StartDate) &&
		c.EndDate.Equal(cur.EndDate) && slices.Equal(c.Managers, cur.Managers) {
		return ErrUnchanged
	}
	return s.change(ctx, scope, cur, bson.D{
		{Key: "title", Value: c.Title},
		{Key: "service_line", Value: c.ServiceLine},
		{Key: "start_date", Value: c.StartDate},
		{Key: "end_date", Value: c.EndDate},
		{Key: "managers", Value: c.Managers},
	}, e)
}

// SetStatus moves a contract to status for reason, recording who did it (by,
// as people read their name) and when, on the contract and in its status
// history, with its audit event. version is the version the decision was
// based on. Errors: ErrNotFound, ErrConflict, ErrUnchanged (already in
// that status).
func (s *Store) SetStatus(ctx context.Context, scope access.Scope, contractID string, version int64, status, reason, by string, e audit.Event) error {
	reason = strings.TrimSpace(reason)
	switch {
	case !slices.Contains(Statuses, status):
		return fmt.Errorf("set status of %s: unknown status %q", contractID, status)
	case reason == "" || utf8.RuneCountInString(reason) > MaxReason:
		return fmt.Errorf("set status of %s: the reason must be 1 to %d characters", contractID, MaxReason)
	}
	cur, err := s.current(ctx, scope, contractID, version)
	if err != nil {
		return err
	}
	if cur.Status == status {
		return ErrUnchanged
	}
	at := now()
	history := cur.StatusHistory
	if len(history) == 0 {
		// A contract from before status history was kept: record the status
		// it had, as far as is known, so the history shows what changed.
		history = []StatusChange{{Status: cur.Status, Reason: cur.StatusReason, By: cur.StatusChangedBy, At: cur.StatusChangedAt}}
	}
	history = append(slices.Clone(history), StatusChange{Status: status, Reason: reason, By: by, At: at})
	// The reason may describe people; the trail keeps only the transition.
	e.Detail = cur.Status + " to " + status
	return s.change(ctx, scope, cur, bson.D{
		{Key: "status", Value: status},
		{Key: "status_reason", Value: reason},
		{Key: "status_changed_by", Value: by},
		{Key: "status_changed_at", Value: at},
		{Key: "status_history", Value: history},
	}, e)
}

// SetRequirements stores a contract's tailored requirement set, and adds
// summary (the change as people read it, from requirements.Diff against the
// set in force) to its requirement history, with its audit event. The caller
// validates set against the catalogue; version is the version the summary
// was worked out against, so the history never describes a different edit
// from the one stored. Errors: ErrNotFound, ErrConflict, ErrUnchanged (an
// empty summary).
func (s *Store) SetRequirements(ctx context.Context, scope access.Scope, contractID string, version int64, set requirements.Set, by string, summary []string, e audit.Event) error {
	if len(summary) == 0 {
		return ErrUnchanged
	}
	cur, err := s.current(ctx, scope, contractID, version)
	if err != nil {
		return err
	}
	history := append(slices.Clone(cur.RequirementHistory), RequirementChange{At: now(), By: by, Changes: slices.Clone(summary)})
	e.Detail = fmt.Sprintf("%d changes", len(summary))
	return s.change(ctx, scope, cur, bson.D{
		{Key: "requirements", Value: storedSetOf(set)},
		{Key: "requirement_history", Value: history},
	}, e)
}

// current reads the contract a change is based on: within scope, and still
// at the version the caller saw.
func (s *Store) current(ctx context.Context, scope access.Scope, id string, version int64) (Contract, error) {
	if err := s.checkWritable(); err != nil {
		return Contract{}, err
	}
	cur, err := s.GetContract(ctx, scope, id)
	if err != nil {
		return Contract{}, err
	}
	if cur.Version != version {
		return Contract{}, ErrConflict
	}
	return cur, nil
}

// change applies set to cur and moves it to the next version, only if no
// other change landed since cur was read: histories are rewritten whole, so
// the version check is what keeps a concurrent entry from being lost.
func (s *Store) change(ctx context.Context, scope access.Scope, cur Contract, set bson.D, e audit.Event) error {
	e.Resource = "contract/" + cur.ID
	e.PartnerID = cur.PartnerID
	update := bson.D{
		{Key: "$set", Value: set},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}},
	}
	matched, _, err := s.trail.Update(ctx, s.contracts, contractFilter(scope, cur.ID, versionIs(cur.Version)), update, e)
	if err != nil {
		// ErrPending is wrapped through: the change is stored and must not be repeated.
		return fmt.Errorf("change contract %s: %w", cur.ID, err)
	}
	if !matched {
		return ErrConflict
	}
	return nil
}

// now is the time a change is recorded at, as BSON stores it, so a contract
// read back equals the one written.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// contractDoc is a contract as stored. Its requirement set is stored with
// each vetting requirement as a sub-document rather than a list of lists:
// FerretDB, the store the portal may run on, does not support nested arrays.
type contractDoc struct {
	Contract     `bson:",inline"`
	Requirements *storedSet `bson:"requirements,omitempty"`
}

type storedSet struct {
	Rules         []storedRule   `bson:"rules"`
	RefreshMonths map[string]int `bson:"refresh_months,omitempty"`
}

type storedRule struct {
	Category string          `bson:"category"`
	Training []string        `bson:"training"`
	Vetting  []storedVetting `bson:"vetting"`
}

// storedVetting is one vetting requirement: any one of its types satisfies it.
type storedVetting struct {
	AnyOf []string `bson:"any_of"`
}

func docOf(c Contract) contractDoc {
	d := contractDoc{Contract: c}
	if c.Requirements != nil {
		d.Requirements = storedSetOf(*c.Requirements)
	}
	return d
}

func storedSetOf(set requirements.Set) *storedSet {
	set = set.Clone()
	out := &storedSet{Rules: make([]storedRule, len(set.Rules)), RefreshMonths: set.RefreshMonths}
	for i, r := range set.Rules {
		out.Rules[i] = storedRule{Category: r.Category, Training: r.Training, Vetting: make([]storedVetting, len(r.Vetting))}
		if out.Rules[i].Training == nil {
			out.Rules[i].Training = []string{}
		}
		for j, g := range r.Vetting {
			out.Rules[i].Vetting[j] = storedVetting{AnyOf: g}
		}
	}
	return out
}

func (d contractDoc) contract() Contract {
	c := d.Contract
	if d.Requirements == nil {
		c.Requirements = nil
		return c
	}
	set := requirements.Set{Rules: make([]requirements.Rule, len(d.Requirements.Rules)), RefreshMonths: d.Requirements.RefreshMonths}
	for i, r := range d.Requirements.Rules {
		set.Rules[i] = requirements.Rule{Category: r.Category, Training: r.Training}
		if len(r.Vetting) > 0 {
			set.Rules[i].Vetting = make([][]string, len(r.Vetting))
		}
		for j, v := range r.Vetting {
			set.Rules[i].Vetting[j] = v.AnyOf
		}
	}
	c.Requirements = &set
	return c
}
