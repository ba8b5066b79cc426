package incident_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkTimelinessSince is the incidents page's year of timeliness per
// contract, over 10,000 incidents across 20 contracts, one in ten late.
func BenchmarkTimelinessSince(b *testing.B) {
	ctx := context.Background()
	db := storetest.Database(b)
	s := incident.NewStore(db, audit.New(db))
	if err := s.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	ins := make([]incident.Incident, 10_000)
	for i := range ins {
		in := incident.Incident{ID: bson.NewObjectID(), Reference: fmt.Sprintf("SI-2026-B%06d", i), PartnerID: fmt.Sprintf("partner-%d", i%5),
			Notice: validNotice(), Source: "api", Status: incident.Notified, NotifiedAt: now.Add(-time.Duration(i) * 45 * time.Minute)}
		in.ContractID = fmt.Sprintf("CT-%02d", i%20)
		if i%10 == 0 {
			in.LateBy = time.Duration(i%7+1) * time.Hour
		}
		ins[i] = in
	}
	if err := s.Seed(ctx, ins); err != nil {
		b.Fatal(err)
	}
	since := now.AddDate(-1, 0, 0)
	b.ResetTimer()
	for b.Loop() {
		got, err := s.TimelinessSince(ctx, access.Everything(), since)
		if err != nil || len(got) != 20 {
			b.Fatalf("%d contracts, %v", len(got), err)
		}
	}
}
