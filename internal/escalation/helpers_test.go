package escalation

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/store"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Timings short enough for tests and long enough not to spin.
const (
	testPoll        = 20 * time.Millisecond
	testBaseBackoff = 40 * time.Millisecond
	testMaxBackoff  = 160 * time.Millisecond
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testWorker(t *testing.T, o *Outbox, email, webhook Sender) *Worker {
	w := NewWorker(o, email, webhook)
	w.Poll, w.BaseBackoff, w.MaxBackoff = testPoll, testBaseBackoff, testMaxBackoff
	w.Log = testLogger(t)
	return w
}

// run starts w until the test ends; the returned function stops it and
// waits for it to return.
func run(t *testing.T, w *Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	waitEvery(t, what, timeout, 10*time.Millisecond, cond)
}

// waitEvery checks cond every interval: each check of the store reads the
// whole collection on the embedded store, and checking too often would
// slow the workers under test.
func waitEvery(t *testing.T, what string, timeout, interval time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(interval)
	}
}

// waitSettled waits until every delivery of o is in a final state, and
// returns them all.
func waitSettled(t *testing.T, o *Outbox, want int, timeout time.Duration) []Delivery {
	t.Helper()
	var ds []Delivery
	waitEvery(t, "deliveries to settle", timeout, 100*time.Millisecond, func() bool {
		var err error
		ds, err = o.List(context.Background(), maxList, "")
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if len(ds) != want {
			return false
		}
		for _, d := range ds {
			if d.State != StateDelivered && d.State != StateFailed {
				return false
			}
		}
		return true
	})
	return ds
}

// sameStore gives two connections to one fresh database, standing for two
// portal processes, and a function that cuts the first off as a crash would.
func sameStore(t *testing.T) (a, b *mongo.Database, crashA func()) {
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
	name := make([]byte, 6)
	_, _ = rand.Read(name)
	db := "escalationtest_" + hex.EncodeToString(name)
	sa, err := store.Connect(context.Background(), uri, db)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	sb, err := store.Connect(context.Background(), uri, db)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	var once sync.Once
	crashA = func() { once.Do(func() { _ = sa.Close(context.Background()) }) }
	t.Cleanup(func() {
		crashA()
		if os.Getenv("PORTAL_TEST_MONGODB_URI") != "" {
			_ = sb.DB.Drop(context.Background())
		}
		_ = sb.Close(context.Background())
	})
	return sa.DB, sb.DB, crashA
}

func newOutbox(t *testing.T) *Outbox {
	t.Helper()
	o := NewOutbox(storetest.Database(t))
	if err := o.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return o
}

// --- a real SMTP server ---

type mailMessage struct {
	From string
	To   []string
	Data []byte
}

// Parse parses the message.
func (m mailMessage) Parse(t *testing.T) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(m.Data)))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	return msg
}

// Text is the decoded plain-text body.
func (m mailMessage) Text(t *testing.T) string {
	t.Helper()
	msg := m.Parse(t)
	if msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("transfer encoding %q", msg.Header.Get("Content-Transfer-Encoding"))
	}
	b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return string(b)
}

type smtpServer struct {
	Addr string
	srv  *smtp.Server

	mu   sync.Mutex
	msgs []mailMessage
	// onData, if set, decides what the server answers to the n-th message
	// (counting from 1) after it has stored it; it may block.
	onData func(n int, data []byte) error
	// user and password, if set, are required (AUTH PLAIN).
	user, password string
}

// startSMTP serves on addr ("" for any free port) until the test ends.
func startSMTP(t *testing.T, addr string, configure func(*smtpServer)) *smtpServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &smtpServer{Addr: l.Addr().String()}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		sess := &smtpSession{s: s}
		if s.user != "" {
			return &authSession{sess}, nil
		}
		return sess, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.ErrorLog = discardLogger{}
	if configure != nil {
		configure(s)
	}
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

func (s *smtpServer) Messages() []mailMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mailMessage(nil), s.msgs...)
}

type smtpSession struct {
	s    *smtpServer
	from string
	to   []string
	auth bool
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.auth {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, mailMessage{From: ss.from, To: ss.to, Data: b})
	n, hook := len(ss.s.msgs), ss.s.onData
	ss.s.mu.Unlock()
	if hook != nil {
		return hook(n, b)
	}
	return nil
}

func (ss *smtpSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *smtpSession) Logout() error { return nil }

type authSession struct{ *smtpSession }

func (as *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (as *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != as.s.user || password != as.s.password {
			return errors.New("invalid credentials")
		}
		as.auth = true
		return nil
	}), nil
}

// testTLS returns a server certificate for 127.0.0.1 and a client config
// that trusts it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	hs := httptest.NewUnstartedServer(http.NotFoundHandler())
	hs.StartTLS()
	t.Cleanup(hs.Close)
	return &tls.Config{Certificates: hs.TLS.Certificates, MinVersion: tls.VersionTLS12}, hs.Client().Transport.(*http.Transport).TLSClientConfig
}

// --- a real webhook receiver ---

type arrival struct {
	ID   string
	At   time.Time
	Body []byte
}

// receiver verifies each request's signature and processes each delivery
// ID once, as a careful receiver would.
type receiver struct {
	URL    string
	secret string
	srv    *httptest.Server

	mu         sync.Mutex
	arrivals   []arrival       // signed requests, in order
	rejected   int             // requests refused for their signature
	processed  map[string]bool // delivery IDs acted on
	duplicates int             // accepted requests for an ID already acted on
	// respond, if set, picks the status for the n-th arrival (from 1) of
	// delivery id; it may block.
	respond func(n int, id string) int
}

func startReceiver(t *testing.T, secret string, respond func(n int, id string) int) *receiver {
	t.Helper()
	rc := &receiver{secret: secret, processed: map[string]bool{}, respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	rc.URL = rc.srv.URL + "/hooks/portal"
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if err := VerifySignature(rc.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		rc.mu.Lock()
		rc.rejected++
		rc.mu.Unlock()
		http.Error(w, "signature", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get(HeaderDelivery)
	rc.mu.Lock()
	rc.arrivals = append(rc.arrivals, arrival{ID: id, At: time.Now(), Body: body})
	n := 0
	for _, a := range rc.arrivals {
		if a.ID == id {
			n++
		}
	}
	respond := rc.respond
	rc.mu.Unlock()
	status := http.StatusOK
	if respond != nil {
		status = respond(n, id)
	}
	if status/100 == 2 {
		rc.mu.Lock()
		if rc.processed[id] {
			rc.duplicates++
		}
		rc.processed[id] = true
		rc.mu.Unlock()
	}
	w.WriteHeader(status)
}

func (rc *receiver) snapshot() (arrivals []arrival, processed map[string]bool, duplicates, rejected int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	p := make(map[string]bool, len(rc.processed))
	for k, v := range rc.processed {
		p[k] = v
	}
	return append([]arrival(nil), rc.arrivals...), p, rc.duplicates, rc.rejected
}

func testAlert(n int) Alert {
	aware := time.Date(2026, 3, 3, 9, 12, 0, 0, time.UTC)
	return Alert{
		IncidentID:  fmt.Sprintf("65f0c0ffee00000000%06d", n),
		Reference:   fmt.Sprintf("SI-2026-ABC%04d", n),
		PartnerID:   "northgate",
		PartnerName: "Northgate Services Ltd",
		ContractID:  "CS-ACC-2025-014",
		Category:    "Missing customer",
		Critical:    true,
		AwareAt:     aware,
		NotifiedAt:  aware.Add(53 * time.Minute),
		Deadline:    aware.Add(time.Hour),
		Link:        "https://portal.example.gov.uk/incidents/SI-2026-ABCDEFG",
	}
}
