package escalation

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestEmailForSaysWhatALeadNeedsAndNothingAboutTheCustomer(t *testing.T) {
	a := testAlert(7)
	a.Reference = "SI-2026-ABCDEFG"
	d, err := EmailFor(a, "Safeguarding Lead <Lead@Example.gov.uk>")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Critical serious incident SI-2026-ABCDEFG: Missing customer (Northgate Services Ltd, CS-ACC-2025-014)"; d.Subject != want {
		t.Errorf("subject %q, want %q", d.Subject, want)
	}
	if d.Target != "Lead@Example.gov.uk" || d.Channel != ChannelEmail || d.IncidentRef != a.Reference || d.PartnerID != "northgate" {
		t.Errorf("delivery %+v", d)
	}
	for _, want := range []string{
		"Reference: SI-2026-ABCDEFG",
		"Partner became aware: 3 March 2026 at 09:12 GMT",
		"Department notified: 3 March 2026 at 10:05 GMT (53 minutes after the partner became aware)",
		"Deadline for notifying the department: 3 March 2026 at 10:12 GMT (met)",
		a.Link,
	} {
		if !strings.Contains(d.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, d.Body)
		}
	}
	for _, banned := range []string{" case", "Case", "subject", "Subject"} {
		if strings.Contains(d.Body, banned) {
			t.Errorf("body says %q", banned)
		}
	}
	// Same incident and address in another case: the same delivery.
	again, _ := EmailFor(a, "lead@example.gov.uk")
	if again.ID != d.ID {
		t.Error("address case changed the delivery ID")
	}
	other, _ := EmailFor(a, "manager@example.gov.uk")
	if other.ID == d.ID {
		t.Error("two recipients share a delivery ID")
	}
	if _, err := EmailFor(a, "not an address"); err == nil {
		t.Error("accepted a bad address")
	}

	late := a
	late.NotifiedAt = a.Deadline.Add(2*time.Hour + 5*time.Minute)
	late.Critical = false
	ld, _ := EmailFor(late, "lead@example.gov.uk")
	if !strings.Contains(ld.Body, "(missed by 2 hours 5 minutes)") || !strings.HasPrefix(ld.Subject, "Serious incident ") {
		t.Errorf("late, non-critical:\n%s\n%s", ld.Subject, ld.Body)
	}

	// A partner name cannot start a header of its own.
	evil := a
	evil.PartnerName = "Evil Ltd\r\nBcc: everyone@example.com"
	ed, _ := EmailFor(evil, "lead@example.gov.uk")
	if strings.ContainsAny(ed.Subject, "\r\n") {
		t.Errorf("subject %q", ed.Subject)
	}
}

func TestWebhookForPayload(t *testing.T) {
	a := testAlert(3)
	d, err := WebhookFor(a, "https://partner.example.com/hooks?x=1")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(d.Payload, &got); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"aware_at", "category", "contract_id", "delivery_id", "event", "incident_id", "link", "notified_at", "partner", "reference"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if got["delivery_id"] != d.ID || got["event"] != EventCritical || got["notified_at"] != "2026-03-03T10:05:00Z" || got["partner"] != "Northgate Services Ltd" {
		t.Errorf("payload %s", d.Payload)
	}
	if d.ID != DeliveryID(a.IncidentID, ChannelWebhook, "https://partner.example.com/hooks?x=1") {
		t.Error("delivery ID is not derived from incident, channel and target")
	}
	if _, err := WebhookFor(a, "ftp://example.com/x"); err == nil {
		t.Error("accepted a non-http URL")
	}

	ds, err := Escalation(a, []string{"a@example.gov.uk", "A@example.gov.uk", "b@example.gov.uk"}, []string{"https://x.example/h", "https://x.example/h"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 {
		t.Errorf("escalation has %d deliveries, want 3 (each target once)", len(ds))
	}
	// The document holds no secret and stores as BSON.
	if _, err := bson.Marshal(d); err != nil {
		t.Fatal(err)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"delivery_id":"abc","event":"incident.critical"}`)
	now := time.Unix(1_773_000_000, 0)
	signed := func(secret string, at time.Time, b []byte) http.Header {
		h := http.Header{}
		h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
		h.Set(HeaderSignature, Sign(secret, at.Unix(), b))
		return h
	}
	tol := 5 * time.Minute
	if err := VerifySignature("s3cret", signed("s3cret", now, body), body, now.Add(time.Minute), tol); err != nil {
		t.Fatalf("good signature refused: %v", err)
	}
	cases := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"wrong secret", signed("other", now, body), body, ErrBadSignature},
		{"modified body", signed("s3cret", now, body), []byte(strings.Replace(string(body), "critical", "serious", 1)), ErrBadSignature},
		{"stale timestamp", signed("s3cret", now.Add(-6*time.Minute), body), body, ErrStaleTimestamp},
		{"timestamp from the future", signed("s3cret", now.Add(6*time.Minute), body), body, ErrStaleTimestamp},
		{"unsigned", http.Header{}, body, ErrUnsigned},
	}
	// A replayed request with a fresh timestamp but the old signature.
	replay := signed("s3cret", now.Add(-time.Hour), body)
	replay.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	cases = append(cases, struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{"old signature, new timestamp", replay, body, ErrBadSignature})
	malformed := signed("s3cret", now, body)
	malformed.Set(HeaderSignature, "md5=abc")
	cases = append(cases, struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{"malformed", malformed, body, ErrMalformedHeaders})
	for _, c := range cases {
		if err := VerifySignature("s3cret", c.header, c.body, now, tol); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestBackoffDoublesWithJitterUpToTheCeiling(t *testing.T) {
	w := &Worker{}
	for attempts, base := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 9: 512 * time.Second, 10: 10 * time.Minute, 60: 10 * time.Minute} {
		for range 50 {
			d := w.backoff(attempts)
			if d < base/2 || d > base {
				t.Fatalf("backoff after %d attempts: %v, want between %v and %v", attempts, d, base/2, base)
			}
		}
	}
}
