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

// Action statuses. An action goes back and forth between the partner and
// the department until the department accepts a response.
const (
	Open      = "open"      // raised; waiting for the partner's response
	Responded = "responded" // waiting for the department to accept or return it
	Returned  = "returned"  // the department wants more; waiting for the partner again
	Closed    = "closed"    // the department accepted a response
)

// notClosed are the statuses of actions still counting against the partner.
var notClosed = bson.A{Open, Responded, Returned}

// Priorities of an action.
const (
	High   = "high"
	Medium = "medium"
	Low    = "low"
)

// Priorities lists the priorities in the order forms offer them.
var Priorities = []string{High, Medium, Low}

var priorityNames = map[string]string{High: "High", Medium: "Medium", Low: "Low"}

// PriorityName is a priority as people read it; "" for none.
func PriorityName(priority string) string { return priorityNames[priority] }

// Kinds of source an action is raised from.
const (
	FromInspection = "inspection"
	FromIncident   = "incident"
	FromReview     = "review"
)

// Source is what an action was raised from: an inspection (by its ID),
// a serious incident or a contract review.
type Source struct {
	Kind string `bson:"kind"`
	ID   string `bson:"id"`
}

// Sides of an action's chronology.
const (
	SidePartner    = "partner"
	SideDepartment = "department"
)

// Kinds of entry in an action's chronology.
const (
	EntryRaised   = "raised"
	EntryResponse = "response"
	EntryReturned = "returned"
	EntryAccepted = "accepted"
)

// Entry is one step in an action's chronology: who said what, from which
// side, with what evidence.
type Entry struct {
	ID          bson.ObjectID `bson:"id"`
	At          time.Time     `bson:"at"`
	By          Actor         `bson:"by"`
	Side        string        `bson:"side"`
	Kind        string        `bson:"kind"`
	Text        string        `bson:"text"`
	Attachments []EvidenceRef `bson:"attachments,omitempty"`
}

// Action is something the department requires a partner to put right, by
// a due date. The partner responds with evidence; the department accepts
// the response, which closes the action, or returns it with a reason. An
// action not closed by its due date is overdue, and counts against the
// partner until it is closed.
type Action struct {
	ID         bson.ObjectID `bson:"_id"`
	PartnerID  string        `bson:"partner_id"`
	ContractID string        `bson:"contract_id"`
	Source     Source        `bson:"source"`
	Title      string        `bson:"title"`
	Detail     string        `bson:"detail"`
	Priority   string        `bson:"priority"`
	// DueOn is the last day to close it (see calendar).
	DueOn     time.Time  `bson:"due_on"`
	Status    string     `bson:"status"`
	Entries   []Entry    `bson:"entries"`
	Version   int        `bson:"version"`
	CreatedAt time.Time  `bson:"created_at"`
	UpdatedAt time.Time  `bson:"updated_at"`
	ClosedAt  *time.Time `bson:"closed_at,omitempty"`
}

// Overdue reports whether the action is still not closed after its due
// day, as that day is in London at asOf.
func (a Action) Overdue(asOf time.Time) bool {
	return a.Status != Closed && a.DueOn.Before(calendar.Today(asOf))
}

// NewAction is what raising an action takes.
type NewAction struct {
	ContractID string
	Source     Source
	Title      string
	Detail     string
	Priority   string
	DueOn      time.Time
}

// Response is the partner's answer to an action.
type Response struct {
	Text     string
	Evidence []EvidenceRef
}

// dueAhead bounds how far ahead an action is due, in years: further than
// any contract review cycle, and a year typed wrong is caught.
const dueAhead = 2

func (n NewAction) check(today time.Time) error {
	if n.ContractID == "" {
		return &ErrInvalid{"Select the contract"}
	}
	switch kind := n.Source.Kind; {
	case kind != FromInspection && kind != FromIncident && kind != FromReview:
		return &ErrInvalid{"Select where the action comes from"}
	case strings.TrimSpace(n.Source.ID) == "":
		return &ErrInvalid{"Enter the reference of the " + kind + " the action comes from"}
	case len(n.Source.ID) > maxSourceID || !printable.MatchString(n.Source.ID):
		return &ErrInvalid{fmt.Sprintf("The reference of the %s must be up to %d letters, numbers or symbols, without spaces", kind, maxSourceID)}
	}
	if err := checkText("the title of the action", n.Title, true, maxShortText); err != nil {
		return err
	}
	if err := checkText("what the partner must do", n.Detail, true, maxLongText); err != nil {
		return err
	}
	if !slices.Contains(Priorities, n.Priority) {
		return &ErrInvalid{"Select a priority"}
	}
	due := calendar.Day(n.DueOn)
	switch {
	case n.DueOn.IsZero():
		return &ErrInvalid{"Enter a due date"}
	case !due.After(today):
		return &ErrInvalid{"Enter a due date in the future"}
	case due.After(calendar.AddMonths(today, 12*dueAhead)):
		return &ErrInvalid{fmt.Sprintf("The due date must be within the next %d years", dueAhead)}
	}
	return nil
}

// Raise records an action the department requires of the partner holding
// a contract within reach, with its audit event. An action from an
// inspection must come from a completed inspection of the same contract.
// An error wrapping audit.ErrPending means it was stored.
func (s *Store) Raise(ctx context.Context, scope access.Scope, n NewAction, by Actor, e audit.Event) (Action, error) {
	if err := checkActor(by); err != nil {
		return Action{}, err
	}
	if err := n.check(s.today()); err != nil {
		return Action{}, err
	}
	c, err := s.contract(ctx, scope, n.ContractID)
	if err != nil {
		return Action{}, err
	}
	if n.Source.Kind == FromInspection {
		in, err := s.GetInspection(ctx, scope, n.Source.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Action{}, err
		}
		if err != nil || in.ContractID != c.ID || in.Status != Completed {
			return Action{}, &ErrInvalid{"Select a completed inspection of this contract"}
		}
		n.Source.ID = in.ID.Hex() // as lists by source look for it
	}
	now := s.now()
	a := Action{
		ID: bson.NewObjectID(), PartnerID: c.PartnerID, ContractID: c.ID, Source: n.Source,
		Title: strings.TrimSpace(n.Title), Detail: n.Detail, Priority: n.Priority, DueOn: calendar.Day(n.DueOn),
		Status: Open, Version: 1, CreatedAt: now, UpdatedAt: now,
		// The chronology keeps what was asked as it was asked.
		Entries: []Entry{{ID: bson.NewObjectID(), At: now, By: by, Side: SideDepartment, Kind: EntryRaised, Text: n.Detail}},
	}
	e.Action = "action.raise"
	e.Detail = fmt.Sprintf("%s priority, due %s, from %s", a.Priority, day(a.DueOn), a.Source.Kind)
	err = s.insert(ctx, s.actions(), a.ID, a.PartnerID, a, e)
	if err != nil && !errors.Is(err, audit.ErrPending) {
		return Action{}, err
	}
	return a, err
}

// step is one move of an action from some statuses to another, with the
// chronology entry that records it.
type step struct {
	from  []string
	to    string
	entry Entry
	audit string // audit action
}

// move makes a step on the action as the person saw it (at version), with
// its audit event, and returns the action as it now is.
func (s *Store) move(ctx context.Context, scope access.Scope, id string, version int, st step, e audit.Event) (Action, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Action{}, ErrNotFound
	}
	defer s.actionLocks.Lock(oid.Hex())()
	a, err := s.GetAction(ctx, scope, id)
	if err != nil {
		return Action{}, err
	}
	if a.Version != version || !slices.Contains(st.from, a.Status) {
		return Action{}, ErrConflict
	}
	now := s.now()
	st.entry.ID, st.entry.At = bson.NewObjectID(), now
	set := bson.D{{Key: "status", Value: st.to}, {Key: "updated_at", Value: now}}
	if st.to == Closed {
		set = append(set, bson.E{Key: "closed_at", Value: now})
	}
	e.Action = st.audit
	// What people wrote stays in the action; the trail keeps the move.
	e.Detail = fmt.Sprintf("%s to %s", a.Status, st.to)
	if n := len(st.entry.Attachments); n > 0 {
		e.Detail += fmt.Sprintf(", %d evidence files", n)
	}
	err = s.update(ctx, scope, s.actions(), stamp{a.ID, a.PartnerID, a.Status, a.Version}, set, bson.D{{Key: "entries", Value: st.entry}}, e)
	if err != nil && !errors.Is(err, audit.ErrPending) {
		return Action{}, err
	}
	after, gerr := s.GetAction(ctx, scope, id)
	if gerr != nil {
		return Action{}, gerr
	}
	return after, err
}

// Respond records the partner's response to an open or returned action,
// with any evidence, for the department to accept or return.
func (s *Store) Respond(ctx context.Context, scope access.Scope, id string, version int, r Response, by Actor, e audit.Event) (Action, error) {
	if err := checkActor(by); err != nil {
		return Action{}, err
	}
	if err := checkText("your response", r.Text, true, maxLongText); err != nil {
		return Action{}, err
	}
	if err := checkEvidence(r.Evidence); err != nil {
		return Action{}, err
	}
	return s.move(ctx, scope, id, version, step{from: []string{Open, Returned}, to: Responded, audit: "action.respond",
		entry: Entry{By: by, Side: SidePartner, Kind: EntryResponse, Text: r.Text, Attachments: r.Evidence}}, e)
}

// Return sends the partner's response back, saying why it does not yet
// put the matter right; the partner responds again.
func (s *Store) Return(ctx context.Context, scope access.Scope, id string, version int, reason string, by Actor, e audit.Event) (Action, error) {
	if err := checkActor(by); err != nil {
		return Action{}, err
	}
	if err := checkText("the reason for returning the response", reason, true, maxNote); err != nil {
		return Action{}, err
	}
	return s.move(ctx, scope, id, version, step{from: []string{Responded}, to: Returned, audit: "action.return",
		entry: Entry{By: by, Side: SideDepartment, Kind: EntryReturned, Text: reason}}, e)
}

// Accept accepts the partner's response, with an optional note, and
// closes the action.
func (s *Store) Accept(ctx context.Context, scope access.Scope, id string, version int, note string, by Actor, e audit.Event) (Action, error) {
	if err := checkActor(by); err != nil {
		return Action{}, err
	}
	if err := checkText("the note", note, false, maxNote); err != nil {
		return Action{}, err
	}
	return s.move(ctx, scope, id, version, step{from: []string{Responded}, to: Closed, audit: "action.accept",
		entry: Entry{By: by, Side: SideDepartment, Kind: EntryAccepted, Text: note}}, e)
}

// GetAction returns an action within the caller's reach.
func (s *Store) GetAction(ctx context.Context, scope access.Scope, id string) (Action, error) {
	var a Action
	if err := findOne(ctx, s.actions(), scope, id, &a); err != nil {
		return Action{}, err
	}
	return a, nil
}

// ActionFilter selects actions to list; empty fields do not filter.
type ActionFilter struct {
	PartnerID  string
	ContractID string
	Status     string
	// OverdueAsOf, if not zero, lists only the actions overdue at that instant.
	OverdueAsOf time.Time
	// AwaitingPartner lists only the actions waiting for the partner: open,
	// or returned to it.
	AwaitingPartner bool
	// DueBy, if not zero, lists only the actions due on that day or before.
	DueBy time.Time
	// Source.Kind alone lists every action from that kind of source; with
	// Source.ID, those from one inspection, incident or review.
	Source Source
}

// filter is f as a query within scope; false if f can match nothing.
func (f ActionFilter) filter(scope access.Scope) (bson.D, bool) {
	var conds []bson.E
	if f.ContractID != "" {
		conds = append(conds, bson.E{Key: "contract_id", Value: f.ContractID})
	}
	statuses := []string{Open, Responded, Returned, Closed}
	keep := func(allowed ...string) {
		statuses = slices.DeleteFunc(statuses, func(st string) bool { return !slices.Contains(allowed, st) })
	}
	if f.Status != "" {
		keep(f.Status)
	}
	if !f.OverdueAsOf.IsZero() {
		keep(Open, Responded, Returned)
	}
	if f.AwaitingPartner {
		keep(Open, Returned)
	}
	switch {
	case len(statuses) == 0:
		return nil, false
	case len(statuses) == 1:
		conds = append(conds, bson.E{Key: "status", Value: statuses[0]})
	case len(statuses) < 4:
		in := bson.A{}
		for _, st := range statuses {
			in = append(in, st)
		}
		conds = append(conds, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: in}}})
	}
	// Both bounds on the due day go in one condition: a filter naming a
	// field twice is not read the same way by every server.
	var due bson.D
	if !f.OverdueAsOf.IsZero() {
		due = append(due, bson.E{Key: "$lt", Value: calendar.Today(f.OverdueAsOf)})
	}
	if !f.DueBy.IsZero() {
		due = append(due, bson.E{Key: "$lte", Value: calendar.Day(f.DueBy)})
	}
	if due != nil {
		conds = append(conds, bson.E{Key: "due_on", Value: due})
	}
	if f.Source.Kind != "" {
		conds = append(conds, bson.E{Key: "source.kind", Value: f.Source.Kind})
		if f.Source.ID != "" {
			conds = append(conds, bson.E{Key: "source.id", Value: f.Source.ID})
		}
	}
	return scoped(narrowed(scope, f.PartnerID), conds...), true
}

// actionListFields leave out what only an action's own page shows.
var actionListFields = bson.D{{Key: "entries", Value: 0}, {Key: "detail", Value: 0}}

// actionOrder is soonest due first.
var actionOrder = bson.D{{Key: "due_on", Value: 1}, {Key: "_id", Value: 1}}

// ListActions lists actions within reach matching f, soonest due first, a
// page at a time, with how many match in all. The list leaves out the
// detail and the chronology: GetAction has them.
func (s *Store) ListActions(ctx context.Context, scope access.Scope, f ActionFilter, page, perPage int) ([]Action, int64, error) {
	filter, ok := f.filter(scope)
	if !ok {
		return []Action{}, 0, nil
	}
	out, total, err := paged.Find[Action](ctx, s.actions(), filter, actionOrder, actionListFields, page, perPage)
	if err != nil {
		return nil, 0, fmt.Errorf("list actions: %w", err)
	}
	return out, total, nil
}

// EachAction calls fn with every action within reach matching f, soonest
// due first, as ListActions lists them (without the detail and the
// chronology), and stops at the first error fn returns. It reads one
// stream rather than page after page, so exports and the reminders read
// each action once however many there are.
func (s *Store) EachAction(ctx context.Context, scope access.Scope, f ActionFilter, fn func(Action) error) error {
	filter, ok := f.filter(scope)
	if !ok {
		return nil
	}
	cur, err := s.actions().Find(ctx, filter, options.Find().SetSort(actionOrder).SetProjection(actionListFields))
	if err != nil {
		return fmt.Errorf("read actions: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	for cur.Next(ctx) {
		var a Action
		if err := cur.Decode(&a); err != nil {
			return fmt.Errorf("read actions: %w", err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read actions: %w", err)
	}
	return nil
}

// ActionCount is how many of a contract's actions are not closed, and how
// many of those are overdue.
type ActionCount struct {
	ContractID string
	PartnerID  string
	Open       int // open, responded or returned
	Overdue    int
}

// CountOpenAndOverdue counts, for each contract within reach with actions
// not closed, those actions and the overdue ones among them as the day is
// in London at asOf; contracts with none are left out. In contract order.
//
// It is one aggregation grouping by contract and due day, which real
// MongoDB answers from the status_contract_due index alone. Overdue is
// then added up here from the due days: the embedded store's $group has
// no $cond to count it there, and a contract has few distinct due days.
func (s *Store) CountOpenAndOverdue(ctx context.Context, scope access.Scope, asOf time.Time) ([]ActionCount, error) {
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: scoped(scope, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: notClosed}}})}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "contract", Value: "$contract_id"}, {Key: "partner", Value: "$partner_id"}, {Key: "due", Value: "$due_on"}}},
			{Key: "count", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}},
	}
	cur, err := s.actions().Aggregate(ctx, pipeline)
	if err != nil {
		return nil, fmt.Errorf("count actions: %w", err)
	}
	var rows []struct {
		Key struct {
			Contract string    `bson:"contract"`
			Partner  string    `bson:"partner"`
			Due      time.Time `bson:"due"`
		} `bson:"_id"`
		Count int `bson:"count"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count actions: %w", err)
	}
	today := calendar.Today(asOf)
	byContract := map[string]*ActionCount{}
	for _, r := range rows {
		c := byContract[r.Key.Contract]
		if c == nil {
			c = &ActionCount{ContractID: r.Key.Contract, PartnerID: r.Key.Partner}
			byContract[r.Key.Contract] = c
		}
		c.Open += r.Count
		if r.Key.Due.Before(today) {
			c.Overdue += r.Count
		}
	}
	out := make([]ActionCount, 0, len(byContract))
	for _, c := range byContract {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b ActionCount) int { return cmp.Compare(a.ContractID, b.ContractID) })
	return out, nil
}
