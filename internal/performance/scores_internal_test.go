package performance

import (
	"context"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// A score is stored only over the revision it was worked out against, so
// a count made before a waiver never replaces the count made after it.
func TestScoreRevisions(t *testing.T) {
	ctx := context.Background()
	db := storetest.Database(t)
	s := NewStore(db, audit.New(db), partner.NewStore(db), nil)
	d := scoreDoc{ID: scoreID("NG-1", calendar.Date(2026, 6, 1)), ContractID: "NG-1", PartnerID: "northgate", Month: calendar.Date(2026, 6, 1), Points: 9, Failures: 3}
	for i, step := range []struct {
		rev  int64
		want bool
	}{{0, true}, {0, false}, {1, true}, {1, false}, {2, true}} {
		d.Points = 10 + i
		got, err := s.put(ctx, d, step.rev)
		if err != nil || got != step.want {
			t.Fatalf("step %d: put over revision %d stored %v (%v), want %v", i, step.rev, got, err, step.want)
		}
	}
	stored, err := s.storedScores(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if got := stored[d.ID]; got.Rev != 3 || got.Points != 14 || got.ComputedAt.Before(time.Now().Add(-time.Minute)) {
		t.Errorf("stored %+v, want revision 3 with the last count", got)
	}
}
