package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ErrNoSession means the cookie named no live session: never issued, ended or expired.
var ErrNoSession = errors.New("no live session")

// Session is a signed-in person's server-side session. Only a keyed hash of the
// cookie's token is stored, so a copy of the database cannot be replayed as cookies.
type Session struct {
	ID string `bson:"_id"`
	// Ref names the session on the sessions page; unlike ID it is useless as a credential.
	Ref        string    `bson:"ref"`
	Identity   Identity  `bson:"identity"`
	IDToken    string    `bson:"id_token"`
	CSRFToken  string    `bson:"csrf_token"`
	CreatedAt  time.Time `bson:"created_at"`
	LastSeenAt time.Time `bson:"last_seen_at"`
	ExpiresAt  time.Time `bson:"expires_at"`
}

// Sessions keeps sessions in the store.
type Sessions struct {
	coll     *mongo.Collection
	key      []byte
	idle     time.Duration
	absolute time.Duration
	now      func() time.Time
}

// NewSessions keeps sessions in db. key keys the token hashes; idle and absolute
// bound how long a session lives without use and at all.
func NewSessions(db *mongo.Database, key []byte, idle, absolute time.Duration) *Sessions {
	return &Sessions{coll: db.Collection("sessions"), key: key, idle: idle, absolute: absolute, now: time.Now}
}

// NewToken returns 256 random bits, URL-safe.
func NewToken() string {
	b := make([]byte, 32)
	// crypto/rand.Read never fails on supported platforms (it panics instead).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Sessions) hash(token string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Create starts a new session for id and returns the cookie token. A fresh token
// at every login is what defeats session fixation.
func (s *Sessions) Create(ctx context.Context, id Identity, idToken string) (string, *Session, error) {
	token := NewToken()
	now := s.now().UTC()
	sess := &Session{
		ID:         s.hash(token),
		Ref:        NewToken()[:16],
		Identity:   id,
		IDToken:    idToken,
		CSRFToken:  NewToken(),
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(s.absolute),
	}
	if _, err := s.coll.InsertOne(ctx, sess); err != nil {
		return "", nil, fmt.Errorf("store session: %w", err)
	}
	return token, sess, nil
}

// Lookup returns the live session for token and records its use. A session
// idle too long or past its absolute lifetime is deleted and not returned.
func (s *Sessions) Lookup(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	var sess Session
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: s.hash(token)}}).Decode(&sess)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	now := s.now().UTC()
	if now.After(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > s.idle {
		if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: sess.ID}}); err != nil {
			return nil, fmt.Errorf("end expired session: %w", err)
		}
		return nil, ErrNoSession
	}
	// Writing on every request would double the store traffic; a minute's slack
	// in the idle clock costs nothing.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if _, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: sess.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "last_seen_at", Value: now}}}}); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
		sess.LastSeenAt = now
	}
	return &sess, nil
}

// End deletes the session for token, so the cookie is worthless even if kept.
func (s *Sessions) End(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: s.hash(token)}}); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// Active lists live sessions, newest first, ending the expired ones on the way.
func (s *Sessions) Active(ctx context.Context) ([]Session, error) {
	now := s.now().UTC()
	if _, err := s.coll.DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now}}}},
		bson.D{{Key: "last_seen_at", Value: bson.D{{Key: "$lt", Value: now.Add(-s.idle)}}}},
	}}}); err != nil {
		return nil, fmt.Errorf("end expired sessions: %w", err)
	}
	cur, err := s.coll.Find(ctx, bson.D{}, options.Find().
		SetSort(bson.D{{Key: "created_at", Value: -1}}).
		SetProjection(bson.D{{Key: "id_token", Value: 0}, {Key: "csrf_token", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	var out []Session
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	return out, nil
}

// ByRef finds the session with ref; ErrNoSession if none.
func (s *Sessions) ByRef(ctx context.Context, ref string) (Session, error) {
	var sess Session
	if ref == "" {
		return sess, ErrNoSession
	}
	err := s.coll.FindOne(ctx, bson.D{{Key: "ref", Value: ref}}).Decode(&sess)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return sess, ErrNoSession
	}
	if err != nil {
		return sess, fmt.Errorf("find session: %w", err)
	}
	return sess, nil
}

// EndByRef ends the session with ref.
func (s *Sessions) EndByRef(ctx context.Context, ref string) error {
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "ref", Value: ref}}); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EnsureIndexes creates what real MongoDB needs to find sessions by reference.
func (s *Sessions) EnsureIndexes(ctx context.Context) error {
	_, err := s.coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "ref", Value: 1}}, Options: options.Index().SetUnique(true).SetName("session_ref"),
	})
	if err != nil {
		return fmt.Errorf("create session indexes: %w", err)
	}
	return nil
}
