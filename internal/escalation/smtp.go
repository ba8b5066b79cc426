package escalation

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"time"
)

// STARTTLS policies for SMTPSender.StartTLS.
const (
	// TLSRequire refuses to send unless the server offers STARTTLS and the
	// handshake succeeds. It is what an empty StartTLS means.
	TLSRequire = "require"
	// TLSOpportunistic uses STARTTLS when the server offers it; an attacker
	// on the path can remove the offer, so use it only on trusted networks.
	TLSOpportunistic = "opportunistic"
	// TLSNone never uses STARTTLS: a relay on the same host or a test server.
	TLSNone = "none"
)

// SMTPSender sends e-mail deliveries through one SMTP relay.
type SMTPSender struct {
	Addr string // host:port of the relay
	// From is the sender, e.g. "Safeguarding Portal <no-reply@example.gov.uk>".
	From string
	// Username and Password, if set, authenticate with AUTH PLAIN, which
	// net/smtp allows only over TLS or to localhost.
	Username, Password string
	StartTLS           string // TLSRequire (the default), TLSOpportunistic or TLSNone
	// TLSConfig, if set, is used for STARTTLS (for a private CA, say);
	// ServerName defaults to Addr's host.
	TLSConfig *tls.Config
	HeloName  string        // the name given in EHLO; empty means "localhost"
	Timeout   time.Duration // for the whole conversation; zero means DefaultTimeout
	// Now is the clock for the Date header; nil means time.Now.
	Now func() time.Time
}

// Send makes one attempt to hand the delivery to the relay. A recipient the
// relay refuses with a 5xx reply is a permanent failure; anything else is
// worth a retry.
func (s *SMTPSender) Send(ctx context.Context, d Delivery) error {
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return errors.New("the configured sender address is not an e-mail address")
	}
	to, err := mail.ParseAddress(d.Target)
	if err != nil {
		return Permanent(errors.New("the recipient is not an e-mail address"))
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	msg, err := message(d, from, to, now)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.converse(ctx, from.Address, to.Address, msg)
}

func (s *SMTPSender) converse(ctx context.Context, from, to string, msg []byte) error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return errors.New("the configured SMTP address is not host:port")
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp connect: %w", err)
	}
	defer conn.Close()
	// net/smtp knows nothing of contexts: the deadline bounds every read and
	// write, and cancelling ends the conversation at once.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	stage := "greeting"
	fail := func(err error) error {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return fmt.Errorf("smtp %s: %w", stage, err)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	if s.HeloName != "" {
		stage = "EHLO"
		if err := c.Hello(s.HeloName); err != nil {
			return fail(err)
		}
	}
	stage = "STARTTLS"
	switch s.StartTLS {
	case "", TLSRequire, TLSOpportunistic:
		if ok, _ := c.Extension("STARTTLS"); ok {
			cfg := &tls.Config{MinVersion: tls.VersionTLS12}
			if s.TLSConfig != nil {
				cfg = s.TLSConfig.Clone()
			}
			if cfg.ServerName == "" {
				cfg.ServerName = host
			}
			if err := c.StartTLS(cfg); err != nil {
				return fail(err)
			}
		} else if s.StartTLS != TLSOpportunistic {
			return fail(errors.New("the server does not offer STARTTLS, which is required"))
		}
	case TLSNone:
	default:
		return fail(fmt.Errorf("unknown StartTLS policy %q", s.StartTLS))
	}
	if s.Username != "" {
		stage = "AUTH"
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fail(err)
		}
	}
	stage = "MAIL"
	if err := c.Mail(from); err != nil {
		return fail(err)
	}
	stage = "RCPT"
	if err := c.Rcpt(to); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return Permanent(fail(err))
		}
		return fail(err)
	}
	stage = "DATA"
	w, err := c.Data()
	if err != nil {
		return fail(err)
	}
	// The writer dot-stuffs lines that start with a dot.
	if _, err := w.Write(msg); err != nil {
		return fail(err)
	}
	if err := w.Close(); err != nil {
		return fail(err)
	}
	// The relay has accepted the message: a failure to say goodbye changes
	// nothing, and reporting it would only send the message again.
	_ = c.Quit()
	return nil
}

// MessageID is the Message-ID of a delivery's e-mail. It is the same on every
// attempt, so a message sent twice after a crash is one message to mail
// clients and archives that go by it.
func MessageID(deliveryID string) string {
	return "<" + deliveryID + "@portal>"
}

// message writes the delivery as an RFC 5322 message with CRLF line endings.
func message(d Delivery, from, to *mail.Address, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) {
		b.WriteString(k + ": " + oneLine(v) + "\r\n")
	}
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(d.Subject)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", MessageID(d.ID))
	header(HeaderDelivery, d.ID)
	// Asks out-of-office replies and the like to stay away (RFC 3834).
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	// Quoted-printable keeps lines short and the body 7-bit whatever the
	// relay supports; it writes every line break as CRLF.
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(d.Body)); err != nil {
		return nil, fmt.Errorf("encode e-mail body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("encode e-mail body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}
