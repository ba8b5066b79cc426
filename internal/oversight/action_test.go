package oversight_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/oversight"
)

// An action's whole life: raised by the department, answered with
// evidence, returned with a reason, answered again and accepted. Each
// step is in the chronology, from its side, and in the trail without
// anything anyone wrote.
func TestActionLife(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, err := f.s.Raise(ctx, ng1Manager, oversight.NewAction{ContractID: "NG-1",
		Source: oversight.Source{Kind: oversight.FromReview, ID: "QR-2026-Q2"}, Title: " Fix the sign-out book ",
		Detail: "Record every customer leaving the hotel at night.", Priority: oversight.Medium,
		DueOn: time.Date(2026, 6, 30, 18, 0, 0, 0, time.UTC)}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	if a.PartnerID != "northgate" || a.Status != oversight.Open || a.Version != 1 || a.Title != "Fix the sign-out book" ||
		!a.DueOn.Equal(date(2026, 6, 30)) || a.ClosedAt != nil || len(a.Entries) != 1 {
		t.Fatalf("raised %+v", a)
	}
	if e := a.Entries[0]; e.Kind != oversight.EntryRaised || e.Side != oversight.SideDepartment || e.By != manager || e.Text != a.Detail {
		t.Errorf("raised entry %+v", e)
	}
	id := a.ID.Hex()

	clock := startOfTests
	f.s.Now = func() time.Time { clock = clock.Add(time.Hour); return clock }
	certificate := ref("section-55-certificates.pdf")
	a, err = f.s.Respond(ctx, northOnly, id, 1, oversight.Response{Text: "The book is now checked at every shift change.",
		Evidence: []oversight.EvidenceRef{certificate}}, officer, event)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != oversight.Responded || a.Version != 2 || len(a.Entries) != 2 {
		t.Fatalf("responded %+v", a)
	}
	if e := a.Entries[1]; e.Kind != oversight.EntryResponse || e.Side != oversight.SidePartner || e.By != officer ||
		len(e.Attachments) != 1 || e.Attachments[0] != certificate || e.ID.IsZero() || !e.At.After(a.CreatedAt) {
		t.Errorf("response entry %+v", e)
	}

	a, err = f.s.Return(ctx, ng1Manager, id, 2, "Send a copy of a week's pages, with names redacted.", manager, event)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != oversight.Returned || a.Version != 3 || a.Entries[2].Kind != oversight.EntryReturned ||
		a.Entries[2].Side != oversight.SideDepartment || a.Entries[2].Text != "Send a copy of a week's pages, with names redacted." {
		t.Fatalf("returned %+v", a)
	}

	a, err = f.s.Respond(ctx, northOnly, id, 3, oversight.Response{Text: "Attached, names redacted.",
		Evidence: []oversight.EvidenceRef{ref("week-23.pdf"), ref("week-24.pdf")}}, officer, event)
	if err != nil || a.Status != oversight.Responded || a.Version != 4 || len(a.Entries[3].Attachments) != 2 {
		t.Fatalf("responded again %+v %v", a, err)
	}

	a, err = f.s.Accept(ctx, everyone, id, 4, "", manager, event)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != oversight.Closed || a.Version != 5 || a.ClosedAt == nil || !a.ClosedAt.Equal(a.UpdatedAt) || len(a.Entries) != 5 {
		t.Fatalf("accepted %+v", a)
	}
	var kinds, sides []string
	for _, e := range a.Entries {
		kinds, sides = append(kinds, e.Kind), append(sides, e.Side)
	}
	if strings.Join(kinds, " ") != "raised response returned response accepted" ||
		strings.Join(sides, " ") != "department partner department partner department" {
		t.Errorf("chronology %v from %v", kinds, sides)
	}
	if a.Overdue(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("a closed action is overdue")
	}

	evs := f.events(t, "action/"+id)
	if got := actions(evs); got != "action.raise action.respond action.return action.respond action.accept" {
		t.Fatalf("audit actions %q", got)
	}
	wantDetails := []string{"medium priority, due 2026-06-30, from review", "open to responded, 1 evidence files",
		"responded to returned", "returned to responded, 2 evidence files", "responded to closed"}
	for i, e := range evs {
		if e.Detail != wantDetails[i] || e.PartnerID != "northgate" || e.Outcome != "success" || e.ClientIP != "192.0.2.1" {
			t.Errorf("audit event %d: %+v, want detail %q", i, e, wantDetails[i])
		}
	}
	f.verify(t, "sign-out", "shift change", "redacted", "customer leaving", "section-55", "week-23")
}

// Every move an action's status does not allow, and every stale version,
// is refused as a conflict and changes nothing.
func TestActionMovesRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	respond := func(id string, v int) error {
		_, err := f.s.Respond(ctx, northOnly, id, v, oversight.Response{Text: "Done"}, officer, event)
		return err
	}
	ret := func(id string, v int) error {
		_, err := f.s.Return(ctx, everyone, id, v, "Not enough", manager, event)
		return err
	}
	accept := func(id string, v int) error {
		_, err := f.s.Accept(ctx, everyone, id, v, "", manager, event)
		return err
	}
	open := f.raise(t, "NG-1", date(2026, 6, 30))
	responded := f.respond(t, f.raise(t, "NG-1", date(2026, 6, 30)))
	returned, err := f.s.Return(ctx, everyone, f.respond(t, f.raise(t, "NG-1", date(2026, 6, 30))).ID.Hex(), 2, "More", manager, event)
	if err != nil {
		t.Fatal(err)
	}
	closed, err := f.s.Accept(ctx, everyone, f.respond(t, f.raise(t, "NG-1", date(2026, 6, 30))).ID.Hex(), 2, "", manager, event)
	if err != nil {
		t.Fatal(err)
	}
	before := f.eventCount(t)
	cases := []struct {
		name string
		a    oversight.Action
		move func(string, int) error
		v    int
	}{
		{"return an open action", open, ret, open.Version},
		{"accept an open action", open, accept, open.Version},
		{"respond to a responded action", responded, respond, responded.Version},
		{"return a returned action", returned, ret, returned.Version},
		{"accept a returned action", returned, accept, returned.Version},
		{"respond to a closed action", closed, respond, closed.Version},
		{"return a closed action", closed, ret, closed.Version},
		{"accept a closed action", closed, accept, closed.Version},
		{"respond on a stale version", open, respond, open.Version - 1},
		{"respond on a version from the future", open, respond, open.Version + 1},
		{"respond again on a stale version", returned, respond, returned.Version - 1},
		{"return on a stale version", responded, ret, responded.Version - 1},
		{"accept on a stale version", responded, accept, responded.Version - 1},
	}
	for _, c := range cases {
		if err := c.move(c.a.ID.Hex(), c.v); !errors.Is(err, oversight.ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", c.name, err)
		}
		now, err := f.s.GetAction(ctx, everyone, c.a.ID.Hex())
		if err != nil {
			t.Fatal(err)
		}
		if now.Version != c.a.Version || now.Status != c.a.Status || len(now.Entries) != len(c.a.Entries) {
			t.Errorf("%s changed the action: %s v%d, was %s v%d", c.name, now.Status, now.Version, c.a.Status, c.a.Version)
		}
	}
	if n := f.eventCount(t); n != before {
		t.Errorf("refused moves recorded %d audit events", n-before)
	}
}

func TestRaiseValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	valid := oversight.NewAction{ContractID: "NG-1", Source: oversight.Source{Kind: oversight.FromIncident, ID: "SI-2026-7KQ4MZP"},
		Title: "Refresh training", Detail: "Every night manager.", Priority: oversight.Low, DueOn: date(2026, 6, 2)}
	cases := []struct {
		change func(*oversight.NewAction)
		want   string
	}{
		{func(n *oversight.NewAction) { n.ContractID = "" }, "Select the contract"},
		{func(n *oversight.NewAction) { n.Source.Kind = "" }, "Select where the action comes from"},
		{func(n *oversight.NewAction) { n.Source.Kind = "complaint" }, "Select where the action comes from"},
		{func(n *oversight.NewAction) { n.Source.ID = " " }, "Enter the reference of the incident the action comes from"},
		{func(n *oversight.NewAction) { n.Source.ID = "SI 2026" }, "The reference of the incident must be up to 100 letters, numbers or symbols, without spaces"},
		{func(n *oversight.NewAction) { n.Source.ID = strings.Repeat("A", 101) }, "The reference of the incident must be up to 100 letters, numbers or symbols, without spaces"},
		{func(n *oversight.NewAction) { n.Title = "" }, "Enter the title of the action"},
		{func(n *oversight.NewAction) { n.Title = strings.Repeat("x", 201) }, "The title of the action must be 200 characters or fewer"},
		{func(n *oversight.NewAction) { n.Detail = "" }, "Enter what the partner must do"},
		{func(n *oversight.NewAction) { n.Detail = "Do it\u200b" }, "What the partner must do must not contain hidden or control characters"},
		{func(n *oversight.NewAction) { n.Priority = "urgent" }, "Select a priority"},
		{func(n *oversight.NewAction) { n.DueOn = time.Time{} }, "Enter a due date"},
		{func(n *oversight.NewAction) { n.DueOn = date(2026, 6, 1) }, "Enter a due date in the future"},
		{func(n *oversight.NewAction) { n.DueOn = date(2026, 5, 1) }, "Enter a due date in the future"},
		{func(n *oversight.NewAction) { n.DueOn = date(2028, 6, 2) }, "The due date must be within the next 2 years"},
	}
	for _, c := range cases {
		n := valid
		c.change(&n)
		_, err := f.s.Raise(ctx, everyone, n, manager, event)
		wantInvalid(t, err, c.want)
	}
	if _, err := f.s.Raise(ctx, everyone, valid, manager, event); err != nil {
		t.Errorf("due tomorrow: %v", err)
	}
	// Today is the London day: at 00:30 BST on 2 June, 2 June is today.
	f.s.Now = func() time.Time { return time.Date(2026, 6, 1, 23, 30, 0, 0, time.UTC) }
	_, err := f.s.Raise(ctx, everyone, valid, manager, event)
	wantInvalid(t, err, "Enter a due date in the future")
	if _, n, _ := f.s.ListActions(ctx, everyone, oversight.ActionFilter{}, 1, 10); n != 1 {
		t.Errorf("%d actions stored, want only the valid one", n)
	}
}

func TestRespondReturnAcceptValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.raise(t, "NG-1", date(2026, 6, 30))
	id := a.ID.Hex()
	bad := ref("a.pdf")
	bad.Size = 0
	for text, want := range map[string]string{
		"":                            "Enter your response",
		strings.Repeat("x", 10_001):   "Your response must be 10000 characters or fewer",
		"Done\u2066 hidden\u2069":     "Your response must not contain hidden or control characters",
		"Done, evidence not attached": "A file could not be attached. Upload it again",
	} {
		r := oversight.Response{Text: text}
		if strings.HasPrefix(text, "Done,") {
			r.Evidence = []oversight.EvidenceRef{bad}
		}
		_, err := f.s.Respond(ctx, northOnly, id, a.Version, r, officer, event)
		wantInvalid(t, err, want)
	}
	a = f.respond(t, a)
	_, err := f.s.Return(ctx, everyone, id, a.Version, " ", manager, event)
	wantInvalid(t, err, "Enter the reason for returning the response")
	_, err = f.s.Return(ctx, everyone, id, a.Version, strings.Repeat("x", 2001), manager, event)
	wantInvalid(t, err, "The reason for returning the response must be 2000 characters or fewer")
	_, err = f.s.Accept(ctx, everyone, id, a.Version, strings.Repeat("x", 2001), manager, event)
	wantInvalid(t, err, "The note must be 2000 characters or fewer")
	if got, _ := f.s.GetAction(ctx, everyone, id); got.Version != a.Version || got.Status != oversight.Responded {
		t.Errorf("refused changes changed the action: %s v%d", got.Status, got.Version)
	}
	got, err := f.s.Accept(ctx, everyone, id, a.Version, "Good evidence.", manager, event)
	if err != nil || got.Entries[len(got.Entries)-1].Text != "Good evidence." {
		t.Errorf("accept with a note: %v", err)
	}
}

// An action from an inspection names a completed inspection of the same
// contract, within reach; lists find the actions raised from it.
func TestRaiseFromAnInspection(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	done := f.complete(t, f.plan(t, "NG-1", date(2026, 5, 20)), date(2026, 5, 20), oversight.Inadequate)
	planned := f.plan(t, "NG-1", date(2026, 6, 20))
	otherContract := f.complete(t, f.plan(t, "NG-2", date(2026, 5, 20)), date(2026, 5, 20), oversight.Good)
	otherPartner := f.complete(t, f.plan(t, "BW-1", date(2026, 5, 20)), date(2026, 5, 20), oversight.Good)
	raise := func(scope access.Scope, inspectionID string) (oversight.Action, error) {
		return f.s.Raise(ctx, scope, oversight.NewAction{ContractID: "NG-1", Source: oversight.Source{Kind: oversight.FromInspection, ID: inspectionID},
			Title: "Fire doors", Detail: "Keep fire doors shut.", Priority: oversight.High, DueOn: date(2026, 6, 15)}, manager, event)
	}
	for name, id := range map[string]string{
		"a planned inspection":            planned.ID.Hex(),
		"another contract's inspection":   otherContract.ID.Hex(),
		"another partner's inspection":    otherPartner.ID.Hex(),
		"an inspection that is not there": "000000000000000000000000",
		"not an inspection ID":            "INSP-1",
	} {
		_, err := raise(everyone, id)
		var inv *oversight.ErrInvalid
		if !errors.As(err, &inv) || inv.Message != "Select a completed inspection of this contract" {
			t.Errorf("from %s: %v", name, err)
		}
	}
	// NG-1's manager cannot raise from NG-2's inspection even by guessing it.
	_, err := raise(ng1Manager, otherContract.ID.Hex())
	wantInvalid(t, err, "Select a completed inspection of this contract")

	a, err := raise(ng1Manager, strings.ToUpper(done.ID.Hex()))
	if err != nil {
		t.Fatal(err)
	}
	if a.Source.ID != done.ID.Hex() {
		t.Errorf("source %q, want the inspection's ID as lists look for it", a.Source.ID)
	}
	f.raise(t, "NG-1", date(2026, 6, 15)) // from an incident
	list, total, err := f.s.ListActions(ctx, everyone, oversight.ActionFilter{Source: oversight.Source{Kind: oversight.FromInspection, ID: done.ID.Hex()}}, 1, 10)
	if err != nil || total != 1 || list[0].ID != a.ID {
		t.Errorf("actions from the inspection: %d (%v)", total, err)
	}
	if _, total, _ := f.s.ListActions(ctx, everyone, oversight.ActionFilter{Source: oversight.Source{Kind: oversight.FromIncident}}, 1, 10); total != 1 {
		t.Errorf("%d actions from incidents, want 1", total)
	}
}

// Overdue is decided by the London calendar day: an action due on 30 June
// becomes overdue at midnight in London, an hour before midnight UTC in
// summer, and at midnight UTC in winter.
func TestOverdueAcrossLondonMidnight(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	summer := f.raise(t, "NG-1", date(2026, 6, 30))
	later := f.raise(t, "NG-1", date(2026, 7, 15))
	winter := f.raise(t, "NG-2", date(2026, 12, 15))
	respondedSummer := f.respond(t, f.raise(t, "NG-2", date(2026, 6, 30)))
	closedSummer := f.respond(t, f.raise(t, "NG-2", date(2026, 6, 30)))
	if _, err := f.s.Accept(ctx, everyone, closedSummer.ID.Hex(), closedSummer.Version, "", manager, event); err != nil {
		t.Fatal(err)
	}
	f.raise(t, "BW-1", date(2026, 6, 30))

	cases := []struct {
		asOf    time.Time
		overdue map[string]int // per contract
		ids     []string
	}{
		{time.Date(2026, 6, 30, 22, 59, 59, 0, time.UTC), map[string]int{"BW-1": 0, "NG-1": 0, "NG-2": 0}, nil},
		{time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC), map[string]int{"BW-1": 1, "NG-1": 1, "NG-2": 1},
			[]string{summer.ID.Hex(), respondedSummer.ID.Hex()}},
		{time.Date(2026, 12, 15, 23, 59, 59, 0, time.UTC), map[string]int{"BW-1": 1, "NG-1": 2, "NG-2": 1},
			[]string{summer.ID.Hex(), respondedSummer.ID.Hex(), later.ID.Hex()}},
		{time.Date(2026, 12, 16, 0, 0, 0, 0, time.UTC), map[string]int{"BW-1": 1, "NG-1": 2, "NG-2": 2},
			[]string{summer.ID.Hex(), respondedSummer.ID.Hex(), later.ID.Hex(), winter.ID.Hex()}},
	}
	for _, c := range cases {
		at := c.asOf.Format(time.RFC3339)
		counts, err := f.s.CountOpenAndOverdue(ctx, everyone, c.asOf)
		if err != nil {
			t.Fatal(err)
		}
		want := []oversight.ActionCount{
			{ContractID: "BW-1", PartnerID: "brightwell", Open: 1, Overdue: c.overdue["BW-1"]},
			{ContractID: "NG-1", PartnerID: "northgate", Open: 2, Overdue: c.overdue["NG-1"]},
			{ContractID: "NG-2", PartnerID: "northgate", Open: 2, Overdue: c.overdue["NG-2"]},
		}
		if len(counts) != len(want) {
			t.Fatalf("at %s: %+v, want %+v", at, counts, want)
		}
		for i := range want {
			if counts[i] != want[i] {
				t.Errorf("at %s: %+v, want %+v", at, counts[i], want[i])
			}
		}
		list, total, err := f.s.ListActions(ctx, northOnly, oversight.ActionFilter{OverdueAsOf: c.asOf}, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range list {
			ids = append(ids, a.ID.Hex())
			if !a.Overdue(c.asOf) {
				t.Errorf("at %s: listed %s as overdue, which it is not", at, a.ID.Hex())
			}
		}
		if int(total) != len(c.ids) || strings.Join(ids, " ") != strings.Join(c.ids, " ") {
			t.Errorf("at %s: overdue %v (of %d), want %v, soonest due first", at, ids, total, c.ids)
		}
		for _, a := range []oversight.Action{summer, later, winter, respondedSummer} {
			if got, want := a.Overdue(c.asOf), slices.Contains(c.ids, a.ID.Hex()); got != want {
				t.Errorf("at %s: Overdue(due %s) = %v, want %v", at, a.DueOn.Format(time.DateOnly), got, want)
			}
		}
	}
	if got, _, _ := f.s.ListActions(ctx, everyone, oversight.ActionFilter{Status: oversight.Closed, OverdueAsOf: cases[3].asOf}, 1, 10); len(got) != 0 {
		t.Errorf("closed and overdue: %d, want none", len(got))
	}
}

// The dashboard's counts cover only what the caller reaches, and leave out
// contracts with nothing open.
func TestCountOpenAndOverduePerContract(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for range 3 {
		f.raise(t, "NG-1", date(2026, 6, 10))
	}
	f.raise(t, "NG-1", date(2026, 8, 1))
	f.respond(t, f.raise(t, "BW-1", date(2026, 6, 10)))
	closed := f.respond(t, f.raise(t, "NG-2", date(2026, 6, 10)))
	if _, err := f.s.Accept(ctx, everyone, closed.ID.Hex(), closed.Version, "", manager, event); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		scope access.Scope
		want  string
	}{
		"the department":  {everyone, "BW-1 1/1 NG-1 4/3"},
		"the partner":     {northOnly, "NG-1 4/3"},
		"NG-1's manager":  {ng1Manager, "NG-1 4/3"},
		"NG-2's manager":  {ng2Manager, ""},
		"another partner": {brightOnly, "BW-1 1/1"},
		"nobody":          {access.Scope{}, ""},
	} {
		counts, err := f.s.CountOpenAndOverdue(ctx, c.scope, asOf)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range counts {
			got = append(got, n.ContractID+" "+strconv.Itoa(n.Open)+"/"+strconv.Itoa(n.Overdue))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: %v, want %q", name, got, c.want)
		}
	}
}

func TestListActionsFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a1 := f.raise(t, "NG-1", date(2026, 7, 20))
	a2 := f.respond(t, f.raise(t, "NG-1", date(2026, 6, 20)))
	a3 := f.raise(t, "NG-2", date(2026, 7, 1))
	f.raise(t, "BW-1", date(2026, 6, 5))
	ids := func(list []oversight.Action) string {
		var out []string
		for _, a := range list {
			out = append(out, a.ID.Hex())
		}
		return strings.Join(out, " ")
	}
	cases := []struct {
		name   string
		scope  access.Scope
		filter oversight.ActionFilter
		want   []oversight.Action
	}{
		{"the partner's, soonest due first", northOnly, oversight.ActionFilter{}, []oversight.Action{a2, a3, a1}},
		{"by partner", everyone, oversight.ActionFilter{PartnerID: "northgate"}, []oversight.Action{a2, a3, a1}},
		{"by contract", everyone, oversight.ActionFilter{ContractID: "NG-1"}, []oversight.Action{a2, a1}},
		{"by contract within a manager's", ng1Manager, oversight.ActionFilter{ContractID: "NG-1"}, []oversight.Action{a2, a1}},
		{"by status", northOnly, oversight.ActionFilter{Status: oversight.Responded}, []oversight.Action{a2}},
		{"open", everyone, oversight.ActionFilter{PartnerID: "northgate", Status: oversight.Open}, []oversight.Action{a3, a1}},
	}
	for _, c := range cases {
		got, total, err := f.s.ListActions(ctx, c.scope, c.filter, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != ids(c.want) || int(total) != len(c.want) {
			t.Errorf("%s: %s (%d), want %s", c.name, ids(got), total, ids(c.want))
		}
		for _, a := range got {
			if a.Detail != "" || a.Entries != nil || a.Title == "" {
				t.Errorf("%s: listed %+v, want the title without the detail or chronology", c.name, a)
			}
		}
	}
	page2, total, err := f.s.ListActions(ctx, everyone, oversight.ActionFilter{}, 2, 3)
	if err != nil || total != 4 || len(page2) != 1 || page2[0].ID != a1.ID {
		t.Errorf("second page of 3: %d of %d (%v), want the last due", len(page2), total, err)
	}
}

// Of several people changing one action at once, exactly one succeeds;
// the others are told it changed, and the action and the trail show one
// change.
func TestConcurrentChangesToOneActionHaveOneWinner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.respond(t, f.raise(t, "NG-1", date(2026, 6, 30)))
	const people = 12
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		won      []string
		conflict int
	)
	for i := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			kind := "accept"
			if i%2 == 0 {
				_, err = f.s.Accept(ctx, everyone, a.ID.Hex(), a.Version, "", manager, event)
			} else {
				kind = "return"
				_, err = f.s.Return(ctx, ng1Manager, a.ID.Hex(), a.Version, "More, please", manager, event)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, kind)
			case errors.Is(err, oversight.ErrConflict):
				conflict++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || conflict != people-1 {
		t.Fatalf("%d won (%v), %d conflicts; want exactly one winner", len(won), won, conflict)
	}
	got, err := f.s.GetAction(ctx, everyone, a.ID.Hex())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"accept": oversight.Closed, "return": oversight.Returned}[won[0]]
	if got.Status != want || got.Version != a.Version+1 || len(got.Entries) != len(a.Entries)+1 {
		t.Errorf("after the race: %s v%d with %d entries, want %s v%d with %d", got.Status, got.Version, len(got.Entries), want, a.Version+1, len(a.Entries)+1)
	}
	evs := f.events(t, "action/"+a.ID.Hex())
	if got := actions(evs); got != "action.raise action.respond action."+won[0] {
		t.Errorf("audit actions %q", got)
	}
	f.verify(t)
}

// EachAction reads what ListActions lists, every page at once, and the
// filters the reminders use: waiting for the partner, due by a day, and
// both with overdue.
func TestEachActionAndTheReminderFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	soon := f.raise(t, "NG-1", date(2026, 6, 5))
	returned := f.respond(t, f.raise(t, "NG-1", date(2026, 6, 8)))
	returned, err := f.s.Return(ctx, everyone, returned.ID.Hex(), returned.Version, "Send the certificates", manager, event)
	if err != nil {
		t.Fatal(err)
	}
	responded := f.respond(t, f.raise(t, "NG-2", date(2026, 6, 6)))
	later := f.raise(t, "NG-2", date(2026, 9, 1))
	closed := f.respond(t, f.raise(t, "NG-1", date(2026, 6, 3)))
	if _, err := f.s.Accept(ctx, everyone, closed.ID.Hex(), closed.Version, "", manager, event); err != nil {
		t.Fatal(err)
	}
	other := f.raise(t, "BW-1", date(2026, 6, 4))

	each := func(scope access.Scope, filter oversight.ActionFilter) string {
		t.Helper()
		var ids []string
		if err := f.s.EachAction(ctx, scope, filter, func(a oversight.Action) error {
			if a.Detail != "" || a.Entries != nil || a.Title == "" {
				t.Errorf("read %+v, want the title without the detail or chronology", a)
			}
			ids = append(ids, a.ID.Hex())
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		listed, total, err := f.s.ListActions(ctx, scope, filter, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		var listedIDs []string
		for _, a := range listed {
			listedIDs = append(listedIDs, a.ID.Hex())
		}
		if strings.Join(listedIDs, " ") != strings.Join(ids, " ") || int(total) != len(ids) {
			t.Errorf("%+v: EachAction read %v, ListActions %v of %d", filter, ids, listedIDs, total)
		}
		return strings.Join(ids, " ")
	}
	hex := func(as ...oversight.Action) string {
		var out []string
		for _, a := range as {
			out = append(out, a.ID.Hex())
		}
		return strings.Join(out, " ")
	}
	within := date(2026, 6, 8) // a week ahead of 1 June
	asOf := time.Date(2026, 6, 7, 12, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		scope  access.Scope
		filter oversight.ActionFilter
		want   string
	}{
		"everything within reach":       {everyone, oversight.ActionFilter{}, hex(closed, other, soon, responded, returned, later)},
		"the partner's":                 {northOnly, oversight.ActionFilter{}, hex(closed, soon, responded, returned, later)},
		"waiting for the partner":       {everyone, oversight.ActionFilter{AwaitingPartner: true}, hex(other, soon, returned, later)},
		"waiting and due within a week": {everyone, oversight.ActionFilter{AwaitingPartner: true, DueBy: within}, hex(other, soon, returned)},
		"due by, any status":            {northOnly, oversight.ActionFilter{DueBy: date(2026, 6, 6)}, hex(closed, soon, responded)},
		"waiting and overdue":           {everyone, oversight.ActionFilter{AwaitingPartner: true, OverdueAsOf: asOf}, hex(other, soon)},
		"overdue and due by":            {everyone, oversight.ActionFilter{OverdueAsOf: asOf, DueBy: date(2026, 6, 5)}, hex(other, soon)},
		"waiting, but responded":        {everyone, oversight.ActionFilter{AwaitingPartner: true, Status: oversight.Responded}, ""},
		"waiting and returned":          {everyone, oversight.ActionFilter{AwaitingPartner: true, Status: oversight.Returned}, hex(returned)},
		"a manager's, waiting":          {ng1Manager, oversight.ActionFilter{AwaitingPartner: true}, hex(soon, returned)},
		"another partner's, waiting":    {brightOnly, oversight.ActionFilter{AwaitingPartner: true, PartnerID: "northgate"}, ""},
		"nobody's":                      {access.Scope{}, oversight.ActionFilter{}, ""},
	} {
		if got := each(c.scope, c.filter); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
	stop := errors.New("enough")
	n := 0
	if err := f.s.EachAction(ctx, everyone, oversight.ActionFilter{}, func(oversight.Action) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("EachAction went on after an error: %d read, %v", n, err)
	}
}
