// Package storetest gives a package's tests a database of their own on a real
// wire-protocol server: embedded FerretDB in a temporary directory, or the
// server PORTAL_TEST_MONGODB_URI names (each test gets a fresh database there).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/department/safeguarding-portal/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Database returns an empty database that lives until the test ends.
func Database(t testing.TB) *mongo.Database {
	t.Helper()
	uri := os.Getenv("PORTAL_TEST_MONGODB_URI")
	if uri == "" {
		e, err := store.StartEmbedded(t.TempDir())
		if err != nil {
			t.Fatalf("start embedded store: %v", err)
		}
		t.Cleanup(e.Stop)
		uri = e.URI()
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	st, err := store.Connect(context.Background(), uri, "storetest_"+hex.EncodeToString(b))
	if err != nil {
		t.Fatalf("connect to store: %v", err)
	}
	t.Cleanup(func() {
		if os.Getenv("PORTAL_TEST_MONGODB_URI") != "" {
			_ = st.DB.Drop(context.Background())
		}
		_ = st.Close(context.Background())
	})
	return st.DB
}

// All decodes every document in coll matching filter (nil for all), for
// tests that work figures out again from the raw documents.
func All[T any](t testing.TB, coll *mongo.Collection, filter bson.D) []T {
	t.Helper()
	if filter == nil {
		filter = bson.D{}
	}
	cur, err := coll.Find(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	if err := cur.All(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}
