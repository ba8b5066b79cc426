package seed_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The scale seed's incidents are ones the portal itself could have stored:
// valid notices, every state of review, on time and late, consistent.
func TestScaleSeedIncidents(t *testing.T) {
	ctx := context.Background()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := seed.Generate(ctx, db, trail, slog.New(slog.NewTextHandler(io.Discard, nil)), seed.Size{Partners: 3, Staff: 1500}); err != nil {
		t.Fatal(err)
	}
	cur, err := db.Collection("incidents").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var ins []incident.Incident
	if err := cur.All(ctx, &ins); err != nil {
		t.Fatal(err)
	}
	if len(ins) != 300 {
		t.Fatalf("%d incidents for 1,500 staff, want 300", len(ins))
	}
	rules := incident.DefaultRules()
	refs := map[string]bool{}
	statuses := map[string]int{}
	late, critical := 0, 0
	for _, in := range ins {
		if errs := in.Notice.Check(rules, true, in.NotifiedAt.Add(time.Minute)); len(errs) > 0 {
			t.Fatalf("seeded incident %s is not a valid notice: %+v", in.Reference, errs)
		}
		if refs[in.Reference] {
			t.Fatalf("reference %s used twice", in.Reference)
		}
		refs[in.Reference] = true
		statuses[in.Status]++
		if in.LateBy != in.DepartmentClock().LateBy {
			t.Errorf("%s: late_by %v disagrees with its clock %v", in.Reference, in.LateBy, in.DepartmentClock().LateBy)
		}
		if in.LateBy > 0 {
			late++
		}
		if in.Critical {
			critical++
		}
		switch in.Status {
		case incident.Closed:
			if in.Outcome == "" || (in.Critical && in.SignedOffBy == "") {
				t.Errorf("%s closed without its outcome or a lead's sign-off", in.Reference)
			}
		case incident.InformationRequested:
			if in.OpenRequest == nil || !in.HasUpdate(*in.OpenRequest) {
				t.Errorf("%s awaits an answer to a request not in its chronology", in.Reference)
			}
		}
		if time.Since(in.NotifiedAt) < 47*time.Hour && in.Critical {
			t.Errorf("%s is a recent critical incident: a new portal would escalate it", in.Reference)
		}
	}
	for _, st := range []string{incident.Notified, incident.UnderReview, incident.InformationRequested, incident.Closed} {
		if statuses[st] == 0 {
			t.Errorf("no seeded incident is %s: %v", st, statuses)
		}
	}
	if late == 0 || late > len(ins)/3 || critical == 0 {
		t.Errorf("%d late and %d critical of %d", late, critical, len(ins))
	}
}
