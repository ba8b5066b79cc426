package records

import (
	"context"
	"fmt"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/staff"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Requeue puts every unverified record of the partner back in the
// verification queue if its entry is missing: a process that stopped
// between storing a record and queueing it leaves one no verifier is shown.
// Entries already queued keep their place. It returns how many it put back.
func (u *Upkeep) Requeue(ctx context.Context, partnerID string) (int, error) {
	scope := access.PartnerScope(partnerID)
	members, err := u.Staff.Members(ctx, scope, partnerID)
	if err != nil {
		return 0, err
	}
	byID := make(map[bson.ObjectID]staff.Member, len(members))
	for _, m := range members {
		byID[m.ID] = m
	}
	added := 0
	err = u.Records.Each(ctx, scope, partnerID, func(b Book) error {
		m := byID[b.StaffID]
		var waiting []Waiting
		for _, t := range b.Training {
			if t.Verification == Unverified {
				waiting = append(waiting, Waiting{RecordID: t.ID, PartnerID: partnerID, StaffID: b.StaffID, StaffName: m.Name,
					StaffNumber: m.StaffNumber, Kind: "training", What: t.Module, HasEvidence: t.Evidence != nil, Submitted: t.RecordedAt})
			}
		}
		for _, v := range b.Vetting {
			if v.Verification == Unverified {
				waiting = append(waiting, Waiting{RecordID: v.ID, PartnerID: partnerID, StaffID: b.StaffID, StaffName: m.Name,
					StaffNumber: m.StaffNumber, Kind: "vetting", What: v.Type, HasEvidence: v.Evidence != nil, Submitted: v.RecordedAt})
			}
		}
		for _, w := range waiting {
			res, err := u.Records.queue().UpdateOne(ctx, bson.D{{Key: "_id", Value: w.RecordID}},
				bson.D{{Key: "$setOnInsert", Value: w}}, options.UpdateOne().SetUpsert(true))
			if err != nil {
				return fmt.Errorf("requeue record: %w", err)
			}
			if res.UpsertedCount > 0 {
				added++
			}
		}
		return nil
	})
	return added, err
}
