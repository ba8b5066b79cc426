package concern_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/concern"
	"github.com/department/safeguarding-portal/internal/partner"
)

const suspendReason = "Staff at Wakefield Dispersal are working without enhanced checks.\nSuspended until every check is evidenced."

// suspensions are the entries of a contract's status history that suspend it.
func suspensions(ct partner.Contract) []partner.StatusChange {
	var out []partner.StatusChange
	for _, h := range ct.StatusHistory {
		if h.Status == partner.Suspended {
			out = append(out, h)
		}
	}
	return out
}

// A decision to suspend sets the contract's status to suspended with the
// decision's reason, by the lead, in the contract's own status history;
// the decision says it did. Sending the decision again records nothing
// more.
func TestDecisionToSuspendSuspendsTheContract(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec, err := f.s.Raise(ctx, ng1Manager, concern.NewConcern{ContractID: "NG-1", Kind: concern.SuspensionRecommendation,
		Reason: "Night staff are unvetted."}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	before := f.contract(t, "NG-1")
	decision := concern.NewDecision{Outcome: concern.SuspendContract, Reason: "  " + suspendReason + "\n"}
	c, err := f.s.Decide(ctx, everyone, rec.ID.Hex(), 1, decision, lead, event)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != concern.Decided || c.Outcome != concern.SuspendContract || c.Pending != nil || c.Version != 3 || len(c.Decisions) != 1 {
		t.Fatalf("decided %+v", c)
	}
	d := c.Decisions[0]
	if !d.SuspendedContract || d.Reason != suspendReason || d.By != lead || d.ContractVersion != before.Version || d.StatusHistoryLen != len(before.StatusHistory) {
		t.Errorf("decision %+v", d)
	}
	ct := f.contract(t, "NG-1")
	if ct.Status != partner.Suspended || ct.StatusReason != suspendReason || ct.StatusChangedBy != "Lee Lead" ||
		ct.Version != before.Version+1 || len(ct.StatusHistory) != len(before.StatusHistory)+1 {
		t.Fatalf("contract after the decision %+v", ct)
	}
	if last := ct.StatusHistory[len(ct.StatusHistory)-1]; last.Status != partner.Suspended || last.Reason != suspendReason || last.By != "Lee Lead" {
		t.Errorf("status history ends %+v", last)
	}

	// The same decision sent again (a retried request) is the one recorded.
	again, err := f.s.Decide(ctx, everyone, rec.ID.Hex(), 1, decision, lead, event)
	if err != nil || again.Version != c.Version || len(again.Decisions) != 1 {
		t.Errorf("the decision sent again: %+v, %v", again, err)
	}
	if n := len(suspensions(f.contract(t, "NG-1"))); n != 1 {
		t.Errorf("%d suspensions in the status history, want 1", n)
	}
	// Another decision, or the same by someone else, is a conflict.
	other := concern.Actor{Kind: "person", ID: "l2", Name: "Lou Lead"}
	if _, err := f.s.Decide(ctx, everyone, rec.ID.Hex(), 1, decision, other, event); !errors.Is(err, concern.ErrConflict) {
		t.Errorf("another lead's decision on the decided version: %v", err)
	}

	if got := actions(f.events(t, "concern/"+rec.ID.Hex())); got != "concern.raise concern.suspend.start concern.decide" {
		t.Errorf("concern's audit actions %q", got)
	}
	evs := f.events(t, "contract/NG-1")
	if len(evs) != 1 || evs[0].Action != "contract.status" || evs[0].Detail != "active to suspended" || evs[0].PartnerID != "northgate" {
		t.Errorf("contract's audit events %+v", evs)
	}
	f.verify(t, "Wakefield", "unvetted", "Lee Lead")

	// A second recommendation can be raised once the contract is active
	// again; a decision not to suspend leaves it as it is.
	if err := f.contracts.SetStatus(ctx, everyone, "NG-1", ct.Version, partner.Active, "Checks evidenced", "Mo Manager", statusEvent); err != nil {
		t.Fatal(err)
	}
	rec2 := f.raise(t, concern.SuspensionRecommendation, "NG-1")
	c, err = f.s.Decide(ctx, everyone, rec2.ID.Hex(), 1, concern.NewDecision{Outcome: concern.DoNotSuspend, Reason: "Put right already."}, lead, event)
	if err != nil || c.Status != concern.Decided || c.Decisions[0].SuspendedContract {
		t.Fatalf("not suspended: %+v, %v", c, err)
	}
	if ct := f.contract(t, "NG-1"); ct.Status != partner.Active || ct.StatusReason != "Checks evidenced" {
		t.Errorf("a decision not to suspend changed the contract: %+v", ct)
	}
}

// A contract suspended meanwhile (on its own page) keeps its status and
// reason; the decision is recorded and says it changed nothing there.
func TestDecisionToSuspendAContractAlreadySuspended(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.raise(t, concern.SuspensionRecommendation, "NG-1")
	ct := f.contract(t, "NG-1")
	if err := f.contracts.SetStatus(ctx, everyone, "NG-1", ct.Version, partner.Suspended, "Suspended by the manager", "Mo Manager", statusEvent); err != nil {
		t.Fatal(err)
	}
	c, err := f.s.Decide(ctx, everyone, rec.ID.Hex(), 1, concern.NewDecision{Outcome: concern.SuspendContract, Reason: suspendReason}, lead, event)
	if err != nil || c.Status != concern.Decided || c.Decisions[0].SuspendedContract || c.Version != 2 {
		t.Fatalf("decided %+v, %v", c, err)
	}
	if ct := f.contract(t, "NG-1"); ct.StatusReason != "Suspended by the manager" || len(suspensions(ct)) != 1 {
		t.Errorf("the contract changed again: %+v", ct)
	}
	if got := actions(f.events(t, "concern/"+rec.ID.Hex())); got != "concern.raise concern.decide" {
		t.Errorf("audit actions %q", got)
	}
}

// If the status change fails, no decision stays: not on the concern, not
// pending, not on the contract. The concern can be decided again.
func TestFailedStatusChangeLeavesNoDecision(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.raise(t, concern.SuspensionRecommendation, "NG-1")
	before := f.contract(t, "NG-1")

	// A contract store that can read but not write: its writes are refused.
	readOnly := concern.NewStore(f.db, f.trail, partner.NewStore(f.db))
	_, err := readOnly.Decide(ctx, everyone, rec.ID.Hex(), 1, concern.NewDecision{Outcome: concern.SuspendContract, Reason: suspendReason}, lead, event)
	if err == nil || errors.Is(err, concern.ErrConflict) {
		t.Fatalf("deciding with the status change refused: %v, want the store's error", err)
	}
	c := f.get(t, rec)
	if c.Status != concern.Open || len(c.Decisions) != 0 || c.Pending != nil || c.Outcome != "" {
		t.Fatalf("after the failed status change %+v", c)
	}
	if ct := f.contract(t, "NG-1"); ct.Status != partner.Active || ct.Version != before.Version || len(ct.StatusHistory) != len(before.StatusHistory) {
		t.Fatalf("the contract changed: %+v", ct)
	}
	if got := actions(f.events(t, "concern/"+rec.ID.Hex())); got != "concern.raise concern.suspend.start concern.suspend.release" {
		t.Errorf("audit actions %q", got)
	}

	// The contract changed between the decision and its status change (a
	// manager put it under review): the decision is withdrawn as a
	// conflict, and the contract keeps the manager's change.
	concern.AfterClaim(f.s, func() error {
		ct := f.contract(t, "NG-1")
		return f.contracts.SetStatus(ctx, everyone, "NG-1", ct.Version, partner.UnderReview, "Under review meanwhile", "Mo Manager", statusEvent)
	})
	after, err := f.s.Decide(ctx, everyone, rec.ID.Hex(), c.Version, concern.NewDecision{Outcome: concern.SuspendContract, Reason: suspendReason}, lead, event)
	if !errors.Is(err, concern.ErrConflict) {
		t.Fatalf("deciding while the contract changed: %v, want ErrConflict", err)
	}
	if after.Status != concern.Open || len(after.Decisions) != 0 || after.Pending != nil {
		t.Errorf("after the conflict %+v", after)
	}
	ct := f.contract(t, "NG-1")
	if ct.Status != partner.UnderReview || len(suspensions(ct)) != 0 {
		t.Errorf("the contract after the conflict: %+v", ct)
	}

	// Decided again, on the concern as it now is, it suspends.
	concern.AfterClaim(f.s, nil)
	c, err = f.s.Decide(ctx, everyone, rec.ID.Hex(), after.Version, concern.NewDecision{Outcome: concern.SuspendContract, Reason: suspendReason}, lead, event)
	if err != nil || c.Status != concern.Decided || len(c.Decisions) != 1 {
		t.Fatalf("decided again: %+v, %v", c, err)
	}
	if ct := f.contract(t, "NG-1"); ct.Status != partner.Suspended || len(suspensions(ct)) != 1 {
		t.Errorf("the contract after deciding again: %+v", ct)
	}
	f.verify(t, "Wakefield")
}

// A decision interrupted after it was taken (the process stopped, the
// store went away) stays pending, and is finished by the next decision on
// the concern: the same decision sent again succeeds; anyone else's is
// told the concern changed, and finds it decided as first taken. If the
// contract's status had been changed before the interruption, it is not
// changed twice.
func TestInterruptedDecisionIsFinishedNextTime(t *testing.T) {
	interrupted := errors.New("interrupted")
	decision := concern.NewDecision{Outcome: concern.SuspendContract, Reason: suspendReason}
	other := concern.Actor{Kind: "person", ID: "l2", Name: "Lou Lead"}
	for _, tc := range []struct {
		name          string
		statusChanged bool // the status change was made before the interruption
		by            concern.Actor
		d             concern.NewDecision
		wantErr       error
	}{
		{"sent again", false, lead, decision, nil},
		{"sent again after the status change", true, lead, decision, nil},
		{"another decision", false, other, concern.NewDecision{Outcome: concern.DoNotSuspend, Reason: "No"}, concern.ErrConflict},
		{"another decision after the status change", true, other, concern.NewDecision{Outcome: concern.DoNotSuspend, Reason: "No"}, concern.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			rec := f.raise(t, concern.SuspensionRecommendation, "NG-1")
			concern.AfterClaim(f.s, func() error { return interrupted })
			if _, err := f.s.Decide(ctx, everyone, rec.ID.Hex(), 1, decision, lead, event); !errors.Is(err, interrupted) {
				t.Fatalf("interrupted decision: %v", err)
			}
			concern.AfterClaim(f.s, nil)
			pending := f.get(t, rec)
			if pending.Pending == nil || pending.Status != concern.Open || len(pending.Decisions) != 0 {
				t.Fatalf("after the interruption %+v", pending)
			}
			if tc.statusChanged {
				ct := f.contract(t, "NG-1")
				if err := f.contracts.SetStatus(ctx, everyone, "NG-1", ct.Version, partner.Suspended, suspendReason, lead.Name, statusEvent); err != nil {
					t.Fatal(err)
				}
			}
			c, err := f.s.Decide(ctx, everyone, rec.ID.Hex(), 1, tc.d, tc.by, event)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("the next decision: %v, want %v", err, tc.wantErr)
			}
			c = f.get(t, rec)
			if c.Status != concern.Decided || c.Pending != nil || len(c.Decisions) != 1 || c.Decisions[0].By != lead ||
				c.Decisions[0].Outcome != concern.SuspendContract || !c.Decisions[0].SuspendedContract {
				t.Errorf("the concern after finishing %+v", c)
			}
			ct := f.contract(t, "NG-1")
			if ct.Status != partner.Suspended || len(suspensions(ct)) != 1 || ct.StatusChangedBy != lead.Name {
				t.Errorf("the contract after finishing %+v", ct)
			}
			f.verify(t, "Wakefield")
		})
	}
}

// Of several leads deciding one recommendation at once, exactly one
// decision is recorded; the others are told it changed. The contract is
// suspended at most once, and only if the winner decided so.
func TestConcurrentDecisionsHaveOneWinner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.raise(t, concern.SuspensionRecommendation, "NG-1")
	const leads = 12
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		won      []string
		conflict int
	)
	for i := range leads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			by := concern.Actor{Kind: "person", ID: "lead-" + string(rune('a'+i)), Name: "Lead " + string(rune('A'+i))}
			d := concern.NewDecision{Outcome: concern.SuspendContract, Reason: suspendReason}
			scope := everyone
			if i%2 == 1 {
				d = concern.NewDecision{Outcome: concern.DoNotSuspend, Reason: "Not yet"}
				scope = access.PartnerScope("northgate")
			}
			_, err := f.s.Decide(ctx, scope, rec.ID.Hex(), 1, d, by, event)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, d.Outcome)
			case errors.Is(err, concern.ErrConflict):
				conflict++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || conflict != leads-1 {
		t.Fatalf("%d won (%v), %d conflicts; want exactly one winner", len(won), won, conflict)
	}
	c := f.get(t, rec)
	if c.Status != concern.Decided || len(c.Decisions) != 1 || c.Decisions[0].Outcome != won[0] || c.Pending != nil {
		t.Errorf("after the race %+v", c)
	}
	ct := f.contract(t, "NG-1")
	wantSuspensions := map[string]int{concern.SuspendContract: 1, concern.DoNotSuspend: 0}[won[0]]
	if n := len(suspensions(ct)); n != wantSuspensions {
		t.Errorf("%d suspensions after %s won, want %d", n, won[0], wantSuspensions)
	}
	want := "concern.raise concern.decide"
	if won[0] == concern.SuspendContract {
		want = "concern.raise concern.suspend.start concern.decide"
	}
	if got := actions(f.events(t, "concern/"+rec.ID.Hex())); got != want {
		t.Errorf("audit actions %q, want %q", got, want)
	}
	if strings.Count(actions(f.events(t, "contract/NG-1")), "contract.status") != wantSuspensions {
		t.Error("the contract's status changes in the trail do not match")
	}
	f.verify(t)
}
