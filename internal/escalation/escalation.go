// Package escalation tells safeguarding leads and a contract's managers at
// once, by e-mail and by signed webhook, when a critical serious incident is
// notified.
//
// Each message is a Delivery document stored before it is attempted (a
// transactional outbox without transactions: the store may be FerretDB, which
// has none), so a crash or restart never loses one. Any number of Workers, one
// per portal replica, send what is due. A delivery's ID is derived from what it
// is for, so enqueueing the same escalation twice stores it once, and every
// message carries that ID, so receivers can drop the duplicate a crash between
// sending and recording may cause. Delivery is therefore at least once on the
// wire and exactly once as the receiver sees it.
package escalation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collections the package keeps.
const (
	Collection       = "escalation_deliveries"
	ClaimsCollection = "escalation_claims"
)

// Channels.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// States of a delivery.
const (
	StatePending   = "pending"   // waiting for its first or next attempt
	StateSending   = "sending"   // a worker holds its lease and is sending it
	StateDelivered = "delivered" // the receiver accepted it
	StateFailed    = "failed"    // given up: refused for good, or out of attempts
)

// Delivery is one message to one receiver about one incident.
type Delivery struct {
	ID          string `bson:"_id"`
	IncidentID  string `bson:"incident_id"`
	IncidentRef string `bson:"incident_ref"`
	PartnerID   string `bson:"partner_id"`
	ContractID  string `bson:"contract_id"`
	Channel     string `bson:"channel"`
	// Target is the e-mail address or webhook URL. A webhook's signing secret
	// is never stored: it comes from configuration, looked up by this URL.
	Target  string `bson:"target"`
	Subject string `bson:"subject,omitempty"`
	Body    string `bson:"body,omitempty"`    // e-mail text
	Payload []byte `bson:"payload,omitempty"` // webhook JSON

	State         string    `bson:"state"`
	Attempts      int       `bson:"attempts"` // attempts started, including one cut short by a crash
	NextAttemptAt time.Time `bson:"next_attempt_at"`
	LeaseUntil    time.Time `bson:"lease_until"`
	LeaseOwner    string    `bson:"lease_owner,omitempty"`
	LastError     string    `bson:"last_error,omitempty"`
	CreatedAt     time.Time `bson:"created_at"`
	// DeliveredAt is when the receiver accepted it; nil until then.
	DeliveredAt *time.Time `bson:"delivered_at,omitempty"`
	// Version counts the document's changes; claims are made against it.
	Version int64 `bson:"version"`
}

// DeliveryID is the ID of the delivery of an incident's escalation on channel
// to target: the same inputs always give the same ID.
func DeliveryID(incidentID, channel, target string) string {
	h := sha256.Sum256([]byte(incidentID + "\x00" + channel + "\x00" + target))
	return hex.EncodeToString(h[:16])
}

// Outbox stores deliveries and answers what happened to them.
type Outbox struct {
	coll   *mongo.Collection
	claims *mongo.Collection
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewOutbox keeps deliveries in db.
func NewOutbox(db *mongo.Database) *Outbox {
	return &Outbox{coll: db.Collection(Collection), claims: db.Collection(ClaimsCollection)}
}

// NewOutboxIn keeps deliveries in db's collection name, and its workers'
// claims in name+"_claims": an outbox of its own for messages that are not
// escalations, such as reminders to partners, sent by the same workers
// and senders without crowding the escalations leads watch.
func NewOutboxIn(db *mongo.Database, name string) *Outbox {
	return &Outbox{coll: db.Collection(name), claims: db.Collection(name + "_claims")}
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// EnsureIndexes creates the indexes real MongoDB needs for the workers' due
// query and the status pages. Claims expire by themselves on MongoDB; the
// embedded store has no expiring indexes, and there the workers purge them.
func (o *Outbox) EnsureIndexes(ctx context.Context) error {
	// One at a time: the embedded store fails a batch naming indexes that
	// already exist, as they do from the second start on.
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "state", Value: 1}, {Key: "next_attempt_at", Value: 1}}, Options: options.Index().SetName("due")},
		{Keys: bson.D{{Key: "incident_id", Value: 1}}, Options: options.Index().SetName("incident")},
		{Keys: bson.D{{Key: "created_at", Value: -1}}, Options: options.Index().SetName("recent")},
	} {
		if _, err := o.coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create escalation delivery index: %w", err)
		}
	}
	_, err := o.claims.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("expires").SetExpireAfterSeconds(int32(claimKeep / time.Second)),
	})
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Name == "NotImplemented" {
		_, err = o.claims.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("expires"),
		})
	}
	if err != nil {
		return fmt.Errorf("create escalation claim index: %w", err)
	}
	return nil
}

// Enqueue stores deliveries as pending, due now. A delivery whose ID is
// already stored is left as it is, whatever its state, so enqueueing an
// escalation again (a retried request, a recovery sweep) sends nothing twice.
// An empty ID is filled in with DeliveryID.
func (o *Outbox) Enqueue(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	now := o.now()
	docs := make([]any, 0, len(ds))
	for _, d := range ds {
		if d.Channel != ChannelEmail && d.Channel != ChannelWebhook {
			return fmt.Errorf("enqueue escalation: unknown channel %q", d.Channel)
		}
		if d.IncidentID == "" || d.Target == "" {
			return errors.New("enqueue escalation: a delivery needs an incident and a target")
		}
		if d.ID == "" {
			d.ID = DeliveryID(d.IncidentID, d.Channel, d.Target)
		}
		d.State, d.Attempts, d.Version = StatePending, 0, 0
		d.NextAttemptAt, d.CreatedAt = now, now
		d.LeaseUntil, d.LeaseOwner, d.LastError, d.DeliveredAt = time.Time{}, "", "", nil
		docs = append(docs, d)
	}
	_, err := o.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil || onlyDuplicates(err) {
		return nil
	}
	return fmt.Errorf("enqueue escalation: %w", err)
}

// onlyDuplicates reports whether every write error of an unordered insert
// was a duplicate key: those deliveries are already stored.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if !we.HasErrorCode(duplicateKey) {
			return false
		}
	}
	return true
}

const duplicateKey = 11000

// Get returns one delivery; mongo.ErrNoDocuments is wrapped if there is none.
func (o *Outbox) Get(ctx context.Context, id string) (Delivery, error) {
	var d Delivery
	if err := o.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return Delivery{}, fmt.Errorf("read escalation delivery: %w", err)
	}
	return d, nil
}

// ForIncident returns an incident's deliveries, oldest first.
func (o *Outbox) ForIncident(ctx context.Context, incidentID string) ([]Delivery, error) {
	return o.find(ctx, bson.D{{Key: "incident_id", Value: incidentID}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "channel", Value: 1}, {Key: "target", Value: 1}}).SetLimit(maxList))
}

// Lists are bounded so a status page costs the same however many
// escalations there have been.
const (
	defaultList = 50
	maxList     = 500
)

// List returns the most recent deliveries, newest first, in state if it is
// not empty. limit is capped at 500; zero or less means 50.
func (o *Outbox) List(ctx context.Context, limit int, state string) ([]Delivery, error) {
	if limit <= 0 {
		limit = defaultList
	}
	limit = min(limit, maxList)
	filter := bson.D{}
	if state != "" {
		filter = bson.D{{Key: "state", Value: state}}
	}
	return o.find(ctx, filter, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

func (o *Outbox) find(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]Delivery, error) {
	cur, err := o.coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("list escalation deliveries: %w", err)
	}
	var out []Delivery
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list escalation deliveries: %w", err)
	}
	return out, nil
}

// ErrNotFailed means Retry found no failed delivery with that ID.
var ErrNotFailed = errors.New("no failed escalation delivery with that ID")

// Retry sends a failed delivery again from its first attempt, for a lead who
// has had the receiver or the configuration put right.
func (o *Outbox) Retry(ctx context.Context, id string) error {
	res, err := o.coll.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: StateFailed}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "state", Value: StatePending}, {Key: "attempts", Value: 0}, {Key: "next_attempt_at", Value: o.now()}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		})
	if err != nil {
		return fmt.Errorf("retry escalation delivery: %w", err)
	}
	if res.MatchedCount == 0 {
		return ErrNotFailed
	}
	return nil
}

// shortError is what LastError keeps of err: enough for a lead to see what
// went wrong, bounded in size. Senders keep secrets and URLs out of their
// errors.
func shortError(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	const max = 300
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
