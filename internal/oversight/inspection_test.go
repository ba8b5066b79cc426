package oversight_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/oversight"
)

// An inspection is planned, then completed once with its findings, rating
// and evidence; each step is audited without the findings.
func TestInspectionLife(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	planned, err := f.s.Plan(ctx, ng1Manager, oversight.NewInspection{ContractID: "NG-1", Site: "  Hotel Meridian, Leeds ",
		PlannedFor: time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC), Announced: false, Focus: "Night-time welfare checks"}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	if planned.PartnerID != "northgate" || planned.Status != oversight.Planned || planned.Version != 1 || planned.Site != "Hotel Meridian, Leeds" ||
		!planned.PlannedFor.Equal(date(2026, 6, 10)) || planned.CompletedOn != nil || planned.RecordedBy != nil || planned.PlannedBy != manager {
		t.Fatalf("planned %+v", planned)
	}
	got, err := f.s.GetInspection(ctx, northOnly, planned.ID.Hex())
	if err != nil || got.Focus != "Night-time welfare checks" || got.Announced || !got.CreatedAt.Equal(planned.CreatedAt) {
		t.Fatalf("read back %+v %v", got, err)
	}

	evidence := []oversight.EvidenceRef{ref("fire-log.pdf"), ref("rota.png")}
	f.s.Now = func() time.Time { return startOfTests.Add(10 * 24 * time.Hour) }
	completion := oversight.Completion{CompletedOn: date(2026, 6, 10), Findings: "Two fire doors wedged open on the second floor.",
		Rating: oversight.RequiresImprovement, Evidence: evidence}
	if _, err := f.s.Complete(ctx, ng1Manager, planned.ID.Hex(), 0, completion, manager, event); !errors.Is(err, oversight.ErrConflict) {
		t.Errorf("completing a version never seen: %v, want ErrConflict", err)
	}
	done, err := f.s.Complete(ctx, ng1Manager, planned.ID.Hex(), 1, completion, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != oversight.Completed || done.Version != 2 || done.CompletedOn == nil || !done.CompletedOn.Equal(date(2026, 6, 10)) ||
		done.Rating != oversight.RequiresImprovement || done.Findings != completion.Findings || len(done.Evidence) != 2 ||
		done.Evidence[1] != evidence[1] || done.RecordedBy == nil || *done.RecordedBy != manager || !done.UpdatedAt.After(done.CreatedAt) {
		t.Fatalf("completed %+v", done)
	}
	// A completed inspection is the record: it is not completed again,
	// whichever version is named.
	for _, v := range []int{1, 2} {
		if _, err := f.s.Complete(ctx, everyone, planned.ID.Hex(), v, completion, manager, event); !errors.Is(err, oversight.ErrConflict) {
			t.Errorf("completing again at version %d: %v, want ErrConflict", v, err)
		}
	}
	if again, _ := f.s.GetInspection(ctx, everyone, planned.ID.Hex()); again.Version != 2 {
		t.Errorf("version %d after refused changes, want 2", again.Version)
	}

	evs := f.events(t, "inspection/"+planned.ID.Hex())
	if got := actions(evs); got != "inspection.plan inspection.complete" {
		t.Fatalf("audit actions %q", got)
	}
	for _, e := range evs {
		if e.PartnerID != "northgate" || e.Outcome != "success" || e.Actor.Subject != "m" || e.RequestID != "req-1" {
			t.Errorf("audit event %+v", e)
		}
	}
	if evs[0].Detail != "planned for 2026-06-10, unannounced" || evs[1].Detail != "completed on 2026-06-10, rated requires_improvement, 2 evidence files" {
		t.Errorf("audit details %q, %q", evs[0].Detail, evs[1].Detail)
	}
	f.verify(t, "wedged", "Meridian", "welfare")
}

func TestPlanValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	valid := oversight.NewInspection{ContractID: "NG-1", Site: "Leeds", PlannedFor: date(2026, 7, 1)}
	cases := []struct {
		change func(*oversight.NewInspection)
		want   string
	}{
		{func(n *oversight.NewInspection) { n.ContractID = "" }, "Select the contract"},
		{func(n *oversight.NewInspection) { n.Site = "  " }, "Enter the site"},
		{func(n *oversight.NewInspection) { n.Site = strings.Repeat("x", 201) }, "The site must be 200 characters or fewer"},
		{func(n *oversight.NewInspection) { n.Site = "Leeds\u202e" }, "The site must not contain hidden or control characters"},
		{func(n *oversight.NewInspection) { n.PlannedFor = time.Time{} }, "Enter the date of the inspection"},
		{func(n *oversight.NewInspection) { n.PlannedFor = date(2025, 5, 31) }, "The date of the inspection must be within the last 12 months"},
		{func(n *oversight.NewInspection) { n.PlannedFor = date(2028, 6, 2) }, "The date of the inspection must be within the next 2 years"},
		{func(n *oversight.NewInspection) { n.Focus = strings.Repeat("é", 2001) }, "What the inspection will look at must be 2000 characters or fewer"},
	}
	for _, c := range cases {
		n := valid
		c.change(&n)
		_, err := f.s.Plan(ctx, everyone, n, manager, event)
		wantInvalid(t, err, c.want)
	}
	// The limits themselves are allowed: a year ago today, two years ahead,
	// an unannounced inspection recorded after it took place.
	for _, on := range []time.Time{date(2025, 6, 1), date(2028, 6, 1)} {
		n := valid
		n.PlannedFor = on
		if _, err := f.s.Plan(ctx, everyone, n, manager, event); err != nil {
			t.Errorf("planned for %s: %v", on.Format(time.DateOnly), err)
		}
	}
	if _, n, _ := f.s.ListInspections(ctx, everyone, oversight.InspectionFilter{}, 1, 10); n != 2 {
		t.Errorf("%d inspections stored, want only the 2 valid ones", n)
	}
}

func TestCompleteValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.plan(t, "NG-1", date(2026, 6, 1))
	valid := oversight.Completion{CompletedOn: date(2026, 6, 1), Findings: "Good records.", Rating: oversight.Good}
	bad := ref("a.pdf")
	bad.SHA256 = "not-a-hash"
	one := ref("a.pdf")
	many := make([]oversight.EvidenceRef, 11)
	for i := range many {
		many[i] = ref("page.png")
	}
	cases := []struct {
		change func(*oversight.Completion)
		want   string
	}{
		{func(c *oversight.Completion) { c.CompletedOn = time.Time{} }, "Enter the date the inspection took place"},
		{func(c *oversight.Completion) { c.CompletedOn = date(2026, 6, 2) }, "The date the inspection took place must be today or in the past"},
		{func(c *oversight.Completion) { c.CompletedOn = date(2025, 5, 31) }, "The date the inspection took place must be within the last 12 months"},
		{func(c *oversight.Completion) { c.Findings = "\n " }, "Enter the findings"},
		{func(c *oversight.Completion) { c.Findings = strings.Repeat("x", 10_001) }, "The findings must be 10000 characters or fewer"},
		{func(c *oversight.Completion) { c.Findings = "Fine\x00" }, "The findings must not contain hidden or control characters"},
		{func(c *oversight.Completion) { c.Rating = "" }, "Select a rating"},
		{func(c *oversight.Completion) { c.Rating = "excellent" }, "Select a rating"},
		{func(c *oversight.Completion) { c.Evidence = []oversight.EvidenceRef{bad} }, "A file could not be attached. Upload it again"},
		{func(c *oversight.Completion) {
			c.Evidence = []oversight.EvidenceRef{{Name: "a.pdf", SHA256: one.SHA256, Size: 1}}
		}, "A file could not be attached. Upload it again"},
		{func(c *oversight.Completion) { c.Evidence = []oversight.EvidenceRef{one, one} }, "Attach each file once"},
		{func(c *oversight.Completion) { c.Evidence = many }, "Attach 10 files or fewer"},
	}
	for _, c := range cases {
		comp := valid
		c.change(&comp)
		_, err := f.s.Complete(ctx, everyone, in.ID.Hex(), in.Version, comp, manager, event)
		wantInvalid(t, err, c.want)
	}
	if got, _ := f.s.GetInspection(ctx, everyone, in.ID.Hex()); got.Status != oversight.Planned || got.Version != 1 {
		t.Fatalf("refused completions changed the inspection: %+v", got)
	}
	// Today is the London day: at 00:30 BST on 2 June, 2 June has come.
	f.s.Now = func() time.Time { return time.Date(2026, 6, 1, 23, 30, 0, 0, time.UTC) }
	valid.CompletedOn = date(2026, 6, 2)
	if _, err := f.s.Complete(ctx, everyone, in.ID.Hex(), in.Version, valid, manager, event); err != nil {
		t.Errorf("completed on the London day: %v", err)
	}
}

// Lists go by inspection date, latest first, a page at a time, filtered
// by partner, contract and status.
func TestListInspections(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var want []string // northgate's, latest date first
	for _, d := range []int{20, 5, 28, 12, 1, 15, 9} {
		contract := "NG-1"
		if d%3 == 0 {
			contract = "NG-2"
		}
		f.plan(t, contract, date(2026, 6, d))
	}
	for _, d := range []int{28, 20, 15, 12, 9, 5, 1} {
		want = append(want, date(2026, 6, d).Format(time.DateOnly))
	}
	f.complete(t, f.plan(t, "BW-1", date(2026, 6, 1)), date(2026, 6, 1), oversight.Good)

	var seen []string
	for page := 1; page <= 3; page++ {
		got, total, err := f.s.ListInspections(ctx, northOnly, oversight.InspectionFilter{}, page, 3)
		if err != nil {
			t.Fatal(err)
		}
		if total != 7 || len(got) != min(3, 7-(page-1)*3) {
			t.Fatalf("page %d: %d of %d", page, len(got), total)
		}
		for _, in := range got {
			seen = append(seen, in.PlannedFor.Format(time.DateOnly))
		}
	}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("order %v, want %v", seen, want)
	}
	ng2, total, err := f.s.ListInspections(ctx, everyone, oversight.InspectionFilter{ContractID: "NG-2"}, 1, 10)
	if err != nil || total != 3 || len(ng2) != 3 || ng2[0].ContractID != "NG-2" {
		t.Errorf("NG-2's: %d of %d (%v)", len(ng2), total, err)
	}
	bw, total, err := f.s.ListInspections(ctx, everyone, oversight.InspectionFilter{PartnerID: "brightwell", Status: oversight.Completed}, 1, 10)
	if err != nil || total != 1 || len(bw) != 1 || bw[0].Findings != "" || bw[0].Rating != oversight.Good {
		t.Errorf("brightwell's completed: %+v of %d (%v), want one, without its findings", bw, total, err)
	}
	// A contract manager's list of the other contract's partner's contract
	// is empty, not refused: nothing of it is within reach.
	if got, total, err := f.s.ListInspections(ctx, ng1Manager, oversight.InspectionFilter{ContractID: "NG-2"}, 1, 10); err != nil || total != 0 || len(got) != 0 {
		t.Errorf("NG-1's manager listing NG-2: %d of %d (%v)", len(got), total, err)
	}
}

// Each contract's latest completed inspection, for the dashboard.
func TestLatestCompleted(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.complete(t, f.plan(t, "NG-1", date(2026, 3, 10)), date(2026, 3, 10), oversight.Inadequate)
	latestNG1 := f.complete(t, f.plan(t, "NG-1", date(2026, 5, 20)), date(2026, 5, 20), oversight.Good)
	f.complete(t, f.plan(t, "NG-1", date(2026, 4, 2)), date(2026, 4, 2), oversight.RequiresImprovement)
	f.plan(t, "NG-1", date(2026, 6, 20)) // planned, not yet inspected
	f.complete(t, f.plan(t, "NG-2", date(2026, 2, 1)), date(2026, 2, 1), oversight.Outstanding)
	// Two on one day: the one recorded later is taken.
	f.complete(t, f.plan(t, "BW-1", date(2026, 5, 1)), date(2026, 5, 1), oversight.Good)
	latestBW := f.complete(t, f.plan(t, "BW-1", date(2026, 5, 1)), date(2026, 5, 1), oversight.RequiresImprovement)

	got, err := f.s.LatestCompleted(ctx, everyone)
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, in := range got {
		summary = append(summary, in.ContractID+":"+in.CompletedOn.Format(time.DateOnly)+":"+in.Rating)
		if in.Findings != "" {
			t.Errorf("the dashboard read %s's findings", in.ContractID)
		}
	}
	want := "BW-1:2026-05-01:requires_improvement NG-1:2026-05-20:good NG-2:2026-02-01:outstanding"
	if strings.Join(summary, " ") != want {
		t.Fatalf("latest %v, want %s", summary, want)
	}
	if got[0].ID != latestBW.ID || got[1].ID != latestNG1.ID {
		t.Errorf("latest inspections %v %v, want %v %v", got[0].ID, got[1].ID, latestBW.ID, latestNG1.ID)
	}
	for name, c := range map[string]struct {
		scope access.Scope
		want  string
	}{
		"the partner":     {northOnly, "NG-1 NG-2"},
		"NG-1's manager":  {ng1Manager, "NG-1"},
		"another partner": {brightOnly, "BW-1"},
		"nobody":          {access.Scope{}, ""},
	} {
		got, err := f.s.LatestCompleted(ctx, c.scope)
		if err != nil {
			t.Fatal(err)
		}
		var contracts []string
		for _, in := range got {
			contracts = append(contracts, in.ContractID)
		}
		if strings.Join(contracts, " ") != c.want {
			t.Errorf("%s: latest of %v, want %s", name, contracts, c.want)
		}
	}
}

// Of several people completing one inspection at once, exactly one
// records the findings.
func TestConcurrentCompletionsHaveOneWinner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.plan(t, "NG-1", date(2026, 6, 1))
	const people = 8
	results := make(chan error, people)
	var wg sync.WaitGroup
	for i := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.s.Complete(ctx, everyone, in.ID.Hex(), in.Version, oversight.Completion{CompletedOn: date(2026, 6, 1),
				Findings: fmt.Sprintf("Findings of inspector %d", i), Rating: oversight.Good}, manager, event)
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, oversight.ErrConflict):
			t.Error(err)
		}
	}
	if won != 1 {
		t.Fatalf("%d completions succeeded, want 1", won)
	}
	if got := actions(f.events(t, "inspection/"+in.ID.Hex())); got != "inspection.plan inspection.complete" {
		t.Errorf("audit actions %q", got)
	}
	if got, _ := f.s.GetInspection(ctx, everyone, in.ID.Hex()); got.Version != 2 || !strings.HasPrefix(got.Findings, "Findings of inspector") {
		t.Errorf("after the race: v%d %q", got.Version, got.Findings)
	}
}

// The partner's list leaves out unannounced inspections still planned, and
// shows them once they are recorded; announced ones it sees all along.
func TestPartnerViewHidesUnannouncedInspectionsComing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	announced := f.plan(t, "NG-1", date(2026, 6, 20))
	surprise, err := f.s.Plan(ctx, everyone, oversight.NewInspection{ContractID: "NG-1", Site: "Hull Family Unit",
		PlannedFor: date(2026, 6, 10), Announced: false}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	done, err := f.s.Plan(ctx, everyone, oversight.NewInspection{ContractID: "NG-1", Site: "Wakefield Dispersal",
		PlannedFor: date(2026, 5, 10), Announced: false}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	done = f.complete(t, done, date(2026, 5, 10), oversight.Good)
	if announced.HiddenFromPartner() || !surprise.HiddenFromPartner() || done.HiddenFromPartner() {
		t.Errorf("hidden from the partner: announced %v, unannounced planned %v, unannounced recorded %v",
			announced.HiddenFromPartner(), surprise.HiddenFromPartner(), done.HiddenFromPartner())
	}
	for name, c := range map[string]struct {
		filter oversight.InspectionFilter
		want   []oversight.Inspection
	}{
		"the department's view":         {oversight.InspectionFilter{}, []oversight.Inspection{announced, surprise, done}},
		"the partner's view":            {oversight.InspectionFilter{PartnerView: true}, []oversight.Inspection{announced, done}},
		"the partner's planned":         {oversight.InspectionFilter{PartnerView: true, Status: oversight.Planned}, []oversight.Inspection{announced}},
		"the partner's completed":       {oversight.InspectionFilter{PartnerView: true, Status: oversight.Completed}, []oversight.Inspection{done}},
		"the partner's, by contract":    {oversight.InspectionFilter{PartnerView: true, ContractID: "NG-1"}, []oversight.Inspection{announced, done}},
		"the partner's, other contract": {oversight.InspectionFilter{PartnerView: true, ContractID: "NG-2"}, nil},
	} {
		got, total, err := f.s.ListInspections(ctx, northOnly, c.filter, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs, wantIDs []string
		for _, in := range got {
			gotIDs = append(gotIDs, in.ID.Hex())
		}
		for _, in := range c.want {
			wantIDs = append(wantIDs, in.ID.Hex())
		}
		if strings.Join(gotIDs, " ") != strings.Join(wantIDs, " ") || int(total) != len(c.want) {
			t.Errorf("%s: %v (%d), want %v", name, gotIDs, total, wantIDs)
		}
	}
}
