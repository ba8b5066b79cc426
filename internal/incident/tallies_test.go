package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Every incident has its tally: written when it is notified, put back if
// lost, and seeded alongside it even when a running portal reconciled some
// of them first. Tallies are read only within reach.
func TestTalliesKeepPaceWithIncidents(t *testing.T) {
	ctx := context.Background()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	s := incident.NewStore(db, trail)
	if err := s.EnsureTallies(ctx); err != nil {
		t.Fatal(err)
	}
	tallies := db.Collection("incident_tallies")
	read := func(partnerID string) []incident.Tally {
		t.Helper()
		got, err := s.NotifiedBetween(ctx, access.PartnerScope(partnerID), time.Now().Add(-time.Hour), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	in := create(t, s, "northgate", "NG-1")
	got := read("northgate")
	if len(got) != 1 || got[0].ContractID != "NG-1" || got[0].Category != in.Category || len(got[0].Indicators) != len(in.Indicators) ||
		!got[0].NotifiedAt.Equal(in.NotifiedAt) {
		t.Fatalf("tallies %+v for %+v", got, in.Notice)
	}
	if other := read("brightwell"); len(other) != 0 {
		t.Errorf("another partner reads %d tallies", len(other))
	}

	if _, err := tallies.DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ReconcileTallies(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile wrote %d: %v", n, err)
	}
	if n, err := s.ReconcileTallies(ctx); err != nil || n != 0 {
		t.Fatalf("a second reconcile wrote %d: %v", n, err)
	}
	if got := read("northgate"); len(got) != 1 {
		t.Fatalf("after reconciling, %d tallies", len(got))
	}

	now := time.Now().UTC().Truncate(time.Millisecond)
	var seeded []incident.Incident
	for range 2 {
		sd := incident.Incident{ID: bson.NewObjectID(), PartnerID: "northgate", Notice: validNotice(), Status: incident.Notified, NotifiedAt: now}
		sd.ContractID = "NG-1"
		seeded = append(seeded, sd)
	}
	if _, err := tallies.InsertOne(ctx, bson.D{{Key: "_id", Value: seeded[0].ID}, {Key: "partner_id", Value: "northgate"},
		{Key: "contract_id", Value: "NG-1"}, {Key: "category", Value: seeded[0].Category}, {Key: "notified_at", Value: now}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Seed(ctx, seeded); err != nil {
		t.Fatalf("seeding beside a reconciled tally: %v", err)
	}
	if got := read("northgate"); len(got) != 3 {
		t.Errorf("after seeding two more, %d tallies", len(got))
	}
}
