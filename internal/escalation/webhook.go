package escalation

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook request headers.
const (
	HeaderDelivery  = "X-Portal-Delivery"
	HeaderTimestamp = "X-Portal-Timestamp"
	HeaderSignature = "X-Portal-Signature"
)

// DefaultTimeout bounds one attempt by either sender.
const DefaultTimeout = 10 * time.Second

// WebhookSender POSTs a delivery's payload, signed with the secret
// configured for its URL.
type WebhookSender struct {
	// Client sends the requests; nil means one with DefaultTimeout that does
	// not follow redirects (a webhook that moved is a configuration error to
	// see, not to follow with a signed alert).
	Client *http.Client
	// Secrets holds each webhook URL's signing secret.
	Secrets map[string]string
	// Now is the clock for the timestamp header; nil means time.Now.
	Now func() time.Time
}

var defaultWebhookClient = &http.Client{
	Timeout:       DefaultTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Send makes one attempt. A 2xx answer is delivery; a 4xx other than 408 and
// 429 is a permanent refusal; anything else, or no answer, is worth a retry.
func (s *WebhookSender) Send(ctx context.Context, d Delivery) error {
	secret, ok := s.Secrets[d.Target]
	if !ok || secret == "" {
		// Retried rather than refused: configuration can be put right, and an
		// unsigned alert would be rightly ignored by the receiver.
		return errors.New("no signing secret is configured for this webhook")
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Target, bytes.NewReader(d.Payload))
	if err != nil {
		return Permanent(errors.New("the webhook URL cannot be requested"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "safeguarding-portal-escalation")
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, sign(secret, ts, d.Payload))
	client := s.Client
	if client == nil {
		client = defaultWebhookClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// url.Error repeats the URL, which may carry a token of its own.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook request: %w", err)
	}
	// Drained (a little) so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return fmt.Errorf("webhook answered %d", code)
	case code >= 400 && code < 500:
		return Permanent(fmt.Errorf("webhook refused the delivery with %d", code))
	default:
		return fmt.Errorf("webhook answered %d", code)
	}
}

// Sign returns the X-Portal-Signature value for body sent at timestamp (unix
// seconds): "sha256=" and the hex HMAC-SHA256, keyed with secret, of the
// timestamp, a dot and the body. The timestamp is signed so a captured
// request cannot be replayed later with a fresh one.
func Sign(secret string, timestamp int64, body []byte) string {
	return sign(secret, strconv.FormatInt(timestamp, 10), body)
}

func sign(secret, ts string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Errors VerifySignature returns.
var (
	ErrUnsigned         = errors.New("webhook request is not signed")
	ErrBadSignature     = errors.New("webhook signature does not match")
	ErrStaleTimestamp   = errors.New("webhook timestamp is outside the accepted window")
	ErrMalformedHeaders = errors.New("webhook signature headers are malformed")
)

// VerifySignature checks a webhook request as a receiver should: the
// signature must be the HMAC of the timestamp and body under secret, and the
// timestamp within tolerance of now either way, so a captured request cannot
// be replayed once the window has passed. Receivers should also drop a
// delivery ID they have already seen: within the window, and after a crash,
// the same delivery may arrive twice.
func VerifySignature(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sig := header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return ErrUnsigned
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrMalformedHeaders
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return ErrMalformedHeaders
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrMalformedHeaders
	}
	if !hmac.Equal(got, mac(secret, ts, body)) {
		return ErrBadSignature
	}
	// Checked after the signature, so the timestamp compared is one the
	// sender vouched for.
	age := now.Sub(time.Unix(unix, 0))
	if age > tolerance || age < -tolerance {
		return ErrStaleTimestamp
	}
	return nil
}

// permanentError marks a refusal that no retry will change.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as a refusal no retry will change: the worker then
// records the delivery as failed at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
