// Package compliance decides, for one staff member on one contract, whether
// each of the contract's training and vetting requirements is met today, and
// says why in words a partner's compliance officer or a department contract
// manager can act on ("why is this red?").
//
// It is pure and deterministic: no I/O, no clock, no randomness. The caller
// supplies the day to judge by, as a London calendar day (see
// calendar.Today), so that the same records always give the same answer,
// reports can be regenerated for any past date, and the rules can be tested
// at every boundary without waiting for one.
//
// The rules, in short: a requirement is satisfied only by evidence the
// department has verified; a completion or check counts on every day before
// its expiry or re-check date and not on the day itself; it is "expiring
// soon" within a window (30 days unless the contract says otherwise) of that
// date; unverified evidence shows as awaiting verification rather than as a
// gap, and rejected evidence never counts.
package compliance

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/requirements"
)

// State is where one requirement stands for one staff member on one day.
type State string

const (
	// Met: verified evidence that stays valid beyond the expiring-soon window.
	Met State = "met"
	// ExpiringSoon: still met today, but the evidence expires or falls due
	// for re-check within the window, so the partner should act now.
	ExpiringSoon State = "expiring"
	// Expired: the latest evidence that could count has passed its expiry or
	// re-check date.
	Expired State = "expired"
	// Missing: nothing that could count has been recorded (rejected evidence
	// and completions dated in the future do not count).
	Missing State = "missing"
	// AwaitingVerification: the only valid evidence is waiting for the
	// department to check it. It does not make the staff member compliant:
	// the department's records must show evidence it has seen.
	AwaitingVerification State = "awaiting_verification"
)

// Verification status of a record's evidence, as set by a contract manager.
// Any other value, including the empty string, is read as Unverified: evidence
// nobody has decided on must not count as verified, nor vanish as if rejected.
const (
	Unverified = "unverified"
	Verified   = "verified"
	Rejected   = "rejected"
)

// DefaultExpiringWithinDays is the expiring-soon window the product brief sets
// as the default: a month's notice to book a course or a re-check.
const DefaultExpiringWithinDays = 30

// Person is what the evaluation needs to know about a staff member.
type Person struct {
	// Category is the staff category's ID. Only the current category matters:
	// after a move, old records count wherever they match the new rule.
	Category string
	// StartDate is the day they started. The evaluation reports the state of
	// the records as it is from day one; any grace period for new starters is
	// for performance management to apply, not for this package to hide.
	StartDate time.Time
	// LeavingDate is the day they left, if they have: from that day on they
	// drop out of compliance altogether. A future date is a notice of leaving
	// and changes nothing until it arrives.
	LeavingDate *time.Time
}

// Training is one recorded completion of a training module.
type Training struct {
	ID           string // record ID, echoed back so pages can link to it
	Module       string // module ID
	Completed    time.Time
	Verification string // Unverified, Verified or Rejected
	RejectReason string
}

// Vetting is one recorded vetting check (DBS, national security vetting or
// right to work).
type Vetting struct {
	ID     string
	Type   string // vetting type ID
	Issued time.Time
	// RecheckBy is a re-check date carried by the record itself, such as the
	// day time-limited permission to work ends. When set it replaces the
	// policy period, whether that is longer, shorter or none.
	RecheckBy *time.Time
	// UpdateService is whether the DBS certificate is subscribed to the DBS
	// Update Service, and StatusChecked the last time its status was checked
	// there. A status check confirms the certificate is still current, so the
	// policy re-check period runs from it instead of from the issue date.
	UpdateService bool
	StatusChecked *time.Time
	Verification  string
	RejectReason  string
}

// Options tunes an evaluation to a contract.
type Options struct {
	// ExpiringWithinDays is how many days before its expiry or re-check date
	// evidence shows as expiring soon. 0 means DefaultExpiringWithinDays; a
	// negative value turns the warning off.
	ExpiringWithinDays int
}

// Kind says whether a requirement is for training or for vetting.
type Kind string

const (
	KindTraining Kind = "training"
	KindVetting  Kind = "vetting"
)

// Requirement is one line of a staff member's compliance: one mandatory
// module, or one vetting requirement that any of several check types meets.
type Requirement struct {
	Kind Kind
	// Key is the module ID, or the vetting group's type IDs joined with "|"
	// in the rule's order; it identifies the requirement across staff, for
	// per-requirement compliance figures.
	Key string
	// Name is the module's name, or the group's type names joined as a
	// reader would say them: "Enhanced DBS check or Enhanced DBS check with
	// children's barred list".
	Name  string
	State State
	// Explanation is one or two sentences for the "why" page, saying what to
	// do next whenever the requirement is not met.
	Explanation string
	// Due is the expiry or re-check date of the record relied on; nil when
	// there is no such record or it never needs renewing.
	Due *time.Time
	// RecordID is the record relied on, or for a rejection the rejected
	// record, so the page can link to its evidence.
	RecordID string
}

// Result is one staff member's compliance on one contract on one day.
type Result struct {
	// Applies is false for staff who have left: they are no longer counted
	// in the contract's compliance at all, neither for nor against it.
	Applies bool
	// Compliant is true when every requirement is met today, counting
	// expiring-soon evidence as met because it is still valid.
	Compliant bool
	// Requirements lists the training requirements in the rule's order, then
	// the vetting requirements in the rule's order.
	Requirements []Requirement
	// NextDue is the earliest date on which something currently valid
	// expires or falls due for re-check, for "expiring in the next 30, 60 or
	// 90 days" lists; nil when nothing valid ever expires.
	NextDue *time.Time
	// Summary is one sentence for lists and the top of the "why" page.
	Summary string
}

// Evaluate judges one staff member's records against the contract's
// requirement set on the calendar day today. The catalogue supplies names and
// the default refresh and re-check periods; set is the contract's tailored
// set. Records for other modules or vetting types are ignored, so the same
// slices can be passed whatever the staff member's category. It does not
// change its arguments.
func Evaluate(cat *requirements.Catalogue, set requirements.Set, p Person, training []Training, vetting []Vetting, today time.Time, opts Options) Result {
	today = calendar.Day(today)
	window := opts.ExpiringWithinDays
	if window == 0 {
		window = DefaultExpiringWithinDays
	}

	if p.LeavingDate != nil {
		if left := calendar.Day(*p.LeavingDate); !left.After(today) {
			return Result{Summary: fmt.Sprintf("Left on %s, so no longer counted in the contract's compliance.", calendar.Format(left))}
		}
	}

	rule, ok := set.Rule(p.Category)
	if !ok || len(rule.Training)+len(rule.Vetting) == 0 {
		return Result{Applies: true, Compliant: true, Summary: noRequirements(cat, p.Category)}
	}

	res := Result{Applies: true, Requirements: make([]Requirement, 0, len(rule.Training)+len(rule.Vetting))}
	for _, module := range rule.Training {
		res.Requirements = append(res.Requirements, evaluateTraining(cat, set, module, training, today, window))
	}
	for _, group := range rule.Vetting {
		res.Requirements = append(res.Requirements, evaluateVetting(cat, group, vetting, today, window))
	}

	res.Compliant = true
	for _, r := range res.Requirements {
		if !r.valid() {
			res.Compliant = false
			continue
		}
		if r.Due != nil && (res.NextDue == nil || r.Due.Before(*res.NextDue)) {
			res.NextDue = r.Due
		}
	}
	if res.NextDue != nil {
		res.NextDue = datePtr(*res.NextDue)
	}
	res.Summary = summarise(res.Requirements)
	return res
}

func noRequirements(cat *requirements.Catalogue, category string) string {
	if category == "" {
		return "No staff category is recorded, so no requirements apply. Record the staff member's category."
	}
	return fmt.Sprintf("The contract sets no requirements for staff in the category %q.", cat.CategoryName(category))
}

// valid reports whether the requirement is satisfied today.
func (r Requirement) valid() bool { return r.State == Met || r.State == ExpiringSoon }

// evidence is a training or vetting record reduced to what the choice between
// records needs, with its expiry or re-check date worked out.
type evidence struct {
	id           string
	date         time.Time  // completed or issued
	due          *time.Time // expiry or re-check date; nil: never
	verification string     // normalised: Verified, Unverified or Rejected
	reason       string

	// Vetting only, for the explanation.
	vettingType   string
	statusChecked *time.Time // the Update Service check the period runs from
	recheckBy     bool       // due is the record's own re-check date
	dbsUpdate     bool       // a DBS check on the Update Service
	months        int        // the period due was worked out from, if any
}

func (e *evidence) validOn(today time.Time) bool { return e.due == nil || e.due.After(today) }

// precedence orders records best first: the one that stays valid longest
// (never expiring beats any date), then the most recent, then the greater ID
// (record IDs are Mongo object IDs, whose hex sorts by creation), and finally
// the reject reason, so that even duplicated IDs cannot make the order depend
// on the order records were passed in.
func precedence(a, b evidence) int {
	switch {
	case a.due == nil && b.due != nil:
		return -1
	case a.due != nil && b.due == nil:
		return 1
	case a.due != nil:
		if c := b.due.Compare(*a.due); c != 0 {
			return c
		}
	}
	if c := b.date.Compare(a.date); c != 0 {
		return c
	}
	if c := cmp.Compare(b.id, a.id); c != 0 {
		return c
	}
	return cmp.Compare(b.reason, a.reason)
}

// choice is the outcome for one requirement before it is put into words.
type choice struct {
	state  State
	relied *evidence // the record the state rests on; nil when nothing counts
	// newer is a more recent unverified record that would keep the
	// requirement met once verified, reported when relied is expiring soon.
	newer *evidence
	// lapsed is the latest expired record, reported when a replacement is
	// awaiting verification.
	lapsed   *evidence
	daysLeft int
}

// choose applies the precedence every requirement shares: verified valid
// evidence, then unverified valid evidence, then expired evidence, then a
// rejection, then nothing. records must already be sorted by precedence.
func choose(records []evidence, today time.Time, window int) choice {
	var verified, unverified, expired, rejected *evidence
	for i := range records {
		e := &records[i]
		switch {
		case e.verification == Rejected:
			if rejected == nil || e.date.After(rejected.date) {
				rejected = e
			}
		case !e.validOn(today):
			if expired == nil {
				expired = e
			}
		case e.verification == Verified:
			if verified == nil {
				verified = e
			}
		default:
			if unverified == nil {
				unverified = e
			}
		}
	}

	switch {
	case verified != nil:
		c := choice{state: Met, relied: verified}
		if verified.due != nil {
			c.daysLeft = calendar.DaysBetween(today, *verified.due)
			if c.daysLeft <= window {
				c.state = ExpiringSoon
				c.newer = newerUnverified(records, verified, today)
			}
		}
		return c
	case unverified != nil:
		return choice{state: AwaitingVerification, relied: unverified, lapsed: expired}
	case expired != nil:
		return choice{state: Expired, relied: expired}
	case rejected != nil:
		return choice{state: Missing, relied: rejected}
	}
	return choice{state: Missing}
}

// newerUnverified finds the best valid unverified record dated after the one
// relied on: a renewal the partner has already recorded.
func newerUnverified(records []evidence, relied *evidence, today time.Time) *evidence {
	for i := range records {
		e := &records[i]
		if e.verification == Unverified && e.validOn(today) && e.date.After(relied.date) {
			return e
		}
	}
	return nil
}

func normaliseVerification(v string) string {
	switch v {
	case Verified, Rejected:
		return v
	}
	return Unverified
}

func evaluateTraining(cat *requirements.Catalogue, set requirements.Set, module string, training []Training, today time.Time, window int) Requirement {
	months := set.Refresh(cat, module)
	var records []evidence
	for _, t := range training {
		if t.Module != module {
			continue
		}
		done := calendar.Day(t.Completed)
		if done.After(today) {
			continue
		}
		e := evidence{id: t.ID, date: done, verification: normaliseVerification(t.Verification), reason: t.RejectReason, months: months}
		if months > 0 {
			e.due = datePtr(calendar.AddMonths(done, months))
		}
		records = append(records, e)
	}
	slices.SortStableFunc(records, precedence)

	c := choose(records, today, window)
	r := Requirement{Kind: KindTraining, Key: module, Name: moduleName(cat, module), State: c.state}
	r.attach(c)
	r.Explanation = explainTraining(c)
	return r
}

func evaluateVetting(cat *requirements.Catalogue, group []string, vetting []Vetting, today time.Time, window int) Requirement {
	var records []evidence
	for _, v := range vetting {
		if !slices.Contains(group, v.Type) {
			continue
		}
		issued := calendar.Day(v.Issued)
		if issued.After(today) {
			continue
		}
		records = append(records, vettingEvidence(cat, v, issued, today))
	}
	slices.SortStableFunc(records, precedence)

	names := make([]string, len(group))
	for i, id := range group {
		names[i] = vettingName(cat, id)
	}
	c := choose(records, today, window)
	r := Requirement{Kind: KindVetting, Key: strings.Join(group, "|"), Name: orList(names), State: c.state}
	r.attach(c)
	r.Explanation = explainVetting(cat, c, len(group) > 1)
	return r
}

// vettingEvidence works out a check's re-check date: the record's own date if
// it has one; otherwise the type's policy period, run from the latest Update
// Service status check for a subscribed DBS certificate and from the issue
// date for anything else. A status check dated in the future has not happened
// yet and is ignored, as a future completion is.
func vettingEvidence(cat *requirements.Catalogue, v Vetting, issued, today time.Time) evidence {
	e := evidence{id: v.ID, date: issued, verification: normaliseVerification(v.Verification), reason: v.RejectReason, vettingType: v.Type}
	e.dbsUpdate = strings.HasPrefix(v.Type, "dbs_") && v.UpdateService
	if v.RecheckBy != nil {
		e.due = datePtr(calendar.Day(*v.RecheckBy))
		e.recheckBy = true
		return e
	}
	vt, _ := cat.VettingType(v.Type)
	if vt.RecheckMonths <= 0 {
		return e
	}
	e.months = vt.RecheckMonths
	base := issued
	if e.dbsUpdate && v.StatusChecked != nil {
		if checked := calendar.Day(*v.StatusChecked); checked.After(issued) && !checked.After(today) {
			base = checked
			e.statusChecked = datePtr(checked)
		}
	}
	e.due = datePtr(calendar.AddMonths(base, vt.RecheckMonths))
	return e
}

// attach records which record the requirement rests on. Due is only shown
// for a record that counts or has lapsed, never for a rejected one.
func (r *Requirement) attach(c choice) {
	if c.relied == nil {
		return
	}
	r.RecordID = c.relied.id
	if c.relied.due != nil && c.relied.verification != Rejected {
		r.Due = datePtr(*c.relied.due)
	}
}

func explainTraining(c choice) string {
	e := c.relied
	switch c.state {
	case Met:
		if e.due == nil {
			return fmt.Sprintf("Completed %s; this course does not need to be renewed.", calendar.Format(e.date))
		}
		return fmt.Sprintf("Completed %s; expires %s (renewed %s).", calendar.Format(e.date), calendar.Format(*e.due), every(e.months))
	case ExpiringSoon:
		s := fmt.Sprintf("Completed %s; expires %s, %s.", calendar.Format(e.date), calendar.Format(*e.due), inDays(c.daysLeft))
		if c.newer != nil {
			return s + fmt.Sprintf(" A newer completion on %s is waiting for the department to verify it.", calendar.Format(c.newer.date))
		}
		return s + " Complete the course again before then and record it."
	case AwaitingVerification:
		s := fmt.Sprintf("Completed %s; the certificate is waiting for the department to verify it.", calendar.Format(e.date))
		if c.lapsed != nil {
			s += fmt.Sprintf(" The previous completion expired on %s.", calendar.Format(*c.lapsed.due))
		}
		return s
	case Expired:
		return fmt.Sprintf("Expired on %s. Complete the course again and record it.", calendar.Format(*e.due))
	}
	if e != nil {
		return rejection(e.reason) + " Record the course again with a readable certificate that shows the staff member's name, the course and the date it was completed."
	}
	return "No completion recorded. Complete the course and record it."
}

func explainVetting(cat *requirements.Catalogue, c choice, alternatives bool) string {
	e := c.relied
	issued := func(e *evidence) string {
		if alternatives {
			return vettingName(cat, e.vettingType) + " issued " + calendar.Format(e.date)
		}
		return "Issued " + calendar.Format(e.date)
	}
	again := "Carry out the check again"
	if e != nil && e.dbsUpdate {
		again = "Check the certificate's status on the DBS Update Service, or carry out a new check,"
	}
	switch c.state {
	case Met:
		switch {
		case e.due == nil:
			return issued(e) + "; no routine re-check is needed."
		case e.recheckBy:
			return fmt.Sprintf("%s; re-check due %s, the date set on the record.", issued(e), calendar.Format(*e.due))
		case e.statusChecked != nil:
			return fmt.Sprintf("%s; Update Service status checked %s, so the re-check is due %s (%s).", issued(e), calendar.Format(*e.statusChecked), calendar.Format(*e.due), every(e.months))
		}
		return fmt.Sprintf("%s; re-check due %s (%s).", issued(e), calendar.Format(*e.due), every(e.months))
	case ExpiringSoon:
		s := fmt.Sprintf("%s; re-check due %s, %s.", issued(e), calendar.Format(*e.due), inDays(c.daysLeft))
		if c.newer != nil {
			return s + fmt.Sprintf(" A newer check issued %s is waiting for the department to verify it.", calendar.Format(c.newer.date))
		}
		return s + " " + again + " before then and record it."
	case AwaitingVerification:
		s := issued(e) + "; the evidence is waiting for the department to verify it."
		if c.lapsed != nil {
			s += fmt.Sprintf(" The previous check was due for re-check on %s.", calendar.Format(*c.lapsed.due))
		}
		return s
	case Expired:
		return fmt.Sprintf("Re-check was due on %s. %s and record it.", calendar.Format(*e.due), again)
	}
	if e != nil {
		return rejection(e.reason) + " Record the check again with a clear, readable copy of the evidence."
	}
	if alternatives {
		return "No check recorded. Carry out one of these checks and record it."
	}
	return "No check recorded. Carry out the check and record it."
}

func rejection(reason string) string {
	reason = strings.TrimRight(strings.TrimSpace(reason), ".")
	if reason == "" {
		return "The evidence was rejected."
	}
	return "Rejected: " + reason + "."
}

// summarise puts the requirements not met into one sentence, or, when all
// are met, those expiring soon.
func summarise(reqs []Requirement) string {
	var notMet, soon []string
	for _, r := range reqs {
		switch r.State {
		case ExpiringSoon:
			soon = append(soon, r.brief())
		case Met:
		default:
			notMet = append(notMet, r.brief())
		}
	}
	total := len(reqs)
	switch {
	case len(notMet) > 0 && total == 1:
		return "The one requirement is not met: " + notMet[0] + "."
	case len(notMet) == 1:
		return fmt.Sprintf("1 of %d requirements is not met: %s.", total, notMet[0])
	case len(notMet) > 1:
		return fmt.Sprintf("%d of %d requirements are not met: %s.", len(notMet), total, strings.Join(notMet, "; "))
	}
	met := fmt.Sprintf("All %d requirements are met", total)
	if total == 1 {
		met = "The one requirement is met"
	}
	switch len(soon) {
	case 0:
		return met + "."
	case 1:
		return met + ", but " + soon[0] + "."
	}
	return fmt.Sprintf("%s, but %d are due soon: %s.", met, len(soon), strings.Join(soon, "; "))
}

// brief is the requirement's state as a clause of the summary.
func (r Requirement) brief() string {
	switch r.State {
	case ExpiringSoon:
		if r.Kind == KindVetting {
			return r.Name + " is due for re-check on " + calendar.Format(*r.Due)
		}
		return r.Name + " expires on " + calendar.Format(*r.Due)
	case Expired:
		if r.Kind == KindVetting {
			return r.Name + " was due for re-check on " + calendar.Format(*r.Due)
		}
		return r.Name + " expired on " + calendar.Format(*r.Due)
	case AwaitingVerification:
		return r.Name + " is awaiting verification"
	case Missing:
		if r.RecordID != "" {
			return r.Name + " is missing (evidence rejected)"
		}
		return r.Name + " is missing"
	}
	return r.Name + " is met"
}

// every describes a renewal period: "every 12 months".
func every(months int) string {
	if months == 1 {
		return "every month"
	}
	return fmt.Sprintf("every %d months", months)
}

// inDays describes how far off a date is, counting from today.
func inDays(n int) string {
	if n == 1 {
		return "tomorrow"
	}
	return fmt.Sprintf("in %d days", n)
}

// orList joins names as a reader would say alternatives: "A, B or C".
func orList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// moduleName is the module's name, or its ID if the catalogue no longer has
// it, so an old requirement still shows something.
func moduleName(cat *requirements.Catalogue, id string) string {
	if m, ok := cat.Module(id); ok {
		return m.Name
	}
	return id
}

func vettingName(cat *requirements.Catalogue, id string) string {
	if v, ok := cat.VettingType(id); ok {
		return v.Name
	}
	return id
}

func datePtr(t time.Time) *time.Time { return &t }
