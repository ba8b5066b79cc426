// Package escalationtest gives tests the real receivers of escalations: an
// SMTP server that keeps what it is sent, and a webhook receiver that checks
// every signature and counts each delivery ID, as a department's systems
// would.
package escalationtest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/emersion/go-smtp"
)

// Mail is one message an SMTP server received.
type Mail struct {
	To   []string
	Data string
}

// SMTP is a real SMTP server on a local port.
type SMTP struct {
	Addr string
	srv  *smtp.Server
	mu   sync.Mutex
	mail []Mail
}

// StartSMTP serves SMTP on addr ("" for any free port) until Close or the
// end of the test.
func StartSMTP(t testing.TB, addr string) *SMTP {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen for SMTP: %v", err)
	}
	s := &SMTP{Addr: l.Addr().String()}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *SMTP) Close() { _ = s.srv.Close() }

// Mail returns what the server has received so far.
func (s *SMTP) Mail() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

// DeliveryIDs counts the messages received per X-Portal-Delivery header.
func (s *SMTP) DeliveryIDs() map[string]int {
	ids := map[string]int{}
	for _, m := range s.Mail() {
		for _, line := range strings.Split(m.Data, "\r\n") {
			if v, ok := strings.CutPrefix(line, escalation.HeaderDelivery+": "); ok {
				ids[v]++
			}
		}
	}
	return ids
}

type session struct {
	s  *SMTP
	to []string
}

func (ss *session) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}
func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.mail = append(ss.s.mail, Mail{To: ss.to, Data: string(b)})
	ss.s.mu.Unlock()
	return nil
}
func (ss *session) Reset()        { ss.to = nil }
func (ss *session) Logout() error { return nil }

// Receiver is a webhook endpoint that verifies each request's signature and
// acts on each delivery ID once, as a receiver must.
type Receiver struct {
	URL    string
	Secret string
	srv    *httptest.Server
	mu     sync.Mutex
	seen   map[string]int // delivery ID → requests received
	bodies map[string]string
	bad    int
	// Fail, while true, answers 503 so the portal retries.
	fail bool
}

// StartReceiver serves a webhook receiver until the test ends.
func StartReceiver(t testing.TB, secret string) *Receiver {
	r := &Receiver{Secret: secret, seen: map[string]int{}, bodies: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL + "/hooks/safeguarding"
	t.Cleanup(r.srv.Close)
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := escalation.VerifySignature(r.Secret, req.Header, body, time.Now(), 5*time.Minute); err != nil {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.fail {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	id := req.Header.Get(escalation.HeaderDelivery)
	r.seen[id]++
	r.bodies[id] = string(body)
	w.WriteHeader(http.StatusNoContent)
}

// SetFailing makes the receiver refuse (503) or accept deliveries.
func (r *Receiver) SetFailing(fail bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = fail
}

// Deliveries returns the bodies accepted, by delivery ID, how many requests
// each ID arrived in, and how many requests had a bad signature.
func (r *Receiver) Deliveries() (bodies map[string]string, requests map[string]int, badSignatures int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	bodies, requests = map[string]string{}, map[string]int{}
	for k, v := range r.bodies {
		bodies[k] = v
	}
	for k, v := range r.seen {
		requests[k] = v
	}
	return bodies, requests, r.bad
}
