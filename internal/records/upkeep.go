package records

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/compliance"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/staff"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Upkeep keeps every person's stored assessment in step with their records,
// their roster entry, the partner's contracts and the calendar. Pages read
// the stored assessments; only the people a change touches are evaluated
// again, and a rebuild does everyone after a requirement change.
type Upkeep struct {
	Records   *Store
	Staff     *staff.Store
	Partners  *partner.Store
	Catalogue *requirements.Catalogue
	Options   compliance.Options
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// Changed, if set, is told of each partner whose stored assessments
	// changed, so that figures counted from them can be counted again.
	Changed func(partnerID string)
}

func (u *Upkeep) today() time.Time {
	if u.Now != nil {
		return calendar.Today(u.Now())
	}
	return calendar.Today(time.Now())
}

// Assessed is one person's evaluation under every contract of their partner,
// in full, for the "why" page.
type Assessed struct {
	Contract partner.Contract
	Result   compliance.Result
}

// contracts are the partner's contracts that still bind its staff.
func (u *Upkeep) contracts(ctx context.Context, partnerID string) ([]partner.Contract, error) {
	all, err := u.Partners.Contracts(ctx, access.PartnerScope(partnerID))
	if err != nil {
		return nil, err
	}
	var live []partner.Contract
	for _, c := range all {
		if c.PartnerID == partnerID && c.Status != partner.Terminated {
			live = append(live, c)
		}
	}
	return live, nil
}

func (u *Upkeep) set(c partner.Contract) requirements.Set {
	if c.Requirements != nil {
		return *c.Requirements
	}
	return u.Catalogue.Default
}

// Evaluate judges one person's records under each live contract today.
func (u *Upkeep) Evaluate(m staff.Member, b Book, contracts []partner.Contract) []Assessed {
	today := u.today()
	person := compliance.Person{Category: m.Category, StartDate: m.StartDate, LeavingDate: m.LeavingDate}
	training, vetting := evaluationInput(b)
	out := make([]Assessed, 0, len(contracts))
	for _, c := range contracts {
		out = append(out, Assessed{Contract: c, Result: compliance.Evaluate(u.Catalogue, u.set(c), person, training, vetting, today, u.Options)})
	}
	return out
}

// ForPerson evaluates one person in full, for the page that explains why.
func (u *Upkeep) ForPerson(ctx context.Context, scope access.Scope, m staff.Member) ([]Assessed, Book, error) {
	b, err := u.Records.Get(ctx, scope, m.PartnerID, m.ID)
	if err != nil {
		return nil, Book{}, err
	}
	contracts, err := u.contracts(ctx, m.PartnerID)
	if err != nil {
		return nil, Book{}, err
	}
	return u.Evaluate(m, b, contracts), b, nil
}

func evaluationInput(b Book) ([]compliance.Training, []compliance.Vetting) {
	training := make([]compliance.Training, len(b.Training))
	for i, t := range b.Training {
		training[i] = compliance.Training{ID: t.ID.Hex(), Module: t.Module, Completed: t.Completed, Verification: t.Verification, RejectReason: reason(t.Decision)}
	}
	vetting := make([]compliance.Vetting, len(b.Vetting))
	for i, v := range b.Vetting {
		vetting[i] = compliance.Vetting{ID: v.ID.Hex(), Type: v.Type, Issued: v.Issued, RecheckBy: v.RecheckBy,
			UpdateService: v.UpdateService, StatusChecked: v.StatusChecked, Verification: v.Verification, RejectReason: reason(v.Decision)}
	}
	return training, vetting
}

func reason(d *Decision) string {
	if d == nil {
		return ""
	}
	return d.Reason
}

// assessment condenses evaluations into what is stored with the person.
func (u *Upkeep) assessment(m staff.Member, b Book, contracts []partner.Contract, contractsBasis string) staff.Assessment {
	today := u.today()
	window := u.Options.ExpiringWithinDays
	if window == 0 {
		window = compliance.DefaultExpiringWithinDays
	}
	a := staff.Assessment{EvaluatedOn: today, Basis: u.basis(m, contractsBasis)}
	stale := func(d time.Time) {
		if d.After(today) && (a.StaleFrom == nil || d.Before(*a.StaleFrom)) {
			a.StaleFrom = &d
		}
	}
	if m.LeavingDate != nil {
		stale(calendar.Day(*m.LeavingDate))
	}
	for _, e := range u.Evaluate(m, b, contracts) {
		st := staff.Standing{ContractID: e.Contract.ID, Applies: e.Result.Applies, Compliant: e.Result.Compliant, NextDue: e.Result.NextDue}
		for _, r := range e.Result.Requirements {
			if r.Due != nil {
				switch r.State {
				case compliance.Met:
					stale(calendar.AddDays(*r.Due, -window))
				case compliance.ExpiringSoon, compliance.AwaitingVerification:
					stale(*r.Due)
				}
			}
			if r.State != compliance.Met {
				st.Gaps = append(st.Gaps, staff.Gap{Key: r.Key, State: string(r.State), Due: r.Due})
			}
		}
		a.Contracts = append(a.Contracts, st)
	}
	for _, t := range b.Training {
		// An imported completion has no certificate by design: the department
		// checks it against the provider's records, so it asks nothing of the partner.
		a.Rejected, a.NoEvidence = tally(a.Rejected, a.NoEvidence, t.Verification, t.Evidence != nil || t.ImportID != "")
	}
	for _, v := range b.Vetting {
		a.Rejected, a.NoEvidence = tally(a.Rejected, a.NoEvidence, v.Verification, v.Evidence != nil)
	}
	return a
}

func tally(rejected, noEvidence int, verification string, evidenced bool) (int, int) {
	if verification == Rejected {
		rejected++
	} else if !evidenced && verification == Unverified {
		noEvidence++
	}
	return rejected, noEvidence
}

// basis fingerprints what an assessment depends on besides the records and
// the day: the person's category and dates, and each live contract's set
// (as fingerprinted by contractsBasis).
func (u *Upkeep) basis(m staff.Member, contracts string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%v|%v|%d|%s", m.Category, m.StartDate, m.LeavingDate, u.Options.ExpiringWithinDays, contracts)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func (u *Upkeep) contractsBasis(contracts []partner.Contract) string {
	h := sha256.New()
	for _, c := range contracts {
		set, _ := json.Marshal(u.set(c))
		fmt.Fprintf(h, "%s|%s\n", c.ID, set)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Reassess evaluates the named people again and stores the result: after
// any change to their records or their roster entry.
func (u *Upkeep) Reassess(ctx context.Context, partnerID string, staffIDs ...bson.ObjectID) error {
	scope := access.PartnerScope(partnerID)
	contracts, err := u.contracts(ctx, partnerID)
	if err != nil {
		return err
	}
	contractsBasis := u.contractsBasis(contracts)
	assessed := make(map[bson.ObjectID]staff.Assessment, len(staffIDs))
	for _, id := range staffIDs {
		m, err := u.Staff.Get(ctx, scope, partnerID, id.Hex())
		if err != nil {
			return fmt.Errorf("reassess: %w", err)
		}
		b, err := u.Records.Get(ctx, scope, partnerID, id)
		if err != nil {
			return fmt.Errorf("reassess: %w", err)
		}
		if a := u.assessment(m, b, contracts, contractsBasis); !unchanged(m.Assessment, a) {
			assessed[id] = a
		}
	}
	return u.store(ctx, scope, partnerID, assessed)
}

// unchanged reports whether the stored assessment already says all that a
// new one does, so storing it would change nothing. The embedded store
// costs a scan of the partner's whole roster for each assessment it is sent,
// changed or not: a rebuild that changes nothing sends none.
func unchanged(stored *staff.Assessment, a staff.Assessment) bool {
	if stored == nil {
		return false
	}
	was, err := bson.Marshal(stored)
	if err != nil {
		return false
	}
	now, err := bson.Marshal(a)
	return err == nil && bytes.Equal(was, now)
}

// assessmentBatch bounds how many assessments one write stores. The embedded
// store (FerretDB v1, SQLite) holds a connection for every update statement
// of a command until the whole command ends, from a pool of 100 shared by all
// clients: one bulk write of 100 or more updates waits for a connection it
// holds itself, for ever, and a few large ones at once can do the same
// together. 25 leaves room for three such writes and the reads around them.
const assessmentBatch = 25

// store writes assessments in batches of assessmentBatch.
func (u *Upkeep) store(ctx context.Context, scope access.Scope, partnerID string, assessed map[bson.ObjectID]staff.Assessment) error {
	if len(assessed) > 0 && u.Changed != nil {
		// Told even if a batch fails: some of it may have been stored.
		defer u.Changed(partnerID)
	}
	if len(assessed) <= assessmentBatch {
		return u.Staff.SetAssessments(ctx, scope, partnerID, assessed)
	}
	batch := make(map[bson.ObjectID]staff.Assessment, assessmentBatch)
	for id, a := range assessed {
		batch[id] = a
		if len(batch) < assessmentBatch {
			continue
		}
		if err := u.Staff.SetAssessments(ctx, scope, partnerID, batch); err != nil {
			return err
		}
		clear(batch)
	}
	return u.Staff.SetAssessments(ctx, scope, partnerID, batch)
}

// ReassessPartner brings every assessment of the partner up to date: all of
// them (everyone), or only those never made, made against another basis, or
// past their StaleFrom day. It reads each record book once. It returns how
// many people were evaluated again.
func (u *Upkeep) ReassessPartner(ctx context.Context, partnerID string, everyone bool) (int, error) {
	scope := access.PartnerScope(partnerID)
	contracts, err := u.contracts(ctx, partnerID)
	if err != nil {
		return 0, err
	}
	members, err := u.Staff.Members(ctx, scope, partnerID)
	if err != nil {
		return 0, err
	}
	today := u.today()
	contractsBasis := u.contractsBasis(contracts)
	due := map[bson.ObjectID]staff.Member{}
	for _, m := range members {
		if everyone || u.needsAssessment(m, contractsBasis, today) {
			due[m.ID] = m
		}
	}
	if len(due) == 0 {
		return 0, nil
	}
	books := map[bson.ObjectID]Book{}
	// A few people are read by _id; many at once in one pass over the books.
	if len(due) <= 200 {
		for id := range due {
			b, err := u.Records.Get(ctx, scope, partnerID, id)
			if err != nil {
				return 0, err
			}
			books[id] = b
		}
	} else if err := u.Records.Each(ctx, scope, partnerID, func(b Book) error {
		if _, ok := due[b.StaffID]; ok {
			books[b.StaffID] = b
		}
		return nil
	}); err != nil {
		return 0, err
	}
	assessed := make(map[bson.ObjectID]staff.Assessment, len(due))
	for id, m := range due {
		b, ok := books[id]
		if !ok {
			b = Book{StaffID: id, PartnerID: partnerID}
		}
		if a := u.assessment(m, b, contracts, contractsBasis); !unchanged(m.Assessment, a) {
			assessed[id] = a
		}
	}
	return len(due), u.store(ctx, scope, partnerID, assessed)
}

// Stale counts the members whose stored assessment no longer holds: never
// made, made against another basis, or past its StaleFrom day.
func (u *Upkeep) Stale(ctx context.Context, partnerID string, members []staff.Member) (int, error) {
	stale, err := u.Staleness(ctx, partnerID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range members {
		if stale(m) {
			n++
		}
	}
	return n, nil
}

// Staleness returns a test of whether a member of the partner's roster
// needs assessing again today, for checking a roster while streaming it.
func (u *Upkeep) Staleness(ctx context.Context, partnerID string) (func(staff.Member) bool, error) {
	contracts, err := u.contracts(ctx, partnerID)
	if err != nil {
		return nil, err
	}
	basis, today := u.contractsBasis(contracts), u.today()
	return func(m staff.Member) bool { return u.needsAssessment(m, basis, today) }, nil
}

// needsAssessment reports whether a stored assessment no longer holds.
func (u *Upkeep) needsAssessment(m staff.Member, contractsBasis string, today time.Time) bool {
	a := m.Assessment
	return a == nil || (a.StaleFrom != nil && !a.StaleFrom.After(today)) || a.Basis != u.basis(m, contractsBasis)
}

// ReassessAll brings every partner's assessments up to date (see
// ReassessPartner). Safe to run on several replicas at once: it only ever
// writes what the records say.
func (u *Upkeep) ReassessAll(ctx context.Context, everyone bool) (int, error) {
	ps, err := u.Partners.List(ctx, access.Everything())
	if err != nil {
		return 0, err
	}
	total := 0
	for _, p := range ps {
		n, err := u.ReassessPartner(ctx, p.ID, everyone)
		total += n
		if err != nil {
			return total, fmt.Errorf("reassess %s: %w", p.ID, err)
		}
	}
	return total, nil
}
