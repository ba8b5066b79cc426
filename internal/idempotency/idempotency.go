// Package idempotency makes a partner system's retried POST safe: the same
// Idempotency-Key with the same body gets the first response again and
// creates nothing more; the same key with another body is refused; a key
// whose first request is still running is refused until it finishes.
//
// Keys are scoped to the partner, so one partner's keys can neither collide
// with nor reveal another's. Each key claims the ID of what its request will
// create before creating it, so a request whose process died part way is
// completed by the retry rather than done twice.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var (
	// ErrMismatch means the key was used before with a different request body.
	ErrMismatch = errors.New("idempotency key reused with a different request")
	// ErrInProgress means the key's first request has not finished.
	ErrInProgress = errors.New("idempotency key's first request is still in progress")
)

// Response is a finished request's answer, replayed for retries.
type Response struct {
	Status   int    `bson:"status"`
	Location string `bson:"location,omitempty"`
	Body     []byte `bson:"body"`
}

type record struct {
	ID         string        `bson:"_id"`
	Partner    string        `bson:"partner_id"`
	Hash       string        `bson:"hash"`
	ResourceID bson.ObjectID `bson:"resource_id"`
	Done       bool          `bson:"done"`
	Response   *Response     `bson:"response,omitempty"`
	LeaseUntil time.Time     `bson:"lease_until"`
	ExpiresAt  time.Time     `bson:"expires_at"`
}

// Keys keeps idempotency keys for a day.
type Keys struct {
	coll *mongo.Collection
	// Lease is how long a first request may run before a retry may take it
	// over, assuming its process died.
	Lease time.Duration
	Keep  time.Duration
	Now   func() time.Time
}

// New keeps keys in db's idempotency_keys collection.
func New(db *mongo.Database) *Keys {
	return &Keys{coll: db.Collection("idempotency_keys"), Lease: time.Minute, Keep: 24 * time.Hour}
}

func (k *Keys) now() time.Time {
	if k.Now != nil {
		return k.Now().UTC()
	}
	return time.Now().UTC()
}

// EnsureIndexes lets real MongoDB expire old keys by itself. The embedded
// store has no expiring indexes; there Expire does the work.
func (k *Keys) EnsureIndexes(ctx context.Context) error {
	_, err := k.coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "expires_at", Value: 1}}, Options: options.Index().SetName("expires").SetExpireAfterSeconds(0),
	})
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Name == "NotImplemented" {
		_, err = k.coll.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys: bson.D{{Key: "expires_at", Value: 1}}, Options: options.Index().SetName("expires"),
		})
	}
	if err != nil {
		return fmt.Errorf("create idempotency key index: %w", err)
	}
	return nil
}

// Expire deletes keys past their day. Safe on any number of replicas.
func (k *Keys) Expire(ctx context.Context) (int64, error) {
	res, err := k.coll.DeleteMany(ctx, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: k.now()}}}})
	if err != nil {
		return 0, fmt.Errorf("expire idempotency keys: %w", err)
	}
	return res.DeletedCount, nil
}

// Hash is the fingerprint of a request: its method, path and body.
func Hash(method, path string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\x00"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Claim is the right to carry out a key's request.
type Claim struct {
	id string
	// ResourceID is the ID what the request creates must have: new for a
	// first request, the first request's for one taken over.
	ResourceID bson.ObjectID
	// TakenOver says a first request died part way: what it created may exist.
	TakenOver bool
}

// Begin claims key for a request with hash. It returns the stored response
// if the key's request has finished, ErrMismatch or ErrInProgress as those
// say, or a Claim to carry out the request and then Finish or Release.
func (k *Keys) Begin(ctx context.Context, partnerID, key, hash string) (*Claim, *Response, error) {
	now := k.now()
	id := partnerID + "\x00" + key
	r := record{ID: id, Partner: partnerID, Hash: hash, ResourceID: bson.NewObjectID(),
		LeaseUntil: now.Add(k.Lease), ExpiresAt: now.Add(k.Keep)}
	_, err := k.coll.InsertOne(ctx, r)
	if err == nil {
		return &Claim{id: id, ResourceID: r.ResourceID}, nil, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return nil, nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	var prior record
	if err := k.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&prior); err != nil {
		return nil, nil, fmt.Errorf("read idempotency key: %w", err)
	}
	switch {
	case prior.Hash != hash:
		return nil, nil, ErrMismatch
	case prior.Done:
		return nil, prior.Response, nil
	case now.Before(prior.LeaseUntil):
		return nil, nil, ErrInProgress
	}
	// The first request's process stopped: take its lease, once.
	res, err := k.coll.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "done", Value: false}, {Key: "lease_until", Value: prior.LeaseUntil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lease_until", Value: now.Add(k.Lease)}}}})
	if err != nil {
		return nil, nil, fmt.Errorf("take over idempotency key: %w", err)
	}
	if res.ModifiedCount == 0 {
		return nil, nil, ErrInProgress
	}
	return &Claim{id: id, ResourceID: prior.ResourceID, TakenOver: true}, nil, nil
}

// Finish stores the request's response for retries to replay.
func (k *Keys) Finish(ctx context.Context, c *Claim, resp Response) error {
	_, err := k.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: c.id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "done", Value: true}, {Key: "response", Value: resp}}}})
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// Release gives the key up after a failure that changed nothing, so a retry
// starts afresh rather than replaying a server error.
func (k *Keys) Release(ctx context.Context, c *Claim) error {
	if _, err := k.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: c.id}, {Key: "done", Value: false}}); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
