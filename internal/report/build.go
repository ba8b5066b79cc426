package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/compliance"
	"github.com/department/safeguarding-portal/internal/concern"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/paged"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/department/safeguarding-portal/internal/portfolio"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/staff"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"
)

// Request is what a report is asked for.
type Request struct {
	Kind Kind `bson:"kind" json:"kind"`
	// SubjectID is the contract or partner ID; empty for the portfolio.
	SubjectID string  `bson:"subject_id,omitempty" json:"subject_id,omitempty"`
	Period    Period  `bson:"period" json:"period"`
	Edition   Edition `bson:"edition" json:"edition"`
}

// ErrNoSubject is returned for a contract or partner that does not exist.
var ErrNoSubject = errors.New("no such contract or partner")

// Builder gathers reports' figures from the stores, counting staff as the
// dashboard's counter does and rating contracts as the dashboard rates them.
type Builder struct {
	Partners  *partner.Store
	Counter   *portfolio.Counter
	Rating    portfolio.Sources
	Incidents *incident.Store
	Catalogue *requirements.Catalogue
	Rules     *incident.Rules
	// Upkeep, if set, brings stale assessments up to date before a
	// partner's staff are counted, so a report judges everyone on the day
	// it runs, as the compliance page does.
	Upkeep *records.Upkeep
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// trendMonths is how many months the trend shows.
const trendMonths = 12

// expiryHorizon is how far ahead expiries are counted, in days.
const expiryHorizon = 90

// Progress is told how far a build has gone: done of total steps, one per
// partner whose roster is counted and one for the rest.
type Progress func(done, total int)

// Subject checks what a request is about and returns the partner it
// belongs to (empty for the portfolio) and how people read its name.
func (b *Builder) Subject(ctx context.Context, req Request) (partnerID, name string, err error) {
	switch req.Kind {
	case PortfolioReport:
		return "", "All partners", nil
	case PartnerReport:
		p, err := b.Partners.Get(ctx, access.Everything(), req.SubjectID)
		if errors.Is(err, partner.ErrNotFound) {
			return "", "", ErrNoSubject
		}
		if err != nil {
			return "", "", err
		}
		return p.ID, p.Name, nil
	case ContractReport:
		cts, err := b.Partners.Contracts(ctx, access.Everything())
		if err != nil {
			return "", "", err
		}
		for _, ct := range cts {
			if ct.ID == req.SubjectID {
				return ct.PartnerID, ct.ID + " " + ct.Title, nil
			}
		}
		return "", "", ErrNoSubject
	}
	return "", "", fmt.Errorf("report kind %q: %w", req.Kind, ErrNoSubject)
}

// Build gathers the report's figures. Position figures are judged on the
// day it runs; flows (incidents, inspections, escalations) over the period.
func (b *Builder) Build(ctx context.Context, id string, req Request, generatedBy string, progress Progress) (Report, error) {
	now := time.Now()
	if b.Now != nil {
		now = b.Now()
	}
	today := calendar.Today(now)
	partnerID, name, err := b.Subject(ctx, req)
	if err != nil {
		return Report{}, err
	}
	r := Report{ID: id, Kind: req.Kind, Edition: req.Edition, SubjectID: req.SubjectID, Period: req.Period,
		GeneratedAt: now.UTC().Truncate(time.Second), GeneratedBy: generatedBy, AsOf: today}
	switch req.Kind {
	case PortfolioReport:
		r.Title = "Portfolio governance report"
	default:
		r.Title = "Governance report: " + name
	}

	scope := access.Everything()
	if partnerID != "" {
		scope = access.PartnerScope(partnerID)
	}
	all, err := b.Partners.Contracts(ctx, scope)
	if err != nil {
		return Report{}, fmt.Errorf("read contracts: %w", err)
	}
	var contracts []partner.Contract
	partners := []string{}
	for _, ct := range all {
		if ct.Status == partner.Terminated && ct.ID != req.SubjectID {
			continue
		}
		if req.Kind == ContractReport && ct.ID != req.SubjectID {
			continue
		}
		contracts = append(contracts, ct)
		if !slices.Contains(partners, ct.PartnerID) {
			partners = append(partners, ct.PartnerID)
		}
	}
	slices.Sort(partners)
	included := map[string]bool{}
	for _, ct := range contracts {
		included[ct.ID] = true
	}
	names, err := b.Partners.Names(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("read partner names: %w", err)
	}

	// Incidents are read once, from whichever comes first of the trend's
	// first month, the period and last month (which the ratings count).
	trendFrom := calendar.AddMonths(calendar.Date(req.Period.To.Year(), req.Period.To.Month(), 1), 1-trendMonths)
	monthKeys := make([]string, trendMonths)
	for i := range monthKeys {
		monthKeys[i] = calendar.AddMonths(trendFrom, i).Format("2006-01")
	}
	readFrom := Period{From: trendFrom}.Start()
	if req.Period.Start().Before(readFrom) {
		readFrom = req.Period.Start()
	}
	if last := portfolio.PreviousMonthStart(now); last.Before(readFrom) {
		readFrom = last
	}
	// The incidents are read while the first roster is: on the embedded
	// store each read scans its whole collection, and they take about as
	// long as each other.
	type read struct {
		tallies []incident.Tally
		err     error
	}
	incidentsRead := make(chan read, 1)
	go func() {
		t, err := b.Incidents.NotifiedBetween(ctx, scope, readFrom, time.Time{})
		incidentsRead <- read{t, err}
	}()
	talliesRead := sync.OnceValues(func() ([]incident.Tally, error) {
		r := <-incidentsRead
		return r.tallies, r.err
	})

	// One pass over each partner's roster counts its contracts' staff as
	// the dashboard does, and who has evidence falling due. Should any
	// assessment have gone stale (the day brought a renewal, or the rules
	// changed), the partner is brought up to date and counted again.
	// Two partners are counted at a time: the store works on one roster
	// while this process counts the other.
	total := len(partners) + 1
	this := map[string]portfolio.Month{}
	expiries := map[string]*Expiries{}
	var mu sync.Mutex
	counted := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, pid := range partners {
		g.Go(func() error {
			months, mine, dueIn90, err := b.countPartner(gctx, pid, now, talliesRead, included)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			r.Summary.ExpiringIn90Days += dueIn90
			for id, m := range months {
				if included[id] {
					this[id] = m
				}
			}
			for id, e := range mine {
				expiries[id] = e
			}
			counted++
			if progress != nil {
				progress(counted, total)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Report{}, err
	}

	// With no partner counted (no live contracts), nothing has waited
	// for the incidents yet.
	tallies, err := talliesRead()
	if err != nil {
		return Report{}, err
	}
	// The trend's months and last month, which ratings compare against,
	// in one read.
	thisMonth, lastMonth := portfolio.MonthKey(now), portfolio.PreviousMonth(now)
	stored, err := b.Counter.Months(ctx, scope, append(slices.Clone(monthKeys), lastMonth)...)
	if err != nil {
		return Report{}, err
	}
	cs, err := b.Rating.Circumstances(ctx, scope, now, req.Edition == DepartmentEdition)
	if err != nil {
		return Report{}, err
	}

	detailed := req.Kind != PortfolioReport
	byID := map[string]*Contract{}
	for _, ct := range contracts {
		c := Contract{ID: ct.ID, Title: ct.Title, PartnerID: ct.PartnerID, PartnerName: names[ct.PartnerID],
			ServiceLine: ct.ServiceLineName(), Status: humanize(ct.Status), StatusReason: ct.StatusReason}
		if e := expiries[ct.ID]; e != nil {
			c.Expiries = *e
		}
		if !ct.StatusChangedAt.IsZero() {
			on := calendar.Today(ct.StatusChangedAt)
			c.StatusChangedOn = &on
		}
		var thisP, lastP *portfolio.Month
		if m, ok := this[ct.ID]; ok {
			thisP = &m
			c.Staff, c.Compliant, c.VettingGaps, c.Unassessed = m.Staff.Staff, m.Staff.Compliant, m.Staff.VettingGaps, m.Staff.Unassessed
			if detailed {
				c.Requirements = b.requirements(m.Staff.Requirements)
			}
		}
		if m, ok := stored[lastMonth][ct.ID]; ok {
			lastP = &m
		}
		rating := portfolio.Rate(cs.Facts(ct, thisP, lastP))
		c.RAG, c.Reasons = rating.RAG, rating.Reasons()
		for _, m := range rating.Measures {
			c.Measures = append(c.Measures, Measure{Name: m.Name, RAG: m.RAG, Reason: m.Reason})
		}
		score := cs.Scores[ct.ID]
		c.Points, c.Threshold = score.Points, score.Threshold
		c.OpenActions, c.OverdueActions = cs.Actions[ct.ID].Open, cs.Actions[ct.ID].Overdue
		if in := cs.Inspections[ct.ID]; in != nil && in.CompletedOn != nil {
			on := *in.CompletedOn
			c.LastInspected = &on
		}
		r.Contracts = append(r.Contracts, c)
	}
	for i := range r.Contracts {
		byID[r.Contracts[i].ID] = &r.Contracts[i]
	}

	r.Incidents = b.incidents(tallies, req.Period, byID)
	r.Trend = trend(monthKeys, thisMonth, this, stored, tallies, included)
	if err := b.oversight(ctx, &r, scope, req, byID, detailed); err != nil {
		return Report{}, err
	}
	if req.Edition == DepartmentEdition {
		if err := b.escalations(ctx, &r, scope, req.Period, byID, partners); err != nil {
			return Report{}, err
		}
	}
	if req.Kind == PortfolioReport {
		r.Incidents.ByCategory = suppress(r.Incidents.ByCategory, true)
		r.Incidents.ByIndicator = suppress(r.Incidents.ByIndicator, false)
	}
	r.Requirements = b.requirementsAcross(this)
	r.Summary = summarise(r)
	slices.SortStableFunc(r.Contracts, func(a, b Contract) int {
		return cmp.Or(portfolio.Severity(b.RAG)-portfolio.Severity(a.RAG), strings.Compare(a.ID, b.ID))
	})
	if progress != nil {
		progress(total, total)
	}
	return r, nil
}

// countPartner counts a partner's contracts from the stored assessments,
// bringing them up to date first if any has gone stale, with the expiries
// of the contracts included and how many people have something due in 90
// days.
func (b *Builder) countPartner(ctx context.Context, partnerID string, now time.Time, notices func() ([]incident.Tally, error),
	included map[string]bool) (map[string]portfolio.Month, map[string]*Expiries, int, error) {
	today := calendar.Today(now)
	stale := func(staff.Member) bool { return false }
	if b.Upkeep != nil {
		var err error
		if stale, err = b.Upkeep.Staleness(ctx, partnerID); err != nil {
			return nil, nil, 0, fmt.Errorf("check %s assessments: %w", partnerID, err)
		}
	}
	for attempt := 0; ; attempt++ {
		staleN, dueIn90 := 0, 0
		mine := map[string]*Expiries{}
		months, err := b.Counter.Figures(ctx, partnerID, now, func(m staff.Member) {
			if stale(m) {
				staleN++
			}
			if m.Assessment == nil || !m.ActiveOn(now) {
				return
			}
			var first *time.Time
			for _, st := range m.Assessment.Contracts {
				if !included[st.ContractID] || !st.Applies || st.NextDue == nil {
					continue
				}
				e := mine[st.ContractID]
				if e == nil {
					e = &Expiries{}
					mine[st.ContractID] = e
				}
				e.add(calendar.DaysBetween(today, *st.NextDue))
				if first == nil || st.NextDue.Before(*first) {
					first = st.NextDue
				}
			}
			if first != nil {
				if d := calendar.DaysBetween(today, *first); d >= 0 && d <= expiryHorizon {
					dueIn90++
				}
			}
		}, notices)
		if err != nil {
			return nil, nil, 0, err
		}
		if staleN == 0 || attempt == 1 {
			return months, mine, dueIn90, nil
		}
		if _, err := b.Upkeep.ReassessPartner(ctx, partnerID, false); err != nil {
			return nil, nil, 0, fmt.Errorf("bring %s assessments up to date: %w", partnerID, err)
		}
	}
}

func (e *Expiries) add(days int) {
	switch {
	case days < 0 || days > expiryHorizon:
	case days <= 30:
		e.Within30++
	case days <= 60:
		e.Within60++
	default:
		e.Within90++
	}
}

// requirementName is a requirement as people read it, named as the
// staff-level evaluation names it; a vetting group is its alternatives:
// "Basic DBS check, Standard DBS check or Enhanced DBS check".
func (b *Builder) requirementName(key, kind string) string {
	if kind != string(compliance.KindVetting) {
		if m, ok := b.Catalogue.Module(key); ok {
			return m.Name
		}
		return key
	}
	ids := strings.Split(key, "|")
	for i, id := range ids {
		if v, ok := b.Catalogue.VettingType(id); ok {
			ids[i] = v.Name
		}
	}
	if len(ids) == 1 {
		return ids[0]
	}
	return strings.Join(ids[:len(ids)-1], ", ") + " or " + ids[len(ids)-1]
}

func (b *Builder) requirements(figures []portfolio.RequirementFigure) []Requirement {
	out := make([]Requirement, 0, len(figures))
	for _, f := range figures {
		out = append(out, Requirement{Name: b.requirementName(f.Key, f.Kind), Kind: f.Kind, Applicable: f.Applicable,
			Met: f.Met, Expiring: f.Expiring, Expired: f.Expired, Missing: f.Missing, Awaiting: f.Awaiting})
	}
	return out
}

// requirementsAcross adds up the contracts' figures by requirement, in the
// order they first appear: training before vetting within each contract.
func (b *Builder) requirementsAcross(months map[string]portfolio.Month) []Requirement {
	ids := make([]string, 0, len(months))
	for id := range months {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var keys []string
	sum := map[string]*portfolio.RequirementFigure{}
	for _, id := range ids {
		for _, f := range months[id].Staff.Requirements {
			s := sum[f.Key]
			if s == nil {
				s = &portfolio.RequirementFigure{Key: f.Key, Kind: f.Kind}
				sum[f.Key] = s
				keys = append(keys, f.Key)
			}
			s.Applicable += f.Applicable
			s.Met += f.Met
			s.Expiring += f.Expiring
			s.Expired += f.Expired
			s.Missing += f.Missing
			s.Awaiting += f.Awaiting
		}
	}
	slices.SortStableFunc(keys, func(a, b string) int { return strings.Compare(sum[a].Kind, sum[b].Kind) })
	figures := make([]portfolio.RequirementFigure, len(keys))
	for i, k := range keys {
		figures[i] = *sum[k]
	}
	return b.requirements(figures)
}

// incidents counts the incidents notified in the period, by contract,
// category and indicator.
func (b *Builder) incidents(tallies []incident.Tally, p Period, contracts map[string]*Contract) Incidents {
	var out Incidents
	var lateBy time.Duration
	categories, indicators := map[string]int{}, map[string]int{}
	start, end := p.Start(), p.End()
	for _, t := range tallies {
		c := contracts[t.ContractID]
		if c == nil || t.NotifiedAt.Before(start) || !t.NotifiedAt.Before(end) {
			continue
		}
		out.Notified++
		c.Notified++
		if t.LateBy > 0 {
			out.Late++
			c.Late++
			lateBy += t.LateBy
		}
		if t.Critical {
			out.Critical++
		}
		categories[t.Category]++
		for _, ind := range t.Indicators {
			indicators[ind]++
		}
	}
	if out.Late > 0 {
		out.AverageLateMinutes = int((lateBy / time.Duration(out.Late)).Round(time.Minute) / time.Minute)
	}
	out.ByCategory = counts(categories, func(id string) string {
		if c, ok := b.Rules.Category(id); ok {
			return c.Name
		}
		return humanize(id)
	})
	out.ByIndicator = counts(indicators, func(id string) string {
		if n := incident.IndicatorName(id); n != "" {
			return n
		}
		return humanize(id)
	})
	return out
}

func counts(by map[string]int, name func(string) string) []Count {
	out := make([]Count, 0, len(by))
	for id, n := range by {
		out = append(out, Count{Label: name(id), N: n})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(b.N-a.N, strings.Compare(a.Label, b.Label)) })
	return out
}

// suppress hides counts from 1 to SuppressBelow-1. Where the rows add up
// to a published total (categories: each incident has one), a single
// hidden count could be worked out by subtraction, so the next smallest is
// hidden with it.
func suppress(rows []Count, addsUp bool) []Count {
	out := slices.Clone(rows)
	hidden, smallest := 0, -1
	for i := range out {
		if out[i].N > 0 && out[i].N < SuppressBelow {
			out[i] = Count{Label: out[i].Label, Suppressed: true}
			hidden++
		} else if out[i].N > 0 && (smallest < 0 || out[i].N <= out[smallest].N) {
			smallest = i
		}
	}
	if addsUp && hidden == 1 && smallest >= 0 {
		out[smallest] = Count{Label: out[smallest].Label, Suppressed: true}
	}
	return out
}

// trend is the contracts' figures month by month: staff compliance as the
// dashboard counted it in each month (this month's live), and
// notifications from the incidents themselves.
func trend(months []string, thisMonth string, this map[string]portfolio.Month, stored map[string]map[string]portfolio.Month,
	tallies []incident.Tally, included map[string]bool) []TrendPoint {
	notified, late := map[string]int{}, map[string]int{}
	for _, t := range tallies {
		if !included[t.ContractID] {
			continue
		}
		m := portfolio.MonthKey(t.NotifiedAt)
		notified[m]++
		if t.LateBy > 0 {
			late[m]++
		}
	}
	out := make([]TrendPoint, 0, len(months))
	for _, month := range months {
		figures := stored[month]
		if month == thisMonth {
			figures = this
		}
		staffN, compliant := 0, 0
		for id, m := range figures {
			if included[id] {
				staffN += m.Staff.Staff
				compliant += m.Staff.Compliant
			}
		}
		p := TrendPoint{Month: month, Notified: notified[month], Late: late[month]}
		if staffN > 0 {
			v := percent(compliant, staffN)
			p.StaffPercent = &v
		}
		if p.Notified > 0 {
			v := percent(p.Notified-p.Late, p.Notified)
			p.OnTimePercent = &v
		}
		out = append(out, p)
	}
	return out
}

// oversight adds the period's inspections and the open actions.
func (b *Builder) oversight(ctx context.Context, r *Report, scope access.Scope, req Request, contracts map[string]*Contract, detailed bool) error {
	start, end := req.Period.From, req.Period.To
	for page := 1; page <= paged.MaxPage; page++ {
		ins, n, err := b.Rating.Oversight.ListInspections(ctx, scope, oversight.InspectionFilter{PartnerView: req.Edition == PartnerEdition}, page, paged.MaxPerPage)
		if err != nil {
			return err
		}
		for _, in := range ins {
			c := contracts[in.ContractID]
			if c == nil {
				continue
			}
			day := in.PlannedFor
			if in.CompletedOn != nil {
				day = *in.CompletedOn
			}
			if day.Before(start) || day.After(end) {
				continue
			}
			if in.Status == oversight.Completed {
				r.Summary.Inspections++
			}
			if !detailed {
				continue
			}
			row := Inspection{Date: day, Site: in.Site, Status: humanize(in.Status), Rating: oversight.RatingName(in.Rating), Focus: in.Focus}
			if in.Status == oversight.Completed {
				full, err := b.Rating.Oversight.GetInspection(ctx, scope, in.ID.Hex())
				if err != nil {
					return err
				}
				row.Findings = firstParagraph(full.Findings, 400)
			}
			c.Inspections = append(c.Inspections, row)
		}
		if int64(page*paged.MaxPerPage) >= n {
			break
		}
	}
	for _, c := range contracts {
		slices.SortFunc(c.Inspections, func(a, b Inspection) int { return a.Date.Compare(b.Date) })
	}
	if !detailed {
		return nil
	}
	err := b.Rating.Oversight.EachAction(ctx, scope, oversight.ActionFilter{}, func(a oversight.Action) error {
		c := contracts[a.ContractID]
		if c == nil || a.Status == oversight.Closed {
			return nil
		}
		c.Actions = append(c.Actions, Action{Title: a.Title, Priority: oversight.PriorityName(a.Priority), Status: humanize(a.Status),
			DueOn: a.DueOn, Overdue: a.Overdue(r.GeneratedAt)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range contracts {
		slices.SortFunc(c.Actions, func(a, b Action) int {
			if a.Overdue != b.Overdue {
				if a.Overdue {
					return -1
				}
				return 1
			}
			return a.DueOn.Compare(b.DueOn)
		})
	}
	return nil
}

// escalations adds the escalations to the safeguarding leads raised in the
// period or still open. One about a whole partner is listed under each of
// its contracts but counted once.
func (b *Builder) escalations(ctx context.Context, r *Report, scope access.Scope, p Period, contracts map[string]*Contract, partners []string) error {
	start, end := p.Start(), p.End()
	for page := 1; page <= paged.MaxPage; page++ {
		cs, n, err := b.Rating.Concerns.List(ctx, scope, concern.Filter{}, page, paged.MaxPerPage)
		if err != nil {
			return err
		}
		for _, c := range cs {
			inPeriod := !c.RaisedAt.Before(start) && c.RaisedAt.Before(end)
			if !inPeriod && c.Status != concern.Open {
				continue
			}
			if c.ContractID == "" && !slices.Contains(partners, c.PartnerID) || c.ContractID != "" && contracts[c.ContractID] == nil {
				continue
			}
			e := Escalation{RaisedOn: calendar.Today(c.RaisedAt), Kind: concern.KindName(c.Kind), Status: humanize(c.Status), Outcome: concern.OutcomeName(c.Outcome)}
			if c.DecidedAt != nil {
				on := calendar.Today(*c.DecidedAt)
				e.Decided = &on
			}
			r.Summary.Escalations++
			if c.ContractID != "" {
				contracts[c.ContractID].Escalations = append(contracts[c.ContractID].Escalations, e)
				continue
			}
			e.Kind += " (about the whole partner)"
			for _, ct := range contracts {
				if ct.PartnerID == c.PartnerID {
					ct.Escalations = append(ct.Escalations, e)
				}
			}
		}
		if int64(page*paged.MaxPerPage) >= n {
			break
		}
	}
	return nil
}

func summarise(r Report) Summary {
	s := r.Summary
	s.Ratings = map[string]int{}
	s.RAG = portfolio.Grey
	for _, c := range r.Contracts {
		s.Ratings[c.RAG]++
		if portfolio.Severity(c.RAG) > portfolio.Severity(s.RAG) {
			s.RAG = c.RAG
		}
		s.Staff += c.Staff
		s.Compliant += c.Compliant
		s.VettingGaps += c.VettingGaps
		s.Unassessed += c.Unassessed
		s.OpenActions += c.OpenActions
		s.OverdueActions += c.OverdueActions
		if c.Status == humanize(partner.Suspended) {
			s.Suspended++
		}
	}
	s.Notified, s.Late = r.Incidents.Notified, r.Incidents.Late
	return s
}

// humanize is a stored status as people read it: "under_review" is
// "Under review".
func humanize(id string) string {
	if id == "" {
		return ""
	}
	s := strings.ReplaceAll(id, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// firstParagraph is the text up to its first blank line, cut at a word
// before max characters.
func firstParagraph(text string, max int) string {
	text = strings.TrimSpace(text)
	if i := strings.Index(text, "\n\n"); i >= 0 {
		text = text[:i]
	}
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > max {
		cut := string(r[:max])
		if i := strings.LastIndex(cut, " "); i > max/2 {
			cut = cut[:i]
		}
		text = cut + "…"
	}
	return text
}

// NewBuilder reads reports' figures from db with the portal's catalogue,
// incident rules and performance terms (nil for the built-in defaults),
// through stores of its own: for the report command and tests. The server
// gives a Builder its own stores of the same kinds, with the same
// settings, so a scheduled report counts exactly what a page-requested
// one does.
func NewBuilder(db *mongo.Database, trail *audit.Trail, catalogue *requirements.Catalogue, rules *incident.Rules, terms *performance.Terms) *Builder {
	catalogue = cmp.Or(catalogue, requirements.Default())
	partners := partner.NewStore(db).WithTrail(trail)
	incidents := incident.NewStore(db, trail)
	roster := staff.NewStore(db, trail)
	return &Builder{
		Partners: partners,
		Counter:  &portfolio.Counter{DB: db, Staff: roster, Partners: partners, Incidents: incidents, Catalogue: catalogue},
		Upkeep:   &records.Upkeep{Records: records.NewStore(db, trail), Staff: roster, Partners: partners, Catalogue: catalogue},
		Rating: portfolio.Sources{Oversight: oversight.NewStore(db, trail, partners), Concerns: concern.NewStore(db, trail, partners),
			Performance: performance.NewStore(db, trail, partners, terms)},
		Incidents: incidents,
		Catalogue: catalogue,
		Rules:     cmp.Or(rules, incident.DefaultRules()),
	}
}
