package report

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/department/safeguarding-portal/internal/partner"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// NoticesCollection is the outbox of the e-mails that tell partners a
// report about them is ready, apart from escalations and reminders.
const NoticesCollection = "report_notices"

// Notices tells a partner's compliance contacts when the partner's edition
// of a report about their organisation is ready, unless one of their own
// people asked for it (they watch it being made). The e-mail names the
// report and links to it; the figures stay in the portal, where reading
// them is checked and recorded.
//
// Each e-mail's delivery ID is derived from the report and the address, so
// the replicas and the report command, storing it however often, store it
// once, and the outbox's worker sends it once.
type Notices struct {
	Outbox   *escalation.Outbox
	Partners *partner.Store
	// BaseURL is the portal's address, for the link to the report.
	BaseURL string
}

// NewNotices keeps the notices in db's report notice outbox.
func NewNotices(db *mongo.Database, partners *partner.Store, baseURL string) *Notices {
	return &Notices{Outbox: escalation.NewOutboxIn(db, NoticesCollection), Partners: partners, BaseURL: strings.TrimSuffix(baseURL, "/")}
}

// About is what a report's notices are stored as being for.
func About(reportID string) string { return "report/" + reportID }

// Ready stores the e-mails due now that e is ready, and says how many.
func (n *Notices) Ready(ctx context.Context, e Entry) (int, error) {
	if e.Status != Ready || e.Edition != PartnerEdition || e.PartnerID == "" || e.RequestedBy.Org == e.PartnerID {
		return 0, nil
	}
	p, err := n.Partners.Get(ctx, access.Everything(), e.PartnerID)
	if errors.Is(err, partner.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("report notice: %w", err)
	}
	about := About(e.ID)
	subject := "Safeguarding report ready: " + p.Name + ", " + e.Period.Label()
	link := n.BaseURL + "/reports/" + e.ID
	var ds []escalation.Delivery
	for _, to := range p.ComplianceAddresses() {
		ds = append(ds, escalation.Delivery{
			ID:          escalation.DeliveryID(about, escalation.ChannelEmail, to),
			IncidentID:  about,
			IncidentRef: "report " + e.ID,
			PartnerID:   e.PartnerID,
			Channel:     escalation.ChannelEmail,
			Target:      to,
			Subject:     subject,
			Body:        noticeBody(p.Name, e, link),
		})
	}
	if len(ds) == 0 {
		return 0, nil
	}
	if err := n.Outbox.Enqueue(ctx, ds); err != nil {
		return 0, fmt.Errorf("report notice: %w", err)
	}
	return len(ds), nil
}

// ForReport returns the deliveries of a report's notices.
func (n *Notices) ForReport(ctx context.Context, reportID string) ([]escalation.Delivery, error) {
	return n.Outbox.ForIncident(ctx, About(reportID))
}

func noticeBody(partnerName string, e Entry, link string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The department has published a safeguarding governance report about %s for %s.\n\n", partnerName, e.Period.Label())
	fmt.Fprintf(&b, "Report: %s\nAbout: %s\n\n", e.ID, e.Subject)
	fmt.Fprintf(&b, "Sign in to read it or download the PDF:\n%s\n\n", link)
	b.WriteString("The report is marked OFFICIAL-SENSITIVE. Read it in the portal, and share it only with the people in your organisation who need it.\n")
	return b.String()
}
