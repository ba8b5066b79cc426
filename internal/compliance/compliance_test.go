package compliance

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/requirements"
)

const (
	adults   = "customer_facing_adults"
	children = "regulated_activity_children"
	backRoom = "not_customer_facing"

	fbc     = "face_behind_the_case"    // 12 months
	suicide = "suicide_self_harm"       // 12 months
	trauma  = "traumatic_narratives"    // 24 months
	vuln    = "vulnerability_awareness" // 24 months
)

var (
	adultsDBS   = []string{"dbs_enhanced", "dbs_enhanced_children_barred", "dbs_enhanced_adults_barred", "dbs_enhanced_both_barred"}
	childrenDBS = []string{"dbs_enhanced_children_barred", "dbs_enhanced_both_barred"}
	nsv         = []string{"nsv_bpss", "nsv_ctc", "nsv_sc", "nsv_dv"}
	rtw         = []string{"right_to_work"}
)

func d(y int, m time.Month, day int) time.Time { return calendar.Date(y, m, day) }

func dp(y int, m time.Month, day int) *time.Time {
	t := d(y, m, day)
	return &t
}

// trainingOnly is a set whose adults' rule asks for the given modules only,
// so a case can look at one requirement in isolation.
func trainingOnly(modules ...string) requirements.Set {
	return requirements.Set{Rules: []requirements.Rule{{Category: adults, Training: modules}}}
}

func vettingOnly(groups ...[]string) requirements.Set {
	return requirements.Set{Rules: []requirements.Rule{{Category: adults, Vetting: groups}}}
}

func withRefresh(s requirements.Set, module string, months int) requirements.Set {
	s.RefreshMonths = map[string]int{module: months}
	return s
}

func defaultSet() requirements.Set { return requirements.Default().Default.Clone() }

func tailored(category string, extra ...string) requirements.Set {
	s := defaultSet()
	for i, r := range s.Rules {
		if r.Category == category {
			s.Rules[i].Training = append(r.Training, extra...)
		}
	}
	return s
}

func onlyCategory(category string) requirements.Set {
	s := defaultSet()
	s.Rules = slices.DeleteFunc(s.Rules, func(r requirements.Rule) bool { return r.Category != category })
	return s
}

func catalogueWithRefresh(module string, months int) *requirements.Catalogue {
	c := requirements.Default()
	for i := range c.Modules {
		if c.Modules[i].ID == module {
			c.Modules[i].RefreshMonths = months
		}
	}
	return c
}

func verified(id, module string, done time.Time) Training {
	return Training{ID: id, Module: module, Completed: done, Verification: Verified}
}

func unverified(id, module string, done time.Time) Training {
	return Training{ID: id, Module: module, Completed: done, Verification: Unverified}
}

func rejected(id, module string, done time.Time, reason string) Training {
	return Training{ID: id, Module: module, Completed: done, Verification: Rejected, RejectReason: reason}
}

func check(id, typ string, issued time.Time) Vetting {
	return Vetting{ID: id, Type: typ, Issued: issued, Verification: Verified}
}

// allModules is every catalogue module, completed on done and verified:
// everything any default rule asks for.
func allModules(done time.Time) []Training {
	var out []Training
	for _, m := range requirements.Default().Modules {
		out = append(out, verified("t-"+m.ID, m.ID, done))
	}
	return out
}

// fullVetting is an enhanced DBS check (no barred list), BPSS and right to
// work, all verified: what the adults' rule asks for.
func fullVetting(issued time.Time) []Vetting {
	return []Vetting{check("v-dbs", "dbs_enhanced", issued), check("v-bpss", "nsv_bpss", issued), check("v-rtw", "right_to_work", issued)}
}

type want struct {
	key      string // requirement key; "" means the only (or first) requirement
	state    State
	due      time.Time // zero: Due must be nil
	record   string
	explain  string // the exact explanation, when set
	mentions string // a fragment the explanation must contain, when set
}

type evalCase struct {
	name     string
	cat      *requirements.Catalogue // nil: the default catalogue
	set      requirements.Set
	person   Person // Category defaults to adults unless asIs
	asIs     bool
	training []Training
	vetting  []Vetting
	today    time.Time
	instant  string // when set, today is calendar.Today of this RFC 3339 instant
	opts     Options

	want []want
	// others is the state every requirement not named in want must have;
	// "" means want names every requirement.
	others       State
	count        int // number of requirements, when checked (-1: must be none)
	notApplies   bool
	notCompliant bool
	nextDue      time.Time // zero: NextDue must be nil
	summary      string    // exact, when set
}

var june1 = d(2026, 6, 1)

var cases = []evalCase{
	// Expiry day and the expiring-soon window. Face Behind the Case,
	// completed 3 March 2025, 12-month refresh: expires 3 March 2026.
	{
		name: "day before expiry is expiring soon", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 3, 3))}, today: d(2026, 3, 2),
		want:    []want{{state: ExpiringSoon, due: d(2026, 3, 3), record: "t1", explain: "Completed 3 March 2025; expires 3 March 2026, tomorrow. Complete the course again before then and record it."}},
		nextDue: d(2026, 3, 3), summary: "The one requirement is met, but Face Behind the Case expires on 3 March 2026.",
	},
	{
		name: "expiry day itself is expired", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 3, 3))}, today: d(2026, 3, 3),
		want:         []want{{state: Expired, due: d(2026, 3, 3), record: "t1", explain: "Expired on 3 March 2026. Complete the course again and record it."}},
		notCompliant: true, summary: "The one requirement is not met: Face Behind the Case expired on 3 March 2026.",
	},
	{
		name: "31 days before expiry is met", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 3, 3))}, today: d(2026, 1, 31),
		want:    []want{{state: Met, due: d(2026, 3, 3), record: "t1", explain: "Completed 3 March 2025; expires 3 March 2026 (renewed every 12 months)."}},
		nextDue: d(2026, 3, 3), summary: "The one requirement is met.",
	},
	{
		name: "30 days before expiry is expiring soon", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 3, 3))}, today: d(2026, 2, 1),
		want:    []want{{state: ExpiringSoon, due: d(2026, 3, 3), record: "t1", mentions: "expires 3 March 2026, in 30 days."}},
		nextDue: d(2026, 3, 3),
	},
	{
		name: "custom 60-day window: 60 days before is expiring soon", set: trainingOnly(fbc), opts: Options{ExpiringWithinDays: 60},
		training: []Training{verified("t1", fbc, d(2025, 3, 3))}, today: d(2026, 1, 2),
		want:    []want{{state: ExpiringSoon, due: d(2026, 3, 3), record: "t1", mentions: "in 60 days"}},
		nextDue: d(2026, 3, 3),
	},
	{
		name: "custom 60-day window: 61 days before is met", set: trainingOnly(fbc), opts: Options{ExpiringWithinDays: 60},
		training: []Training{verified("t1", fbc, d(2025, 3, 3))}, today: d(2026, 1, 1),
		want:    []want{{state: Met, due: d(2026, 3, 3), record: "t1"}},
		nextDue: d(2026, 3, 3),
	},
	{
		name: "custom 7-day window: 8 days before is met", set: trainingOnly(fbc), opts: Options{ExpiringWithinDays: 7},
		training: []Training{verified("t1", fbc, d(2025, 3, 3))}, today: d(2026, 2, 23),
		want:    []want{{state: Met, due: d(2026, 3, 3), record: "t1"}},
		nextDue: d(2026, 3, 3),
	},
	{
		name: "negative window turns the warning off", set: trainingOnly(fbc), opts: Options{ExpiringWithinDays: -1},
		training: []Training{verified("t1", fbc, d(2025, 3, 3))}, today: d(2026, 3, 2),
		want:    []want{{state: Met, due: d(2026, 3, 3), record: "t1"}},
		nextDue: d(2026, 3, 3),
	},

	// Leap day: AddMonths clamps to the month's end.
	{
		name: "leap day +12 months: 27 February 2025 is expiring soon", set: trainingOnly(suicide),
		training: []Training{verified("t1", suicide, d(2024, 2, 29))}, today: d(2025, 2, 27),
		want:    []want{{state: ExpiringSoon, due: d(2025, 2, 28), record: "t1"}},
		nextDue: d(2025, 2, 28),
	},
	{
		name: "leap day +12 months expires 28 February 2025", set: trainingOnly(suicide),
		training: []Training{verified("t1", suicide, d(2024, 2, 29))}, today: d(2025, 2, 28),
		want:         []want{{state: Expired, due: d(2025, 2, 28), record: "t1", explain: "Expired on 28 February 2025. Complete the course again and record it."}},
		notCompliant: true,
	},
	{
		name: "leap day +48 months (override) is met on 28 February 2025", set: withRefresh(trainingOnly(suicide), suicide, 48),
		training: []Training{verified("t1", suicide, d(2024, 2, 29))}, today: d(2025, 2, 28),
		want:    []want{{state: Met, due: d(2028, 2, 29), record: "t1", mentions: "expires 29 February 2028 (renewed every 48 months)"}},
		nextDue: d(2028, 2, 29),
	},
	{
		name: "leap day +48 months: 28 February 2028 is the last valid day", set: withRefresh(trainingOnly(suicide), suicide, 48),
		training: []Training{verified("t1", suicide, d(2024, 2, 29))}, today: d(2028, 2, 28),
		want:    []want{{state: ExpiringSoon, due: d(2028, 2, 29), record: "t1", mentions: "tomorrow"}},
		nextDue: d(2028, 2, 29),
	},
	{
		name: "leap day +48 months expires 29 February 2028", set: withRefresh(trainingOnly(suicide), suicide, 48),
		training: []Training{verified("t1", suicide, d(2024, 2, 29))}, today: d(2028, 2, 29),
		want:         []want{{state: Expired, due: d(2028, 2, 29), record: "t1"}},
		notCompliant: true,
	},

	// Clock changes: the London day of the instant decides, not its UTC day.
	// Spring forward (29 March 2026, 01:00 UTC); expiry 29 March 2026.
	{
		name: "spring: 23:59 UTC on 28 March is still 28 March", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 3, 29))}, instant: "2026-03-28T23:59:00Z",
		want:    []want{{state: ExpiringSoon, due: d(2026, 3, 29), record: "t1"}},
		nextDue: d(2026, 3, 29),
	},
	{
		name: "spring: 00:59 UTC on 29 March (GMT) is the expiry day", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 3, 29))}, instant: "2026-03-29T00:59:00Z",
		want:         []want{{state: Expired, due: d(2026, 3, 29), record: "t1"}},
		notCompliant: true,
	},
	{
		name: "spring: 01:00 UTC on 29 March (02:00 BST) is the expiry day", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 3, 29))}, instant: "2026-03-29T01:00:00Z",
		want:         []want{{state: Expired, due: d(2026, 3, 29), record: "t1"}},
		notCompliant: true,
	},
	// Fall back (25 October 2026, 01:00 UTC); expiry 25 October 2026.
	{
		name: "autumn: 22:59 UTC on 24 October is 23:59 BST, still valid", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 10, 25))}, instant: "2026-10-24T22:59:00Z",
		want:    []want{{state: ExpiringSoon, due: d(2026, 10, 25), record: "t1"}},
		nextDue: d(2026, 10, 25),
	},
	{
		name: "autumn: 23:00 UTC on 24 October is midnight BST on the expiry day", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 10, 25))}, instant: "2026-10-24T23:00:00Z",
		want:         []want{{state: Expired, due: d(2026, 10, 25), record: "t1"}},
		notCompliant: true,
	},
	{
		name: "autumn: 01:00 UTC on 25 October (back to GMT) is the expiry day", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 10, 25))}, instant: "2026-10-25T01:00:00Z",
		want:         []want{{state: Expired, due: d(2026, 10, 25), record: "t1"}},
		notCompliant: true,
	},
	// A BST evening: 23:30 UTC on 30 June is 00:30 on 1 July in London.
	{
		name: "BST evening: 22:59 UTC on 30 June is still 30 June", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 7, 1))}, instant: "2026-06-30T22:59:00Z",
		want:    []want{{state: ExpiringSoon, due: d(2026, 7, 1), record: "t1"}},
		nextDue: d(2026, 7, 1),
	},
	{
		name: "BST evening: 23:30 UTC on 30 June is 1 July, the expiry day", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 7, 1))}, instant: "2026-06-30T23:30:00Z",
		want:         []want{{state: Expired, due: d(2026, 7, 1), record: "t1"}},
		notCompliant: true,
	},
	{
		name: "today carrying a time of day is read as its calendar day", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, d(2025, 3, 3))}, today: time.Date(2026, 3, 2, 23, 59, 0, 0, time.UTC),
		want:    []want{{state: ExpiringSoon, due: d(2026, 3, 3), record: "t1"}},
		nextDue: d(2026, 3, 3),
	},
	{
		name: "record dates carrying a time of day are read as calendar days", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, time.Date(2025, 3, 3, 18, 0, 0, 0, time.UTC))}, today: d(2026, 3, 3),
		want:         []want{{state: Expired, due: d(2026, 3, 3), record: "t1"}},
		notCompliant: true,
	},

	// Leavers.
	{
		name: "leaving date today: no longer applies", set: defaultSet(), person: Person{Category: adults, LeavingDate: dp(2026, 6, 1)},
		training: allModules(d(2025, 9, 1)), vetting: fullVetting(d(2025, 1, 1)), today: june1,
		count: -1, notApplies: true, notCompliant: true,
		summary: "Left on 1 June 2026, so no longer counted in the contract's compliance.",
	},
	{
		name: "leaving date yesterday: no longer applies", set: defaultSet(), person: Person{Category: adults, LeavingDate: dp(2026, 5, 31)},
		training: allModules(d(2025, 9, 1)), vetting: fullVetting(d(2025, 1, 1)), today: june1,
		count: -1, notApplies: true, notCompliant: true,
		summary: "Left on 31 May 2026, so no longer counted in the contract's compliance.",
	},
	{
		name: "leaving date tomorrow: still applies", set: defaultSet(), person: Person{Category: adults, LeavingDate: dp(2026, 6, 2)},
		training: allModules(d(2025, 9, 1)), vetting: fullVetting(d(2025, 1, 1)), today: june1,
		others: Met, count: 12, nextDue: d(2026, 9, 1), summary: "All 12 requirements are met.",
	},
	{
		name: "leaver with nothing recorded: still not counted", set: defaultSet(), person: Person{Category: adults, LeavingDate: dp(2026, 1, 1)},
		today: june1, count: -1, notApplies: true, notCompliant: true,
	},

	// Category change: the current category's rule decides.
	{
		name: "customer-facing with adults: enhanced DBS meets the DBS requirement", set: defaultSet(),
		training: allModules(d(2025, 9, 1)), vetting: fullVetting(d(2025, 1, 1)), today: june1,
		want: []want{
			{key: strings.Join(adultsDBS, "|"), state: Met, due: d(2028, 1, 1), record: "v-dbs", explain: "Enhanced DBS check issued 1 January 2025; re-check due 1 January 2028 (every 36 months)."},
			{key: "nsv_bpss|nsv_ctc|nsv_sc|nsv_dv", state: Met, record: "v-bpss", explain: "Baseline Personnel Security Standard (BPSS) issued 1 January 2025; no routine re-check is needed."},
			{key: "right_to_work", state: Met, record: "v-rtw", explain: "Issued 1 January 2025; no routine re-check is needed."},
		},
		others: Met, count: 12, nextDue: d(2026, 9, 1),
	},
	{
		name: "moved to regulated activity with children: enhanced DBS without the children's list no longer counts", set: defaultSet(),
		person:   Person{Category: children},
		training: allModules(d(2025, 9, 1)), vetting: fullVetting(d(2025, 1, 1)), today: june1,
		want: []want{
			{key: strings.Join(childrenDBS, "|"), state: Missing, explain: "No check recorded. Carry out one of these checks and record it."},
			{key: fbc, state: Met, due: d(2026, 9, 1), record: "t-" + fbc},
		},
		others: Met, count: 12, notCompliant: true, nextDue: d(2026, 9, 1),
		summary: "1 of 12 requirements is not met: Enhanced DBS check with children's barred list or Enhanced DBS check with children's and adults' barred lists is missing.",
	},
	{
		name: "moved to regulated activity with children: a new check with both lists counts", set: defaultSet(),
		person:   Person{Category: children},
		training: allModules(d(2025, 9, 1)), vetting: append(fullVetting(d(2025, 1, 1)), check("v-both", "dbs_enhanced_both_barred", d(2026, 5, 1))), today: june1,
		want: []want{
			{key: strings.Join(childrenDBS, "|"), state: Met, due: d(2029, 5, 1), record: "v-both", explain: "Enhanced DBS check with children's and adults' barred lists issued 1 May 2026; re-check due 1 May 2029 (every 36 months)."},
		},
		others: Met, count: 12, nextDue: d(2026, 9, 1),
	},

	// A requirement added to the contract's set after records exist.
	{
		name: "tailored set adds a module: only that requirement is missing", set: tailored(backRoom, trauma),
		person: Person{Category: backRoom},
		training: []Training{
			verified("t-s55", "section_55_children", d(2025, 9, 1)),
			verified("t-ms", "modern_slavery_referral", d(2025, 9, 1)),
			verified("t-fbc", fbc, d(2025, 9, 1)),
		},
		vetting: fullVetting(d(2025, 1, 1)), today: june1,
		want: []want{
			{key: "section_55_children", state: Met, due: d(2027, 9, 1), record: "t-s55"},
			{key: "modern_slavery_referral", state: Met, due: d(2027, 9, 1), record: "t-ms"},
			{key: fbc, state: Met, due: d(2026, 9, 1), record: "t-fbc"},
			{key: trauma, state: Missing, explain: "No completion recorded. Complete the course and record it."},
		},
		others: Met, count: 7, notCompliant: true, nextDue: d(2026, 9, 1),
		summary: "1 of 7 requirements is not met: Psychological factors arising from exposure to traumatic narratives is missing.",
	},
	{
		name: "the same records under the untailored set are compliant", set: defaultSet(),
		person: Person{Category: backRoom},
		training: []Training{
			verified("t-s55", "section_55_children", d(2025, 9, 1)),
			verified("t-ms", "modern_slavery_referral", d(2025, 9, 1)),
			verified("t-fbc", fbc, d(2025, 9, 1)),
		},
		vetting: fullVetting(d(2025, 1, 1)), today: june1,
		others: Met, count: 6, nextDue: d(2026, 9, 1), summary: "All 6 requirements are met.",
	},

	// Verification precedence.
	{
		name: "verified expiring soon + newer unverified: expiring soon, newer one mentioned", set: trainingOnly(fbc),
		training: []Training{verified("t-old", fbc, d(2025, 6, 10)), unverified("t-new", fbc, d(2026, 5, 20))}, today: june1,
		want: []want{{state: ExpiringSoon, due: d(2026, 6, 10), record: "t-old",
			explain: "Completed 10 June 2025; expires 10 June 2026, in 9 days. A newer completion on 20 May 2026 is waiting for the department to verify it."}},
		nextDue: d(2026, 6, 10),
	},
	{
		name: "verified met + newer unverified: met on the verified one", set: trainingOnly(fbc),
		training: []Training{unverified("t-new", fbc, d(2026, 5, 20)), verified("t-old", fbc, d(2025, 9, 1))}, today: june1,
		want:    []want{{state: Met, due: d(2026, 9, 1), record: "t-old", explain: "Completed 1 September 2025; expires 1 September 2026 (renewed every 12 months)."}},
		nextDue: d(2026, 9, 1),
	},
	{
		name: "verified expiring soon + older unverified: not mentioned", set: trainingOnly(fbc),
		training: []Training{verified("t-v", fbc, d(2025, 6, 10)), unverified("t-u", fbc, d(2025, 6, 5))}, today: june1,
		want:    []want{{state: ExpiringSoon, due: d(2026, 6, 10), record: "t-v", explain: "Completed 10 June 2025; expires 10 June 2026, in 9 days. Complete the course again before then and record it."}},
		nextDue: d(2026, 6, 10),
	},
	{
		name: "only unverified valid: awaiting verification", set: trainingOnly(fbc),
		training: []Training{unverified("t1", fbc, d(2026, 5, 1))}, today: june1,
		want:         []want{{state: AwaitingVerification, due: d(2027, 5, 1), record: "t1", explain: "Completed 1 May 2026; the certificate is waiting for the department to verify it."}},
		notCompliant: true, summary: "The one requirement is not met: Face Behind the Case is awaiting verification.",
	},
	{
		name: "verified expired + unverified valid: awaiting verification", set: trainingOnly(fbc),
		training: []Training{verified("t-v", fbc, d(2025, 1, 1)), unverified("t-u", fbc, d(2026, 5, 1))}, today: june1,
		want: []want{{state: AwaitingVerification, due: d(2027, 5, 1), record: "t-u",
			explain: "Completed 1 May 2026; the certificate is waiting for the department to verify it. The previous completion expired on 1 January 2026."}},
		notCompliant: true,
	},
	{
		name: "verification status not set reads as unverified", set: trainingOnly(fbc),
		training: []Training{{ID: "t1", Module: fbc, Completed: d(2026, 5, 1)}}, today: june1,
		want:         []want{{state: AwaitingVerification, due: d(2027, 5, 1), record: "t1"}},
		notCompliant: true,
	},
	{
		name: "only rejected: missing, latest reason quoted", set: trainingOnly(fbc),
		training: []Training{
			rejected("t-a", fbc, d(2026, 4, 1), "Wrong course"),
			rejected("t-b", fbc, d(2026, 5, 1), "The certificate is illegible."),
		}, today: june1,
		want: []want{{state: Missing, record: "t-b",
			explain: "Rejected: The certificate is illegible. Record the course again with a readable certificate that shows the staff member's name, the course and the date it was completed."}},
		notCompliant: true, summary: "The one requirement is not met: Face Behind the Case is missing (evidence rejected).",
	},
	{
		name: "two rejections on the same day: the greater record ID's reason", set: trainingOnly(fbc),
		training: []Training{
			rejected("t-b", fbc, d(2026, 5, 1), "Wrong name"),
			rejected("t-a", fbc, d(2026, 5, 1), "Blurred"),
		}, today: june1,
		want:         []want{{state: Missing, record: "t-b", mentions: "Rejected: Wrong name."}},
		notCompliant: true,
	},
	{
		name: "rejected without a reason", set: trainingOnly(fbc),
		training: []Training{rejected("t-a", fbc, d(2026, 4, 1), "")}, today: june1,
		want:         []want{{state: Missing, record: "t-a", mentions: "The evidence was rejected. Record the course again"}},
		notCompliant: true,
	},
	{
		name: "newer rejected never displaces a verified valid record", set: trainingOnly(fbc),
		training: []Training{verified("t-v", fbc, d(2025, 9, 1)), rejected("t-r", fbc, d(2026, 5, 1), "blurred")}, today: june1,
		want:    []want{{state: Met, due: d(2026, 9, 1), record: "t-v"}},
		nextDue: d(2026, 9, 1),
	},
	{
		name: "newer rejected after an expired record: expired, not missing", set: trainingOnly(fbc),
		training: []Training{rejected("t-r", fbc, d(2026, 5, 1), "blurred"), verified("t-v", fbc, d(2025, 1, 1))}, today: june1,
		want:         []want{{state: Expired, due: d(2026, 1, 1), record: "t-v", explain: "Expired on 1 January 2026. Complete the course again and record it."}},
		notCompliant: true,
	},
	{
		name: "several expired: the latest expiry, verified or not", set: trainingOnly(fbc),
		training: []Training{verified("t-v", fbc, d(2024, 1, 1)), unverified("t-u", fbc, d(2025, 2, 1))}, today: june1,
		want:         []want{{state: Expired, due: d(2026, 2, 1), record: "t-u"}},
		notCompliant: true,
	},
	{
		name: "two verified valid: the later expiry is relied on", set: trainingOnly(fbc),
		training: []Training{verified("t-later", fbc, d(2025, 12, 1)), verified("t-earlier", fbc, d(2025, 6, 20))}, today: june1,
		want:    []want{{state: Met, due: d(2026, 12, 1), record: "t-later"}},
		nextDue: d(2026, 12, 1),
	},
	{
		name: "same completion date: the greater record ID is relied on", set: trainingOnly(fbc),
		training: []Training{verified("665f00000000000000000002", fbc, d(2025, 12, 1)), verified("665f00000000000000000001", fbc, d(2025, 12, 1))}, today: june1,
		want:    []want{{state: Met, due: d(2026, 12, 1), record: "665f00000000000000000002"}},
		nextDue: d(2026, 12, 1),
	},
	{
		name: "nothing recorded: missing", set: trainingOnly(fbc), today: june1,
		want:         []want{{state: Missing, explain: "No completion recorded. Complete the course and record it."}},
		notCompliant: true, summary: "The one requirement is not met: Face Behind the Case is missing.",
	},
	{
		name: "records for other modules do not count", set: trainingOnly(fbc),
		training: []Training{verified("t1", suicide, d(2026, 1, 1))}, today: june1,
		want:         []want{{state: Missing}},
		notCompliant: true,
	},

	// Refresh periods.
	{
		name: "refresh override in the set: 6 months", set: withRefresh(trainingOnly(fbc), fbc, 6),
		training: []Training{verified("t1", fbc, d(2026, 1, 1))}, today: june1,
		want:    []want{{state: ExpiringSoon, due: d(2026, 7, 1), record: "t1", mentions: "expires 1 July 2026, in 30 days."}},
		nextDue: d(2026, 7, 1),
	},
	{
		name: "refresh override of 0 in the set is ignored, not read as never", set: withRefresh(trainingOnly(fbc), fbc, 0),
		training: []Training{verified("t1", fbc, d(2025, 1, 1))}, today: june1,
		want:         []want{{state: Expired, due: d(2026, 1, 1), record: "t1"}},
		notCompliant: true,
	},
	{
		name: "refresh 0 in the catalogue: never expires", cat: catalogueWithRefresh(fbc, 0), set: trainingOnly(fbc, vuln),
		training: []Training{verified("t1", fbc, d(2000, 1, 1)), verified("t2", vuln, d(2025, 1, 1))}, today: june1,
		want: []want{
			{key: fbc, state: Met, record: "t1", explain: "Completed 1 January 2000; this course does not need to be renewed."},
			{key: vuln, state: Met, due: d(2027, 1, 1), record: "t2"},
		},
		nextDue: d(2027, 1, 1),
	},
	{
		name: "refresh 0: a never-expiring unverified record awaits verification with no due date", cat: catalogueWithRefresh(fbc, 0), set: trainingOnly(fbc),
		training: []Training{unverified("t1", fbc, d(2000, 1, 1))}, today: june1,
		want:         []want{{state: AwaitingVerification, record: "t1"}},
		notCompliant: true,
	},

	// Vetting re-check dates.
	{
		name: "right to work with a re-check date: 31 days before is met", set: vettingOnly(rtw),
		vetting: []Vetting{{ID: "v1", Type: "right_to_work", Issued: d(2024, 1, 1), RecheckBy: dp(2026, 6, 30), Verification: Verified}}, today: d(2026, 5, 30),
		want:    []want{{state: Met, due: d(2026, 6, 30), record: "v1", explain: "Issued 1 January 2024; re-check due 30 June 2026, the date set on the record."}},
		nextDue: d(2026, 6, 30),
	},
	{
		name: "right to work with a re-check date: within 30 days is expiring soon", set: vettingOnly(rtw),
		vetting: []Vetting{{ID: "v1", Type: "right_to_work", Issued: d(2024, 1, 1), RecheckBy: dp(2026, 6, 30), Verification: Verified}}, today: june1,
		want: []want{{state: ExpiringSoon, due: d(2026, 6, 30), record: "v1",
			explain: "Issued 1 January 2024; re-check due 30 June 2026, in 29 days. Carry out the check again before then and record it."}},
		nextDue: d(2026, 6, 30), summary: "The one requirement is met, but Right to work check is due for re-check on 30 June 2026.",
	},
	{
		name: "right to work with a re-check date: the date itself is expired", set: vettingOnly(rtw),
		vetting: []Vetting{{ID: "v1", Type: "right_to_work", Issued: d(2024, 1, 1), RecheckBy: dp(2026, 6, 30), Verification: Verified}}, today: d(2026, 6, 30),
		want:         []want{{state: Expired, due: d(2026, 6, 30), record: "v1", explain: "Re-check was due on 30 June 2026. Carry out the check again and record it."}},
		notCompliant: true, summary: "The one requirement is not met: Right to work check was due for re-check on 30 June 2026.",
	},
	{
		name: "re-check date on a DBS record overrides the 36-month policy", set: vettingOnly([]string{"dbs_enhanced"}),
		vetting: []Vetting{{ID: "v1", Type: "dbs_enhanced", Issued: d(2026, 1, 1), RecheckBy: dp(2026, 3, 1), Verification: Verified}}, today: june1,
		want:         []want{{state: Expired, due: d(2026, 3, 1), record: "v1"}},
		notCompliant: true,
	},
	{
		name: "DBS without status check: due 36 months after issue", set: vettingOnly([]string{"dbs_enhanced"}),
		vetting: []Vetting{check("v1", "dbs_enhanced", d(2022, 1, 1))}, today: d(2025, 3, 1),
		want:         []want{{state: Expired, due: d(2025, 1, 1), record: "v1", explain: "Re-check was due on 1 January 2025. Carry out the check again and record it."}},
		notCompliant: true,
	},
	{
		name: "DBS on the Update Service: a status check restarts the 36 months", set: vettingOnly([]string{"dbs_enhanced"}),
		vetting: []Vetting{{ID: "v1", Type: "dbs_enhanced", Issued: d(2022, 1, 1), UpdateService: true, StatusChecked: dp(2025, 2, 10), Verification: Verified}}, today: d(2025, 3, 1),
		want: []want{{state: Met, due: d(2028, 2, 10), record: "v1",
			explain: "Issued 1 January 2022; Update Service status checked 10 February 2025, so the re-check is due 10 February 2028 (every 36 months)."}},
		nextDue: d(2028, 2, 10),
	},
	{
		name: "DBS on the Update Service without a recent status check: expired, says how to fix", set: vettingOnly([]string{"dbs_enhanced"}),
		vetting: []Vetting{{ID: "v1", Type: "dbs_enhanced", Issued: d(2022, 1, 1), UpdateService: true, Verification: Verified}}, today: d(2025, 3, 1),
		want: []want{{state: Expired, due: d(2025, 1, 1), record: "v1",
			explain: "Re-check was due on 1 January 2025. Check the certificate's status on the DBS Update Service, or carry out a new check, and record it."}},
		notCompliant: true,
	},
	{
		name: "status check without an Update Service subscription does not count", set: vettingOnly([]string{"dbs_enhanced"}),
		vetting: []Vetting{{ID: "v1", Type: "dbs_enhanced", Issued: d(2022, 1, 1), StatusChecked: dp(2025, 2, 10), Verification: Verified}}, today: d(2025, 3, 1),
		want:         []want{{state: Expired, due: d(2025, 1, 1), record: "v1"}},
		notCompliant: true,
	},
	{
		name: "status check on the issue day does not move the date", set: vettingOnly([]string{"dbs_enhanced"}),
		vetting: []Vetting{{ID: "v1", Type: "dbs_enhanced", Issued: d(2022, 1, 1), UpdateService: true, StatusChecked: dp(2022, 1, 1), Verification: Verified}}, today: d(2025, 3, 1),
		want:         []want{{state: Expired, due: d(2025, 1, 1), record: "v1"}},
		notCompliant: true,
	},
	{
		name: "status check dated in the future is ignored", set: vettingOnly([]string{"dbs_enhanced"}),
		vetting: []Vetting{{ID: "v1", Type: "dbs_enhanced", Issued: d(2022, 1, 1), UpdateService: true, StatusChecked: dp(2025, 4, 1), Verification: Verified}}, today: d(2025, 3, 1),
		want:         []want{{state: Expired, due: d(2025, 1, 1), record: "v1"}},
		notCompliant: true,
	},
	{
		name: "Update Service status check applies to DBS only", set: vettingOnly(nsv),
		vetting: []Vetting{{ID: "v1", Type: "nsv_sc", Issued: d(2015, 1, 1), UpdateService: true, StatusChecked: dp(2024, 6, 1), Verification: Verified}}, today: d(2025, 3, 1),
		want:         []want{{state: Expired, due: d(2025, 1, 1), record: "v1", explain: "Re-check was due on 1 January 2025. Carry out the check again and record it."}},
		notCompliant: true,
	},
	{
		name: "BPSS is never due for re-check", set: vettingOnly(nsv, rtw),
		vetting: []Vetting{check("v-bpss", "nsv_bpss", d(2000, 1, 1)), check("v-rtw", "right_to_work", d(2000, 1, 1))}, today: june1,
		want: []want{
			{key: "nsv_bpss|nsv_ctc|nsv_sc|nsv_dv", state: Met, record: "v-bpss", explain: "Baseline Personnel Security Standard (BPSS) issued 1 January 2000; no routine re-check is needed."},
			{key: "right_to_work", state: Met, record: "v-rtw"},
		},
		summary: "All 2 requirements are met.",
	},
	{
		name: "BPSS beats a later SC check in the same group: never due beats any date", set: vettingOnly(nsv),
		vetting: []Vetting{check("v-sc", "nsv_sc", d(2026, 1, 1)), check("v-bpss", "nsv_bpss", d(2020, 1, 1))}, today: june1,
		want: []want{{state: Met, record: "v-bpss"}},
	},
	{
		name: "vetting awaiting verification after the previous check lapsed", set: vettingOnly([]string{"dbs_enhanced"}),
		vetting: []Vetting{check("v-old", "dbs_enhanced", d(2022, 1, 1)), {ID: "v-new", Type: "dbs_enhanced", Issued: d(2026, 5, 1), Verification: Unverified}}, today: june1,
		want: []want{{state: AwaitingVerification, due: d(2029, 5, 1), record: "v-new",
			explain: "Issued 1 May 2026; the evidence is waiting for the department to verify it. The previous check was due for re-check on 1 January 2025."}},
		notCompliant: true,
	},
	{
		name: "vetting expiring soon with a newer check awaiting verification", set: vettingOnly([]string{"dbs_enhanced"}),
		vetting: []Vetting{check("v-old", "dbs_enhanced", d(2023, 6, 15)), {ID: "v-new", Type: "dbs_enhanced", Issued: d(2026, 5, 1), Verification: Unverified}}, today: june1,
		want: []want{{state: ExpiringSoon, due: d(2026, 6, 15), record: "v-old",
			explain: "Issued 15 June 2023; re-check due 15 June 2026, in 14 days. A newer check issued 1 May 2026 is waiting for the department to verify it."}},
		nextDue: d(2026, 6, 15),
	},
	{
		name: "vetting rejected: missing with reason", set: vettingOnly(rtw),
		vetting: []Vetting{{ID: "v1", Type: "right_to_work", Issued: d(2026, 5, 1), Verification: Rejected, RejectReason: "Share code has expired"}}, today: june1,
		want: []want{{state: Missing, record: "v1",
			explain: "Rejected: Share code has expired. Record the check again with a clear, readable copy of the evidence."}},
		notCompliant: true,
	},
	{
		name: "vetting nothing recorded: missing", set: vettingOnly(rtw), today: june1,
		want:         []want{{state: Missing, explain: "No check recorded. Carry out the check and record it."}},
		notCompliant: true,
	},

	// Future-dated records.
	{
		name: "future-dated completion is ignored: missing", set: trainingOnly(fbc),
		training: []Training{verified("t-future", fbc, d(2026, 6, 2))}, today: june1,
		want:         []want{{state: Missing, explain: "No completion recorded. Complete the course and record it."}},
		notCompliant: true,
	},
	{
		name: "future-dated completion is ignored: the earlier expired record stands", set: trainingOnly(fbc),
		training: []Training{verified("t-future", fbc, d(2026, 6, 2)), verified("t-old", fbc, d(2025, 1, 1))}, today: june1,
		want:         []want{{state: Expired, due: d(2026, 1, 1), record: "t-old"}},
		notCompliant: true,
	},
	{
		name: "completion dated today counts", set: trainingOnly(fbc),
		training: []Training{verified("t1", fbc, june1)}, today: june1,
		want:    []want{{state: Met, due: d(2027, 6, 1), record: "t1"}},
		nextDue: d(2027, 6, 1),
	},
	{
		name: "future-issued vetting is ignored", set: vettingOnly(rtw),
		vetting: []Vetting{check("v1", "right_to_work", d(2026, 7, 1))}, today: june1,
		want:         []want{{state: Missing}},
		notCompliant: true,
	},

	// No rule, and the overall result.
	{
		name: "no rule for the category: compliant with nothing to do", set: onlyCategory(adults), person: Person{Category: backRoom},
		today: june1, count: -1,
		summary: `The contract sets no requirements for staff in the category "Not customer-facing".`,
	},
	{
		name: "no category recorded", set: defaultSet(), person: Person{Category: ""}, asIs: true,
		today: june1, count: -1,
		summary: "No staff category is recorded, so no requirements apply. Record the staff member's category.",
	},
	{
		name: "next due ignores requirements not met", set: trainingOnly(fbc, vuln),
		training: []Training{unverified("t-u", fbc, d(2026, 1, 1)), verified("t-v", vuln, d(2025, 3, 1))}, today: june1,
		want: []want{
			{key: fbc, state: AwaitingVerification, due: d(2027, 1, 1), record: "t-u"},
			{key: vuln, state: Met, due: d(2027, 3, 1), record: "t-v"},
		},
		notCompliant: true, nextDue: d(2027, 3, 1),
	},
	{
		name: "several not met: listed in requirement order", set: defaultSet(),
		training: append(allModules(d(2025, 9, 1)), verified("t-fbc-old", fbc, d(2025, 1, 1)))[1:], // no vulnerability awareness
		vetting:  fullVetting(d(2025, 1, 1))[:2],                                                   // no right to work
		today:    june1,
		want: []want{
			{key: vuln, state: Missing},
			{key: "right_to_work", state: Missing},
		},
		others: Met, count: 12, notCompliant: true, nextDue: d(2026, 9, 1),
		summary: "2 of 12 requirements are not met: Vulnerability awareness is missing; Right to work check is missing.",
	},
	{
		name: "all met with two due soon", set: defaultSet(),
		training: append(allModules(d(2025, 9, 1)), verified("t-ss", suicide, d(2025, 6, 20))), vetting: fullVetting(d(2025, 1, 1)),
		today: d(2026, 8, 10),
		want: []want{
			{key: suicide, state: ExpiringSoon, due: d(2026, 9, 1), record: "t-" + suicide},
			{key: fbc, state: ExpiringSoon, due: d(2026, 9, 1), record: "t-" + fbc},
		},
		others: Met, count: 12, nextDue: d(2026, 9, 1),
		summary: "All 12 requirements are met, but 2 are due soon: Suicide and self-harm awareness expires on 1 September 2026; Face Behind the Case expires on 1 September 2026.",
	},
}

// forbidden are words the product never uses about people.
var forbidden = regexp.MustCompile(`(?i)\b(cases?|subjects?)\b`)

func TestEvaluate(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat := c.cat
			if cat == nil {
				cat = requirements.Default()
			}
			p := c.person
			if p.Category == "" && !c.asIs {
				p.Category = adults
			}
			today := c.today
			if c.instant != "" {
				at, err := time.Parse(time.RFC3339, c.instant)
				if err != nil {
					t.Fatal(err)
				}
				today = calendar.Today(at)
			}
			got := Evaluate(cat, c.set, p, c.training, c.vetting, today, c.opts)
			checkResult(t, c, got)
			reversed := Evaluate(cat, c.set, p, backwards(c.training), backwards(c.vetting), today, c.opts)
			if !reflect.DeepEqual(reversed, got) {
				t.Errorf("records in reverse order give a different result:\n got %+v\nwant %+v", reversed, got)
			}
		})
	}
}

func backwards[T any](s []T) []T {
	s = slices.Clone(s)
	slices.Reverse(s)
	return s
}

func checkResult(t *testing.T, c evalCase, got Result) {
	t.Helper()
	if got.Applies == c.notApplies {
		t.Errorf("Applies = %v, want %v", got.Applies, !c.notApplies)
	}
	if got.Compliant == c.notCompliant {
		t.Errorf("Compliant = %v, want %v", got.Compliant, !c.notCompliant)
	}
	switch {
	case c.count < 0 && len(got.Requirements) != 0:
		t.Errorf("got %d requirements, want none", len(got.Requirements))
	case c.count > 0 && len(got.Requirements) != c.count:
		t.Errorf("got %d requirements, want %d", len(got.Requirements), c.count)
	case c.count == 0 && c.others == "" && len(got.Requirements) != len(c.want):
		t.Errorf("got %d requirements, want %d", len(got.Requirements), len(c.want))
	}
	checkDate(t, "NextDue", got.NextDue, c.nextDue)
	if c.summary != "" && got.Summary != c.summary {
		t.Errorf("Summary = %q\n            want %q", got.Summary, c.summary)
	}
	if got.Summary == "" {
		t.Error("Summary is empty")
	}

	named := map[string]bool{}
	for i, w := range c.want {
		key := w.key
		if key == "" && len(got.Requirements) > 0 {
			key = got.Requirements[i].Key
		}
		named[key] = true
		j := slices.IndexFunc(got.Requirements, func(r Requirement) bool { return r.Key == key })
		if j < 0 {
			t.Errorf("no requirement %q", key)
			continue
		}
		r := got.Requirements[j]
		if r.State != w.state {
			t.Errorf("%s: State = %s, want %s (%s)", key, r.State, w.state, r.Explanation)
		}
		checkDate(t, key+": Due", r.Due, w.due)
		if r.RecordID != w.record {
			t.Errorf("%s: RecordID = %q, want %q", key, r.RecordID, w.record)
		}
		if w.explain != "" && r.Explanation != w.explain {
			t.Errorf("%s: Explanation = %q\n                   want %q", key, r.Explanation, w.explain)
		}
		if !strings.Contains(r.Explanation, w.mentions) {
			t.Errorf("%s: Explanation = %q, want it to mention %q", key, r.Explanation, w.mentions)
		}
	}
	summary := got.Summary
	for _, r := range got.Requirements {
		if !named[r.Key] && c.others != "" && r.State != c.others {
			t.Errorf("%s: State = %s, want %s (%s)", r.Key, r.State, c.others, r.Explanation)
		}
		if r.Name == "" || r.Explanation == "" {
			t.Errorf("%s: Name %q, Explanation %q: both must be set", r.Key, r.Name, r.Explanation)
		}
		if forbidden.MatchString(r.Explanation) {
			t.Errorf("%s: Explanation %q uses a word the product avoids", r.Key, r.Explanation)
		}
		summary = strings.ReplaceAll(summary, r.Name, "")
	}
	if forbidden.MatchString(summary) {
		t.Errorf("Summary %q uses a word the product avoids", got.Summary)
	}
}

func checkDate(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	switch {
	case want.IsZero() && got != nil:
		t.Errorf("%s = %s, want none", what, calendar.Format(*got))
	case !want.IsZero() && got == nil:
		t.Errorf("%s = none, want %s", what, calendar.Format(want))
	case got != nil && !got.Equal(want):
		t.Errorf("%s = %s, want %s", what, calendar.Format(*got), calendar.Format(want))
	}
}

func TestRequirementNamesAndKeys(t *testing.T) {
	got := Evaluate(requirements.Default(), defaultSet(), Person{Category: children}, nil, nil, june1, Options{})
	if len(got.Requirements) != 12 {
		t.Fatalf("got %d requirements, want 12", len(got.Requirements))
	}
	for i, r := range got.Requirements[:9] {
		if r.Kind != KindTraining {
			t.Errorf("requirement %d (%s): Kind = %s, want training first", i, r.Key, r.Kind)
		}
	}
	wantVetting := []Requirement{
		{Kind: KindVetting, Key: "dbs_enhanced_children_barred|dbs_enhanced_both_barred",
			Name: "Enhanced DBS check with children's barred list or Enhanced DBS check with children's and adults' barred lists"},
		{Kind: KindVetting, Key: "nsv_bpss|nsv_ctc|nsv_sc|nsv_dv",
			Name: "Baseline Personnel Security Standard (BPSS), Counter-Terrorist Check (CTC), Security Check (SC) or Developed Vetting (DV)"},
		{Kind: KindVetting, Key: "right_to_work", Name: "Right to work check"},
	}
	for i, w := range wantVetting {
		r := got.Requirements[9+i]
		if r.Kind != w.Kind || r.Key != w.Key || r.Name != w.Name {
			t.Errorf("vetting %d = %s %q %q, want %s %q %q", i, r.Kind, r.Key, r.Name, w.Kind, w.Key, w.Name)
		}
	}
	if r := got.Requirements[8]; r.Key != fbc || r.Name != "Face Behind the Case" {
		t.Errorf("last training requirement = %q %q", r.Key, r.Name)
	}
}

// TestDeterministic shuffles the records, including ties that only the
// tie-breaks separate, and expects the very same Result every time; it also
// checks Evaluate leaves its arguments alone.
func TestDeterministic(t *testing.T) {
	cat := requirements.Default()
	set := defaultSet()
	p := Person{Category: adults, StartDate: d(2024, 1, 1), LeavingDate: dp(2027, 1, 1)}
	training := append(allModules(d(2025, 9, 1)),
		verified("t-tie-b", suicide, d(2025, 9, 1)),
		verified("t-tie-a", suicide, d(2025, 9, 1)),
		unverified("t-fbc-new", fbc, d(2026, 5, 20)),
		rejected("t-r1", vuln, d(2026, 5, 1), "Blurred"),
		rejected("t-r2", vuln, d(2026, 5, 1), "Wrong name"),
		verified("t-future", trauma, d(2026, 7, 1)),
		Training{ID: "t-blank", Module: "discrimination_awareness", Completed: d(2026, 5, 5)},
	)
	vetting := append(fullVetting(d(2023, 6, 10)),
		check("v-both", "dbs_enhanced_both_barred", d(2023, 6, 10)),
		Vetting{ID: "v-us", Type: "dbs_enhanced_adults_barred", Issued: d(2022, 1, 1), UpdateService: true, StatusChecked: dp(2025, 1, 1), Verification: Verified},
		Vetting{ID: "v-rtw2", Type: "right_to_work", Issued: d(2024, 1, 1), RecheckBy: dp(2026, 6, 20), Verification: Unverified},
	)
	today := d(2026, 6, 1)
	want := Evaluate(cat, set, p, training, vetting, today, Options{})
	if got := Evaluate(cat, set, p, training, vetting, today, Options{}); !reflect.DeepEqual(got, want) {
		t.Fatal("two evaluations of the same input differ")
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		tr, vt := slices.Clone(training), slices.Clone(vetting)
		rng.Shuffle(len(tr), func(i, j int) { tr[i], tr[j] = tr[j], tr[i] })
		rng.Shuffle(len(vt), func(i, j int) { vt[i], vt[j] = vt[j], vt[i] })
		trBefore, vtBefore := slices.Clone(tr), slices.Clone(vt)
		got := Evaluate(cat, set, p, tr, vt, today, Options{})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d: result differs\n got %+v\nwant %+v", i, got, want)
		}
		if !reflect.DeepEqual(tr, trBefore) || !reflect.DeepEqual(vt, vtBefore) {
			t.Fatalf("shuffle %d: Evaluate changed its arguments", i)
		}
	}
	if r := find(want, suicide); r.RecordID != "t-tie-b" {
		t.Errorf("tie on completion date: relied on %q, want the greater ID t-tie-b", r.RecordID)
	}
}

// TestResultDoesNotAliasInputs makes sure a caller changing a record after
// evaluating cannot change the Result it already holds.
func TestResultDoesNotAliasInputs(t *testing.T) {
	recheck := d(2026, 6, 20)
	vetting := []Vetting{{ID: "v1", Type: "right_to_work", Issued: d(2024, 1, 1), RecheckBy: &recheck, Verification: Verified}}
	got := Evaluate(requirements.Default(), vettingOnly(rtw), Person{Category: adults}, nil, vetting, june1, Options{})
	recheck = d(2030, 1, 1)
	if !got.Requirements[0].Due.Equal(d(2026, 6, 20)) || !got.NextDue.Equal(d(2026, 6, 20)) {
		t.Errorf("Due %v, NextDue %v changed with the input", got.Requirements[0].Due, got.NextDue)
	}
	got.Requirements[0].Due = nil
	if got.NextDue == nil {
		t.Error("NextDue shares a pointer with a requirement's Due")
	}
}

func find(r Result, key string) Requirement {
	for _, req := range r.Requirements {
		if req.Key == key {
			return req
		}
	}
	return Requirement{}
}

// BenchmarkEvaluate is one customer-facing staff member with 12 records (nine
// modules and three checks) against the default set: the unit of work a
// contract's compliance page repeats for every member of staff.
func BenchmarkEvaluate(b *testing.B) {
	cat := requirements.Default()
	set := defaultSet()
	p := Person{Category: adults, StartDate: d(2024, 1, 1)}
	training := allModules(d(2025, 9, 1))
	training[3] = unverified("t-u", training[3].Module, d(2026, 5, 1))
	vetting := fullVetting(d(2023, 6, 20))
	today := d(2026, 6, 1)
	for b.Loop() {
		Evaluate(cat, set, p, training, vetting, today, Options{})
	}
}
