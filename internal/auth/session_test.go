package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

const (
	testIdle     = 30 * time.Minute
	testAbsolute = 8 * time.Hour
)

// t0 is a whole second, so BSON's millisecond dates round-trip it exactly and
// the boundary checks below are not blurred by truncation.
var t0 = time.Date(2030, time.March, 4, 9, 0, 0, 0, time.UTC)

// clock is a hand-wound time source: tests move it explicitly to walk sessions
// across their idle and absolute limits without sleeping.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Set(t time.Time)         { c.now = t }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func newTestSessions(t *testing.T, idle, absolute time.Duration) (*Sessions, *clock, *mongo.Collection) {
	t.Helper()
	db := storetest.Database(t)
	s := NewSessions(db, []byte("session-key-for-tests-0123456789"), idle, absolute)
	c := &clock{now: t0}
	s.now = c.Now
	return s, c, db.Collection("sessions")
}

var officer = Identity{
	Subject:  "user-1",
	Issuer:   "https://idp.example",
	Name:     "Sam Officer",
	Email:    "sam@department.example",
	Roles:    []Role{ContractManager},
	Org:      DepartmentOrg,
	Provider: "dept",
}

func countSessions(t *testing.T, coll *mongo.Collection) int64 {
	t.Helper()
	n, err := coll.CountDocuments(t.Context(), bson.D{})
	if err != nil {
		t.Fatalf("count sessions: %v", err)
	}
	return n
}

func TestCreateStoresOnlyAKeyedHashOfTheToken(t *testing.T) {
	s, _, coll := newTestSessions(t, testIdle, testAbsolute)
	ctx := t.Context()

	token, sess, err := s.Create(ctx, officer, "raw.id.token")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if len(token) != 43 {
		t.Errorf("token %q is %d characters, want 43 (256 bits, unpadded base64url)", token, len(token))
	}
	if b, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(b) != 32 {
		t.Errorf("token %q does not decode to 32 bytes of base64url: %d bytes, %v", token, len(b), err)
	}

	raw, err := coll.FindOne(ctx, bson.D{}).Raw()
	if err != nil {
		t.Fatalf("read stored session: %v", err)
	}
	id, ok := raw.Lookup("_id").StringValueOK()
	if !ok {
		t.Fatalf("stored _id is not a string: %v", raw.Lookup("_id"))
	}
	if id == token {
		t.Fatal("the session is stored under its cookie token: a copy of the database is a set of live cookies")
	}
	if id != s.hash(token) || id != sess.ID {
		t.Errorf("stored _id %q is not the keyed hash of the token", id)
	}
	// Neither the bytes nor any rendering of the document may carry the token,
	// whatever field a future change might copy it into.
	if bytes.Contains(raw, []byte(token)) || strings.Contains(raw.String(), token) {
		t.Errorf("the cookie token appears in the stored document: %s", raw)
	}

	// The stored hash, presented as a cookie, must not open the session.
	if _, err := s.Lookup(ctx, id); !errors.Is(err, ErrNoSession) {
		t.Errorf("Lookup(stored _id) = %v, want ErrNoSession", err)
	}
	// Without the key, the token alone is worthless against the store.
	other := NewSessions(coll.Database(), []byte("a-different-key-0123456789abcdef"), testIdle, testAbsolute)
	other.now = s.now
	if _, err := other.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("Lookup under another key = %v, want ErrNoSession", err)
	}

	got, err := s.Lookup(ctx, token)
	if err != nil {
		t.Fatalf("Lookup(token): %v", err)
	}
	if got.Identity.Subject != officer.Subject || !got.Identity.Has(ContractManager) || got.IDToken != "raw.id.token" {
		t.Errorf("Lookup returned %+v, want the session just created", got)
	}
	if got.ExpiresAt != t0.Add(testAbsolute) {
		t.Errorf("ExpiresAt = %v, want creation + absolute lifetime %v", got.ExpiresAt, t0.Add(testAbsolute))
	}
}

func TestLookupRefusesEmptyAndUnknownTokens(t *testing.T) {
	s, _, _ := newTestSessions(t, testIdle, testAbsolute)
	if _, _, err := s.Create(t.Context(), officer, ""); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, tok := range []string{"", NewToken(), "' || 1==1"} {
		if _, err := s.Lookup(t.Context(), tok); !errors.Is(err, ErrNoSession) {
			t.Errorf("Lookup(%q) = %v, want ErrNoSession", tok, err)
		}
	}
}

func TestIdleSessionIsRefusedAndDeleted(t *testing.T) {
	s, c, coll := newTestSessions(t, testIdle, testAbsolute)
	ctx := t.Context()
	token, _, err := s.Create(ctx, officer, "")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}

	// Just inside the idle limit the session is still in use...
	used := t0.Add(testIdle - time.Second)
	c.Set(used)
	if _, err := s.Lookup(ctx, token); err != nil {
		t.Fatalf("Lookup just inside the idle limit: %v", err)
	}
	// ...and that use moves the idle clock on, or busy people would be thrown out.
	used = used.Add(testIdle - time.Second)
	c.Set(used)
	got, err := s.Lookup(ctx, token)
	if err != nil {
		t.Fatalf("Lookup just inside an idle period after the last use: %v", err)
	}
	if !got.LastSeenAt.Equal(used) {
		t.Errorf("Lookup returned last seen %v, want this use %v", got.LastSeenAt, used)
	}
	var stored Session
	if err := coll.FindOne(ctx, bson.D{}).Decode(&stored); err != nil {
		t.Fatalf("read stored session: %v", err)
	}
	if !stored.LastSeenAt.Equal(used) {
		t.Errorf("stored last_seen_at = %v, want the last use %v", stored.LastSeenAt, used)
	}

	c.Set(used.Add(testIdle + time.Second))
	if _, err := s.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("Lookup past the idle limit = %v, want ErrNoSession", err)
	}
	if n := countSessions(t, coll); n != 0 {
		t.Errorf("%d session documents remain after idle expiry, want 0", n)
	}
	// Winding the clock back must not resurrect it: the refusal was a deletion.
	c.Set(t0.Add(time.Minute))
	if _, err := s.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("Lookup after idle expiry, clock rewound = %v, want ErrNoSession", err)
	}
}

func TestAbsoluteLifetimeEndsABusySession(t *testing.T) {
	s, c, coll := newTestSessions(t, testIdle, testAbsolute)
	ctx := t.Context()
	token, _, err := s.Create(ctx, officer, "")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}

	// Used every 20 minutes, well within idle, right up to the absolute limit.
	for c.Set(t0.Add(20 * time.Minute)); !c.Now().After(t0.Add(testAbsolute)); c.Advance(20 * time.Minute) {
		if _, err := s.Lookup(ctx, token); err != nil {
			t.Fatalf("Lookup at %v (within both limits): %v", c.Now().Sub(t0), err)
		}
	}
	// One more use a minute later: not idle at all, but past the absolute lifetime.
	c.Set(t0.Add(testAbsolute + time.Minute))
	if _, err := s.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("Lookup past the absolute lifetime = %v, want ErrNoSession", err)
	}
	if n := countSessions(t, coll); n != 0 {
		t.Errorf("%d session documents remain after absolute expiry, want 0", n)
	}
}

func TestEndDeletesTheSession(t *testing.T) {
	s, _, coll := newTestSessions(t, testIdle, testAbsolute)
	ctx := t.Context()
	token, _, err := s.Create(ctx, officer, "")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	keep, _, err := s.Create(ctx, officer, "")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}

	if err := s.End(ctx, token); err != nil {
		t.Fatalf("End: %v", err)
	}
	if _, err := s.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("Lookup after End = %v, want ErrNoSession", err)
	}
	if n := countSessions(t, coll); n != 1 {
		t.Errorf("%d session documents after ending one of two, want 1", n)
	}
	if _, err := s.Lookup(ctx, keep); err != nil {
		t.Errorf("ending one session ended another: %v", err)
	}
	// Signing out without a cookie is not an error, and must not touch anyone's session.
	if err := s.End(ctx, ""); err != nil {
		t.Errorf("End(\"\") = %v", err)
	}
	if n := countSessions(t, coll); n != 1 {
		t.Errorf("End(\"\") changed the store: %d documents, want 1", n)
	}
}

func TestActiveListsLiveSessionsWithoutSecretsAndPurgesExpired(t *testing.T) {
	s, c, coll := newTestSessions(t, 30*time.Minute, time.Hour)
	ctx := t.Context()

	partner := Identity{Subject: "user-2", Issuer: "https://partner.example", Roles: []Role{PartnerStaff}, Org: "acme", Provider: "acme"}
	lead := Identity{Subject: "user-3", Issuer: "https://idp.example", Roles: []Role{SafeguardingLead}, Org: DepartmentOrg, Provider: "dept"}

	// old outlives its absolute hour while kept busy; idle is left unused from
	// 00:10; fresh is the only one alive at 01:02.
	old, _, err := s.Create(ctx, officer, "old.id.token")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	c.Set(t0.Add(10 * time.Minute))
	if _, _, err := s.Create(ctx, partner, "idle.id.token"); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, d := range []time.Duration{25 * time.Minute, 50 * time.Minute} {
		c.Set(t0.Add(d))
		if _, err := s.Lookup(ctx, old); err != nil {
			t.Fatalf("Lookup at %v: %v", d, err)
		}
	}
	_, fresh, err := s.Create(ctx, lead, "fresh.id.token")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// A second live one, created later, to check the newest-first order.
	c.Set(t0.Add(55 * time.Minute))
	_, newest, err := s.Create(ctx, partner, "newest.id.token")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}

	c.Set(t0.Add(62 * time.Minute))
	active, err := s.Active(ctx)
	if err != nil {
		t.Fatalf("Active: %v", err)
	}
	if len(active) != 2 || active[0].Ref != newest.Ref || active[1].Ref != fresh.Ref {
		refs := make([]string, len(active))
		for i, a := range active {
			refs[i] = a.Ref + "/" + a.Identity.Subject
		}
		t.Fatalf("Active = %v, want [%s %s] (newest first, expired ones gone)", refs, newest.Ref, fresh.Ref)
	}
	for _, a := range active {
		// The list is for a page other people see: neither the ID token nor
		// the CSRF token of someone else's session may leave the store.
		if a.IDToken != "" || a.CSRFToken != "" {
			t.Errorf("Active returned secrets for %s: id_token %q, csrf_token %q", a.Ref, a.IDToken, a.CSRFToken)
		}
		if a.Identity.Subject == "" || a.CreatedAt.IsZero() {
			t.Errorf("Active returned an empty row: %+v", a)
		}
	}
	if n := countSessions(t, coll); n != 2 {
		t.Errorf("%d session documents after Active, want 2: expired ones must be deleted, not just hidden", n)
	}
}

func TestByRefAndEndByRef(t *testing.T) {
	s, _, coll := newTestSessions(t, testIdle, testAbsolute)
	ctx := t.Context()
	token, sess, err := s.Create(ctx, officer, "")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	other, _, err := s.Create(ctx, officer, "")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}

	got, err := s.ByRef(ctx, sess.Ref)
	if err != nil {
		t.Fatalf("ByRef: %v", err)
	}
	if got.ID != sess.ID || got.Identity.Subject != officer.Subject {
		t.Errorf("ByRef(%q) = %+v, want the session created", sess.Ref, got)
	}
	for _, ref := range []string{"", "unknown-ref-0000", sess.ID, token} {
		if _, err := s.ByRef(ctx, ref); !errors.Is(err, ErrNoSession) {
			t.Errorf("ByRef(%q) = %v, want ErrNoSession", ref, err)
		}
	}

	if err := s.EndByRef(ctx, sess.Ref); err != nil {
		t.Fatalf("EndByRef: %v", err)
	}
	if _, err := s.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("the ended session's cookie still works: %v", err)
	}
	if _, err := s.ByRef(ctx, sess.Ref); !errors.Is(err, ErrNoSession) {
		t.Errorf("ByRef after EndByRef = %v, want ErrNoSession", err)
	}
	if _, err := s.Lookup(ctx, other); err != nil {
		t.Errorf("EndByRef ended another session too: %v", err)
	}
	// An empty ref must not match anything by accident.
	if err := s.EndByRef(ctx, ""); err != nil {
		t.Errorf("EndByRef(\"\") = %v", err)
	}
	if n := countSessions(t, coll); n != 1 {
		t.Errorf("%d session documents, want 1", n)
	}
}

func TestSessionsForOneIdentityShareNoSecrets(t *testing.T) {
	s, _, _ := newTestSessions(t, testIdle, testAbsolute)
	ctx := t.Context()
	tokA, a, err := s.Create(ctx, officer, "same.id.token")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	tokB, b, err := s.Create(ctx, officer, "same.id.token")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if tokA == tokB || a.ID == b.ID {
		t.Error("two logins of one person share a session token")
	}
	if a.Ref == b.Ref {
		t.Error("two sessions share a ref: ending one from the sessions page would pick either")
	}
	if a.CSRFToken == b.CSRFToken || a.CSRFToken == "" {
		t.Errorf("CSRF tokens %q and %q: want distinct and non-empty", a.CSRFToken, b.CSRFToken)
	}
	if len(a.Ref) < 16 {
		t.Errorf("ref %q is too short to be unguessable", a.Ref)
	}
	// Each token opens its own session, not the other.
	if got, err := s.Lookup(ctx, tokB); err != nil || got.ID != b.ID {
		t.Errorf("Lookup(tokB) = %v, %v; want session %s", got, err, b.ID)
	}
}
