package incident_test

import (
	"context"
	"testing"
)

// A second start finds the indexes made by the first; the embedded store
// once failed such a batch.
func TestEnsureIndexesAgain(t *testing.T) {
	s := newStore(t)
	create(t, s, "northgate", "NG-1")
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
}
