package escalation

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // times are written in London time even in images without zoneinfo
	"unicode"
)

var london = mustLoadLocation("Europe/London")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("escalation: " + err.Error())
	}
	return loc
}

// Alert is what an escalation says about an incident. It holds no customer
// reference, name or account of what happened, by design: e-mail and a
// partner's webhook are not safe channels for them, so the message carries
// the facts a lead needs to act at once and a link into the portal for the
// rest.
type Alert struct {
	IncidentID  string
	Reference   string // SI-2026-ABCDEFG
	PartnerID   string
	PartnerName string
	ContractID  string
	Category    string // as people read it: "Missing customer"
	Critical    bool
	NotifiedAt  time.Time
	AwareAt     time.Time
	// Deadline is when the department had to be told; zero leaves it out.
	Deadline time.Time
	Link     string // the incident's page in the portal
}

// Event names in webhook payloads.
const (
	EventCritical = "incident.critical"
	EventSerious  = "incident.serious"
)

// WebhookEvent is the JSON body of a webhook delivery.
type WebhookEvent struct {
	DeliveryID string `json:"delivery_id"`
	Event      string `json:"event"`
	IncidentID string `json:"incident_id"`
	Reference  string `json:"reference"`
	Partner    string `json:"partner"`
	ContractID string `json:"contract_id"`
	Category   string `json:"category"`
	NotifiedAt string `json:"notified_at"` // RFC 3339, UTC
	AwareAt    string `json:"aware_at"`    // RFC 3339, UTC
	Link       string `json:"link"`
}

// Escalation builds the deliveries of one alert: an e-mail to each address
// and a webhook call to each URL, each target once.
func Escalation(a Alert, emails, webhooks []string) ([]Delivery, error) {
	var out []Delivery
	seen := map[string]bool{}
	for _, to := range emails {
		d, err := EmailFor(a, to)
		if err != nil {
			return nil, err
		}
		if !seen[d.ID] {
			seen[d.ID] = true
			out = append(out, d)
		}
	}
	for _, u := range webhooks {
		d, err := WebhookFor(a, u)
		if err != nil {
			return nil, err
		}
		if !seen[d.ID] {
			seen[d.ID] = true
			out = append(out, d)
		}
	}
	return out, nil
}

// EmailFor builds the e-mail delivery of a to one address.
func EmailFor(a Alert, to string) (Delivery, error) {
	if err := a.check(); err != nil {
		return Delivery{}, err
	}
	addr, err := mail.ParseAddress(strings.TrimSpace(to))
	if err != nil {
		return Delivery{}, errors.New("escalation e-mail: the recipient is not an e-mail address")
	}
	d := a.delivery(ChannelEmail, addr.Address)
	// Addresses differing only in case reach the same person: one message.
	d.ID = DeliveryID(a.IncidentID, ChannelEmail, strings.ToLower(addr.Address))
	d.Subject = a.subject()
	d.Body = a.emailBody()
	return d, nil
}

// WebhookFor builds the webhook delivery of a to one URL.
func WebhookFor(a Alert, target string) (Delivery, error) {
	if err := a.check(); err != nil {
		return Delivery{}, err
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Delivery{}, errors.New("escalation webhook: the target is not an absolute http(s) URL")
	}
	d := a.delivery(ChannelWebhook, target)
	d.Subject = a.subject()
	ev := WebhookEvent{
		DeliveryID: d.ID,
		Event:      EventSerious,
		IncidentID: a.IncidentID,
		Reference:  a.Reference,
		Partner:    a.PartnerName,
		ContractID: a.ContractID,
		Category:   a.Category,
		NotifiedAt: a.NotifiedAt.UTC().Format(time.RFC3339),
		AwareAt:    a.AwareAt.UTC().Format(time.RFC3339),
		Link:       a.Link,
	}
	if a.Critical {
		ev.Event = EventCritical
	}
	d.Payload, err = json.Marshal(ev)
	if err != nil {
		return Delivery{}, fmt.Errorf("escalation webhook: encode payload: %w", err)
	}
	return d, nil
}

func (a Alert) check() error {
	if a.IncidentID == "" || a.Reference == "" {
		return errors.New("escalation: the alert needs an incident ID and reference")
	}
	return nil
}

func (a Alert) delivery(channel, target string) Delivery {
	return Delivery{
		ID:          DeliveryID(a.IncidentID, channel, target),
		IncidentID:  a.IncidentID,
		IncidentRef: a.Reference,
		PartnerID:   a.PartnerID,
		ContractID:  a.ContractID,
		Channel:     channel,
		Target:      target,
	}
}

func (a Alert) subject() string {
	kind := "Serious incident"
	if a.Critical {
		kind = "Critical serious incident"
	}
	return oneLine(fmt.Sprintf("%s %s: %s (%s, %s)", kind, a.Reference, a.Category, a.PartnerName, a.ContractID))
}

func (a Alert) emailBody() string {
	var b strings.Builder
	if a.Critical {
		b.WriteString("A critical serious incident has been notified to the department. It needs a safeguarding lead's attention now.\n\n")
	} else {
		b.WriteString("A serious incident has been notified to the department.\n\n")
	}
	fmt.Fprintf(&b, "Reference: %s\n", oneLine(a.Reference))
	fmt.Fprintf(&b, "Category: %s\n", oneLine(a.Category))
	fmt.Fprintf(&b, "Partner: %s\n", oneLine(a.PartnerName))
	fmt.Fprintf(&b, "Contract: %s\n", oneLine(a.ContractID))
	fmt.Fprintf(&b, "Partner became aware: %s\n", when(a.AwareAt))
	fmt.Fprintf(&b, "Department notified: %s", when(a.NotifiedAt))
	if !a.AwareAt.IsZero() && !a.NotifiedAt.IsZero() && a.NotifiedAt.After(a.AwareAt) {
		fmt.Fprintf(&b, " (%s after the partner became aware)", span(a.NotifiedAt.Sub(a.AwareAt)))
	}
	b.WriteString("\n")
	if !a.Deadline.IsZero() {
		fmt.Fprintf(&b, "Deadline for notifying the department: %s", when(a.Deadline))
		if a.NotifiedAt.After(a.Deadline) {
			fmt.Fprintf(&b, " (missed by %s)", span(a.NotifiedAt.Sub(a.Deadline)))
		} else {
			b.WriteString(" (met)")
		}
		b.WriteString("\n")
	}
	b.WriteString("\nRead the notification in the portal:\n")
	b.WriteString(oneLine(a.Link) + "\n\n")
	b.WriteString("This e-mail holds no details of the customer or of what happened, because e-mail is not a safe channel for them. Sign in to the portal to read them.\n\n")
	b.WriteString("This is an automatic message from the Partner Safeguarding Compliance Portal. Do not reply to it.\n")
	return b.String()
}

func when(t time.Time) string {
	if t.IsZero() {
		return "not recorded"
	}
	return t.In(london).Format("2 January 2006 at 15:04 MST")
}

// span writes a duration as people read it, to the minute.
func span(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "less than a minute"
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	mins := int(d % time.Hour / time.Minute)
	var parts []string
	add := func(n int, unit string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+unit)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, unit))
		}
	}
	add(days, "day")
	add(hours, "hour")
	if days == 0 {
		add(mins, "minute")
	}
	return strings.Join(parts, " ")
}

// oneLine keeps a value to one line: partner names and references reach
// mail headers, where a line break would start a header of the sender's
// choosing.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
