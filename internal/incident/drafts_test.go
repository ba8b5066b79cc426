package incident_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func newDraftStore(t *testing.T) (*incident.DraftStore, *time.Time) {
	t.Helper()
	s := incident.NewDraftStore(storetest.Database(t))
	for range 2 { // as every start-up does
		if err := s.EnsureIndexes(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	clock := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return clock }
	return s, &clock
}

func TestDraftReachesOnlyItsOwnerWithinTheirPartner(t *testing.T) {
	s, _ := newDraftStore(t)
	ctx := context.Background()
	northgate := access.PartnerScope("northgate")
	d, err := s.Create(ctx, northgate, "northgate", "officer-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID.IsZero() || d.PartnerID != "northgate" || d.Owner != "officer-1" {
		t.Fatalf("created %+v", d)
	}
	if got, err := s.Get(ctx, northgate, "officer-1", d.ID.Hex()); err != nil || got.ID != d.ID {
		t.Fatalf("the owner's Get: %+v %v", got, err)
	}
	for name, tc := range map[string]struct {
		scope     access.Scope
		owner, id string
	}{
		"another officer of the partner":         {northgate, "officer-2", d.ID.Hex()},
		"the same subject at another partner":    {access.PartnerScope("brightwell"), "officer-1", d.ID.Hex()},
		"the department, even reaching everyone": {access.Everything(), "lead-1", d.ID.Hex()},
		"nobody":                                 {access.Scope{}, "officer-1", d.ID.Hex()},
		"no owner":                               {northgate, "", d.ID.Hex()},
		"a made-up ID":                           {northgate, "officer-1", "000000000000000000000000"},
		"not an ID":                              {northgate, "officer-1", "contract"},
	} {
		if _, err := s.Get(ctx, tc.scope, tc.owner, tc.id); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s: Get %v, want ErrNotFound", name, err)
		}
		if err := s.Delete(ctx, tc.scope, tc.owner, tc.id); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s: Delete %v, want ErrNotFound", name, err)
		}
		if _, err := s.Claim(ctx, tc.scope, tc.owner, tc.id); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s: Claim %v, want ErrNotFound", name, err)
		}
	}
	// A save is matched on the ID, the owner and the partner it names.
	other := d
	other.Owner = "officer-2"
	if err := s.Save(ctx, northgate, &other); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("saving as another officer: %v", err)
	}
	moved := d
	moved.PartnerID = "brightwell"
	if err := s.Save(ctx, access.Everything(), &moved); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("saving into another partner: %v", err)
	}
	if err := s.Save(ctx, access.PartnerScope("brightwell"), &d); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("saving from another partner's scope: %v", err)
	}
	if _, err := s.Create(ctx, access.PartnerScope("brightwell"), "northgate", "officer-1"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("creating a draft for a partner out of reach: %v", err)
	}
	if err := s.Delete(ctx, northgate, "officer-1", d.ID.Hex()); err != nil {
		t.Fatalf("the owner's Delete: %v", err)
	}
	if _, err := s.Get(ctx, northgate, "officer-1", d.ID.Hex()); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
}

func TestDraftSaveKeepsEveryAnswer(t *testing.T) {
	s, clock := newDraftStore(t)
	ctx := context.Background()
	scope := access.PartnerScope("northgate")
	d, err := s.Create(ctx, scope, "northgate", "officer-1")
	if err != nil {
		t.Fatal(err)
	}
	*clock = clock.Add(time.Hour)
	d.Notice = validNotice()
	d.Notice.Customer.Reference = "half typed"
	d.Occurred = incident.TypedTime{Day: "31", Month: "2", Year: "2026", Hour: "25", Minute: "x"}
	d.NoReferral, d.NoActions = true, true
	d.MarkAnswered("contract", true)
	d.MarkAnswered("category", true)
	d.MarkAnswered("contract", false)
	if err := s.Save(ctx, scope, &d); err != nil {
		t.Fatal(err)
	}
	if !d.UpdatedAt.Equal(*clock) {
		t.Errorf("UpdatedAt %v, want %v", d.UpdatedAt, *clock)
	}
	got, err := s.Get(ctx, scope, "officer-1", d.ID.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if got.Notice.WhatHappened != d.Notice.WhatHappened || got.Notice.Customer.Reference != "half typed" ||
		!got.Notice.OccurredAt.Equal(d.Notice.OccurredAt) || got.Occurred != d.Occurred || !got.NoReferral || !got.NoActions ||
		len(got.Notice.Referrals) != len(d.Notice.Referrals) {
		t.Errorf("saved %+v\nread back %+v", d, got)
	}
	if got.IsAnswered("contract") || !got.IsAnswered("category") {
		t.Errorf("answered pages %v, want only category", got.Answered)
	}
	if !got.ExpiresAt().Equal(clock.Add(30 * 24 * time.Hour)) {
		t.Errorf("expires %v, want 30 days after the last save", got.ExpiresAt())
	}
}

func TestDraftsListedNewestFirstAndExpired(t *testing.T) {
	s, clock := newDraftStore(t)
	ctx := context.Background()
	scope := access.PartnerScope("northgate")
	start := *clock
	var ids []bson.ObjectID
	for range 3 {
		d, err := s.Create(ctx, scope, "northgate", "officer-1")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
		*clock = clock.Add(24 * time.Hour)
	}
	if _, err := s.Create(ctx, scope, "northgate", "officer-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, access.PartnerScope("brightwell"), "brightwell", "officer-1"); err != nil {
		t.Fatal(err)
	}
	// Saving the oldest makes it the most recent.
	oldest, err := s.Get(ctx, scope, "officer-1", ids[0].Hex())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, scope, &oldest); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListByOwner(ctx, scope, "officer-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []bson.ObjectID{ids[0], ids[2], ids[1]}
	if len(list) != len(want) {
		t.Fatalf("listed %d drafts, want %d", len(list), len(want))
	}
	for i := range want {
		if list[i].ID != want[i] || list[i].Owner != "officer-1" || list[i].PartnerID != "northgate" {
			t.Errorf("list[%d] = %s of %s at %s, want %s", i, list[i].ID.Hex(), list[i].Owner, list[i].PartnerID, want[i].Hex())
		}
	}
	if none, err := s.ListByOwner(ctx, scope, ""); err != nil || len(none) != 0 {
		t.Errorf("listing for no owner: %d, %v", len(none), err)
	}

	// 30 days after the second draft's creation it has expired; the third
	// (a day younger) and the re-saved first have not.
	*clock = start.Add(24*time.Hour + 30*24*time.Hour + time.Minute)
	n, err := s.Expire(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Expire: %d, %v; want 1", n, err)
	}
	if _, err := s.Get(ctx, scope, "officer-1", ids[1].Hex()); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("the expired draft: %v", err)
	}
	for _, id := range []bson.ObjectID{ids[0], ids[2]} {
		if _, err := s.Get(ctx, scope, "officer-1", id.Hex()); err != nil {
			t.Errorf("a draft not yet expired: %v", err)
		}
	}
	*clock = clock.Add(365 * 24 * time.Hour)
	if n, err := s.Expire(ctx); err != nil || n != 4 {
		t.Errorf("a year on, Expire: %d, %v; want the 4 left", n, err)
	}
}

func TestDraftIsSentOnce(t *testing.T) {
	s, clock := newDraftStore(t)
	ctx := context.Background()
	scope := access.PartnerScope("northgate")
	d, err := s.Create(ctx, scope, "northgate", "officer-1")
	if err != nil {
		t.Fatal(err)
	}
	d.Notice = validNotice()
	if err := s.Save(ctx, scope, &d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, scope, "officer-2", d.ID.Hex()); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("another officer claims the draft: %v", err)
	}

	// Submissions at once: one claims the draft, the others are told it is being sent.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	claimed := make([]incident.Draft, 8)
	for i := range errs {
		wg.Go(func() { claimed[i], errs[i] = s.Claim(ctx, scope, "officer-1", d.ID.Hex()) })
	}
	wg.Wait()
	var winner incident.Draft
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
			winner = claimed[i]
		case !errors.Is(err, incident.ErrSending):
			t.Errorf("claim %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d claims won, want 1", wins)
	}
	if winner.Notice.WhatHappened != d.Notice.WhatHappened {
		t.Errorf("the claimed draft lacks its answers: %+v", winner)
	}

	// The incident was not stored: released, it can be sent again.
	if err := s.Release(ctx, scope, "officer-1", d.ID.Hex()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, scope, "officer-1", d.ID.Hex()); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	// A submission whose process stopped holds it only for its lease.
	if _, err := s.Claim(ctx, scope, "officer-1", d.ID.Hex()); !errors.Is(err, incident.ErrSending) {
		t.Fatalf("claim within the lease: %v", err)
	}
	*clock = clock.Add(2 * time.Minute)
	again, err := s.Claim(ctx, scope, "officer-1", d.ID.Hex())
	if err != nil {
		t.Fatalf("claim after the lease: %v", err)
	}

	if _, err := s.Receipt(ctx, scope, "officer-1", d.ID.Hex()); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("a receipt before sending: %v", err)
	}
	if err := s.Sent(ctx, scope, again, "incident-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, scope, "officer-1", d.ID.Hex()); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("the draft after sending: %v, want it gone", err)
	}
	if id, err := s.Receipt(ctx, scope, "officer-1", d.ID.Hex()); err != nil || id != "incident-1" {
		t.Errorf("receipt %q, %v", id, err)
	}
	if _, err := s.Claim(ctx, scope, "officer-1", d.ID.Hex()); !errors.Is(err, incident.ErrSent) {
		t.Errorf("claiming a sent draft: %v, want ErrSent", err)
	}
	if err := s.Release(ctx, scope, "officer-1", d.ID.Hex()); err != nil {
		t.Fatal(err)
	}
	if id, err := s.Receipt(ctx, scope, "officer-1", d.ID.Hex()); err != nil || id != "incident-1" {
		t.Errorf("a release after sending removed the receipt: %q, %v", id, err)
	}
	if err := s.Save(ctx, scope, &d); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("saving a sent draft: %v, want ErrNotFound", err)
	}
	if list, err := s.ListByOwner(ctx, scope, "officer-1"); err != nil || len(list) != 0 {
		t.Errorf("a sent draft is listed: %d, %v", len(list), err)
	}
	for name, who := range map[string]struct {
		scope access.Scope
		owner string
	}{"another officer": {scope, "officer-2"}, "another partner": {access.PartnerScope("brightwell"), "officer-1"}} {
		if _, err := s.Receipt(ctx, who.scope, who.owner, d.ID.Hex()); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s reads the receipt: %v", name, err)
		}
		if _, err := s.Claim(ctx, who.scope, who.owner, d.ID.Hex()); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s claims the sent draft: %v", name, err)
		}
	}
	*clock = clock.Add(31 * 24 * time.Hour)
	if _, err := s.Expire(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receipt(ctx, scope, "officer-1", d.ID.Hex()); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("the receipt after 31 days: %v, want expired", err)
	}
}
