// Package store connects to MongoDB (or any server speaking its wire protocol),
// starts the embedded FerretDB used in development and tests, and creates the
// indexes production MongoDB needs.
package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Store is the portal's database handle.
type Store struct {
	client *mongo.Client
	DB     *mongo.Database
}

// Connect opens a client to uri and checks the server answers.
func Connect(ctx context.Context, uri, database string) (*Store, error) {
	opts := options.Client().ApplyURI(uri).
		SetAppName("safeguarding-portal").
		SetServerSelectionTimeout(10 * time.Second)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to store: %w", err)
	}
	s := &Store{client: client, DB: client.Database(database)}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	return s, nil
}

// Ping reports whether the store answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close disconnects, waiting for in-flight operations up to ctx's deadline.
func (s *Store) Close(ctx context.Context) error {
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("disconnect from store: %w", err)
	}
	return nil
}
