package escalation

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/textproto"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Sender makes one attempt at one delivery. It returns nil once the receiver
// has accepted it, an error marked with Permanent if the receiver refused it
// for good, or any other error to have it retried. It must give up when ctx
// ends.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// Worker defaults.
const (
	DefaultPoll        = 5 * time.Second
	DefaultLease       = time.Minute
	DefaultMaxAttempts = 12
	DefaultBaseBackoff = 2 * time.Second
	DefaultMaxBackoff  = 10 * time.Minute
)

const (
	// claimBatch is how many due deliveries a worker looks at per claim: when
	// replicas contend for the first, the losers go on to the next.
	claimBatch = 10
	// claimGenerations bounds the takeovers of claims whose holders stopped
	// between claiming a delivery and taking its lease.
	claimGenerations = 5
	// claimKeep is how long claims are kept: far longer than any delivery's
	// state can stay unchanged while due, after which a claim on it is moot.
	claimKeep  = 24 * time.Hour
	purgeEvery = time.Hour
	// recordTimeout bounds the store writes after a send.
	recordTimeout = 10 * time.Second
)

// Worker sends due deliveries, one at a time. Run one per portal replica:
// they share the work through leases in the store.
type Worker struct {
	Outbox *Outbox
	// Email and Webhook send their channels' deliveries. A channel without a
	// sender has its deliveries retried until one is configured or they run
	// out of attempts, with the reason in LastError.
	Email, Webhook Sender

	Poll time.Duration // how often to look for due deliveries without Wake; default DefaultPoll
	// Lease is how long a claimed delivery is the worker's alone; after it a
	// worker elsewhere takes it over, assuming this one died. Sends are cut
	// short well within it. Default DefaultLease.
	Lease time.Duration
	// SendTimeout bounds one attempt, whatever the sender's own timeout;
	// default DefaultTimeout, and never more than nine tenths of Lease.
	SendTimeout time.Duration
	MaxAttempts int // attempts before giving up; default DefaultMaxAttempts
	// BaseBackoff is the wait after the first failed attempt; it doubles
	// with each further failure up to MaxBackoff, and each wait is drawn
	// between half and all of that so that retries from many deliveries
	// spread out. Defaults DefaultBaseBackoff and DefaultMaxBackoff.
	BaseBackoff, MaxBackoff time.Duration
	Now                     func() time.Time // the clock; nil means time.Now
	Log                     *slog.Logger     // nil means slog.Default()

	once      sync.Once
	wake      chan struct{}
	drainMu   sync.Mutex
	mu        sync.Mutex
	soonest   time.Time // the earliest retry this worker has scheduled
	lastPurge time.Time
}

// NewWorker sends o's deliveries with the given senders (either may be nil),
// with the defaults.
func NewWorker(o *Outbox, email, webhook Sender) *Worker {
	return &Worker{Outbox: o, Email: email, Webhook: webhook}
}

func (w *Worker) init() { w.once.Do(func() { w.wake = make(chan struct{}, 1) }) }

// Wake makes a running worker look for due deliveries now rather than at its
// next poll: call it after Enqueue. It never blocks.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends, then returns nil. A send under way
// when ctx ends is cut short and handed back for another worker.
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-w.wake:
		}
		if _, err := w.Drain(ctx); err != nil && ctx.Err() == nil {
			w.log().Error("escalation worker cannot read the outbox", "error", err)
		}
		w.housekeep(ctx)
		timer.Reset(w.nextWait())
	}
}

// nextWait is how long to sleep: until the next poll, or sooner if a retry
// this worker scheduled falls due first.
func (w *Worker) nextWait() time.Duration {
	wait := or(w.Poll, DefaultPoll)
	w.mu.Lock()
	soonest := w.soonest
	w.mu.Unlock()
	if !soonest.IsZero() {
		wait = max(min(wait, soonest.Sub(w.now())), 0)
	}
	return wait
}

// Drain sends every delivery that is due, one at a time, and returns how
// many it attempted.
func (w *Worker) Drain(ctx context.Context) (int, error) {
	w.drainMu.Lock()
	defer w.drainMu.Unlock()
	w.mu.Lock()
	if !w.soonest.IsZero() && !w.soonest.After(w.now()) {
		w.soonest = time.Time{}
	}
	w.mu.Unlock()
	n := 0
	for ctx.Err() == nil {
		// One query serves a batch: on the embedded store each query reads
		// the whole collection. A candidate that has changed since is
		// skipped by claim.
		cs, err := w.due(ctx)
		if err != nil || len(cs) == 0 {
			return n, err
		}
		claimed := 0
		for _, c := range cs {
			if ctx.Err() != nil {
				break
			}
			d, err := w.claim(ctx, c)
			if err != nil {
				return n, err
			}
			if d == nil {
				continue
			}
			claimed++
			w.deliver(ctx, *d)
			n++
		}
		if claimed == 0 {
			return n, nil // all in other workers' hands
		}
	}
	return n, nil
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

type claimDoc struct {
	ID         string    `bson:"_id"` // delivery ID @ version # generation
	DeliveryID string    `bson:"delivery_id"`
	Owner      string    `bson:"owner"`
	At         time.Time `bson:"at"`
}

type candidate struct {
	ID      string `bson:"_id"`
	Version int64  `bson:"version"`
}

// due finds up to claimBatch deliveries due now: pending ones whose time has
// come, and ones whose last worker's lease ran out.
func (w *Worker) due(ctx context.Context) ([]candidate, error) {
	now := w.now()
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "state", Value: StatePending}, {Key: "next_attempt_at", Value: bson.D{{Key: "$lte", Value: now}}}},
		bson.D{{Key: "state", Value: StateSending}, {Key: "lease_until", Value: bson.D{{Key: "$lte", Value: now}}}},
	}}}
	cur, err := w.Outbox.coll.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "next_attempt_at", Value: 1}, {Key: "_id", Value: 1}}).
		SetLimit(claimBatch).
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("find due escalation deliveries: %w", err)
	}
	var cs []candidate
	if err := cur.All(ctx, &cs); err != nil {
		return nil, fmt.Errorf("find due escalation deliveries: %w", err)
	}
	// Replicas that found the same deliveries start on different ones.
	rand.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	return cs, nil
}

// claim takes the lease of c if it is still as it was when found, returning
// nil if another worker has it or it has changed. Conditional updates are
// not atomic on every backend the portal runs on (FerretDB's sqlite one
// evaluates the filter and writes in separate steps, so two replicas could
// both "win"), so replicas first race to insert a claim document keyed by the
// delivery's ID and version: a unique _id is enforced atomically everywhere,
// so only one of them wins that version. The lease is then taken with an
// update conditional on the version, and confirmed from the document as
// written.
func (w *Worker) claim(ctx context.Context, c candidate) (*Delivery, error) {
	now := w.now()
	owner := crand.Text()
	won, err := w.reserve(ctx, c.ID, c.Version, owner, now)
	if err != nil || !won {
		return nil, err
	}
	var d Delivery
	err = w.Outbox.coll.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: c.ID}, {Key: "version", Value: c.Version}, {Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{StatePending, StateSending}}}}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "state", Value: StateSending}, {Key: "lease_until", Value: now.Add(or(w.Lease, DefaultLease))}, {Key: "lease_owner", Value: owner}}},
			{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}, {Key: "version", Value: 1}}},
		},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil // it changed since it was found
	}
	if err != nil {
		return nil, fmt.Errorf("take escalation delivery lease: %w", err)
	}
	// The document as written: with the claim won, no other worker writes
	// this version, so it is the lease as stored.
	if d.LeaseOwner != owner || d.Version != c.Version+1 {
		return nil, nil
	}
	return &d, nil
}

// reserve inserts the claim on version of delivery id, reporting whether this
// worker won it. A claim older than a lease whose version is still due means
// its holder stopped before taking the lease: the next generation of the
// claim supersedes it, and the replicas race for that one the same way.
func (w *Worker) reserve(ctx context.Context, id string, version int64, owner string, now time.Time) (bool, error) {
	for gen := range claimGenerations {
		key := fmt.Sprintf("%s@%d#%d", id, version, gen)
		_, err := w.Outbox.claims.InsertOne(ctx, claimDoc{ID: key, DeliveryID: id, Owner: owner, At: now})
		if err == nil {
			return true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return false, fmt.Errorf("claim escalation delivery: %w", err)
		}
		var prior claimDoc
		err = w.Outbox.claims.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&prior)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("read escalation delivery claim: %w", err)
		}
		if now.Sub(prior.At) < or(w.Lease, DefaultLease) {
			return false, nil
		}
	}
	return false, nil
}

func (w *Worker) sender(channel string) Sender {
	switch channel {
	case ChannelEmail:
		return w.Email
	case ChannelWebhook:
		return w.Webhook
	}
	return nil
}

// deliver makes one attempt at a claimed delivery and records the outcome.
func (w *Worker) deliver(ctx context.Context, d Delivery) {
	lease := or(w.Lease, DefaultLease)
	// The send ends while the lease still holds, so no other worker can take
	// the delivery over while this one may yet succeed.
	budget := min(or(w.SendTimeout, DefaultTimeout), lease*9/10)
	var err error
	if s := w.sender(d.Channel); s == nil {
		err = fmt.Errorf("no %s sender is configured", d.Channel)
	} else {
		sendCtx, cancel := context.WithTimeout(ctx, budget)
		err = s.Send(sendCtx, d)
		cancel()
	}
	// Whatever happens to ctx now, what the send did must be recorded.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	now := w.now()
	log := w.log().With("delivery_id", d.ID, "incident", d.IncidentRef, "channel", d.Channel, "attempts", d.Attempts)
	switch {
	case err == nil:
		w.record(rctx, d, bson.D{{Key: "state", Value: StateDelivered}, {Key: "delivered_at", Value: now}, {Key: "last_error", Value: ""}})
		log.Info("escalation delivered")
	case ctx.Err() != nil:
		// Shutting down: hand it back at once rather than leave it until the
		// lease runs out. The receiver may have had it; it will drop the
		// second copy by its delivery ID.
		w.record(rctx, d, bson.D{{Key: "state", Value: StatePending}, {Key: "next_attempt_at", Value: now}, {Key: "last_error", Value: "interrupted by the portal shutting down"}})
		log.Info("escalation delivery interrupted; handed back")
	case IsPermanent(err) || d.Attempts >= or(w.MaxAttempts, DefaultMaxAttempts):
		w.record(rctx, d, bson.D{{Key: "state", Value: StateFailed}, {Key: "last_error", Value: shortError(err)}})
		log.Error("escalation delivery failed; giving up", "error", logSafe(err), "permanent", IsPermanent(err))
	default:
		next := now.Add(w.backoff(d.Attempts))
		w.record(rctx, d, bson.D{{Key: "state", Value: StatePending}, {Key: "next_attempt_at", Value: next}, {Key: "last_error", Value: shortError(err)}})
		w.mu.Lock()
		if w.soonest.IsZero() || next.Before(w.soonest) {
			w.soonest = next
		}
		w.mu.Unlock()
		log.Warn("escalation delivery failed; will retry", "error", logSafe(err), "retry_at", next)
	}
}

// record ends this worker's lease on d with set.
func (w *Worker) record(ctx context.Context, d Delivery, set bson.D) {
	set = append(set, bson.E{Key: "lease_owner", Value: ""}, bson.E{Key: "lease_until", Value: time.Time{}})
	res, err := w.Outbox.coll.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "lease_owner", Value: d.LeaseOwner}},
		bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	switch {
	case err != nil:
		// The lease will run out and another attempt will be made.
		w.log().Error("cannot record escalation delivery outcome", "delivery_id", d.ID, "error", err)
	case res.MatchedCount == 0:
		w.log().Warn("escalation delivery lease was lost before its outcome was recorded", "delivery_id", d.ID)
	}
}

// backoff is the wait after the attempts-th failed attempt.
func (w *Worker) backoff(attempts int) time.Duration {
	base, ceiling := or(w.BaseBackoff, DefaultBaseBackoff), or(w.MaxBackoff, DefaultMaxBackoff)
	d := base
	for i := 1; i < attempts && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d/2 + rand.N(d/2+1)
}

// housekeep deletes old claims where the store cannot expire them itself.
func (w *Worker) housekeep(ctx context.Context) {
	now := w.now()
	w.mu.Lock()
	due := now.Sub(w.lastPurge) >= purgeEvery
	if due {
		w.lastPurge = now
	}
	w.mu.Unlock()
	if !due {
		return
	}
	if _, err := w.Outbox.claims.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: now.Add(-claimKeep)}}}}); err != nil && ctx.Err() == nil {
		w.log().Warn("cannot purge old escalation claims", "error", err)
	}
}

// logSafe is what logs may hold of a send error: a relay's reply can quote
// the recipient's address, so only its code is kept.
func logSafe(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("smtp reply %d", te.Code)
	}
	return shortError(err)
}
