package evidence

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Remove deletes a partner's file, record and content, when what it was
// uploaded for could not be saved: evidence never outlives a failed record.
func (s *Store) Remove(ctx context.Context, partnerID, id string) error {
	f, err := s.Get(ctx, partnerID, id)
	if err != nil {
		return err
	}
	b := s.bucket()
	defer s.release(b)
	if err := s.deleteContent(ctx, b, f.ID); err != nil {
		return err
	}
	if _, err := s.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: f.ID}}); err != nil {
		return fmt.Errorf("remove evidence record %s: %w", f.ID.Hex(), err)
	}
	return nil
}
