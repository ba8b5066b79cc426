package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// hashVersion starts every encoding, so a future change of encoding cannot be
// mistaken for this one.
const hashVersion = "portal-audit-v1"

// timeLayout has fixed width (always three fractional digits), so the encoded
// time never depends on trailing zeros.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// computeHash is the hex SHA-256 of the event's canonical encoding: a sequence
// of netstrings (decimal byte length, ':', the bytes, ','), one per field, in
// this order:
//
//	"portal-audit-v1", seq (decimal), event_id, time (UTC, 2006-01-02T15:04:05.000Z),
//	actor.kind, actor.subject, actor.issuer, actor.roles, actor.org, action,
//	resource, partner_id, outcome, client_ip, request_id, detail, prev_hash
//
// where actor.roles is one netstring holding the concatenated netstrings of the
// roles. Length prefixes make the encoding injective (no two different events
// encode alike, whatever their fields contain), and an auditor can recompute it
// from a CSV export in a few lines of any language. Hash itself is the only field
// left out; Seq and PrevHash are in, which is what chains the events.
func (e Event) computeHash() string {
	sum := sha256.Sum256(e.canonical())
	return hex.EncodeToString(sum[:])
}

// contentHash identifies what happened regardless of where it sits in the chain,
// to recognise an event that was already appended.
func (e Event) contentHash() string {
	e.Seq, e.PrevHash = 0, ""
	return e.computeHash()
}

func (e Event) canonical() []byte {
	b := make([]byte, 0, 512)
	b = netstring(b, hashVersion)
	b = netstring(b, strconv.FormatInt(e.Seq, 10))
	b = netstring(b, e.EventID)
	b = netstring(b, e.Time.UTC().Format(timeLayout))
	b = netstring(b, e.Actor.Kind)
	b = netstring(b, e.Actor.Subject)
	b = netstring(b, e.Actor.Issuer)
	var roles []byte
	for _, r := range e.Actor.Roles {
		roles = netstring(roles, r)
	}
	b = netstring(b, string(roles))
	b = netstring(b, e.Actor.Org)
	b = netstring(b, e.Action)
	b = netstring(b, e.Resource)
	b = netstring(b, e.PartnerID)
	b = netstring(b, e.Outcome)
	b = netstring(b, e.ClientIP)
	b = netstring(b, e.RequestID)
	b = netstring(b, e.Detail)
	b = netstring(b, e.PrevHash)
	return b
}

func netstring(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	b = append(b, s...)
	return append(b, ',')
}

// formatTime is how times appear in exports, matching the hashed form.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }
