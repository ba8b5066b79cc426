package portfolio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/staff"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection holds a document per contract and calendar month.
const Collection = "contract_months"

// Month is a contract's figures in one calendar month (London time). The
// current month's staff figures are recounted as assessments change; once
// the month is over they stay as they last stood in it, which is what the
// next month's trend compares against.
type Month struct {
	ID         string `bson:"_id"` // contract ID and month: "CS-ACC-2025-014 2026-11"
	ContractID string `bson:"contract_id"`
	PartnerID  string `bson:"partner_id"`
	Month      string `bson:"month"` // "2026-11"
	// Day is the London day the staff figures were judged on, the last day
	// counted in the month; CountedAt when they were counted.
	Day       time.Time    `bson:"day"`
	CountedAt time.Time    `bson:"counted_at"`
	Staff     StaffFigures `bson:"staff"`
	// Notified counts the incidents the partner notified under the contract
	// in the month, and Late those that reached the department after their
	// notification deadline.
	Notified int `bson:"notified"`
	Late     int `bson:"late"`
}

// OnTimePercent is the share of the month's notifications made on time;
// 100 with none made.
func (m Month) OnTimePercent() float64 {
	if m.Notified == 0 {
		return 100
	}
	return percent(m.Notified-m.Late, m.Notified)
}

// MonthKey names the London calendar month of a day or instant: "2026-11".
func MonthKey(t time.Time) string { return calendar.Today(t).Format("2006-01") }

// monthStart is the instant the London month containing t began.
func monthStart(t time.Time) time.Time {
	d := calendar.Today(t)
	return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, calendar.London)
}

// PreviousMonthStart is the instant the London month before the one
// containing t began: the figures count notifications from then.
func PreviousMonthStart(t time.Time) time.Time { return monthStart(monthStart(t).Add(-time.Hour)) }

// PreviousMonth is the month before the one containing t.
func PreviousMonth(t time.Time) string { return MonthKey(PreviousMonthStart(t)) }

func monthID(contractID, month string) string { return contractID + " " + month }

// Counter recounts partners' figures into the store. Mark says a partner's
// figures may have changed; Run recounts marked partners shortly after,
// coalescing a burst of changes into one count, and every partner hourly.
// Several replicas may count the same partner at once: each writes what the
// records say, and the last write stands.
type Counter struct {
	DB        *mongo.Database
	Staff     *staff.Store
	Partners  *partner.Store
	Incidents *incident.Store
	Catalogue *requirements.Catalogue
	Log       *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Settle is how long Run waits after a mark for more; default 200 ms.
	Settle time.Duration

	mu       sync.Mutex
	marked   map[string]bool
	counting int
	wake     chan struct{}
	once     sync.Once
}

func (c *Counter) init() {
	c.once.Do(func() {
		c.marked = map[string]bool{}
		c.wake = make(chan struct{}, 1)
	})
}

func (c *Counter) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Counter) coll() *mongo.Collection { return c.DB.Collection(Collection) }

// EnsureIndexes makes the dashboard's read, a month's documents for the
// contracts within reach, an index read on real MongoDB.
func (c *Counter) EnsureIndexes(ctx context.Context) error {
	_, err := c.coll().Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "month", Value: 1}, {Key: "contract_id", Value: 1}},
		Options: options.Index().SetName("month_contract"),
	})
	if err != nil {
		return fmt.Errorf("contract month indexes: %w", err)
	}
	return nil
}

// Mark says the partner's figures may have changed.
func (c *Counter) Mark(partnerID string) {
	c.init()
	c.mu.Lock()
	c.marked[partnerID] = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Busy reports whether this process has partners marked or being counted:
// figures read now may be about to change.
func (c *Counter) Busy() bool {
	c.init()
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.marked) > 0 || c.counting > 0
}

// Run recounts marked partners until ctx ends, and every partner at start
// and then every interval.
func (c *Counter) Run(ctx context.Context, interval time.Duration) {
	c.init()
	settle := c.Settle
	if settle == 0 {
		settle = 200 * time.Millisecond
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	if err := c.CountAll(ctx); err != nil && ctx.Err() == nil {
		c.Log.Error("contract figures not counted", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := c.CountAll(ctx); err != nil && ctx.Err() == nil {
				c.Log.Error("contract figures not counted", "err", err)
			}
		case <-c.wake:
			select {
			case <-ctx.Done():
				return
			case <-time.After(settle):
			}
			c.countMarked(ctx)
		}
	}
}

func (c *Counter) countMarked(ctx context.Context) {
	c.mu.Lock()
	ids := make([]string, 0, len(c.marked))
	for id := range c.marked {
		ids = append(ids, id)
	}
	clear(c.marked)
	c.counting++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.counting--
		c.mu.Unlock()
	}()
	for _, id := range ids {
		if err := c.Count(ctx, id); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.Log.Error("contract figures not counted", "partner_id", id, "err", err)
			c.Mark(id) // try again after the next settle
		}
	}
}

// CountAll recounts every partner.
func (c *Counter) CountAll(ctx context.Context) error {
	c.init()
	c.mu.Lock()
	c.counting++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.counting--
		c.mu.Unlock()
	}()
	// Another replica may have stored an incident without its tally.
	if _, err := c.Incidents.ReconcileTallies(ctx); err != nil {
		return fmt.Errorf("count contract figures: %w", err)
	}
	ps, err := c.Partners.List(ctx, access.Everything())
	if err != nil {
		return fmt.Errorf("count contract figures: %w", err)
	}
	var errs []error
	for _, p := range ps {
		if err := c.Count(ctx, p.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Count recounts one partner's contracts for the current month and stores
// the figures, without each requirement's. The last month's staff figures
// are left as they stood; its notifications are corrected, since one made
// late in the month, after its final count, still belongs to it.
func (c *Counter) Count(ctx context.Context, partnerID string) error {
	now := c.now()
	scope := access.PartnerScope(partnerID)
	notices := func() ([]incident.Tally, error) {
		return c.Incidents.NotifiedBetween(ctx, scope, PreviousMonthStart(now), time.Time{})
	}
	months, last, err := c.count(ctx, partnerID, now, nil, notices)
	if err != nil {
		return err
	}
	for contractID, m := range months {
		m.Staff.Requirements = nil
		if _, err := c.coll().ReplaceOne(ctx, bson.D{{Key: "_id", Value: m.ID}}, m, options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("store %s figures: %w", contractID, err)
		}
		t := last[contractID]
		if _, err := c.coll().UpdateOne(ctx, bson.D{{Key: "_id", Value: monthID(contractID, PreviousMonth(now))}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "notified", Value: t.Notified}, {Key: "late", Value: t.Late}}}}); err != nil {
			return fmt.Errorf("store %s figures: %w", contractID, err)
		}
	}
	return nil
}

// Figures counts a partner's live contracts as Count would at now, with
// each requirement's figures, and stores nothing: reports count with it so
// that their figures are the dashboard's. visit, if not nil, sees each
// member of the roster on the way, so a caller can count more in the same
// single pass over it. notices gives the notifications made since last
// month began, at least, for the partner's contracts, once the roster has
// been read: the caller reads them once for every partner it counts, and
// may read them while the roster is read.
func (c *Counter) Figures(ctx context.Context, partnerID string, now time.Time, visit func(staff.Member), notices func() ([]incident.Tally, error)) (map[string]Month, error) {
	months, _, err := c.count(ctx, partnerID, now, visit, notices)
	return months, err
}

// Notifications are the notifications made in a month and how many were late.
type Notifications struct{ Notified, Late int }

// count counts the partner's live contracts for the month containing now:
// staff figures from the stored assessments, read in one pass over the
// roster, and notifications from those given. It returns this month's
// figures and last month's notifications, by contract.
func (c *Counter) count(ctx context.Context, partnerID string, now time.Time, visit func(staff.Member), notified func() ([]incident.Tally, error)) (map[string]Month, map[string]Notifications, error) {
	scope := access.PartnerScope(partnerID)
	contracts, err := c.Partners.Contracts(ctx, scope)
	if err != nil {
		return nil, nil, fmt.Errorf("count %s: %w", partnerID, err)
	}
	counters := map[string]*StaffCounter{}
	for _, ct := range contracts {
		if ct.PartnerID != partnerID || ct.Status == partner.Terminated {
			continue
		}
		set := c.Catalogue.Default
		if ct.Requirements != nil {
			set = *ct.Requirements
		}
		counters[ct.ID] = NewStaffCounter(ct.ID, set)
	}
	if len(counters) == 0 {
		return nil, nil, nil
	}
	if err := c.Staff.Each(ctx, scope, partnerID, func(m staff.Member) error {
		for _, sc := range counters {
			sc.Add(m)
		}
		if visit != nil {
			visit(m)
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("count %s: %w", partnerID, err)
	}

	notices, err := notified()
	if err != nil {
		return nil, nil, fmt.Errorf("count %s: %w", partnerID, err)
	}
	thisMonth, lastMonth := MonthKey(now), PreviousMonth(now)
	tallies := map[string]Notifications{}
	for _, n := range notices {
		key := monthID(n.ContractID, MonthKey(n.NotifiedAt))
		t := tallies[key]
		t.Notified++
		if n.LateBy > 0 {
			t.Late++
		}
		tallies[key] = t
	}
	today := calendar.Today(now)
	months := make(map[string]Month, len(counters))
	last := make(map[string]Notifications, len(counters))
	for contractID, sc := range counters {
		id := monthID(contractID, thisMonth)
		t := tallies[id]
		months[contractID] = Month{ID: id, ContractID: contractID, PartnerID: partnerID, Month: thisMonth, Day: today,
			CountedAt: now.UTC().Truncate(time.Millisecond), Staff: sc.Figures(), Notified: t.Notified, Late: t.Late}
		last[contractID] = tallies[monthID(contractID, lastMonth)]
	}
	return months, last, nil
}

// Months reads the documents of the given months for the contracts within
// reach, by month and then contract ID, in one read.
func (c *Counter) Months(ctx context.Context, scope access.Scope, months ...string) (map[string]map[string]Month, error) {
	in := make(bson.A, len(months))
	for i, m := range months {
		in[i] = m
	}
	cur, err := c.coll().Find(ctx, scope.ContractFieldFilter("contract_id", bson.E{Key: "month", Value: bson.D{{Key: "$in", Value: in}}}))
	if err != nil {
		return nil, fmt.Errorf("read contract figures: %w", err)
	}
	var ms []Month
	if err := cur.All(ctx, &ms); err != nil {
		return nil, fmt.Errorf("read contract figures: %w", err)
	}
	out := make(map[string]map[string]Month, len(months))
	for _, m := range months {
		out[m] = map[string]Month{}
	}
	for _, m := range ms {
		out[m.Month][m.ContractID] = m
	}
	return out, nil
}
