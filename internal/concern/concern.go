// Package concern holds escalations to the safeguarding leads: a contract
// manager (or a lead) raises a partner, or one of its contracts, with the
// leads, saying why; the leads record their decisions, each with who, when
// and why, and the history is kept. A recommendation to suspend a contract
// is a concern of its own kind, which the leads decide: a decision to
// suspend sets the contract's status to suspended, through the contract
// store, so the contract's own status history and every page that shows
// the contract's status show it.
//
// Concerns are the department's internal discussion and are never shown
// to the partner. What the partner is told comes through the contract's
// status and its reason (under review, suspended), which is where the
// department has always told partners why: the reason given in a decision
// to suspend becomes the contract's status reason. The pages keep concerns
// to those who may escalate them (access.EscalateConcerns).
//
// "Escalation" in the portal's code also names the e-mails and webhooks
// that tell the leads about critical incidents (package escalation); this
// package is called concern to keep the two apart.
package concern

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/doclock"
	"github.com/department/safeguarding-portal/internal/invisible"
	"github.com/department/safeguarding-portal/internal/paged"
	"github.com/department/safeguarding-portal/internal/partner"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var (
	// ErrNotFound means no such concern, partner or contract within the
	// caller's reach. Something out of reach and something that does not
	// exist look the same, so a guessed ID reveals nothing.
	ErrNotFound = errors.New("concern, partner or contract not found")
	// ErrConflict means the concern (or its contract) changed since the
	// caller read it, or is no longer open to the change.
	ErrConflict = errors.New("changed by someone else or not in a state that allows this")
)

// ErrInvalid means the change itself is not acceptable; its message says
// why, for the person, as a GOV.UK error summary shows it.
type ErrInvalid struct{ Message string }

func (e *ErrInvalid) Error() string { return e.Message }

// Kinds of concern.
const (
	// Escalation puts a partner or a contract before the leads.
	Escalation = "escalation"
	// SuspensionRecommendation asks the leads to suspend one contract.
	SuspensionRecommendation = "suspension_recommendation"
)

var kindNames = map[string]string{
	Escalation:               "Escalation",
	SuspensionRecommendation: "Recommendation to suspend",
}

// KindName is a kind as people read it.
func KindName(kind string) string { return kindNames[kind] }

// Statuses of a concern.
const (
	// Open concerns wait for the leads' decision, including those the
	// leads have referred to the senior responsible owner.
	Open = "open"
	// Decided concerns have the leads' final decision.
	Decided = "decided"
)

// Outcomes of the leads' decisions.
const (
	NoFurtherAction     = "no_further_action"
	ActionsRequired     = "actions_required"
	RecommendSuspension = "recommend_suspension"
	ReferredToSRO       = "referred_to_sro"
	SuspendContract     = "suspend_contract"
	DoNotSuspend        = "do_not_suspend"
)

type outcome struct {
	kind string
	name string
	// keepsOpen outcomes wait for someone else and then a further
	// decision; every other outcome decides the concern.
	keepsOpen bool
}

var outcomes = map[string]outcome{
	NoFurtherAction:     {kind: Escalation, name: "No further action"},
	ActionsRequired:     {kind: Escalation, name: "Actions required from the partner"},
	RecommendSuspension: {kind: Escalation, name: "Recommend suspension"},
	ReferredToSRO:       {kind: Escalation, name: "Referred to the senior responsible owner", keepsOpen: true},
	SuspendContract:     {kind: SuspensionRecommendation, name: "Suspend the contract"},
	DoNotSuspend:        {kind: SuspensionRecommendation, name: "Do not suspend"},
}

// Outcomes lists the decisions open to the leads on a kind of concern, in
// the order forms offer them.
func Outcomes(kind string) []string {
	switch kind {
	case Escalation:
		return []string{NoFurtherAction, ActionsRequired, RecommendSuspension, ReferredToSRO}
	case SuspensionRecommendation:
		return []string{SuspendContract, DoNotSuspend}
	}
	return nil
}

// OutcomeName is a decision as people read it.
func OutcomeName(o string) string { return outcomes[o].name }

// MaxReason bounds a reason: the same bound as a contract's status reason,
// which a decision to suspend becomes.
const MaxReason = partner.MaxReason

// Actor is who did something, by subject and by name as people read it.
type Actor struct {
	Kind string `bson:"kind"` // "person" or "system"
	ID   string `bson:"id"`
	Name string `bson:"name"`
}

// Decision is one decision of the leads on a concern.
type Decision struct {
	ID      bson.ObjectID `bson:"id"`
	Outcome string        `bson:"outcome"`
	Reason  string        `bson:"reason"`
	By      Actor         `bson:"by"`
	At      time.Time     `bson:"at"`
	// BasedOn is the concern's version the decision was made on: a
	// decision sent again is recognised as the one already recorded.
	BasedOn int `bson:"based_on"`
	// For a decision to suspend: the contract's version and the length of
	// its status history when the decision was taken, which tell whether
	// the status change has been made; and whether this decision made it
	// (false when the contract was already suspended).
	ContractVersion   int64 `bson:"contract_version,omitempty"`
	StatusHistoryLen  int   `bson:"status_history_len,omitempty"`
	SuspendedContract bool  `bson:"suspended_contract,omitempty"`
}

// Concern is a partner, or one of its contracts, put before the
// safeguarding leads, and what they decided.
type Concern struct {
	ID        bson.ObjectID `bson:"_id"`
	PartnerID string        `bson:"partner_id"`
	// ContractID is the contract it is about; "" for the whole partner.
	ContractID string    `bson:"contract_id"`
	Kind       string    `bson:"kind"`
	Reason     string    `bson:"reason"`
	RaisedBy   Actor     `bson:"raised_by"`
	RaisedAt   time.Time `bson:"raised_at"`
	Status     string    `bson:"status"`
	// Decisions are the leads' decisions, oldest first.
	Decisions []Decision `bson:"decisions"`
	// Outcome is the latest decision's, for lists; "" before any.
	Outcome   string     `bson:"outcome,omitempty"`
	DecidedAt *time.Time `bson:"decided_at,omitempty"`
	// Pending is a decision to suspend between being taken and the
	// contract's status change: the next decision on the concern finishes
	// it (see Decide).
	Pending   *Decision `bson:"pending,omitempty"`
	Version   int       `bson:"version"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// AboutPartner reports whether the concern is about the whole partner.
func (c Concern) AboutPartner() bool { return c.ContractID == "" }

// Latest is the latest decision, if any.
func (c Concern) Latest() (Decision, bool) {
	if len(c.Decisions) == 0 {
		return Decision{}, false
	}
	return c.Decisions[len(c.Decisions)-1], true
}

// Contracts finds and suspends the contracts concerns are about, and the
// partners they belong to; partner.Store does.
type Contracts interface {
	Get(ctx context.Context, scope access.Scope, id string) (partner.Partner, error)
	GetContract(ctx context.Context, scope access.Scope, id string) (partner.Contract, error)
	SetStatus(ctx context.Context, scope access.Scope, contractID string, version int64, status, reason, by string, e audit.Event) error
}

// Store keeps concerns, every partner's in one collection: the leads read
// across partners, and every query names the partners (and contracts) its
// caller may reach.
type Store struct {
	db        *mongo.Database
	trail     *audit.Trail
	contracts Contracts
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// locks serialise this process's changes to one concern;
	// contractLocks its changes to one contract's status through
	// concerns. A change holding both takes the concern's first.
	locks, contractLocks *doclock.Striped
	// afterClaim, if set, runs between taking a decision to suspend and
	// changing the contract's status; an error stops there, as a crash
	// would. For tests.
	afterClaim func() error
}

// NewStore keeps concerns in db, records their changes in trail, and finds
// and suspends the contracts they are about through contracts.
func NewStore(db *mongo.Database, trail *audit.Trail, contracts Contracts) *Store {
	s := &Store{db: db, trail: trail, contracts: contracts}
	trail.Register(s.coll())
	s.locks = trail.GuardWrites(s.coll())
	s.contractLocks = trail.Locks("contract status through concerns")
	return s
}

func (s *Store) coll() *mongo.Collection { return s.db.Collection("concerns") }

// now is truncated to what the store keeps, so a concern returned from a
// write equals the concern read back.
func (s *Store) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Millisecond)
}

// EnsureIndexes creates what real MongoDB needs for the hot reads: the
// leads' queue (open first, oldest first), a manager's queue and a
// contract's or partner's concerns, and the dashboard's open counts per
// contract, answered from the index without reading a document.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	asc, desc := 1, -1
	for _, ix := range []struct {
		name string
		keys bson.D
	}{
		{"queue", bson.D{{Key: "status", Value: desc}, {Key: "raised_at", Value: asc}, {Key: "_id", Value: asc}}},
		{"partner_contract_queue", bson.D{{Key: "partner_id", Value: asc}, {Key: "contract_id", Value: asc},
			{Key: "status", Value: desc}, {Key: "raised_at", Value: asc}, {Key: "_id", Value: asc}}},
		{"status_partner_contract_kind", bson.D{{Key: "status", Value: asc}, {Key: "partner_id", Value: asc},
			{Key: "contract_id", Value: asc}, {Key: "kind", Value: asc}}},
	} {
		// One at a time: the embedded store fails a batch naming indexes
		// that already exist, as they do at every start but the first.
		if _, err := s.coll().Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: options.Index().SetName(ix.name)}); err != nil {
			return fmt.Errorf("create concerns index %s: %w", ix.name, err)
		}
	}
	return nil
}

// reaches reports whether scope reaches a concern: a contract's, as the
// contract is reached; a whole partner's, by whoever reaches the partner,
// which for a contract manager is through any of its contracts they manage.
func reaches(scope access.Scope, partnerID, contractID string) bool {
	if !scope.Includes(partnerID) {
		return false
	}
	return contractID == "" || scope.IncludesContract(contractID, partnerID)
}

// scoped limits a query to the concerns within reach (see reaches), then
// to conds.
func scoped(scope access.Scope, conds ...bson.E) bson.D {
	if scope.All() {
		return append(bson.D{}, conds...)
	}
	// A contract manager's scope names their contracts; the partners'
	// concerns about the whole partner have no contract, so they are
	// matched by partner alone. For a partner's scope both clauses are
	// the partner.
	f := bson.D{{Key: "$or", Value: bson.A{
		scope.ContractFieldFilter("contract_id"),
		scope.Filter("partner_id", bson.E{Key: "contract_id", Value: ""}),
	}}}
	return append(f, conds...)
}

// contract finds the contract a concern is about, within reach.
func (s *Store) contract(ctx context.Context, scope access.Scope, id string) (partner.Contract, error) {
	c, err := s.contracts.GetContract(ctx, scope, id)
	if errors.Is(err, partner.ErrNotFound) {
		return partner.Contract{}, ErrNotFound
	}
	if err != nil {
		return partner.Contract{}, fmt.Errorf("find contract %s: %w", id, err)
	}
	// The contract store decides; this repeats it in case its filter is ever built wrong.
	if c.ID != id || !reaches(scope, c.PartnerID, c.ID) {
		return partner.Contract{}, ErrNotFound
	}
	return c, nil
}

// NewConcern is what raising a concern takes: a contract, or for an
// escalation about a whole partner no contract and the partner.
type NewConcern struct {
	// PartnerID is read only when ContractID is empty: a contract's
	// partner is always the one that holds it.
	PartnerID  string
	ContractID string
	Kind       string
	Reason     string
}

// reasonWhat names what a kind's reason is, as in "Enter the reason for escalating".
var reasonWhat = map[string]string{
	Escalation:               "the reason for escalating",
	SuspensionRecommendation: "the reason for recommending suspension",
}

// Raise puts a partner or a contract within the caller's reach before the
// leads, with its audit event. A recommendation to suspend is about one
// contract that is neither suspended nor terminated, and one at a time
// waits for a decision. An error wrapping audit.ErrPending means it was
// stored.
func (s *Store) Raise(ctx context.Context, scope access.Scope, n NewConcern, by Actor, e audit.Event) (Concern, error) {
	if err := checkActor(by); err != nil {
		return Concern{}, err
	}
	what, ok := reasonWhat[n.Kind]
	if !ok {
		return Concern{}, fmt.Errorf("concern: unknown kind %q", n.Kind)
	}
	if n.Kind == SuspensionRecommendation && n.ContractID == "" {
		return Concern{}, &ErrInvalid{"Select the contract to suspend"}
	}
	if err := checkReason(what, n.Reason); err != nil {
		return Concern{}, err
	}
	c := Concern{Kind: n.Kind, ContractID: n.ContractID, Reason: strings.TrimSpace(n.Reason)}
	if n.ContractID != "" {
		if n.Kind == SuspensionRecommendation {
			// Under the lock, the check for one already waiting and the
			// insert are one step in this process; across replicas two
			// could be raised at once, which is harmless: the second
			// decision to suspend finds the contract suspended.
			defer s.contractLocks.Lock(n.ContractID)()
		}
		ct, err := s.contract(ctx, scope, n.ContractID)
		if err != nil {
			return Concern{}, err
		}
		c.PartnerID = ct.PartnerID
		if n.Kind == SuspensionRecommendation {
			switch ct.Status {
			case partner.Suspended:
				return Concern{}, &ErrInvalid{"The contract is already suspended"}
			case partner.Terminated:
				return Concern{}, &ErrInvalid{"The contract has been terminated, so it cannot be suspended"}
			}
			waiting, err := s.coll().CountDocuments(ctx, scoped(scope, bson.E{Key: "contract_id", Value: ct.ID},
				bson.E{Key: "status", Value: Open}, bson.E{Key: "kind", Value: SuspensionRecommendation}))
			if err != nil {
				return Concern{}, fmt.Errorf("find recommendations to suspend %s: %w", ct.ID, err)
			}
			if waiting > 0 {
				return Concern{}, &ErrInvalid{"A recommendation to suspend this contract is already waiting for the leads’ decision"}
			}
		}
	} else {
		p, err := s.contracts.Get(ctx, scope, n.PartnerID)
		switch {
		case errors.Is(err, partner.ErrNotFound):
			return Concern{}, ErrNotFound
		case err != nil:
			return Concern{}, fmt.Errorf("find partner %s: %w", n.PartnerID, err)
		case p.ID != n.PartnerID || !reaches(scope, p.ID, ""):
			return Concern{}, ErrNotFound
		}
		c.PartnerID = p.ID
	}
	now := s.now()
	c.ID, c.RaisedBy, c.RaisedAt, c.Status = bson.NewObjectID(), by, now, Open
	c.Decisions, c.Version, c.UpdatedAt = []Decision{}, 1, now
	e.Action = "concern.raise"
	e.Detail = c.Kind + " about the " + map[bool]string{true: "partner", false: "contract"}[c.AboutPartner()]
	e.PartnerID, e.Resource, e.Outcome = c.PartnerID, resource(c.ID), audit.Success
	if _, err := s.trail.Insert(ctx, s.coll(), c, e); err != nil {
		if errors.Is(err, audit.ErrPending) {
			return c, fmt.Errorf("%s: %w", e.Action, err)
		}
		return Concern{}, fmt.Errorf("%s: %w", e.Action, err)
	}
	return c, nil
}

func resource(id bson.ObjectID) string { return "concern/" + id.Hex() }

// Get returns a concern within the caller's reach.
func (s *Store) Get(ctx context.Context, scope access.Scope, id string) (Concern, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Concern{}, ErrNotFound
	}
	raw, err := s.coll().FindOne(ctx, scoped(scope, bson.E{Key: "_id", Value: oid})).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Concern{}, ErrNotFound
	}
	if err != nil {
		return Concern{}, fmt.Errorf("read concern %s: %w", id, err)
	}
	// The filter decides; this repeats it in case a filter is ever built wrong.
	contractID, _ := raw.Lookup("contract_id").StringValueOK()
	partnerID, _ := raw.Lookup("partner_id").StringValueOK()
	if !reaches(scope, partnerID, contractID) {
		return Concern{}, ErrNotFound
	}
	var c Concern
	if err := bson.Unmarshal(raw, &c); err != nil {
		return Concern{}, fmt.Errorf("read concern %s: %w", id, err)
	}
	return c, nil
}

// Filter selects concerns to list; empty fields do not filter.
type Filter struct {
	Status     string // Open or Decided
	PartnerID  string
	ContractID string
	Kind       string
}

// listFields leave out what only a concern's own page shows.
var listFields = bson.D{{Key: "decisions", Value: 0}, {Key: "reason", Value: 0}}

// List lists the concerns within reach matching f, a page at a time, with
// how many match in all: open ones first, then the oldest raised first, as
// the leads work through them. The list leaves out the reason and the
// decisions: Get has them.
func (s *Store) List(ctx context.Context, scope access.Scope, f Filter, page, perPage int) ([]Concern, int64, error) {
	if f.PartnerID != "" {
		scope = scope.Within(f.PartnerID)
	}
	var conds []bson.E
	if f.ContractID != "" {
		conds = append(conds, bson.E{Key: "contract_id", Value: f.ContractID})
	}
	if f.Status != "" {
		conds = append(conds, bson.E{Key: "status", Value: f.Status})
	}
	if f.Kind != "" {
		conds = append(conds, bson.E{Key: "kind", Value: f.Kind})
	}
	// "open" sorts after "decided": descending puts open concerns first.
	sort := bson.D{{Key: "status", Value: -1}, {Key: "raised_at", Value: 1}, {Key: "_id", Value: 1}}
	out, total, err := paged.Find[Concern](ctx, s.coll(), scoped(scope, conds...), sort, listFields, page, perPage)
	if err != nil {
		return nil, 0, fmt.Errorf("list concerns: %w", err)
	}
	return out, total, nil
}

// OpenConcerns is what about one contract waits for the leads.
type OpenConcerns struct {
	PartnerID string
	// Escalations is how many escalations about the contract are open.
	Escalations int
	// SuspensionRecommended says a recommendation to suspend it waits.
	SuspensionRecommended bool
}

// OpenCounts is what waits for the leads within a scope.
type OpenCounts struct {
	// Contracts maps contract IDs to what about each waits; contracts
	// with nothing waiting are left out.
	Contracts map[string]OpenConcerns
	// PartnerWide maps partner IDs to how many escalations about the
	// whole partner are open.
	PartnerWide map[string]int
	// Total is every open concern counted above.
	Total int
}

// OpenByContract counts the open concerns within reach per contract (and
// per partner, for those about a whole partner), for dashboards and home
// pages. It is one aggregation grouping by contract and kind, which real
// MongoDB answers from the status_partner_contract_kind index alone.
func (s *Store) OpenByContract(ctx context.Context, scope access.Scope) (OpenCounts, error) {
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: scoped(scope, bson.E{Key: "status", Value: Open})}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "partner", Value: "$partner_id"}, {Key: "contract", Value: "$contract_id"}, {Key: "kind", Value: "$kind"}}},
			{Key: "count", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}},
	}
	cur, err := s.coll().Aggregate(ctx, pipeline)
	if err != nil {
		return OpenCounts{}, fmt.Errorf("count open concerns: %w", err)
	}
	var rows []struct {
		Key struct {
			Partner  string `bson:"partner"`
			Contract string `bson:"contract"`
			Kind     string `bson:"kind"`
		} `bson:"_id"`
		Count int `bson:"count"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return OpenCounts{}, fmt.Errorf("count open concerns: %w", err)
	}
	out := OpenCounts{Contracts: map[string]OpenConcerns{}, PartnerWide: map[string]int{}}
	for _, r := range rows {
		// The match decides; this repeats it in case a filter is ever built wrong.
		if !reaches(scope, r.Key.Partner, r.Key.Contract) {
			continue
		}
		out.Total += r.Count
		if r.Key.Contract == "" {
			out.PartnerWide[r.Key.Partner] += r.Count
			continue
		}
		oc := out.Contracts[r.Key.Contract]
		oc.PartnerID = r.Key.Partner
		switch r.Key.Kind {
		case Escalation:
			oc.Escalations += r.Count
		case SuspensionRecommendation:
			oc.SuspensionRecommended = true
		}
		out.Contracts[r.Key.Contract] = oc
	}
	return out, nil
}

func checkActor(by Actor) error {
	if by.ID == "" || by.Name == "" {
		return errors.New("concern: the change must name who made it")
	}
	return nil
}

// checkReason checks a reason people typed; what names it in the
// messages, as in "Enter the reason for escalating". Line breaks are
// fine: a reason is paragraphs.
func checkReason(what, text string) error {
	switch text = strings.TrimSpace(text); {
	case text == "":
		return &ErrInvalid{"Enter " + what}
	case utf8.RuneCountInString(text) > MaxReason:
		return &ErrInvalid{fmt.Sprintf("%s must be %s characters or fewer", capital(what), thousands(MaxReason))}
	case invisible.Hides(text):
		return &ErrInvalid{capital(what) + " must not contain hidden or control characters"}
	}
	return nil
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// thousands writes n as people read it: 2,000.
func thousands(n int) string {
	if n < 1000 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%s,%03d", thousands(n/1000), n%1000)
}

// decided reports whether d is among c's decisions.
func (c Concern) decided(id bson.ObjectID) bool {
	return slices.ContainsFunc(c.Decisions, func(d Decision) bool { return d.ID == id })
}
