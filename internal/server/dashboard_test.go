package server_test

import (
	"context"
	"encoding/csv"
	"html"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/compliance"
	"github.com/department/safeguarding-portal/internal/concern"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"github.com/department/safeguarding-portal/internal/portfolio"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// settledDashboard signs in as user and waits until the dashboard at home
// no longer says its figures are being brought up to date.
func settledDashboard(t *testing.T, base, user, home string) *http.Client {
	t.Helper()
	c := portaltest.Client(t)
	portaltest.SignIn(t, c, base, user)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := c.Get(base + home)
		if err != nil {
			t.Fatal(err)
		}
		body := portaltest.ReadAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", home, resp.StatusCode, body)
		}
		if !strings.Contains(body, `id="settling"`) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard's figures never settled")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dashboardCSV reads the dashboard export as rows keyed by column name.
func dashboardCSV(t *testing.T, c *http.Client, u string) []map[string]string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	all, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, row := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			m[h] = row[i]
		}
		out = append(out, m)
	}
	return out
}

// TestDashboardFiguresAgreeWithRawRecords seeds three partners with 450
// staff and their records, incidents, inspections and actions, then
// works out every figure on the dashboard again from the raw documents:
// each person evaluated afresh from their record book by the staff-level
// evaluation, incidents, actions and inspections counted from their own
// collections. The export (the dashboard's figures, row for row) must agree
// exactly, and the page must show the same.
func TestDashboardFiguresAgreeWithRawRecords(t *testing.T) {
	ctx := context.Background()
	p := portaltest.StartWith(t, portaltest.Options{Env: map[string]string{"PORTAL_SEED_DEMO_DATA": "false"}})
	db := p.App.Store.DB
	if err := seed.Generate(ctx, db, p.App.Trail, slog.New(slog.NewTextHandler(io.Discard, nil)), seed.Size{Partners: 3, Staff: 450}); err != nil {
		t.Fatal(err)
	}
	if err := p.App.Server.RecountFigures(ctx); err != nil {
		t.Fatal(err)
	}
	c := settledDashboard(t, p.URL, "lead@department.example", "/portfolio")
	// Record the performance failures the hourly detection would, now.
	if n, err := p.App.Server.DetectPerformance(ctx, time.Now()); err != nil || n == 0 {
		t.Fatalf("performance detection recorded %d failures: %v", n, err)
	}
	got := dashboardCSV(t, c, p.URL+"/dashboard.csv")

	now := time.Now()
	today := calendar.Today(now)
	month := portfolio.MonthKey(now)
	contracts, err := partner.NewStore(db).Contracts(ctx, access.Everything())
	if err != nil {
		t.Fatal(err)
	}
	evaluate := &records.Upkeep{Catalogue: requirements.Default()}
	type expected struct {
		staff, compliant, gaps, notified, late, open, overdue, escalations, points int
		suspensionRecommended                                                      bool
		inspection                                                                 *oversight.Inspection
	}
	want := map[string]*expected{}
	byPartner := map[string][]partner.Contract{}
	for _, ct := range contracts {
		if ct.Status != partner.Terminated {
			want[ct.ID] = &expected{}
			byPartner[ct.PartnerID] = append(byPartner[ct.PartnerID], ct)
		}
	}
	people := 0
	for partnerID, live := range byPartner {
		books := map[bson.ObjectID]records.Book{}
		for _, b := range storetest.All[records.Book](t, db.Collection("records_"+partnerID), bson.D{}) {
			books[b.StaffID] = b
		}
		for _, m := range storetest.All[staff.Member](t, db.Collection("staff_"+partnerID), bson.D{}) {
			people++
			for _, a := range evaluate.Evaluate(m, books[m.ID], live) {
				if !a.Result.Applies {
					continue
				}
				w := want[a.Contract.ID]
				w.staff++
				if a.Result.Compliant {
					w.compliant++
				}
				if slices.ContainsFunc(a.Result.Requirements, func(r compliance.Requirement) bool {
					return r.Kind == compliance.KindVetting && (r.State == compliance.Missing || r.State == compliance.Expired)
				}) {
					w.gaps++
				}
			}
		}
	}
	if people < 450 {
		t.Fatalf("read %d people, want the 450 seeded", people)
	}
	type notice struct {
		ContractID string        `bson:"contract_id"`
		NotifiedAt time.Time     `bson:"notified_at"`
		LateBy     time.Duration `bson:"late_by"`
	}
	for _, n := range storetest.All[notice](t, db.Collection("incidents"), bson.D{}) {
		if w := want[n.ContractID]; w != nil && portfolio.MonthKey(n.NotifiedAt) == month {
			w.notified++
			if n.LateBy > 0 {
				w.late++
			}
		}
	}
	for _, a := range storetest.All[oversight.Action](t, db.Collection("actions"), bson.D{}) {
		if w := want[a.ContractID]; w != nil && a.Status != oversight.Closed {
			w.open++
			if a.DueOn.Before(today) {
				w.overdue++
			}
		}
	}
	for _, f := range storetest.All[performance.Failure](t, db.Collection("performance_failures"), bson.D{}) {
		if w := want[f.ContractID]; w != nil && !f.Waived && portfolio.MonthKey(f.Month) == month {
			w.points += f.Points
		}
	}
	for _, cn := range storetest.All[concern.Concern](t, db.Collection("concerns"), bson.D{{Key: "status", Value: concern.Open}}) {
		for id, w := range want {
			ct := contracts[slices.IndexFunc(contracts, func(c partner.Contract) bool { return c.ID == id })]
			if cn.ContractID == id || (cn.ContractID == "" && cn.PartnerID == ct.PartnerID) {
				if cn.Kind == concern.SuspensionRecommendation {
					w.suspensionRecommended = true
				} else {
					w.escalations++
				}
			}
		}
	}
	for _, in := range storetest.All[oversight.Inspection](t, db.Collection("inspections"), bson.D{}) {
		w := want[in.ContractID]
		if w == nil || in.Status != oversight.Completed {
			continue
		}
		if w.inspection == nil || in.CompletedOn.After(*w.inspection.CompletedOn) {
			copied := in
			w.inspection = &copied
		}
	}

	if len(got) != len(want) {
		t.Fatalf("the dashboard has %d contracts, the store %d", len(got), len(want))
	}
	pct := func(n, of int) string {
		if of == 0 {
			return "0.0"
		}
		return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64)
	}
	someNotified, someOverdue, someGaps, somePoints := false, false, false, false
	for _, row := range got {
		id := row["contract_id"]
		w := want[id]
		if w == nil {
			t.Errorf("the dashboard shows %s, which is not a live contract", id)
			continue
		}
		ct := contracts[slices.IndexFunc(contracts, func(c partner.Contract) bool { return c.ID == id })]
		onTime := "100.0"
		if w.notified > 0 {
			onTime = pct(w.notified-w.late, w.notified)
		}
		rating, ratedOn := "", ""
		if w.inspection != nil {
			rating, ratedOn = w.inspection.Rating, w.inspection.CompletedOn.Format(time.DateOnly)
		}
		// The rating rule applied to the recomputed facts gives the rating
		// and reasons the dashboard shows.
		facts := portfolio.Facts{Contract: ct, Today: today, Inspection: w.inspection,
			This:    &portfolio.Month{Staff: portfolio.StaffFigures{Staff: w.staff, Compliant: w.compliant, VettingGaps: w.gaps}, Notified: w.notified, Late: w.late},
			Actions: oversight.ActionCount{Open: w.open, Overdue: w.overdue}, Escalations: w.escalations, SuspensionRecommended: w.suspensionRecommended}
		threshold, _ := strconv.Atoi(row["points_threshold"])
		facts.Points, facts.Threshold = w.points, threshold
		rated := portfolio.Rate(facts)
		for col, v := range map[string]string{
			"staff": strconv.Itoa(w.staff), "compliant": strconv.Itoa(w.compliant), "compliance_percent": pct(w.compliant, w.staff),
			"vetting_gaps": strconv.Itoa(w.gaps), "unassessed": "0", "notified_this_month": strconv.Itoa(w.notified),
			"late_this_month": strconv.Itoa(w.late), "on_time_percent": onTime, "open_actions": strconv.Itoa(w.open),
			"overdue_actions": strconv.Itoa(w.overdue), "open_escalations": strconv.Itoa(w.escalations),
			"points_this_month": strconv.Itoa(w.points), "service_credit": strconv.FormatBool(w.points > threshold), "latest_inspection_rating": rating, "latest_inspection_on": ratedOn,
			"partner_id": ct.PartnerID, "status": ct.Status, "rag": rated.RAG, "reasons": strings.Join(rated.Reasons(), " "),
		} {
			if row[col] != v {
				t.Errorf("%s %s: dashboard %q, recomputed %q", id, col, row[col], v)
			}
		}
		someNotified = someNotified || w.notified > 0
		someOverdue = someOverdue || w.overdue > 0
		someGaps = someGaps || w.gaps > 0
		somePoints = somePoints || w.points > 0
	}
	if !someOverdue || !someGaps || !somePoints {
		t.Errorf("the seeded dataset should exercise overdue actions (%v), vetting gaps (%v) and performance points (%v)", someOverdue, someGaps, somePoints)
	}
	t.Logf("%d contracts, %d people; notifications this month: %v", len(got), people, someNotified)

	// The page shows the same figures as the export.
	resp, err := c.Get(p.URL + "/portfolio")
	if err != nil {
		t.Fatal(err)
	}
	page := portaltest.ReadAll(t, resp)
	for _, row := range got {
		if !strings.Contains(page, `data-contract="`+row["contract_id"]+`"`) || !strings.Contains(page, row["compliance_percent"]+"%") ||
			!strings.Contains(page, row["compliant"]+" of "+row["staff"]) || !strings.Contains(page, `data-rag="`+row["rag"]+`"`) {
			t.Errorf("the page does not show %s as exported: %v", row["contract_id"], row)
		}
	}
}

// TestDashboardAndPartnerHomeStayWithinReach checks each side sees only
// what is theirs: a contract manager's dashboard and export hold only their
// contracts; a partner's home page only its own contracts, actions and
// inspection findings; partners have no dashboard export.
func TestDashboardAndPartnerHomeStayWithinReach(t *testing.T) {
	p := portaltest.Start(t)
	db := p.App.Store.DB
	actions := storetest.All[oversight.Action](t, db.Collection("actions"), bson.D{})
	inspections := storetest.All[oversight.Inspection](t, db.Collection("inspections"), bson.D{})
	if len(actions) == 0 || len(inspections) == 0 {
		t.Fatal("the demo seed should have actions and inspections")
	}

	manager := settledDashboard(t, p.URL, "manager@department.example", "/contracts")
	_, page := get(t, manager, p.URL+"/contracts")
	if !strings.Contains(page, `data-contract="CS-ACC-2025-014"`) || strings.Contains(page, "CS-INT-2025-031") {
		t.Error("a contract manager's dashboard should show their contract and no other")
	}
	rows := dashboardCSV(t, manager, p.URL+"/dashboard.csv")
	if len(rows) != 1 || rows[0]["contract_id"] != "CS-ACC-2025-014" {
		t.Errorf("a contract manager's export: %v", rows)
	}
	// Filters narrow the export as they narrow the page.
	if rows := dashboardCSV(t, manager, p.URL+"/dashboard.csv?partner=brightwell"); len(rows) != 0 {
		t.Errorf("filtering to another partner's contracts should export none, got %v", rows)
	}

	officer := portaltest.Client(t)
	portaltest.SignIn(t, officer, p.URL, "officer@northgate.example")
	_, home := get(t, officer, p.URL+"/organisation")
	if !strings.Contains(home, `data-contract="CS-ACC-2025-014"`) || strings.Contains(home, "CS-INT-2025-031") {
		t.Error("a partner's home page should rate its own contract and no other")
	}
	for _, a := range actions {
		shown := strings.Contains(home, "/actions/"+a.ID.Hex())
		waiting := a.Status == oversight.Open || a.Status == oversight.Returned
		if a.PartnerID == "northgate" && waiting && !shown {
			t.Errorf("northgate's open action %q is not on its home page", a.Title)
		}
		if (a.PartnerID != "northgate" || !waiting) && shown {
			t.Errorf("action %s (%s, %s) should not be on northgate's home page", a.ID.Hex(), a.PartnerID, a.Status)
		}
	}
	for _, in := range inspections {
		shown := strings.Contains(home, "/inspections/"+in.ID.Hex())
		if in.PartnerID != "northgate" && shown {
			t.Errorf("another partner's inspection %s is on northgate's home page", in.ID.Hex())
		}
		if in.PartnerID == "northgate" && in.Status == oversight.Completed && (!shown || !strings.Contains(home, html.EscapeString(in.Findings))) {
			t.Errorf("northgate's inspection findings are not on its home page (shown %v):\n%s", shown, home[strings.Index(home, "What the latest"):])
		}
		if in.PartnerID == "northgate" && in.Status == oversight.Planned && shown {
			t.Errorf("a planned inspection is on the partner's home page")
		}
	}
	if resp, _ := get(t, officer, p.URL+"/dashboard.csv"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a partner's officer exporting the dashboard: %d, want 403", resp.StatusCode)
	}
}

// TestCompliancePageDoesNotWaitForALargeRebuild: with more people never
// assessed than a page brings up to date itself (staleInline), the compliance page answers at once saying its figures
// are being brought up to date, and shows them once the background work
// has done it.
func TestCompliancePageDoesNotWaitForALargeRebuild(t *testing.T) {
	ctx := context.Background()
	p := portaltest.StartWith(t, portaltest.Options{Env: map[string]string{"PORTAL_SEED_DEMO_DATA": "false"}})
	if err := seed.GenerateWith(ctx, p.App.Store.DB, p.App.Trail, slog.New(slog.NewTextHandler(io.Discard, nil)),
		seed.Size{Partners: 2, Staff: 200}, seed.Options{NoAssessments: true}); err != nil {
		t.Fatal(err)
	}
	officer := portaltest.Client(t)
	portaltest.SignIn(t, officer, p.URL, "officer@northgate.example")
	_, page := get(t, officer, p.URL+"/partners/northgate/compliance")
	if !strings.Contains(page, `id="settling"`) {
		t.Fatal("the page should say its figures are being brought up to date")
	}
	deadline := time.Now().Add(2 * time.Minute)
	for strings.Contains(page, `id="settling"`) {
		if time.Now().After(deadline) {
			t.Fatal("the figures were never brought up to date")
		}
		time.Sleep(200 * time.Millisecond)
		_, page = get(t, officer, p.URL+"/partners/northgate/compliance")
	}
	staffCount := regexp.MustCompile(`(\d+) of (\d+) active staff`).FindStringSubmatch(page)
	if staffCount == nil || staffCount[2] != strconv.Itoa(activeNorthgate(t, p)) {
		t.Errorf("once up to date the page should count all of northgate's active staff (%d), got %q", activeNorthgate(t, p), staffCount)
	}
}

func activeNorthgate(t *testing.T, p *portaltest.Portal) int {
	t.Helper()
	n := 0
	for _, m := range storetest.All[staff.Member](t, p.App.Store.DB.Collection("staff_northgate"), bson.D{}) {
		if m.ActiveOn(time.Now()) {
			n++
		}
	}
	return n
}
