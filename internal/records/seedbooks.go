package records

import (
	"context"
	"fmt"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/staff"
)

// seedBatch is how many documents one InsertMany carries when seeding.
const seedBatch = 1000

// SeedBooks stores whole record books for a partner in bulk, with the queue
// entries of their unverified records, for seeding an empty store with demo
// or scale data. Like the roster's InsertMany it records no audit events:
// nothing was changed by anyone. Each book must belong to the partner and
// each person must not have a book yet (a duplicate _id fails the batch).
func (s *Store) SeedBooks(ctx context.Context, partnerID string, books []Book, waiting []Waiting) error {
	coll, err := s.books(access.PartnerScope(partnerID), partnerID)
	if err != nil {
		return fmt.Errorf("seed record books: invalid partner ID %q", partnerID)
	}
	docs := make([]any, 0, min(seedBatch, len(books)))
	for start := 0; start < len(books); start += seedBatch {
		docs = docs[:0]
		for _, b := range books[start:min(start+seedBatch, len(books))] {
			if b.PartnerID != partnerID {
				return fmt.Errorf("seed record books: book of %s belongs to %q, not %q", b.StaffID.Hex(), b.PartnerID, partnerID)
			}
			if b.Training == nil {
				b.Training = []Training{}
			}
			if b.Vetting == nil {
				b.Vetting = []Vetting{}
			}
			docs = append(docs, b)
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("seed record books of %s: %w", partnerID, err)
		}
	}
	for start := 0; start < len(waiting); start += seedBatch {
		docs = docs[:0]
		for _, w := range waiting[start:min(start+seedBatch, len(waiting))] {
			if w.PartnerID != partnerID {
				return fmt.Errorf("seed verification queue: record %s belongs to %q, not %q", w.RecordID.Hex(), w.PartnerID, partnerID)
			}
			docs = append(docs, w)
		}
		if _, err := s.queue().InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("seed verification queue for %s: %w", partnerID, err)
		}
	}
	return nil
}

// SeedAssessments works out the assessment of people about to be seeded with
// their record books (books[i] is members[i]'s), as Reassess would store it,
// and sets it on each member so the roster is inserted already assessed: on
// the embedded store, storing 50,000 assessments one update at a time takes
// many minutes, inserting them with the people takes seconds.
func (u *Upkeep) SeedAssessments(ctx context.Context, partnerID string, members []staff.Member, books []Book) error {
	if len(books) != len(members) {
		return fmt.Errorf("seed assessments: %d books for %d people", len(books), len(members))
	}
	contracts, err := u.contracts(ctx, partnerID)
	if err != nil {
		return err
	}
	contractsBasis := u.contractsBasis(contracts)
	for i := range members {
		if books[i].StaffID != members[i].ID {
			return fmt.Errorf("seed assessments: book %d is not %s's", i, members[i].StaffNumber)
		}
		a := u.assessment(members[i], books[i], contracts, contractsBasis)
		members[i].Assessment = &a
	}
	return nil
}
