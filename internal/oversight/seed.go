package oversight

import (
	"context"
	"fmt"
)

// Seed stores inspections and actions in bulk, for filling an empty store
// with demo or scale data. Like the other seeds it records no audit events:
// nobody inspected or raised these.
func (s *Store) Seed(ctx context.Context, inspections []Inspection, actions []Action) error {
	if len(inspections) > 0 {
		docs := make([]any, len(inspections))
		for i, in := range inspections {
			if in.Evidence == nil {
				in.Evidence = []EvidenceRef{}
			}
			docs[i] = in
		}
		if _, err := s.inspections().InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("seed inspections: %w", err)
		}
	}
	if len(actions) > 0 {
		docs := make([]any, len(actions))
		for i, a := range actions {
			docs[i] = a
		}
		if _, err := s.actions().InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("seed actions: %w", err)
		}
	}
	return nil
}
