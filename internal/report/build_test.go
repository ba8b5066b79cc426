package report_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/compliance"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/pdftest"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/report"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// rawFigures are a contract's figures worked out again from the raw
// documents: each person evaluated from their records, each incident and
// action read as stored.
type rawFigures struct {
	counts
	met        map[string]int // by requirement name
	categories map[string]int
	critical   int
}

type counts struct {
	staff, compliant, gaps             int
	notified, late                     int
	openActions, overdue               int
	expiring30, expiring60, expiring90 int
}

// seeded starts a portal with a generated dataset and reads its figures
// again from the raw documents for the period.
func seeded(t *testing.T, size seed.Size, p report.Period) (*portaltest.Portal, map[string]*rawFigures) {
	t.Helper()
	ctx := context.Background()
	portal := portaltest.StartWith(t, portaltest.Options{Env: map[string]string{"PORTAL_SEED_DEMO_DATA": "false"}})
	db := portal.App.Store.DB
	if err := seed.Generate(ctx, db, portal.App.Trail, slog.New(slog.NewTextHandler(io.Discard, nil)), size); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	today := calendar.Today(now)
	contracts, err := partner.NewStore(db).Contracts(ctx, access.Everything())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*rawFigures{}
	byPartner := map[string][]partner.Contract{}
	for _, ct := range contracts {
		if ct.Status != partner.Terminated {
			want[ct.ID] = &rawFigures{met: map[string]int{}, categories: map[string]int{}}
			byPartner[ct.PartnerID] = append(byPartner[ct.PartnerID], ct)
		}
	}
	evaluate := &records.Upkeep{Catalogue: requirements.Default()}
	for partnerID, live := range byPartner {
		books := map[bson.ObjectID]records.Book{}
		for _, b := range storetest.All[records.Book](t, db.Collection("records_"+partnerID), nil) {
			books[b.StaffID] = b
		}
		for _, m := range storetest.All[staff.Member](t, db.Collection("staff_"+partnerID), nil) {
			for _, a := range evaluate.Evaluate(m, books[m.ID], live) {
				if !a.Result.Applies {
					continue
				}
				w := want[a.Contract.ID]
				w.staff++
				if a.Result.Compliant {
					w.compliant++
				}
				gap := false
				for _, r := range a.Result.Requirements {
					if r.State == compliance.Met || r.State == compliance.ExpiringSoon {
						w.met[r.Name]++
					}
					gap = gap || r.Kind == compliance.KindVetting && (r.State == compliance.Missing || r.State == compliance.Expired)
				}
				if gap {
					w.gaps++
				}
				if a.Result.NextDue != nil && m.ActiveOn(now) {
					switch d := calendar.DaysBetween(today, *a.Result.NextDue); {
					case d < 0 || d > 90:
					case d <= 30:
						w.expiring30++
					case d <= 60:
						w.expiring60++
					default:
						w.expiring90++
					}
				}
			}
		}
	}
	rules := incident.DefaultRules()
	for _, in := range storetest.All[incident.Incident](t, db.Collection("incidents"), nil) {
		w := want[in.ContractID]
		if w == nil || in.NotifiedAt.Before(p.Start()) || !in.NotifiedAt.Before(p.End()) {
			continue
		}
		w.notified++
		if in.LateBy > 0 {
			w.late++
		}
		if in.Critical {
			w.critical++
		}
		c, _ := rules.Category(in.Category)
		w.categories[c.Name]++
	}
	for _, a := range storetest.All[oversight.Action](t, db.Collection("actions"), nil) {
		if w := want[a.ContractID]; w != nil && a.Status != oversight.Closed {
			w.openActions++
			if a.Overdue(now) {
				w.overdue++
			}
		}
	}
	return portal, want
}

func build(t *testing.T, portal *portaltest.Portal, req report.Request) report.Report {
	t.Helper()
	b := report.NewBuilder(portal.App.Store.DB, portal.App.Trail, nil, nil, nil)
	var steps []int
	r, err := b.Build(context.Background(), report.NewID(time.Now()), req, "Test Manager", func(done, total int) { steps = append(steps, done*100/total) })
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) == 0 || steps[len(steps)-1] != 100 || !slices.IsSorted(steps) {
		t.Errorf("progress went %v, want rising to 100", steps)
	}
	return r
}

func lastYear(t *testing.T) report.Period {
	today := calendar.Today(time.Now())
	p, err := report.NewPeriod(calendar.AddDays(today, -365), today)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A partner report's figures are those worked out again from the raw
// records, incidents and actions, contract by contract.
func TestReportFiguresAgreeWithRawRecords(t *testing.T) {
	period := lastYear(t)
	portal, want := seeded(t, seed.Size{Partners: 2, Staff: 240}, period)
	var partnerID string
	for _, ct := range mustContracts(t, portal) {
		partnerID = ct.PartnerID
		break
	}
	// One person's assessment has gone stale: the report brings it up to
	// date before counting, as the compliance page would.
	roster := portal.App.Store.DB.Collection("staff_" + partnerID)
	var someone staff.Member
	if err := roster.FindOne(context.Background(), bson.D{{Key: "active", Value: true}}).Decode(&someone); err != nil {
		t.Fatal(err)
	}
	if _, err := roster.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: someone.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "assessment.basis", Value: "stale"}, {Key: "assessment.contracts", Value: bson.A{}}}}}); err != nil {
		t.Fatal(err)
	}
	r := build(t, portal, report.Request{Kind: report.PartnerReport, SubjectID: partnerID, Period: period, Edition: report.DepartmentEdition})
	if err := roster.FindOne(context.Background(), bson.D{{Key: "_id", Value: someone.ID}}).Decode(&someone); err != nil {
		t.Fatal(err)
	}
	if someone.Assessment == nil || someone.Assessment.Basis == "stale" {
		t.Error("the stale assessment was not made again")
	}
	if len(r.Contracts) == 0 {
		t.Fatal("no contracts in the partner report")
	}
	var sum struct{ Staff, Notified, Critical int }
	for _, c := range r.Contracts {
		if c.PartnerID != partnerID {
			t.Fatalf("contract %s of %s in %s's report", c.ID, c.PartnerID, partnerID)
		}
		w := want[c.ID]
		if w.staff == 0 || w.notified == 0 {
			t.Fatalf("%s: the seed gave no staff (%d) or incidents (%d) to check", c.ID, w.staff, w.notified)
		}
		got := counts{staff: c.Staff, compliant: c.Compliant, gaps: c.VettingGaps, notified: c.Notified, late: c.Late,
			openActions: c.OpenActions, overdue: c.OverdueActions, expiring30: c.Expiries.Within30, expiring60: c.Expiries.Within60, expiring90: c.Expiries.Within90}
		if got != w.counts {
			t.Errorf("%s: report %+v, raw records %+v", c.ID, got, w.counts)
		}
		for _, req := range c.Requirements {
			if req.Met != w.met[req.Name] {
				t.Errorf("%s %s: %d met in the report, %d in the records", c.ID, req.Name, req.Met, w.met[req.Name])
			}
		}
		sum.Staff += w.staff
		sum.Notified += w.notified
		sum.Critical += w.critical
	}
	if r.Summary.Staff != sum.Staff || r.Incidents.Notified != sum.Notified || r.Incidents.Critical != sum.Critical {
		t.Errorf("summary: staff %d, notified %d, critical %d; records %d, %d, %d",
			r.Summary.Staff, r.Incidents.Notified, r.Incidents.Critical, sum.Staff, sum.Notified, sum.Critical)
	}
	categories, late := map[string]int{}, 0
	for _, c := range r.Contracts {
		for name, n := range want[c.ID].categories {
			categories[name] += n
		}
		late += want[c.ID].late
	}
	for _, c := range r.Incidents.ByCategory {
		if c.Suppressed || c.N != categories[c.Label] {
			t.Errorf("category %s: report %+v, records %d", c.Label, c, categories[c.Label])
		}
	}
	// The PDF prints the same figures: read it back as text.
	text := pdfText(t, r)
	compliant := 0
	for _, c := range r.Contracts {
		compliant += want[c.ID].compliant
	}
	headline := fmt.Sprintf("%d of %d (%.1f%%)", compliant, sum.Staff, 100*float64(compliant)/float64(sum.Staff))
	if !strings.Contains(text, headline) {
		t.Errorf("the PDF does not give the raw records' %q staff compliant", headline)
	}
	m := regexp.MustCompile(`(?m)^\s*(\d+)\s+(\d+)\s+(\d+)\s*\n\s*serious incidents notified in the`).FindStringSubmatch(text)
	if m == nil || m[1] != strconv.Itoa(sum.Notified) || m[2] != strconv.Itoa(sum.Critical) || m[3] != strconv.Itoa(late) {
		t.Errorf("the PDF's incident figures %v are not the records' %d notified, %d critical, %d late", m, sum.Notified, sum.Critical, late)
	}
	for name, n := range categories {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+` + strconv.Itoa(n) + `\s*$`).MatchString(text) {
			t.Errorf("the PDF does not count %d %q", n, name)
		}
	}
	// One contract's requirement rows are its own; a name too long for its
	// column wraps, and its figures stand beside its first line.
	if len(r.Contracts) == 1 {
		for name, met := range want[r.Contracts[0].ID].met {
			if len(name) > 40 {
				name = name[:strings.LastIndex(name[:40], " ")]
			}
			if !regexp.MustCompile(regexp.QuoteMeta(name) + `[^\n]*?(Training|Vetting)\s+\d+\s+` + strconv.Itoa(met) + `\s`).MatchString(text) {
				t.Errorf("the PDF's row for %s does not show the %d who meet it", name, met)
			}
		}
	}
	if len(r.Trend) != 12 || r.Trend[11].Month != portfolioMonth(period.To) || r.Trend[11].StaffPercent == nil {
		t.Errorf("trend = %+v, want 12 months ending %s with this month's staff figures", r.Trend, portfolioMonth(period.To))
	}
}

// pdfText renders the report and reads the PDF back as laid-out text.
func pdfText(t *testing.T, r report.Report) string {
	t.Helper()
	pdf, err := report.RenderPDF(r)
	if err != nil {
		t.Fatal(err)
	}
	return pdftest.Text(t, pdf)
}

func portfolioMonth(day time.Time) string { return day.Format("2006-01") }

func mustContracts(t *testing.T, portal *portaltest.Portal) []partner.Contract {
	t.Helper()
	cts, err := partner.NewStore(portal.App.Store.DB).Contracts(context.Background(), access.Everything())
	if err != nil {
		t.Fatal(err)
	}
	return cts
}

// The portfolio report sets every live contract side by side and publishes
// no incident breakdown count from 1 to 4.
func TestPortfolioReportComparesEveryContractAndSuppressesSmallCounts(t *testing.T) {
	period := lastYear(t)
	portal, want := seeded(t, seed.Size{Partners: 3, Staff: 150}, period)
	r := build(t, portal, report.Request{Kind: report.PortfolioReport, Period: period, Edition: report.DepartmentEdition})
	if len(r.Contracts) != len(want) {
		t.Fatalf("%d contracts in the portfolio report, %d live", len(r.Contracts), len(want))
	}
	staffN, notified := 0, 0
	for _, c := range r.Contracts {
		w := want[c.ID]
		if c.Staff != w.staff || c.Notified != w.notified || c.OverdueActions != w.overdue {
			t.Errorf("%s: staff %d, notified %d, overdue %d; records %d, %d, %d", c.ID, c.Staff, c.Notified, c.OverdueActions, w.staff, w.notified, w.overdue)
		}
		if len(c.Requirements) != 0 || len(c.Actions) != 0 {
			t.Errorf("%s: the portfolio report lists each contract's detail", c.ID)
		}
		staffN += w.staff
		notified += w.notified
	}
	if r.Summary.Staff != staffN || r.Incidents.Notified != notified {
		t.Errorf("summary staff %d notified %d, records %d and %d", r.Summary.Staff, r.Incidents.Notified, staffN, notified)
	}
	suppressed := 0
	for _, rows := range [][]report.Count{r.Incidents.ByCategory, r.Incidents.ByIndicator} {
		for _, c := range rows {
			if c.Suppressed {
				suppressed++
				if c.N != 0 {
					t.Errorf("%s is suppressed but carries its count %d", c.Label, c.N)
				}
			} else if c.N > 0 && c.N < report.SuppressBelow {
				t.Errorf("%s: %d published", c.Label, c.N)
			}
		}
	}
	if suppressed == 0 {
		t.Error("nothing was suppressed: the seed gave no small counts to test with")
	}
	for i := 1; i < len(r.Contracts); i++ {
		if portfolioSeverity(r.Contracts[i].RAG) > portfolioSeverity(r.Contracts[i-1].RAG) {
			t.Errorf("contracts not worst first: %s before %s", r.Contracts[i-1].RAG, r.Contracts[i].RAG)
		}
	}
}

func portfolioSeverity(rag string) int {
	return map[string]int{"red": 3, "amber": 2, "green": 1}[rag]
}
