package server

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/department/safeguarding-portal/internal/portfolio"
	"github.com/department/safeguarding-portal/internal/spreadsheet"
	"github.com/gin-gonic/gin"
)

// refreshPartner brings a partner's assessments, and then its dashboard
// figures, up to date after the response: after roster changes, contract
// changes, or when a page finds many assessments stale. A refresh asked for
// while one runs makes it run once more when done, so the last change is
// always seen.
func (s *Server) refreshPartner(partnerID string) {
	s.refreshMu.Lock()
	if again, running := s.refreshing[partnerID]; running {
		*again = true
		s.refreshMu.Unlock()
		return
	}
	again := new(bool)
	s.refreshing[partnerID] = again
	s.refreshMu.Unlock()

	s.background.Add(1)
	go func() {
		defer s.background.Done()
		for {
			ctx := s.backgroundCtx
			if _, err := s.upkeep.ReassessPartner(ctx, partnerID, false); err != nil && ctx.Err() == nil {
				s.log.Error("assessments not brought up to date", "partner_id", partnerID, "err", err)
			}
			// Even with no assessment changed the roster may have: a new
			// member awaiting assessment is counted as unassessed.
			s.counter.Mark(partnerID)
			s.refreshMu.Lock()
			if !*again || ctx.Err() != nil {
				delete(s.refreshing, partnerID)
				s.refreshMu.Unlock()
				return
			}
			*again = false
			s.refreshMu.Unlock()
		}
	}()
}

// refreshingPartner reports whether the partner's assessments are being
// brought up to date in this process.
func (s *Server) refreshingPartner(partnerID string) bool {
	s.refreshMu.Lock()
	_, running := s.refreshing[partnerID]
	s.refreshMu.Unlock()
	return running || s.upkeepRunning.Load()
}

// refreshingAny reports whether assessments of any partner, or all of them,
// are being brought up to date in this process.
func (s *Server) refreshingAny() bool {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	return len(s.refreshing) > 0 || s.upkeepRunning.Load()
}

// countLoop keeps each contract's dashboard figures counted.
func (s *Server) countLoop() {
	defer s.background.Done()
	s.counter.Run(s.backgroundCtx, time.Hour)
}

// dashboardRow is one contract on the dashboard.
type dashboardRow struct {
	Contract    partner.Contract
	PartnerName string
	Rating      portfolio.Rating
	Reasons     []string
	// This and Last are this month's and last month's figures; nil if not counted.
	This, Last *portfolio.Month
	Actions    oversight.ActionCount
	Inspection *oversight.Inspection
	// Escalations counts those open to the safeguarding leads about the
	// contract or its partner; zero on partners' pages.
	Escalations int
	// Score is the contract's performance points this month.
	Score performance.Score
}

// StaffTrend is the change in staff compliance since last month, in
// percentage points; nil without both months' figures.
func (r dashboardRow) StaffTrend() *float64 {
	if r.This == nil || r.Last == nil || r.This.Staff.Staff == 0 || r.Last.Staff.Staff == 0 {
		return nil
	}
	points := r.This.Staff.Percent() - r.Last.Staff.Percent()
	return &points
}

// dashboardFilter is what the dashboard is narrowed to and sorted by.
type dashboardFilter struct {
	RAG, Partner, ServiceLine string
	Sort                      string // rating, partner, compliance, vetting, late, overdue
	Descending                bool
}

var dashboardSorts = []string{"rating", "contract", "partner", "compliance", "vetting", "late", "overdue", "points"}

func readDashboardFilter(c *gin.Context) dashboardFilter {
	f := dashboardFilter{RAG: c.Query("rag"), Partner: c.Query("partner"), ServiceLine: c.Query("service"), Sort: c.Query("sort")}
	if !slices.Contains([]string{portfolio.Red, portfolio.Amber, portfolio.Green, portfolio.Grey}, f.RAG) {
		f.RAG = ""
	}
	if !slices.Contains(dashboardSorts, f.Sort) {
		f.Sort = "rating"
	}
	f.Descending = c.Query("order") == "desc"
	return f
}

// query is the filter as URL parameters, with the sort replaced by sort
// (toggling the order if it is the current one), for column headings.
func (f dashboardFilter) query(sort string) string {
	v := url.Values{}
	for k, val := range map[string]string{"rag": f.RAG, "partner": f.Partner, "service": f.ServiceLine} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if sort != "" {
		v.Set("sort", sort)
		if sort == f.Sort && !f.Descending {
			v.Set("order", "desc")
		}
	} else {
		v.Set("sort", f.Sort)
		if f.Descending {
			v.Set("order", "desc")
		}
	}
	return v.Encode()
}

// AriaSort is the aria-sort value of a column heading.
func (f dashboardFilter) AriaSort(sort string) string {
	switch {
	case f.Sort != sort:
		return "none"
	case f.Descending:
		return "descending"
	}
	return "ascending"
}

// SortHref links a column heading to the dashboard sorted by it.
func (f dashboardFilter) SortHref(sort string) string { return "?" + f.query(sort) }

// CSVHref is the export of what is shown.
func (f dashboardFilter) CSVHref() string { return "/dashboard.csv?" + f.query("") }

type dashboardPage struct {
	Rows     []dashboardRow
	Total    int
	Counts   map[string]int // contracts per rating, before filtering
	Filter   dashboardFilter
	Partners []partnerOption
	// Settling is true while figures are being brought up to date.
	Settling  bool
	CountedAt time.Time
	// OpenConcerns is how many escalations wait for the safeguarding leads.
	OpenConcerns int
	Month        string // "November 2026"
	LastMonth    string
}

type partnerOption struct{ ID, Name string }

// RAGOptions are the rating filter's choices.
func (p dashboardPage) RAGOptions() []any {
	items := []any{map[string]any{"value": "", "text": "Any rating"}}
	for _, rag := range []string{portfolio.Red, portfolio.Amber, portfolio.Green, portfolio.Grey} {
		items = append(items, map[string]any{"value": rag, "text": ragNames[rag], "selected": rag == p.Filter.RAG})
	}
	return items
}

// PartnerOptions are the partner filter's choices.
func (p dashboardPage) PartnerOptions() []any {
	items := []any{map[string]any{"value": "", "text": "Any partner"}}
	for _, o := range p.Partners {
		items = append(items, map[string]any{"value": o.ID, "text": o.Name, "selected": o.ID == p.Filter.Partner})
	}
	return items
}

// dashboardRows rates every live contract within the caller's reach from
// a handful of small reads: the contracts, this month's and last month's
// counted figures, open actions, latest inspections, open escalations and
// performance scores. No roster or record is read on the way. It also says
// how many escalations wait for the leads (none for partners), and whether
// the figures are being brought up to date.
func (s *Server) dashboardRows(c *gin.Context) (rows []dashboardRow, openConcerns int, settling bool, err error) {
	ctx := c.Request.Context()
	scope := principal(c).Scope
	now := time.Now()
	today := calendar.Today(now)
	contracts, err := s.partners.Contracts(ctx, scope)
	if err != nil {
		return nil, 0, false, fmt.Errorf("read contracts: %w", err)
	}
	names, err := s.partners.Names(ctx)
	if err != nil {
		return nil, 0, false, fmt.Errorf("read partner names: %w", err)
	}
	thisMonth, lastMonth := portfolio.MonthKey(now), portfolio.PreviousMonth(now)
	months, err := s.counter.Months(ctx, scope, thisMonth, lastMonth)
	if err != nil {
		return nil, 0, false, err
	}
	this, last := months[thisMonth], months[lastMonth]
	// Escalations are the department's own business: partners' ratings
	// leave them out.
	cs, err := s.rating.Circumstances(ctx, scope, now, principal(c).May(access.ViewPortfolio))
	if err != nil {
		return nil, 0, false, err
	}
	settling = s.counter.Busy() || s.refreshingAny()
	rows = make([]dashboardRow, 0, len(contracts))
	for _, ct := range contracts {
		if ct.Status == partner.Terminated {
			continue
		}
		r := dashboardRow{Contract: ct, PartnerName: names[ct.PartnerID], Actions: cs.Actions[ct.ID], Inspection: cs.Inspections[ct.ID]}
		if m, ok := this[ct.ID]; ok {
			r.This = &m
		}
		if m, ok := last[ct.ID]; ok {
			r.Last = &m
		}
		if r.This == nil || !r.This.Day.Equal(today) {
			// Not counted yet, or counted before today: staff figures
			// change with the calendar, so count again.
			s.counter.Mark(ct.PartnerID)
			settling = true
		}
		r.Score = cs.Scores[ct.ID]
		r.Escalations = cs.Escalations(ct)
		r.Rating = portfolio.Rate(cs.Facts(ct, r.This, r.Last))
		r.Reasons = r.Rating.Reasons()
		rows = append(rows, r)
	}
	return rows, cs.Open.Total, settling, nil
}

func filterDashboard(rows []dashboardRow, f dashboardFilter) []dashboardRow {
	out := rows[:0:0]
	for _, r := range rows {
		if (f.RAG == "" || r.Rating.RAG == f.RAG) && (f.Partner == "" || r.Contract.PartnerID == f.Partner) &&
			(f.ServiceLine == "" || r.Contract.ServiceLine == f.ServiceLine) {
			out = append(out, r)
		}
	}
	key := func(r dashboardRow) float64 {
		switch f.Sort {
		case "compliance":
			if r.This == nil || r.This.Staff.Staff == 0 {
				return -1
			}
			return r.This.Staff.Percent()
		case "vetting":
			if r.This == nil {
				return -1
			}
			return float64(r.This.Staff.VettingGaps)
		case "late":
			if r.This == nil {
				return -1
			}
			return float64(r.This.Late)
		case "overdue":
			return float64(r.Actions.Overdue)
		case "points":
			return float64(r.Score.Points)
		}
		// Worst first when ascending: the dashboard opens on what needs attention.
		return -float64(portfolio.Severity(r.Rating.RAG))
	}
	slices.SortStableFunc(out, func(a, b dashboardRow) int {
		var c int
		switch f.Sort {
		case "contract":
			c = strings.Compare(a.Contract.ID, b.Contract.ID)
		case "partner":
			c = strings.Compare(a.PartnerName, b.PartnerName)
		default:
			c = cmp.Compare(key(a), key(b))
		}
		if f.Descending {
			c = -c
		}
		return cmp.Or(c, strings.Compare(a.PartnerName, b.PartnerName), strings.Compare(a.Contract.ID, b.Contract.ID))
	})
	return out
}

// dashboard is the department's home page: every contract within reach,
// rated, with why, and the trend since last month.
func (s *Server) dashboard(name, title string) gin.HandlerFunc {
	return func(c *gin.Context) {
		rows, openConcerns, settling, err := s.dashboardRows(c)
		if err != nil {
			s.fail(c, "build dashboard", err)
			return
		}
		now := time.Now()
		page := dashboardPage{Total: len(rows), Counts: map[string]int{}, Filter: readDashboardFilter(c), Settling: settling, OpenConcerns: openConcerns,
			Month: now.In(calendar.London).Format("January 2006")}
		page.LastMonth = calendar.Today(now).AddDate(0, 0, -calendar.Today(now).Day()).Format("January")
		seen := map[string]bool{}
		for _, r := range rows {
			page.Counts[r.Rating.RAG]++
			if r.This != nil && r.This.CountedAt.After(page.CountedAt) {
				page.CountedAt = r.This.CountedAt
			}
			if !seen[r.Contract.PartnerID] {
				seen[r.Contract.PartnerID] = true
				page.Partners = append(page.Partners, partnerOption{r.Contract.PartnerID, r.PartnerName})
			}
		}
		slices.SortFunc(page.Partners, func(a, b partnerOption) int { return strings.Compare(a.Name, b.Name) })
		page.Rows = filterDashboard(rows, page.Filter)
		s.render(c, http.StatusOK, name, title, page)
	}
}

var dashboardCSVHeader = []string{"contract_id", "partner_id", "partner", "service_line", "status", "rag", "reasons",
	"staff", "compliant", "compliance_percent", "vetting_gaps", "unassessed", "notified_this_month", "late_this_month",
	"on_time_percent", "open_actions", "overdue_actions", "open_escalations", "points_this_month", "points_threshold", "service_credit", "latest_inspection_rating", "latest_inspection_on",
	"last_month_compliance_percent", "last_month_notified", "last_month_late", "figures_counted_at"}

// dashboardCSV exports the dashboard as shown (filtered and sorted), one
// row per contract, for those who would rather work in a spreadsheet.
func (s *Server) dashboardCSV(c *gin.Context) {
	rows, _, _, err := s.dashboardRows(c)
	if err != nil {
		s.fail(c, "build dashboard export", err)
		return
	}
	rows = filterDashboard(rows, readDashboardFilter(c))
	if err := s.record(c, event(c, "portfolio.export", "dashboard", "", audit.Success)); err != nil {
		s.fail(c, "audit dashboard export", err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="contracts-dashboard-`+calendar.Today(time.Now()).Format(time.DateOnly)+`.csv"`)
	c.Status(http.StatusOK)
	w := spreadsheet.NewWriter(c.Writer)
	err = w.Write(dashboardCSVHeader...)
	pct := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	for _, r := range rows {
		if err != nil {
			break
		}
		cells := []string{r.Contract.ID, r.Contract.PartnerID, r.PartnerName, r.Contract.ServiceLine, r.Contract.Status,
			r.Rating.RAG, strings.Join(r.Reasons, " ")}
		if m := r.This; m != nil {
			cells = append(cells, strconv.Itoa(m.Staff.Staff), strconv.Itoa(m.Staff.Compliant), pct(m.Staff.Percent()),
				strconv.Itoa(m.Staff.VettingGaps), strconv.Itoa(m.Staff.Unassessed), strconv.Itoa(m.Notified), strconv.Itoa(m.Late), pct(m.OnTimePercent()))
		} else {
			cells = append(cells, "", "", "", "", "", "", "", "")
		}
		cells = append(cells, strconv.Itoa(r.Actions.Open), strconv.Itoa(r.Actions.Overdue), strconv.Itoa(r.Escalations),
			strconv.Itoa(r.Score.Points), strconv.Itoa(r.Score.Threshold), strconv.FormatBool(r.Score.ServiceCredit))
		if in := r.Inspection; in != nil && in.CompletedOn != nil {
			cells = append(cells, in.Rating, in.CompletedOn.Format(time.DateOnly))
		} else {
			cells = append(cells, "", "")
		}
		if m := r.Last; m != nil {
			cells = append(cells, pct(m.Staff.Percent()), strconv.Itoa(m.Notified), strconv.Itoa(m.Late))
		} else {
			cells = append(cells, "", "", "")
		}
		counted := ""
		if r.This != nil {
			counted = r.This.CountedAt.UTC().Format(time.RFC3339)
		}
		err = w.Write(append(cells, counted)...)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		// Headers are gone; a truncated file and the log are all that is left.
		s.log.Error("write dashboard CSV", "err", err, "request_id", c.GetString(ctxRequestID))
	}
}
