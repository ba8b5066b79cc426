package seed

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/staff"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// A generated dataset gives every person a record book: what their partner
// has recorded of their training and vetting. Most people hold everything
// their category's default rule asks for, mostly verified and current; some
// of it has lapsed, some falls due within the expiring-soon window, some
// waits for verification (and is in the verification queue), some was
// rejected (and perhaps recorded again), and some people's training is
// largely still to be recorded. Partners differ in how complete and current
// their records are, so their compliance figures and RAG ratings differ too.
//
// Dates are worked out back from the day of seeding, so the mix is the same
// whenever the dataset is made; the same size on the same day gives the same
// records, identifiers included (the rand is seeded from the partner's and
// the person's position). On average a person has about nine records.

// recordMix is how complete and how current one partner's records are. The
// per-requirement shares are chances for each requirement of each person.
type recordMix struct {
	unrecorded float64 // people the partner has recorded nothing for yet
	incomplete float64 // people whose training is mostly not recorded yet
	expired    float64 // the latest record has lapsed
	expiring   float64 // the latest record falls due within 30 days
	awaiting   float64 // the latest record waits for verification
	rejected   float64 // a record was rejected (and maybe recorded again)
	missing    float64 // nothing recorded, in an otherwise complete book
	history    float64 // an earlier, lapsed completion is kept before the current one
}

// mixFor is partner pi's mix. The first (Northgate) keeps its records well;
// the rest range from nearly complete to far behind.
func mixFor(pi int) recordMix {
	r := rand.New(rand.NewPCG(uint64(pi), 0x6d6978))
	unrecorded := []float64{0, 0.02, 0.05, 0.1, 0.15, 0.25}
	incomplete := []float64{0.02, 0.05, 0.1, 0.2, 0.3, 0.4}
	lapse := []float64{0.0005, 0.003, 0.008, 0.02}
	m := recordMix{unrecorded: unrecorded[r.IntN(len(unrecorded))], incomplete: incomplete[r.IntN(len(incomplete))],
		expiring: 0.02, awaiting: 0.001, rejected: 0.002, history: 0.03}
	m.expired = lapse[r.IntN(len(lapse))]
	m.missing = m.expired
	if pi == 0 {
		m.unrecorded, m.incomplete, m.expired, m.missing = 0, 0.005, 0.0005, 0.0005
	}
	return m
}

type outcome int

const (
	current outcome = iota
	expiringSoon
	expired
	awaiting
	rejected
	missing
)

func (m recordMix) draw(r *rand.Rand) outcome {
	u := r.Float64()
	for _, o := range []struct {
		p float64
		o outcome
	}{{m.missing, missing}, {m.expired, expired}, {m.expiring, expiringSoon}, {m.awaiting, awaiting}, {m.rejected, rejected}} {
		if u < o.p {
			return o.o
		}
		u -= o.p
	}
	return current
}

var (
	trainingProviders = []string{"Department e-learning", "Civil Service Learning", "In-house trainer", "Safeguarding Associates Ltd", "NSPCC Learning"}
	rejectReasons     = []string{
		"The certificate is for another course",
		"The certificate does not show the date of completion",
		"The name on the certificate does not match the staff member",
		"The document is unreadable",
		"The check was for another organisation and cannot be transferred",
	}
	verifiers = []string{"Maya Collins", "Daniel Obi", "Hannah Firth"}
)

// bookMaker makes one partner's record books.
type bookMaker struct {
	cat       *requirements.Catalogue
	partnerID string
	pi        int
	mix       recordMix
	officer   string    // who records for the partner
	today     time.Time // the calendar day of seeding
	now       time.Time // no record is recorded or decided after this

	r       *rand.Rand
	m       staff.Member
	book    records.Book
	waiting []records.Waiting
}

func newBookMaker(cat *requirements.Catalogue, partnerID string, pi int, officer string, now time.Time) *bookMaker {
	return &bookMaker{cat: cat, partnerID: partnerID, pi: pi, mix: mixFor(pi), officer: officer,
		today: calendar.Today(now), now: now.UTC().Truncate(time.Millisecond)}
}

// books makes the record books of the partner's members (the i-th member is
// person i of the partner) and the queue entries of their unverified records.
func (bm *bookMaker) books(members []staff.Member) ([]records.Book, []records.Waiting) {
	books := make([]records.Book, 0, len(members))
	bm.waiting = nil
	for i, m := range members {
		books = append(books, bm.person(i, m))
	}
	return books, bm.waiting
}

func (bm *bookMaker) person(i int, m staff.Member) records.Book {
	bm.r = rand.New(rand.NewPCG(uint64(bm.pi)<<32|uint64(i), 0x626f6f6b))
	bm.m = m
	bm.book = records.Book{StaffID: m.ID, PartnerID: bm.partnerID, Training: []records.Training{}, Vetting: []records.Vetting{}}
	rule, ok := bm.cat.Default.Rule(m.Category)
	if !ok || bm.r.Float64() < bm.mix.unrecorded {
		return bm.book
	}
	// Vetting comes before employment, so even people whose training is
	// still to be recorded have theirs.
	for _, group := range rule.Vetting {
		bm.vetting(group)
	}
	incomplete := bm.r.Float64() < bm.mix.incomplete
	for _, module := range rule.Training {
		if incomplete && bm.r.Float64() < 0.9 {
			continue
		}
		bm.training(module, bm.cat.Default.Refresh(bm.cat, module))
	}
	return bm.book
}

// days is a whole number of days in [lo, hi].
func (bm *bookMaker) days(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + bm.r.IntN(hi-lo+1)
}

// objectID is a record ID made at t, deterministic given the rand.
func (bm *bookMaker) objectID(t time.Time) bson.ObjectID {
	var id bson.ObjectID
	binary.BigEndian.PutUint32(id[:4], uint32(t.Unix()))
	binary.BigEndian.PutUint64(id[4:], bm.r.Uint64())
	return id
}

// recordedAt is when a record dated day was entered: within a fortnight,
// during the working day, never after now.
func (bm *bookMaker) recordedAt(day time.Time) time.Time {
	t := calendar.AddDays(day, bm.days(0, 14)).Add(time.Duration(bm.days(8*60, 17*60)) * time.Minute)
	if t.After(bm.now) {
		return bm.now
	}
	return t
}

func (bm *bookMaker) decision(status string, recorded time.Time) *records.Decision {
	d := &records.Decision{Status: status, By: verifiers[bm.r.IntN(len(verifiers))],
		At: recorded.Add(time.Duration(bm.days(1, 10*24)) * time.Hour)}
	if d.At.After(bm.now) {
		d.At = bm.now
	}
	if status == records.Rejected {
		d.Reason = rejectReasons[bm.r.IntN(len(rejectReasons))]
	}
	return d
}

// currentFrom is the earliest day a record of a period of months can be
// dated and still be more than the expiring-soon window from falling due.
func (bm *bookMaker) currentFrom(months int) time.Time {
	return calendar.AddDays(calendar.AddMonths(bm.today, -months), compliance30+2)
}

// compliance30 is the default expiring-soon window the dates keep clear of.
const compliance30 = 30

// dated is the date of a record in the given outcome for a period of months
// (0: never falls due), no earlier than from where it can be.
func (bm *bookMaker) dated(o outcome, months int, from time.Time) time.Time {
	yesterday := calendar.AddDays(bm.today, -1)
	switch {
	case o == awaiting:
		return calendar.AddDays(bm.today, -bm.days(1, 25))
	case o == rejected: // long enough ago to have been recorded again since
		return calendar.AddDays(bm.today, -bm.days(6, 40))
	case months > 0 && o == expiringSoon:
		return calendar.AddDays(calendar.AddMonths(bm.today, -months), bm.days(1, compliance30))
	case months > 0 && o == expired:
		return calendar.AddDays(calendar.AddMonths(bm.today, -months), -bm.days(1, 240))
	case months > 0:
		from = maxDay(from, bm.currentFrom(months))
	}
	if from.After(yesterday) {
		return yesterday
	}
	return calendar.AddDays(from, bm.days(0, calendar.DaysBetween(from, yesterday)))
}

func maxDay(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (bm *bookMaker) training(module string, months int) {
	o := bm.mix.draw(bm.r)
	if o == missing {
		return
	}
	if months == 0 && (o == expired || o == expiringSoon) {
		o = current
	}
	by := bm.officer
	if bm.r.IntN(3) == 0 {
		by = bm.m.Name // staff record their own courses too
	}
	provider := trainingProviders[bm.r.IntN(len(trainingProviders))]
	if module == "face_behind_the_case" {
		provider = trainingProviders[0]
	}
	add := func(completed time.Time, status string) {
		at := bm.recordedAt(completed)
		t := records.Training{ID: bm.objectID(at), Module: module, Completed: completed, Provider: provider,
			Verification: status, RecordedBy: by, RecordedAt: at}
		if status != records.Unverified {
			t.Decision = bm.decision(status, at)
		} else {
			bm.queue(t.ID, "training", module, at)
		}
		bm.book.Training = append(bm.book.Training, t)
	}
	completed := bm.dated(o, months, bm.m.StartDate)
	switch o {
	case awaiting:
		if months > 0 && bm.r.IntN(2) == 0 {
			add(bm.dated(expired, months, bm.m.StartDate), records.Verified) // the completion it renews
		}
		add(completed, records.Unverified)
	case rejected:
		add(completed, records.Rejected)
		if bm.r.IntN(5) < 3 {
			add(calendar.AddDays(completed, bm.days(1, 5)), records.Verified) // recorded again, properly
		}
	default:
		if o == current && months > 0 && bm.r.Float64() < bm.mix.history {
			add(calendar.AddDays(calendar.AddMonths(completed, -months), -bm.days(0, 20)), records.Verified)
		}
		add(completed, records.Verified)
	}
}

// pick chooses one of a vetting group's types, the first (the lowest level
// that satisfies the requirement) most often.
func (bm *bookMaker) pick(group []string) string {
	for _, t := range group[:len(group)-1] {
		if bm.r.IntN(3) < 2 {
			return t
		}
	}
	return group[len(group)-1]
}

func (bm *bookMaker) vetting(group []string) {
	o := bm.mix.draw(bm.r)
	if o == missing {
		return
	}
	typ := bm.pick(group)
	vt, _ := bm.cat.VettingType(typ)
	months := vt.RecheckMonths
	dbs := strings.HasPrefix(typ, "dbs_")
	v := records.Vetting{Type: typ, Outcome: records.OutcomeClear, RecordedBy: bm.officer}
	switch {
	case dbs:
		v.Reference = fmt.Sprintf("00%010d", bm.r.Int64N(10_000_000_000))
		if bm.r.IntN(40) == 0 {
			v.Outcome, v.RiskApprovedBy = records.OutcomeRiskAssessed, bm.officer
		}
	case typ == "right_to_work":
		if bm.r.IntN(3) == 0 {
			v.Reference = shareCode(bm.r)
		}
		if bm.r.IntN(8) == 0 {
			// Time-limited permission: the follow-up check falls on the day it ends.
			var by time.Time
			switch o {
			case expiringSoon:
				by = calendar.AddDays(bm.today, bm.days(1, compliance30))
			case expired:
				by = calendar.AddDays(bm.today, -bm.days(1, 120))
			default:
				by = calendar.AddDays(bm.today, bm.days(compliance30+1, 900))
			}
			v.RecheckBy = &by
		}
	default:
		v.Reference = fmt.Sprintf("%s/%06d", strings.ToUpper(strings.TrimPrefix(typ, "nsv_")), bm.r.IntN(1_000_000))
	}
	if months == 0 && v.RecheckBy == nil && (o == expired || o == expiringSoon) {
		o = current
	}
	// Checks are made before someone starts; a current one made since was a re-check.
	preEmployment := calendar.AddDays(bm.m.StartDate, -bm.days(5, 45))
	issued := bm.dated(o, months, preEmployment)
	if o == current && (months == 0 || calendar.AddMonths(preEmployment, months).After(bm.currentFrom(0))) {
		issued = preEmployment
	}
	if v.RecheckBy != nil && (o == expired || o == expiringSoon) {
		issued = preEmployment
	}
	if dbs && o == current && bm.r.IntN(3) == 0 {
		// On the Update Service: an older certificate kept current by status checks.
		issued = calendar.AddMonths(preEmployment, -bm.days(0, 24))
		checked := bm.dated(current, months, issued)
		v.UpdateService, v.StatusChecked = true, &checked
	}
	v.Issued = issued
	add := func(v records.Vetting, status string) {
		v.RecordedAt = bm.recordedAt(v.Issued)
		v.ID = bm.objectID(v.RecordedAt)
		v.Verification = status
		if status != records.Unverified {
			v.Decision = bm.decision(status, v.RecordedAt)
		} else {
			bm.queue(v.ID, "vetting", v.Type, v.RecordedAt)
		}
		bm.book.Vetting = append(bm.book.Vetting, v)
	}
	switch o {
	case awaiting:
		add(v, records.Unverified)
	case rejected:
		add(v, records.Rejected)
		if bm.r.IntN(5) < 3 {
			v.Issued = calendar.AddDays(v.Issued, bm.days(1, 5))
			add(v, records.Verified)
		}
	default:
		add(v, records.Verified)
	}
}

// shareCode is a Home Office right to work share code: nine characters
// starting with W, without the easily confused letters.
func shareCode(r *rand.Rand) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := []byte{'W', 0, 0, 0, 0, 0, 0, 0, 0}
	for i := 1; i < len(b); i++ {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func (bm *bookMaker) queue(id bson.ObjectID, kind, what string, submitted time.Time) {
	bm.waiting = append(bm.waiting, records.Waiting{RecordID: id, PartnerID: bm.partnerID, StaffID: bm.m.ID,
		StaffName: bm.m.Name, StaffNumber: bm.m.StaffNumber, Kind: kind, What: what, Submitted: submitted})
}
