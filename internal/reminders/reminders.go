// Package reminders e-mails a partner's compliance contacts about the
// actions the department has raised against it while they wait for the
// partner: some days before one is due, on its first day overdue, and again
// every so many days while it stays overdue. An action the partner has
// answered waits for the department, so it is not reminded of.
//
// Reminders go through an escalation outbox of their own, so they are
// stored before they are sent, retried, and sent by the same SMTP sender
// as escalations. Each reminder's delivery ID is derived from the action,
// the reminder and the address, so any number of portal replicas checking
// at once store each reminder once, and it is sent once.
package reminders

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Collection keeps the reminders' deliveries, apart from escalations.
const Collection = "reminder_deliveries"

// Kinds of reminder.
const (
	DueSoon = "due_soon" // due within the days before, or today
	Overdue = "overdue"  // past its due day
)

// Schedule says when an action waiting for the partner is reminded of.
type Schedule struct {
	// DaysBefore is how many days before the due day the first reminder goes.
	DaysBefore int
	// OverdueEvery is how many days apart the overdue reminders go, the
	// first on the first day overdue.
	OverdueEvery int
}

// Reminder is one reminder about one action.
type Reminder struct {
	Kind string
	// Key names the reminder among the action's: every replica, on every
	// check, gives the same reminder the same key.
	Key string
	// Days is how many days are left before the due day (0 on the day
	// itself), or how many days the action is overdue.
	Days int
}

// Due is the reminder due about a on the London day today, if any. A
// reminder is due from its day until the next one's, so a check missed
// while no replica ran (a deployment over midnight) still sends it, late.
func (s Schedule) Due(a oversight.Action, today time.Time) (Reminder, bool) {
	if a.Status != oversight.Open && a.Status != oversight.Returned {
		return Reminder{}, false
	}
	due := a.DueOn.Format(time.DateOnly)
	switch left := calendar.DaysBetween(today, a.DueOn); {
	case left > s.DaysBefore:
		return Reminder{}, false
	case left >= 0:
		return Reminder{Kind: DueSoon, Key: "due-" + due + "/before", Days: left}, true
	default:
		late := -left
		round := (late - 1) / max(s.OverdueEvery, 1)
		return Reminder{Kind: Overdue, Key: fmt.Sprintf("due-%s/overdue-%d", due, round), Days: late}, true
	}
}

// Partners lists the partners, with their contacts; partner.Store does.
type Partners interface {
	List(ctx context.Context, scope access.Scope) ([]partner.Partner, error)
}

// Reminders checks which reminders are due and sends them.
type Reminders struct {
	Actions  *oversight.Store
	Partners Partners
	Outbox   *escalation.Outbox
	// Worker sends the outbox's deliveries; Run runs it.
	Worker   *escalation.Worker
	Schedule Schedule
	// BaseURL is the portal's address, for the link to each action.
	BaseURL string
	// Every is how often Run checks; default an hour.
	Every time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger

	once sync.Once
	wake chan struct{}
}

// New keeps reminders in db's reminder outbox and sends them with email
// (nil keeps them waiting until a relay is configured).
func New(db *mongo.Database, actions *oversight.Store, partners Partners, email escalation.Sender, schedule Schedule, baseURL string, log *slog.Logger) *Reminders {
	outbox := escalation.NewOutboxIn(db, Collection)
	w := escalation.NewWorker(outbox, email, nil)
	w.Log = log.With("outbox", "reminders")
	return &Reminders{Actions: actions, Partners: partners, Outbox: outbox, Worker: w, Schedule: schedule, BaseURL: baseURL, Log: log}
}

// EnsureIndexes creates what the reminders' outbox needs in db.
func EnsureIndexes(ctx context.Context, db *mongo.Database) error {
	if err := escalation.NewOutboxIn(db, Collection).EnsureIndexes(ctx); err != nil {
		return fmt.Errorf("reminder outbox: %w", err)
	}
	return nil
}

func (r *Reminders) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reminders) init() { r.once.Do(func() { r.wake = make(chan struct{}, 1) }) }

// Wake makes a running Run check now rather than at its next turn: after
// an action is raised, say, which may be due within the days before. It
// never blocks.
func (r *Reminders) Wake() {
	r.init()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run checks at once, then every r.Every and whenever Wake is called, and
// sends what is due, until ctx ends.
func (r *Reminders) Run(ctx context.Context) {
	r.init()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := r.Worker.Run(ctx); err != nil && ctx.Err() == nil {
			r.Log.Error("reminder worker stopped", "err", err)
		}
	}()
	defer wg.Wait()
	every := r.Every
	if every <= 0 {
		every = time.Hour
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if n, err := r.Enqueue(ctx, r.now()); err != nil && ctx.Err() == nil {
			r.Log.Error("action reminders not stored", "err", err)
		} else if n > 0 {
			r.Worker.Wake()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.wake:
		}
	}
}

// batch is how many deliveries are stored in one write.
const batch = 100

// Enqueue stores the reminders due at now, and returns how many deliveries
// they make. Storing a reminder again adds nothing, so any number of
// replicas may check at once and as often as they like.
func (r *Reminders) Enqueue(ctx context.Context, now time.Time) (int, error) {
	today := calendar.Today(now)
	partners, err := r.Partners.List(ctx, access.Everything())
	if err != nil {
		return 0, fmt.Errorf("action reminders: %w", err)
	}
	byID := map[string]partner.Partner{}
	for _, p := range partners {
		byID[p.ID] = p
	}
	var pending []escalation.Delivery
	total := 0
	flush := func() error {
		if err := r.Outbox.Enqueue(ctx, pending); err != nil {
			return fmt.Errorf("action reminders: %w", err)
		}
		total += len(pending)
		pending = pending[:0]
		return nil
	}
	filter := oversight.ActionFilter{AwaitingPartner: true, DueBy: calendar.AddDays(today, r.Schedule.DaysBefore)}
	err = r.Actions.EachAction(ctx, access.Everything(), filter, func(a oversight.Action) error {
		rem, ok := r.Schedule.Due(a, today)
		if !ok {
			return nil
		}
		p := byID[a.PartnerID]
		for _, to := range p.ComplianceAddresses() {
			pending = append(pending, r.delivery(a, p, rem, to))
		}
		if len(pending) >= batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("action reminders: %w", err)
	}
	if err := flush(); err != nil {
		return total, err
	}
	return total, nil
}

// About is what an action's reminders are stored as being for, so that
// ForAction finds them.
func About(actionID string) string { return "action/" + actionID }

// ForAction returns the deliveries of an action's reminders, oldest first.
func (r *Reminders) ForAction(ctx context.Context, actionID string) ([]escalation.Delivery, error) {
	return r.Outbox.ForIncident(ctx, About(actionID))
}

func (r *Reminders) delivery(a oversight.Action, p partner.Partner, rem Reminder, to string) escalation.Delivery {
	about := About(a.ID.Hex())
	subject, body := message(a, p, rem, r.BaseURL+"/actions/"+a.ID.Hex())
	return escalation.Delivery{
		// Addresses differing only in case reach the same person: one message.
		ID:          escalation.DeliveryID(about+"/"+rem.Key, escalation.ChannelEmail, strings.ToLower(to)),
		IncidentID:  about,
		IncidentRef: "action " + a.ID.Hex(),
		PartnerID:   a.PartnerID,
		ContractID:  a.ContractID,
		Channel:     escalation.ChannelEmail,
		Target:      to,
		Subject:     subject,
		Body:        body,
	}
}

var sourceNames = map[string]string{
	oversight.FromInspection: "an inspection",
	oversight.FromIncident:   "a serious incident",
	oversight.FromReview:     "a contract review",
}

// message is a reminder's subject and text. Like an escalation it says
// nothing of what the action asks: a manager writes that, and it may
// describe customers or staff, and e-mail is not a safe channel for them.
func message(a oversight.Action, p partner.Partner, rem Reminder, link string) (subject, body string) {
	due := calendar.Format(a.DueOn)
	days := func(n int) string {
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	var b strings.Builder
	switch {
	case rem.Kind == Overdue:
		subject = fmt.Sprintf("Overdue action on contract %s: due %s", a.ContractID, due)
		fmt.Fprintf(&b, "An action the department raised with %s on contract %s was due on %s and is %s overdue.\n", p.Name, a.ContractID, due, days(rem.Days))
		b.WriteString("Overdue actions count against the partner's performance until the department accepts a response and closes them.\n\n")
	case rem.Days == 0:
		subject = fmt.Sprintf("Action due today on contract %s", a.ContractID)
		fmt.Fprintf(&b, "An action the department raised with %s on contract %s is due today, %s.\n\n", p.Name, a.ContractID, due)
	default:
		subject = fmt.Sprintf("Action due in %s on contract %s", days(rem.Days), a.ContractID)
		fmt.Fprintf(&b, "An action the department raised with %s on contract %s is due in %s, on %s.\n\n", p.Name, a.ContractID, days(rem.Days), due)
	}
	if a.Status == oversight.Returned {
		b.WriteString("The department returned your last response: it needs more before the action can be closed.\n\n")
	}
	fmt.Fprintf(&b, "Priority: %s\n", oversight.PriorityName(a.Priority))
	fmt.Fprintf(&b, "Raised from: %s\n", sourceNames[a.Source.Kind])
	fmt.Fprintf(&b, "Raised on: %s\n", calendar.Format(calendar.Today(a.CreatedAt)))
	fmt.Fprintf(&b, "Due: %s\n\n", due)
	b.WriteString("Read the action and respond to it in the portal:\n")
	b.WriteString(link + "\n\n")
	b.WriteString("This e-mail does not say what the action asks, because e-mail is not a safe channel for details of customers or staff. Sign in to the portal to read it.\n\n")
	b.WriteString("This is an automatic message from the Partner Safeguarding Compliance Portal. Do not reply to it.\n")
	return subject, b.String()
}
