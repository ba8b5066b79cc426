package escalation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/store/storetest"
	"github.com/emersion/go-smtp"
	"go.mongodb.org/mongo-driver/v2/bson"
)

const testSecret = "whsec-test-0123456789"

func senders(smtpAddr string, rc *receiver) (*SMTPSender, *WebhookSender) {
	return &SMTPSender{Addr: smtpAddr, From: "Safeguarding Portal <no-reply@portal.example.gov.uk>", StartTLS: TLSNone, HeloName: "portal.test", Timeout: 5 * time.Second},
		&WebhookSender{Secrets: map[string]string{rc.URL: testSecret}}
}

func TestEnqueuedEscalationIsDeliveredOnceByEmailAndWebhook(t *testing.T) {
	o := newOutbox(t)
	ms := startSMTP(t, "", nil)
	rc := startReceiver(t, testSecret, nil)
	email, webhook := senders(ms.Addr, rc)
	w := testWorker(t, o, email, webhook)
	w.Poll = time.Hour // only Wake can make it look
	run(t, w)

	a := testAlert(1)
	ds, err := Escalation(a, []string{"lead@example.gov.uk"}, []string{rc.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := o.Enqueue(ctx, ds); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w.Wake()
	got := waitSettled(t, o, 2, 5*time.Second)
	t.Logf("delivered both in %v after Wake", time.Since(start).Round(time.Millisecond))

	for _, d := range got {
		if d.State != StateDelivered || d.Attempts != 1 || d.DeliveredAt == nil || d.LeaseOwner != "" || d.LastError != "" {
			t.Errorf("%s delivery: %+v", d.Channel, d)
		}
	}
	msgs := ms.Messages()
	if len(msgs) != 1 {
		t.Fatalf("SMTP server has %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	emailID := DeliveryID(a.IncidentID, ChannelEmail, "lead@example.gov.uk")
	if m.From != "no-reply@portal.example.gov.uk" || len(m.To) != 1 || m.To[0] != "lead@example.gov.uk" {
		t.Errorf("envelope %q → %v", m.From, m.To)
	}
	if !bytes.Contains(m.Data, []byte("\r\n\r\n")) || bytes.Contains(bytes.ReplaceAll(m.Data, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("message does not use CRLF line endings throughout")
	}
	h := m.Parse(t).Header
	if h.Get("Message-ID") != "<"+emailID+"@portal>" || h.Get(HeaderDelivery) != emailID {
		t.Errorf("Message-ID %q, %s %q", h.Get("Message-ID"), HeaderDelivery, h.Get(HeaderDelivery))
	}
	if date, err := h.Date(); err != nil || time.Since(date) > time.Minute {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if h.Get("Subject") != ds[0].Subject || !strings.Contains(h.Get("From"), "no-reply@portal.example.gov.uk") || h.Get("To") != "<lead@example.gov.uk>" {
		t.Errorf("headers %v", h)
	}
	if text := m.Text(t); text != strings.ReplaceAll(ds[0].Body, "\n", "\r\n") {
		t.Errorf("body as received:\n%q\nwant\n%q", text, ds[0].Body)
	}

	arrivals, processed, dups, rejected := rc.snapshot()
	if len(arrivals) != 1 || len(processed) != 1 || dups != 0 || rejected != 0 {
		t.Fatalf("receiver: %d arrivals, %d processed, %d duplicates, %d rejected", len(arrivals), len(processed), dups, rejected)
	}
	var ev WebhookEvent
	if err := json.Unmarshal(arrivals[0].Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.DeliveryID != arrivals[0].ID || ev.Event != EventCritical || ev.Reference != a.Reference || ev.Link != a.Link {
		t.Errorf("webhook event %+v", ev)
	}

	// The lead's status views.
	forIncident, err := o.ForIncident(ctx, a.IncidentID)
	if err != nil || len(forIncident) != 2 {
		t.Fatalf("ForIncident: %d, %v", len(forIncident), err)
	}
	if other, _ := o.ForIncident(ctx, "another"); len(other) != 0 {
		t.Error("ForIncident returned another incident's deliveries")
	}
	if pending, _ := o.List(ctx, 10, StatePending); len(pending) != 0 {
		t.Errorf("%d pending", len(pending))
	}
}

func TestEnqueueingTheSameEscalationTwiceDeliversOnce(t *testing.T) {
	o := newOutbox(t)
	ms := startSMTP(t, "", nil)
	rc := startReceiver(t, testSecret, nil)
	email, webhook := senders(ms.Addr, rc)
	ctx := context.Background()
	a := testAlert(2)
	build := func(more ...string) []Delivery {
		ds, err := Escalation(a, append([]string{"lead@example.gov.uk", "manager@example.gov.uk"}, more...), []string{rc.URL})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	if err := o.Enqueue(ctx, build()); err != nil {
		t.Fatal(err)
	}
	// A retried request, before anything was sent: nothing is added.
	if err := o.Enqueue(ctx, build()); err != nil {
		t.Fatalf("second enqueue: %v", err)
	}
	if all, _ := o.List(ctx, 0, ""); len(all) != 3 {
		t.Fatalf("%d deliveries stored, want 3", len(all))
	}
	w := testWorker(t, o, email, webhook)
	stop := run(t, w)
	waitSettled(t, o, 3, 5*time.Second)
	// And again after delivery, with a manager added since: only the new
	// recipient is sent anything.
	if err := o.Enqueue(ctx, build("deputy@example.gov.uk")); err != nil {
		t.Fatalf("third enqueue: %v", err)
	}
	w.Wake()
	got := waitSettled(t, o, 4, 5*time.Second)
	time.Sleep(5 * testPoll) // time enough to send anything twice
	stop()
	for _, d := range got {
		if d.State != StateDelivered || d.Attempts != 1 {
			t.Errorf("%+v", d)
		}
	}
	if n := len(ms.Messages()); n != 3 {
		t.Errorf("SMTP server has %d messages, want 3", n)
	}
	if arrivals, _, _, _ := rc.snapshot(); len(arrivals) != 1 {
		t.Errorf("receiver had %d requests, want 1", len(arrivals))
	}
}

func TestWebhookIsRetriedWithBackoffAndRefusalsAreFinal(t *testing.T) {
	o := newOutbox(t)
	flaky := startReceiver(t, testSecret, func(n int, id string) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	refusing := startReceiver(t, testSecret, func(n int, id string) int {
		return http.StatusUnprocessableEntity
	})
	throttling := startReceiver(t, testSecret, func(n int, id string) int {
		if n == 1 {
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	})
	webhook := &WebhookSender{Secrets: map[string]string{flaky.URL: testSecret, refusing.URL: testSecret, throttling.URL: testSecret}}
	w := testWorker(t, o, nil, webhook)
	a := testAlert(3)
	ds, err := Escalation(a, nil, []string{flaky.URL, refusing.URL, throttling.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Enqueue(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	run(t, w)
	got := waitSettled(t, o, 3, 10*time.Second)
	byTarget := map[string]Delivery{}
	for _, d := range got {
		byTarget[d.Target] = d
	}

	d := byTarget[flaky.URL]
	if d.State != StateDelivered || d.Attempts != 3 || d.LastError != "" {
		t.Errorf("flaky receiver: %+v", d)
	}
	arrivals, processed, dups, _ := flaky.snapshot()
	if len(arrivals) != 3 || len(processed) != 1 || dups != 0 {
		t.Fatalf("flaky receiver: %d arrivals, %d processed, %d duplicates", len(arrivals), len(processed), dups)
	}
	// Waits of at least half the base backoff, then half of double it.
	for i, min := range []time.Duration{testBaseBackoff / 2, testBaseBackoff} {
		if gap := arrivals[i+1].At.Sub(arrivals[i].At); gap < min {
			t.Errorf("retry %d came after %v, want at least %v", i+1, gap, min)
		}
	}

	d = byTarget[refusing.URL]
	if d.State != StateFailed || d.Attempts != 1 || !strings.Contains(d.LastError, "422") || d.DeliveredAt != nil {
		t.Errorf("refusing receiver: %+v", d)
	}
	d = byTarget[throttling.URL]
	if d.State != StateDelivered || d.Attempts != 2 {
		t.Errorf("throttling receiver: %+v", d)
	}

	// A lead has the refusing receiver fixed, and retries.
	ctx := context.Background()
	if err := o.Retry(ctx, byTarget[flaky.URL].ID); !errors.Is(err, ErrNotFailed) {
		t.Errorf("retrying a delivered delivery: %v", err)
	}
	refusing.mu.Lock()
	refusing.respond = nil
	refusing.mu.Unlock()
	if err := o.Retry(ctx, byTarget[refusing.URL].ID); err != nil {
		t.Fatal(err)
	}
	w.Wake()
	waitFor(t, "retried delivery", 5*time.Second, func() bool {
		d, err := o.Get(ctx, byTarget[refusing.URL].ID)
		return err == nil && d.State == StateDelivered
	})
}

func TestWebhookGivesUpAfterMaxAttempts(t *testing.T) {
	o := newOutbox(t)
	rc := startReceiver(t, testSecret, func(int, string) int { return http.StatusBadGateway })
	w := testWorker(t, o, nil, &WebhookSender{Secrets: map[string]string{rc.URL: testSecret}})
	w.MaxAttempts, w.BaseBackoff, w.MaxBackoff = 4, 5*time.Millisecond, 10*time.Millisecond
	d, _ := WebhookFor(testAlert(4), rc.URL)
	unsigned, _ := WebhookFor(testAlert(4), rc.URL+"/unconfigured")
	if err := o.Enqueue(context.Background(), []Delivery{d, unsigned}); err != nil {
		t.Fatal(err)
	}
	run(t, w)
	for _, got := range waitSettled(t, o, 2, 10*time.Second) {
		if got.State != StateFailed || got.Attempts != 4 {
			t.Errorf("%+v", got)
		}
		if got.ID == unsigned.ID && got.LastError != "no signing secret is configured for this webhook" {
			t.Errorf("unconfigured webhook: %q", got.LastError)
		}
		if got.ID == d.ID && got.LastError != "webhook answered 502" {
			t.Errorf("failing webhook: %q", got.LastError)
		}
	}
	if arrivals, _, _, _ := rc.snapshot(); len(arrivals) != 4 {
		t.Errorf("%d requests, want 4 (none unsigned)", len(arrivals))
	}
}

func TestEmailIsRetriedUntilTheSMTPServerIsUp(t *testing.T) {
	// A free port with nothing listening on it, yet.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()

	o := newOutbox(t)
	email := &SMTPSender{Addr: addr, From: "no-reply@portal.example.gov.uk", StartTLS: TLSNone, Timeout: 2 * time.Second}
	w := testWorker(t, o, email, nil)
	d, _ := EmailFor(testAlert(5), "lead@example.gov.uk")
	ctx := context.Background()
	if err := o.Enqueue(ctx, []Delivery{d}); err != nil {
		t.Fatal(err)
	}
	run(t, w)
	waitFor(t, "failed attempts", 5*time.Second, func() bool {
		got, err := o.Get(ctx, d.ID)
		return err == nil && got.Attempts >= 2 && got.State == StatePending
	})
	got, _ := o.Get(ctx, d.ID)
	if !strings.HasPrefix(got.LastError, "smtp connect:") {
		t.Errorf("last error %q", got.LastError)
	}
	ms := startSMTP(t, addr, nil)
	waitFor(t, "delivery", 5*time.Second, func() bool {
		got, err := o.Get(ctx, d.ID)
		return err == nil && got.State == StateDelivered
	})
	got, _ = o.Get(ctx, d.ID)
	t.Logf("delivered after %d attempts", got.Attempts)
	if n := len(ms.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestSMTPSenderTLSAuthAndDotStuffing(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	ms := startSMTP(t, "", func(s *smtpServer) {
		s.srv.TLSConfig = serverTLS
		s.user, s.password = "portal", "pa55word"
	})
	d := Delivery{ID: "0123456789abcdef0123456789abcdef", Channel: ChannelEmail, Target: "lead@example.gov.uk",
		Subject: "Critical serious incident at Café Ltd", Body: "Line one\n.starts with a dot\n..two dots\n.\nlast line"}
	ctx := context.Background()

	s := &SMTPSender{Addr: ms.Addr, From: "no-reply@portal.example.gov.uk", Username: "portal", Password: "pa55word", TLSConfig: clientTLS}
	if err := s.Send(ctx, d); err != nil {
		t.Fatalf("send over STARTTLS with AUTH: %v", err)
	}
	msgs := ms.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if text := msgs[0].Text(t); text != strings.ReplaceAll(d.Body, "\n", "\r\n")+"\r\n" && text != strings.ReplaceAll(d.Body, "\n", "\r\n") {
		t.Errorf("body %q", text)
	}
	if subj, err := new(mime.WordDecoder).DecodeHeader(msgs[0].Parse(t).Header.Get("Subject")); err != nil || subj != d.Subject {
		t.Errorf("subject %q: %v", subj, err)
	}

	wrong := *s
	wrong.Password = "nope"
	if err := wrong.Send(ctx, d); err == nil || IsPermanent(err) {
		t.Errorf("wrong password: %v (want a retryable error)", err)
	}

	// STARTTLS is required unless switched off: a server without it gets nothing.
	plain := startSMTP(t, "", nil)
	err := (&SMTPSender{Addr: plain.Addr, From: "no-reply@portal.example.gov.uk"}).Send(ctx, d)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || len(plain.Messages()) != 0 {
		t.Errorf("plain server, TLS required: %v, %d messages", err, len(plain.Messages()))
	}

	// A refused recipient is final.
	refusing := startSMTP(t, "", func(s *smtpServer) {
		s.srv.Backend = smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
			return &refusingSession{smtpSession{s: s}}, nil
		})
	})
	err = (&SMTPSender{Addr: refusing.Addr, From: "no-reply@portal.example.gov.uk", StartTLS: TLSNone}).Send(ctx, d)
	if !IsPermanent(err) {
		t.Errorf("refused recipient: %v (want permanent)", err)
	}
}

type refusingSession struct{ smtpSession }

func (*refusingSession) Rcpt(string, *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
}

// A portal killed mid-send and restarted sends the pending delivery again;
// the receiver, deduplicating by delivery ID, acts on it once.
func TestCrashMidSendIsDeliveredOnceAfterRestart(t *testing.T) {
	for _, channel := range []string{ChannelWebhook, ChannelEmail} {
		t.Run(channel, func(t *testing.T) {
			dbA, dbB, crashA := sameStore(t)
			gotIt := make(chan struct{})
			killed := make(chan struct{})
			firstOnly := func(n int) {
				if n == 1 {
					close(gotIt)
					<-killed // the reply comes too late for the dead portal
				}
			}
			rc := startReceiver(t, testSecret, func(n int, id string) int { firstOnly(n); return http.StatusOK })
			ms := startSMTP(t, "", func(s *smtpServer) { s.onData = func(n int, _ []byte) error { firstOnly(n); return nil } })
			email, webhook := senders(ms.Addr, rc)

			a := testAlert(6)
			var d Delivery
			if channel == ChannelEmail {
				d, _ = EmailFor(a, "lead@example.gov.uk")
			} else {
				d, _ = WebhookFor(a, rc.URL)
			}
			oa := NewOutbox(dbA)
			if err := oa.Enqueue(context.Background(), []Delivery{d}); err != nil {
				t.Fatal(err)
			}
			first := testWorker(t, oa, email, webhook)
			stopFirst := run(t, first)
			<-gotIt
			// The process dies: its store connection goes first, so it can
			// record nothing, not even that it was interrupted.
			crashA()
			stopFirst()
			close(killed)

			ob := NewOutbox(dbB)
			left, err := ob.Get(context.Background(), d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if left.State != StateSending || left.Attempts != 1 {
				t.Fatalf("after the crash: %+v", left)
			}
			// The restarted portal, once the dead one's lease has run out.
			restarted := testWorker(t, ob, email, webhook)
			restarted.Now = func() time.Time { return time.Now().Add(DefaultLease + time.Second) }
			run(t, restarted)
			got := waitSettled(t, ob, 1, 5*time.Second)[0]
			if got.State != StateDelivered || got.Attempts != 2 {
				t.Errorf("after restart: %+v", got)
			}
			if channel == ChannelWebhook {
				arrivals, processed, dups, _ := rc.snapshot()
				if len(processed) != 1 || !processed[d.ID] {
					t.Errorf("receiver processed %v", processed)
				}
				t.Logf("webhook: %d requests, %d dropped as duplicates by the receiver", len(arrivals), dups)
			} else {
				msgs := ms.Messages()
				ids := map[string]int{}
				for _, m := range msgs {
					ids[m.Parse(t).Header.Get("Message-ID")]++
				}
				if len(ids) != 1 || ids[MessageID(d.ID)] == 0 {
					t.Errorf("Message-IDs %v", ids)
				}
				t.Logf("e-mail: %d messages, %d distinct Message-ID", len(msgs), len(ids))
			}
		})
	}
}

// A portal shut down cleanly mid-send hands the delivery back at once.
func TestShutdownMidSendHandsTheDeliveryBack(t *testing.T) {
	o := newOutbox(t)
	gotIt := make(chan struct{})
	var calls atomic.Int32
	rc := startReceiver(t, testSecret, func(n int, id string) int {
		if calls.Add(1) == 1 {
			close(gotIt)
			time.Sleep(300 * time.Millisecond)
		}
		return http.StatusOK
	})
	_, webhook := senders("", rc)
	d, _ := WebhookFor(testAlert(8), rc.URL)
	if err := o.Enqueue(context.Background(), []Delivery{d}); err != nil {
		t.Fatal(err)
	}
	stop := run(t, testWorker(t, o, nil, webhook))
	<-gotIt
	stop()
	got, err := o.Get(context.Background(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StatePending || got.LeaseOwner != "" || got.LastError == "" {
		t.Fatalf("after shutdown: %+v", got)
	}
	// No need to wait for a lease: the next portal sends it at once.
	run(t, testWorker(t, o, nil, webhook))
	waitSettled(t, o, 1, 5*time.Second)
	if _, processed, _, _ := rc.snapshot(); len(processed) != 1 {
		t.Errorf("processed %v", processed)
	}
}

// Two replicas share the outbox: every delivery is made, and receivers see
// each delivery ID once.
func TestTwoWorkersShareTheOutbox(t *testing.T) {
	dbA, dbB, _ := sameStore(t)
	ms := startSMTP(t, "", nil)
	rc := startReceiver(t, testSecret, nil)
	email, webhook := senders(ms.Addr, rc)
	oa, ob := NewOutbox(dbA), NewOutbox(dbB)
	if err := oa.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	var all []Delivery
	for i := range 25 {
		ds, err := Escalation(testAlert(100+i), []string{"lead@example.gov.uk"}, []string{rc.URL})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ds...)
	}
	if err := oa.Enqueue(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	sends := [2][2]*counting{{{Sender: email}, {Sender: webhook}}, {{Sender: email}, {Sender: webhook}}}
	wa, wb := testWorker(t, oa, sends[0][0], sends[0][1]), testWorker(t, ob, sends[1][0], sends[1][1])
	start := time.Now()
	run(t, wa)
	run(t, wb)
	got := waitSettled(t, oa, 50, 25*time.Second)
	elapsed := time.Since(start)
	for _, d := range got {
		if d.State != StateDelivered {
			t.Errorf("%+v", d)
		}
	}

	arrivals, processed, dups, _ := rc.snapshot()
	msgs := ms.Messages()
	ids := map[string]int{}
	for _, m := range msgs {
		ids[m.Parse(t).Header.Get(HeaderDelivery)]++
	}
	emailDups := len(msgs) - len(ids)
	if len(processed) != 25 || len(ids) != 25 {
		t.Errorf("receivers saw %d webhook and %d e-mail delivery IDs, want 25 each", len(processed), len(ids))
	}
	byA := sends[0][0].n.Load() + sends[0][1].n.Load()
	byB := sends[1][0].n.Load() + sends[1][1].n.Load()
	claims, err := oa.claims.CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("50 deliveries by two workers in %v (%d sends by one, %d by the other): webhook %d requests (%d duplicates), e-mail %d messages (%d duplicates); %d claim documents",
		elapsed.Round(time.Millisecond), byA, byB, len(arrivals), dups, len(msgs), emailDups, claims)
	if dups != 0 || emailDups != 0 {
		t.Errorf("duplicates arrived: %d webhook, %d e-mail", dups, emailDups)
	}
}

// counting passes sends to a real sender, counting them.
type counting struct {
	Sender
	n atomic.Int32
}

func (c *counting) Send(ctx context.Context, d Delivery) error {
	c.n.Add(1)
	return c.Sender.Send(ctx, d)
}

// A replica that died between claiming a delivery and taking its lease
// leaves a claim behind: once it is a lease old, another worker supersedes
// it; until then, nobody does.
func TestAnAbandonedClaimIsSuperseded(t *testing.T) {
	o := newOutbox(t)
	rc := startReceiver(t, testSecret, nil)
	_, webhook := senders("", rc)
	d, _ := WebhookFor(testAlert(9), rc.URL)
	ctx := context.Background()
	if err := o.Enqueue(ctx, []Delivery{d}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.claims.InsertOne(ctx, claimDoc{ID: d.ID + "@0#0", DeliveryID: d.ID, Owner: "dead", At: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	w := testWorker(t, o, nil, webhook)
	if n, err := w.Drain(ctx); err != nil || n != 0 {
		t.Fatalf("with a fresh claim held elsewhere: %d sent, %v", n, err)
	}
	w.Now = func() time.Time { return time.Now().Add(DefaultLease + time.Second) }
	if n, err := w.Drain(ctx); err != nil || n != 1 {
		t.Fatalf("with the claim a lease old: %d sent, %v", n, err)
	}
	if got, _ := o.Get(ctx, d.ID); got.State != StateDelivered {
		t.Errorf("%+v", got)
	}
	if n, _ := o.claims.CountDocuments(ctx, bson.D{{Key: "delivery_id", Value: d.ID}}); n != 2 {
		t.Errorf("%d claims, want the dead one and its successor", n)
	}
}

// An outbox in a collection of its own is worked like the escalations',
// and leaves theirs alone.
func TestAnOutboxOfItsOwn(t *testing.T) {
	db := storetest.Database(t)
	ctx := context.Background()
	o := NewOutboxIn(db, "reminder_deliveries")
	if err := o.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	ms := startSMTP(t, "", nil)
	rc := startReceiver(t, testSecret, nil)
	email, _ := senders(ms.Addr, rc)
	d := Delivery{IncidentID: "action/1", Channel: ChannelEmail, Target: "officer@example.com", Subject: "Action due", Body: "Due soon."}
	if err := o.Enqueue(ctx, []Delivery{d, d}); err != nil {
		t.Fatal(err)
	}
	run(t, testWorker(t, o, email, nil))
	got := waitSettled(t, o, 1, 5*time.Second)
	if got[0].State != StateDelivered || len(ms.Messages()) != 1 {
		t.Errorf("%+v, %d messages", got[0], len(ms.Messages()))
	}
	for _, name := range []string{Collection, ClaimsCollection} {
		if n, err := db.Collection(name).CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
			t.Errorf("%s holds %d documents (%v), want none", name, n, err)
		}
	}
	if n, err := db.Collection("reminder_deliveries_claims").CountDocuments(ctx, bson.D{}); err != nil || n == 0 {
		t.Errorf("the outbox's own claims: %d (%v)", n, err)
	}
}
