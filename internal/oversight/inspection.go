package oversight

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/paged"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Inspection statuses.
const (
	Planned   = "planned"
	Completed = "completed"
)

// Ratings an inspection gives, best first.
const (
	Outstanding         = "outstanding"
	Good                = "good"
	RequiresImprovement = "requires_improvement"
	Inadequate          = "inadequate"
)

// Ratings lists the ratings in the order forms offer them.
var Ratings = []string{Outstanding, Good, RequiresImprovement, Inadequate}

var ratingNames = map[string]string{
	Outstanding:         "Outstanding",
	Good:                "Good",
	RequiresImprovement: "Requires improvement",
	Inadequate:          "Inadequate",
}

// RatingName is a rating as people read it; "" for no rating.
func RatingName(rating string) string { return ratingNames[rating] }

// Inspection is a contract manager's inspection of a site where a partner
// delivers a contract: planned first, then completed with what was found,
// a rating and the evidence seen. A completed inspection is the record the
// partner is held to, so it does not change again; what must improve is
// raised as actions from it.
type Inspection struct {
	ID         bson.ObjectID `bson:"_id"`
	PartnerID  string        `bson:"partner_id"`
	ContractID string        `bson:"contract_id"`
	Site       string        `bson:"site"`
	Status     string        `bson:"status"`
	// PlannedFor is the day the inspection is planned for (see calendar).
	PlannedFor time.Time `bson:"planned_for"`
	// CompletedOn is the day it took place; nil while planned.
	CompletedOn *time.Time `bson:"completed_on,omitempty"`
	// Announced inspections are agreed with the partner beforehand;
	// unannounced ones show a site as it is every day.
	Announced bool `bson:"announced"`
	// Focus is what the inspection sets out to look at.
	Focus    string        `bson:"focus,omitempty"`
	Findings string        `bson:"findings,omitempty"`
	Rating   string        `bson:"rating,omitempty"`
	Evidence []EvidenceRef `bson:"evidence"`
	// PlannedBy planned it; RecordedBy recorded its findings (nil while planned).
	PlannedBy  Actor     `bson:"planned_by"`
	RecordedBy *Actor    `bson:"recorded_by,omitempty"`
	Version    int       `bson:"version"`
	CreatedAt  time.Time `bson:"created_at"`
	UpdatedAt  time.Time `bson:"updated_at"`
}

// HiddenFromPartner reports whether the partner must not see the
// inspection yet: an unannounced inspection still planned, whose point is
// that the site does not know it is coming. Once recorded, the partner
// sees it and what it found.
func (in Inspection) HiddenFromPartner() bool { return in.Status == Planned && !in.Announced }

// NewInspection is what planning an inspection takes.
type NewInspection struct {
	ContractID string
	Site       string
	PlannedFor time.Time
	Announced  bool
	Focus      string
}

// Completion is what an inspection found.
type Completion struct {
	CompletedOn time.Time
	Findings    string
	Rating      string
	Evidence    []EvidenceRef
}

// An inspection is planned at most this far ahead, and recorded at most
// this long after it took place: a date outside is almost always a typing
// mistake in the year.
const (
	planAhead  = 2  // years
	recordBack = 12 // months
)

func (n NewInspection) check(today time.Time) error {
	if n.ContractID == "" {
		return &ErrInvalid{"Select the contract"}
	}
	if err := checkText("the site", n.Site, true, maxShortText); err != nil {
		return err
	}
	planned := calendar.Day(n.PlannedFor)
	switch {
	case n.PlannedFor.IsZero():
		return &ErrInvalid{"Enter the date of the inspection"}
	case planned.Before(calendar.AddMonths(today, -recordBack)):
		return &ErrInvalid{fmt.Sprintf("The date of the inspection must be within the last %d months", recordBack)}
	case planned.After(calendar.AddMonths(today, 12*planAhead)):
		return &ErrInvalid{fmt.Sprintf("The date of the inspection must be within the next %d years", planAhead)}
	}
	return checkText("what the inspection will look at", n.Focus, false, maxNote)
}

func (c Completion) check(today time.Time) error {
	on := calendar.Day(c.CompletedOn)
	switch {
	case c.CompletedOn.IsZero():
		return &ErrInvalid{"Enter the date the inspection took place"}
	case on.After(today):
		return &ErrInvalid{"The date the inspection took place must be today or in the past"}
	case on.Before(calendar.AddMonths(today, -recordBack)):
		return &ErrInvalid{fmt.Sprintf("The date the inspection took place must be within the last %d months", recordBack)}
	}
	if err := checkText("the findings", c.Findings, true, maxLongText); err != nil {
		return err
	}
	if !slices.Contains(Ratings, c.Rating) {
		return &ErrInvalid{"Select a rating"}
	}
	return checkEvidence(c.Evidence)
}

// Plan records a planned inspection of a contract within reach, with its
// audit event. An error wrapping audit.ErrPending means it was stored.
func (s *Store) Plan(ctx context.Context, scope access.Scope, n NewInspection, by Actor, e audit.Event) (Inspection, error) {
	if err := checkActor(by); err != nil {
		return Inspection{}, err
	}
	if err := n.check(s.today()); err != nil {
		return Inspection{}, err
	}
	c, err := s.contract(ctx, scope, n.ContractID)
	if err != nil {
		return Inspection{}, err
	}
	now := s.now()
	in := Inspection{
		ID: bson.NewObjectID(), PartnerID: c.PartnerID, ContractID: c.ID,
		Site: strings.TrimSpace(n.Site), Status: Planned, PlannedFor: calendar.Day(n.PlannedFor),
		Announced: n.Announced, Focus: strings.TrimSpace(n.Focus), Evidence: []EvidenceRef{},
		PlannedBy: by, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	e.Action = "inspection.plan"
	e.Detail = "planned for " + day(in.PlannedFor) + map[bool]string{true: ", announced", false: ", unannounced"}[in.Announced]
	err = s.insert(ctx, s.inspections(), in.ID, in.PartnerID, in, e)
	if err != nil && !errors.Is(err, audit.ErrPending) {
		return Inspection{}, err
	}
	return in, err
}

// Complete records what a planned inspection found, with its audit event.
// version is the version the person saw.
func (s *Store) Complete(ctx context.Context, scope access.Scope, id string, version int, c Completion, by Actor, e audit.Event) (Inspection, error) {
	if err := checkActor(by); err != nil {
		return Inspection{}, err
	}
	if err := c.check(s.today()); err != nil {
		return Inspection{}, err
	}
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Inspection{}, ErrNotFound
	}
	defer s.inspectionLocks.Lock(oid.Hex())()
	in, err := s.GetInspection(ctx, scope, id)
	if err != nil {
		return Inspection{}, err
	}
	if in.Status != Planned || in.Version != version {
		return Inspection{}, ErrConflict
	}
	on := calendar.Day(c.CompletedOn)
	set := bson.D{
		{Key: "status", Value: Completed}, {Key: "completed_on", Value: on}, {Key: "findings", Value: c.Findings},
		{Key: "rating", Value: c.Rating}, {Key: "evidence", Value: evidence(c.Evidence)}, {Key: "recorded_by", Value: by},
		{Key: "updated_at", Value: s.now()},
	}
	e.Action = "inspection.complete"
	// The findings may describe customers and staff; the trail keeps the verdict.
	e.Detail = fmt.Sprintf("completed on %s, rated %s, %d evidence files", day(on), c.Rating, len(c.Evidence))
	err = s.update(ctx, scope, s.inspections(), stamp{in.ID, in.PartnerID, in.Status, in.Version}, set, nil, e)
	if err != nil && !errors.Is(err, audit.ErrPending) {
		return Inspection{}, err
	}
	after, gerr := s.GetInspection(ctx, scope, id)
	if gerr != nil {
		return Inspection{}, gerr
	}
	return after, err
}

// GetInspection returns an inspection within the caller's reach.
func (s *Store) GetInspection(ctx context.Context, scope access.Scope, id string) (Inspection, error) {
	var in Inspection
	if err := findOne(ctx, s.inspections(), scope, id, &in); err != nil {
		return Inspection{}, err
	}
	return in, nil
}

// InspectionFilter selects inspections to list; empty fields do not filter.
type InspectionFilter struct {
	PartnerID  string
	ContractID string
	Status     string
	// PartnerView leaves out what the partner must not see yet (see
	// Inspection.HiddenFromPartner), for lists shown to a partner's people.
	PartnerView bool
}

// inspectionListFields leave out what only an inspection's own page shows.
var inspectionListFields = bson.D{{Key: "findings", Value: 0}, {Key: "evidence", Value: 0}}

// ListInspections lists inspections within reach matching f, latest
// inspection date first, a page at a time, with how many match in all.
// The list leaves out findings and evidence: GetInspection has them.
func (s *Store) ListInspections(ctx context.Context, scope access.Scope, f InspectionFilter, page, perPage int) ([]Inspection, int64, error) {
	var conds []bson.E
	if f.ContractID != "" {
		conds = append(conds, bson.E{Key: "contract_id", Value: f.ContractID})
	}
	if f.Status != "" {
		conds = append(conds, bson.E{Key: "status", Value: f.Status})
	}
	if f.PartnerView {
		conds = append(conds, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "status", Value: bson.D{{Key: "$ne", Value: Planned}}}},
			bson.D{{Key: "announced", Value: true}},
		}})
	}
	out, total, err := paged.Find[Inspection](ctx, s.inspections(), scoped(narrowed(scope, f.PartnerID), conds...),
		bson.D{{Key: "planned_for", Value: -1}, {Key: "_id", Value: -1}}, inspectionListFields, page, perPage)
	if err != nil {
		return nil, 0, fmt.Errorf("list inspections: %w", err)
	}
	return out, total, nil
}

// LatestCompleted returns, for each contract within reach that has been
// inspected, its latest completed inspection (without findings and
// evidence), in contract order: what a dashboard shows beside each contract.
//
// It is one read in the order of the status_contract_completed index, each
// contract's latest first, keeping the first of each contract. A $group
// taking each contract's $first would read fewer on MongoDB, but the
// embedded store's $group knows only $sum and $count; a contract is
// inspected a few times a year, so the read stays small.
func (s *Store) LatestCompleted(ctx context.Context, scope access.Scope) ([]Inspection, error) {
	opts := options.Find().SetProjection(inspectionListFields).SetSort(bson.D{
		{Key: "partner_id", Value: 1}, {Key: "contract_id", Value: 1}, {Key: "completed_on", Value: -1}, {Key: "_id", Value: -1},
	})
	cur, err := s.inspections().Find(ctx, scoped(scope, bson.E{Key: "status", Value: Completed}), opts)
	if err != nil {
		return nil, fmt.Errorf("latest inspections: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	out := []Inspection{}
	for cur.Next(ctx) {
		var in Inspection
		if err := cur.Decode(&in); err != nil {
			return nil, fmt.Errorf("latest inspections: %w", err)
		}
		if n := len(out); n > 0 && out[n-1].ContractID == in.ContractID {
			continue
		}
		out = append(out, in)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("latest inspections: %w", err)
	}
	slices.SortFunc(out, func(a, b Inspection) int { return cmp.Compare(a.ContractID, b.ContractID) })
	return out, nil
}
