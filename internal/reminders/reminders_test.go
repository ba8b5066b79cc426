package reminders_test

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/department/safeguarding-portal/internal/escalation/escalationtest"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/reminders"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

var (
	manager = oversight.Actor{Kind: "person", ID: "m", Name: "Mo Manager"}
	officer = oversight.Actor{Kind: "person", ID: "o", Name: "Sam Officer"}
	event   = audit.Event{Actor: audit.Actor{Kind: audit.KindPerson, Subject: "m"}, ClientIP: "192.0.2.1", RequestID: "req-1"}
	// june1 is 10:00 in London on Monday 1 June 2026.
	june1    = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	schedule = reminders.Schedule{DaysBefore: 7, OverdueEvery: 7}
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func action(status string, due time.Time) oversight.Action {
	return oversight.Action{ID: bson.NewObjectID(), Status: status, DueOn: due}
}

// When each reminder is due: a week before, on the day, on the first day
// overdue and each week after, as London days, and never while the action
// waits for the department or is closed.
func TestScheduleDue(t *testing.T) {
	due := date(2026, 6, 15)
	cases := []struct {
		name   string
		status string
		now    time.Time
		kind   string
		days   int
		key    string
	}{
		{"eight days before", oversight.Open, time.Date(2026, 6, 7, 12, 0, 0, 0, time.UTC), "", 0, ""},
		{"seven days before, just after midnight in London", oversight.Open, time.Date(2026, 6, 7, 23, 0, 0, 0, time.UTC), reminders.DueSoon, 7, "due-2026-06-15/before"},
		{"three days before", oversight.Returned, date(2026, 6, 12), reminders.DueSoon, 3, "due-2026-06-15/before"},
		{"on the day, late at night", oversight.Open, time.Date(2026, 6, 15, 22, 59, 0, 0, time.UTC), reminders.DueSoon, 0, "due-2026-06-15/before"},
		{"first day overdue", oversight.Open, time.Date(2026, 6, 15, 23, 0, 0, 0, time.UTC), reminders.Overdue, 1, "due-2026-06-15/overdue-0"},
		{"seven days overdue", oversight.Open, date(2026, 6, 22), reminders.Overdue, 7, "due-2026-06-15/overdue-0"},
		{"eight days overdue", oversight.Returned, date(2026, 6, 23), reminders.Overdue, 8, "due-2026-06-15/overdue-1"},
		{"fifteen days overdue", oversight.Open, date(2026, 6, 30), reminders.Overdue, 15, "due-2026-06-15/overdue-2"},
		{"answered, waiting for the department", oversight.Responded, date(2026, 6, 30), "", 0, ""},
		{"closed", oversight.Closed, date(2026, 6, 30), "", 0, ""},
	}
	for _, c := range cases {
		got, ok := schedule.Due(action(c.status, due), calendar.Today(c.now))
		if ok != (c.kind != "") || got.Kind != c.kind || got.Days != c.days || got.Key != c.key {
			t.Errorf("%s: %+v (%v), want %s %d %s", c.name, got, ok, c.kind, c.days, c.key)
		}
	}
}

type fixture struct {
	db      *mongo.Database
	actions *oversight.Store
	smtp    *escalationtest.SMTP
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	contracts := partner.NewStore(db)
	if err := contracts.Insert(ctx,
		[]partner.Partner{
			{ID: "northgate", Name: "Northgate Services Ltd", Contacts: []partner.Contact{
				{Name: "Olivia Hart", Role: "Compliance officer", Email: "officer@northgate.example"},
				{Name: "Raj Shah", Role: "Finance director", Email: "finance@northgate.example"}}},
			{ID: "brightwell", Name: "Brightwell Care Ltd", Contacts: []partner.Contact{
				{Name: "Ben Okafor", Role: "Compliance officer", Email: "officer@brightwell.example"}}},
		},
		[]partner.Contract{
			{ID: "NG-1", PartnerID: "northgate", Title: "Accommodation North", ServiceLine: partner.AsylumAccommodation, Status: partner.Active},
			{ID: "BW-1", PartnerID: "brightwell", Title: "Screening", ServiceLine: partner.Screening, Status: partner.Active},
		}); err != nil {
		t.Fatal(err)
	}
	s := oversight.NewStore(db, trail, contracts)
	s.Now = func() time.Time { return june1 }
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	return fixture{db: db, actions: s, smtp: escalationtest.StartSMTP(t, "")}
}

func (f fixture) raise(t *testing.T, contractID string, due time.Time) oversight.Action {
	t.Helper()
	a, err := f.actions.Raise(context.Background(), access.Everything(), oversight.NewAction{ContractID: contractID,
		Source: oversight.Source{Kind: oversight.FromReview, ID: "QRB-2026-Q2"}, Title: "Night checks at Hull",
		Detail: "Customer HO-1234567 was not checked overnight.", Priority: oversight.High, DueOn: due}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// replica is one portal process's reminders: its own stores and worker on
// the shared database, its own clock.
func (f fixture) replica(t *testing.T, clock *atomic.Pointer[time.Time]) *reminders.Reminders {
	t.Helper()
	trail := audit.New(f.db)
	contracts := partner.NewStore(f.db)
	sender := &escalation.SMTPSender{Addr: f.smtp.Addr, From: "Safeguarding Portal <portal@department.example>", StartTLS: escalation.TLSNone, Timeout: 5 * time.Second}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	r := reminders.New(f.db, oversight.NewStore(f.db, trail, contracts), contracts, sender, schedule, "https://portal.example", log)
	r.Worker.Poll = 50 * time.Millisecond
	r.Now = func() time.Time { return *clock.Load() }
	if err := r.Outbox.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// Two replicas checking at the same moments, again and again, send each
// reminder exactly once: a week before, on the first day overdue and a
// week later; nothing once the partner has answered.
func TestRemindersGoOnceWhateverTheReplicas(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	weekAhead := f.raise(t, "NG-1", date(2026, 6, 8))
	f.raise(t, "NG-1", date(2026, 6, 20)) // too far off until 13 June
	answered := f.raise(t, "NG-1", date(2026, 6, 5))
	if _, err := f.actions.Respond(ctx, access.PartnerScope("northgate"), answered.ID.Hex(), answered.Version,
		oversight.Response{Text: "Done."}, officer, event); err != nil {
		t.Fatal(err)
	}
	soon := f.raise(t, "BW-1", date(2026, 6, 3))

	var clock atomic.Pointer[time.Time]
	clock.Store(&june1)
	replicas := []*reminders.Reminders{f.replica(t, &clock), f.replica(t, &clock)}
	runCtx, stop := context.WithCancel(ctx)
	var running sync.WaitGroup
	for _, r := range replicas {
		running.Add(1)
		go func() { defer running.Done(); r.Run(runCtx) }()
	}
	defer func() { stop(); running.Wait() }()
	// Both check at once, several times over, at each moment.
	checkAt := func(at time.Time) {
		clock.Store(&at)
		var wg sync.WaitGroup
		for range 3 {
			for _, r := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := r.Enqueue(ctx, at); err != nil {
						t.Error(err)
					}
					r.Wake()
				}()
			}
		}
		wg.Wait()
	}
	type sent struct{ to, subject string }
	received := func() []sent {
		var out []sent
		for _, m := range f.smtp.Mail() {
			msg, err := mail.ReadMessage(strings.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			out = append(out, sent{strings.Join(m.To, ","), subject})
		}
		return out
	}
	expect := func(when string, want ...sent) {
		t.Helper()
		waitFor(t, when, func() bool { return len(f.smtp.Mail()) >= len(want) })
		time.Sleep(300 * time.Millisecond) // anything sent twice would arrive now
		got := received()
		if len(got) != len(want) {
			t.Fatalf("%s: %d e-mails %v, want %d %v", when, len(got), got, len(want), want)
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: e-mails %v lack %v", when, got, w)
			}
		}
		for id, n := range f.smtp.DeliveryIDs() {
			if n != 1 {
				t.Errorf("%s: delivery %s arrived %d times", when, id, n)
			}
		}
	}

	checkAt(june1)
	first := []sent{
		{"officer@northgate.example", "Action due in 7 days on contract NG-1"},
		{"officer@brightwell.example", "Action due in 2 days on contract BW-1"},
	}
	expect("the week-ahead reminders", first...)
	checkAt(june1.Add(2 * time.Hour)) // later the same day: nothing new
	checkAt(date(2026, 6, 3).Add(12 * time.Hour))
	expect("nothing new on the due day of a reminder already sent", first...)

	checkAt(date(2026, 6, 4).Add(7 * time.Hour)) // Brightwell's first day overdue
	bwOverdue := sent{"officer@brightwell.example", "Overdue action on contract BW-1: due 3 June 2026"}
	second := append(first, bwOverdue)
	expect("the first overdue reminder", second...)
	checkAt(date(2026, 6, 9).Add(7 * time.Hour)) // Northgate's first day overdue
	third := append(second, sent{"officer@northgate.example", "Overdue action on contract NG-1: due 8 June 2026"})
	expect("Northgate's first overdue reminder, and nothing more for Brightwell's", third...)
	checkAt(date(2026, 6, 10).Add(7 * time.Hour))
	expect("nothing new the next day", third...)

	// Northgate answers; a week after its first overdue day only
	// Brightwell's is reminded again.
	if _, err := f.actions.Respond(ctx, access.PartnerScope("northgate"), weekAhead.ID.Hex(), weekAhead.Version,
		oversight.Response{Text: "Night checks restarted."}, officer, event); err != nil {
		t.Fatal(err)
	}
	checkAt(date(2026, 6, 11).Add(7 * time.Hour))
	expect("the weekly overdue reminder", append(third, bwOverdue)...)
	// No check ran from 12 to 15 June: the later action's week-ahead
	// reminder goes late rather than not at all, and the answered action's
	// second overdue reminder does not go.
	checkAt(date(2026, 6, 16).Add(7 * time.Hour))
	expect("a missed reminder, late, and nothing for an answered action",
		append(third, bwOverdue, sent{"officer@northgate.example", "Action due in 4 days on contract NG-1"})...)

	deliveries, err := replicas[1].ForAction(ctx, soon.ID.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if len(deliveries) != 3 {
		t.Errorf("Brightwell's action has %d reminder deliveries, want 3", len(deliveries))
	}
	for _, d := range deliveries {
		if d.State != escalation.StateDelivered || d.Target != "officer@brightwell.example" {
			t.Errorf("delivery %+v", d)
		}
	}
	if n, err := f.db.Collection(escalation.Collection).CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Errorf("the escalations' outbox holds %d reminders (%v)", n, err)
	}
}

// A reminder names the contract, the partner, the due day and where to
// respond, and nothing of what the action asks.
func TestReminderSaysWhenAndWhereButNotWhat(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.raise(t, "NG-1", date(2026, 6, 4))
	var clock atomic.Pointer[time.Time]
	clock.Store(&june1)
	r := f.replica(t, &clock)
	if n, err := r.Enqueue(ctx, june1); err != nil || n != 1 {
		t.Fatalf("enqueued %d (%v), want 1", n, err)
	}
	if _, err := r.Worker.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	mails := f.smtp.Mail()
	if len(mails) != 1 {
		t.Fatalf("%d e-mails", len(mails))
	}
	msg, err := mail.ReadMessage(strings.NewReader(mails[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	raw := new(strings.Builder)
	if _, err := io.Copy(raw, quotedprintable.NewReader(msg.Body)); err != nil {
		t.Fatal(err)
	}
	body := raw.String()
	for _, want := range []string{"Northgate Services Ltd", "contract NG-1", "due in 3 days, on 4 June 2026", "Priority: High",
		"Raised from: a contract review", "https://portal.example/actions/" + a.ID.Hex()} {
		if !strings.Contains(body, want) {
			t.Errorf("the reminder lacks %q:\n%s", want, body)
		}
	}
	for _, secret := range []string{"Night checks at Hull", "HO-1234567", "overnight"} {
		if strings.Contains(body, secret) || strings.Contains(mails[0].Data, secret) {
			t.Errorf("the reminder carries %q", secret)
		}
	}
}
