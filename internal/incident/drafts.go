package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DraftExpiry is how long a draft notification is kept after it was last
// saved. A notification is due within hours, so a draft untouched for a month
// was abandoned; keeping it would only keep a customer's reference for nothing.
const DraftExpiry = 30 * 24 * time.Hour

// draftClaimLease is how long a submission holds a draft while it stores the
// incident. A submission that outlives it (its process stopped) is treated as
// never having happened, so the draft can be sent again.
const draftClaimLease = time.Minute

var (
	// ErrSending means another submission of the draft is storing its incident now.
	ErrSending = errors.New("the incident draft is being sent")
	// ErrSent means the draft was sent: Receipt names the incident it became.
	ErrSent = errors.New("the incident draft was sent")
)

// TypedTime is a date and time as typed into the journey's inputs, kept as
// text so a mistake is shown back as entered.
type TypedTime struct {
	Day    string `bson:"day,omitempty"`
	Month  string `bson:"month,omitempty"`
	Year   string `bson:"year,omitempty"`
	Hour   string `bson:"hour,omitempty"`
	Minute string `bson:"minute,omitempty"`
}

// Draft is a partner compliance officer's notification in progress: the
// answers so far, saved page by page, so they can stop and come back to it.
// Only the person who started it can reach it, and only within their own
// organisation. Its content is the notice it becomes, with the customer's
// department reference the only personal data; it is never audited or
// logged, and is deleted once sent or DraftExpiry after its last save.
type Draft struct {
	ID        bson.ObjectID `bson:"_id"`
	PartnerID string        `bson:"partner_id"`
	// Owner is the subject of the person who started it.
	Owner string `bson:"owner"`
	// Notice holds the answers, as typed for free text; radio and checkbox
	// answers hold only values the pages offered.
	Notice Notice `bson:"notice"`
	// Occurred and Aware are the date and time answers as typed; Notice holds
	// them once they are valid.
	Occurred TypedTime `bson:"occurred"`
	Aware    TypedTime `bson:"aware"`
	// NoIndicators, NoActions and NoReferral are the answers "none of these
	// apply", "no immediate action was taken" and "no referral made", which
	// the Notice can only show as empty lists.
	NoIndicators bool `bson:"no_indicators,omitempty"`
	NoActions    bool `bson:"no_actions,omitempty"`
	NoReferral   bool `bson:"no_referral,omitempty"`
	// Answered lists the pages whose answers were last saved valid.
	Answered  []string  `bson:"answered"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// IsAnswered reports whether the page's answers were last saved valid.
func (d Draft) IsAnswered(page string) bool { return slices.Contains(d.Answered, page) }

// MarkAnswered records whether the page's answers are valid as saved.
func (d *Draft) MarkAnswered(page string, ok bool) {
	d.Answered = slices.DeleteFunc(d.Answered, func(p string) bool { return p == page })
	if ok {
		d.Answered = append(d.Answered, page)
	}
}

// ExpiresAt is when the draft is deleted unless saved again.
func (d Draft) ExpiresAt() time.Time { return d.UpdatedAt.Add(DraftExpiry) }

// DraftStore keeps drafts, every partner's in one collection; every query
// names the partner and the owner.
type DraftStore struct {
	db *mongo.Database
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewDraftStore keeps drafts in db.
func NewDraftStore(db *mongo.Database) *DraftStore { return &DraftStore{db: db} }

func (s *DraftStore) drafts() *mongo.Collection { return s.db.Collection("incident_drafts") }

// now is the clock to the millisecond, as BSON dates hold it, so a saved
// draft equals the one in hand.
func (s *DraftStore) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Millisecond)
}

// EnsureIndexes creates what real MongoDB needs: a person's drafts newest
// first, and the expiry sweeps. One at a time: the embedded store fails a
// batch naming indexes that already exist.
func (s *DraftStore) EnsureIndexes(ctx context.Context) error {
	for _, ix := range []struct {
		coll  *mongo.Collection
		model mongo.IndexModel
	}{
		{s.drafts(), mongo.IndexModel{Keys: bson.D{{Key: "partner_id", Value: 1}, {Key: "owner", Value: 1}, {Key: "updated_at", Value: -1}}, Options: options.Index().SetName("owner_updated")}},
		{s.drafts(), mongo.IndexModel{Keys: bson.D{{Key: "updated_at", Value: 1}}, Options: options.Index().SetName("updated")}},
		{s.sends(), mongo.IndexModel{Keys: bson.D{{Key: "claimed_at", Value: 1}}, Options: options.Index().SetName("claimed")}},
	} {
		if _, err := ix.coll.Indexes().CreateOne(ctx, ix.model); err != nil {
			return fmt.Errorf("create incident draft index: %w", err)
		}
	}
	return nil
}

// draftFilter is the query for owner's draft id within scope, or false if the
// draft cannot be theirs.
func draftFilter(scope access.Scope, owner, id string, conds ...bson.E) (bson.D, bool) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil || owner == "" {
		return nil, false
	}
	return scope.Filter("partner_id", append([]bson.E{{Key: "_id", Value: oid}, {Key: "owner", Value: owner}}, conds...)...), true
}

// Create starts an empty draft of partnerID for owner.
func (s *DraftStore) Create(ctx context.Context, scope access.Scope, partnerID, owner string) (Draft, error) {
	if !scope.Includes(partnerID) || owner == "" {
		return Draft{}, ErrNotFound
	}
	now := s.now()
	d := Draft{ID: bson.NewObjectID(), PartnerID: partnerID, Owner: owner, Answered: []string{}, CreatedAt: now, UpdatedAt: now}
	if _, err := s.drafts().InsertOne(ctx, d); err != nil {
		return Draft{}, fmt.Errorf("store incident draft: %w", err)
	}
	return d, nil
}

// Get returns owner's draft id within scope; anyone else's, one that does
// not exist and one already sent are ErrNotFound.
func (s *DraftStore) Get(ctx context.Context, scope access.Scope, owner, id string) (Draft, error) {
	f, ok := draftFilter(scope, owner, id)
	if !ok {
		return Draft{}, ErrNotFound
	}
	var d Draft
	err := s.drafts().FindOne(ctx, f).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Draft{}, ErrNotFound
	}
	if err != nil {
		return Draft{}, fmt.Errorf("read incident draft: %w", err)
	}
	// The filter decides; this repeats it in case a filter is ever built wrong.
	if d.Owner != owner || !scope.Includes(d.PartnerID) {
		return Draft{}, ErrNotFound
	}
	return d, nil
}

// Save replaces the draft's answers with d's and sets d.UpdatedAt. Only the
// owner's draft is saved, never moved to another partner; otherwise, or once
// it was sent, it is ErrNotFound.
func (s *DraftStore) Save(ctx context.Context, scope access.Scope, d *Draft) error {
	f, ok := draftFilter(scope, d.Owner, d.ID.Hex(), bson.E{Key: "partner_id", Value: d.PartnerID})
	if !ok {
		return ErrNotFound
	}
	saved := *d
	saved.UpdatedAt = s.now()
	if saved.Answered == nil {
		saved.Answered = []string{}
	}
	res, err := s.drafts().ReplaceOne(ctx, f, saved)
	if err != nil {
		return fmt.Errorf("save incident draft: %w", err)
	}
	if res.MatchedCount == 0 {
		return ErrNotFound
	}
	*d = saved
	return nil
}

// Delete deletes owner's draft id.
func (s *DraftStore) Delete(ctx context.Context, scope access.Scope, owner, id string) error {
	f, ok := draftFilter(scope, owner, id)
	if !ok {
		return ErrNotFound
	}
	res, err := s.drafts().DeleteOne(ctx, f)
	if err != nil {
		return fmt.Errorf("delete incident draft: %w", err)
	}
	if res.DeletedCount == 0 {
		return ErrNotFound
	}
	return nil
}

// maxDrafts bounds a person's list; nobody has this many notifications in progress.
const maxDrafts = 100

// ListByOwner lists owner's drafts within scope, most recently saved first.
func (s *DraftStore) ListByOwner(ctx context.Context, scope access.Scope, owner string) ([]Draft, error) {
	if owner == "" {
		return nil, nil
	}
	opts := options.Find().SetSort(bson.D{{Key: "updated_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(maxDrafts)
	cur, err := s.drafts().Find(ctx, scope.Filter("partner_id", bson.E{Key: "owner", Value: owner}), opts)
	if err != nil {
		return nil, fmt.Errorf("list incident drafts: %w", err)
	}
	var out []Draft
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list incident drafts: %w", err)
	}
	return out, nil
}

// Expire deletes drafts last saved more than DraftExpiry ago, and receipts
// as old, and says how many drafts it deleted. It is idempotent, so replicas
// may run it at once.
func (s *DraftStore) Expire(ctx context.Context) (int64, error) {
	cutoff := bson.D{{Key: "$lt", Value: s.now().Add(-DraftExpiry)}}
	res, err := s.drafts().DeleteMany(ctx, bson.D{{Key: "updated_at", Value: cutoff}})
	if err != nil {
		return 0, fmt.Errorf("expire incident drafts: %w", err)
	}
	if _, err := s.sends().DeleteMany(ctx, bson.D{{Key: "claimed_at", Value: cutoff}}); err != nil {
		return res.DeletedCount, fmt.Errorf("expire incident draft receipts: %w", err)
	}
	return res.DeletedCount, nil
}

// send is a submission's hold on a draft, keyed by the draft's ID so that
// only one can be inserted: the store's unique _id is the one guarantee every
// wire-protocol server gives two writers at once. Once the incident is
// stored it names it, as the receipt of the draft, which is then deleted.
type send struct {
	ID         string    `bson:"_id"` // the draft's ID
	PartnerID  string    `bson:"partner_id"`
	Owner      string    `bson:"owner"`
	ClaimedAt  time.Time `bson:"claimed_at"`
	LeaseUntil time.Time `bson:"lease_until"`
	Incident   string    `bson:"incident,omitempty"`
}

func (s *DraftStore) sends() *mongo.Collection { return s.db.Collection("incident_draft_sends") }

// sendFilter is the query for owner's send of draft id within scope.
func sendFilter(scope access.Scope, owner, id string, conds ...bson.E) bson.D {
	return scope.Filter("partner_id", append([]bson.E{{Key: "_id", Value: id}, {Key: "owner", Value: owner}}, conds...)...)
}

// Claim takes owner's draft for sending and returns it as it now is, so that
// of two submissions at once only one stores an incident. It is ErrSending
// while another submission holds it, ErrSent once it was sent (see Receipt),
// and ErrNotFound for a draft that is not the owner's. After Claim, call
// Sent once the incident is stored, or Release if it was not.
func (s *DraftStore) Claim(ctx context.Context, scope access.Scope, owner, id string) (Draft, error) {
	d, err := s.Get(ctx, scope, owner, id)
	if errors.Is(err, ErrNotFound) {
		if _, rerr := s.Receipt(ctx, scope, owner, id); rerr == nil {
			return Draft{}, ErrSent
		}
	}
	if err != nil {
		return Draft{}, err
	}
	now := s.now()
	claim := send{ID: d.ID.Hex(), PartnerID: d.PartnerID, Owner: owner, ClaimedAt: now, LeaseUntil: now.Add(draftClaimLease)}
	_, err = s.sends().InsertOne(ctx, claim)
	if mongo.IsDuplicateKeyError(err) {
		var prior send
		if err := s.sends().FindOne(ctx, sendFilter(scope, owner, claim.ID)).Decode(&prior); err != nil {
			return Draft{}, ErrSending // released or taken over since: still not ours
		}
		switch {
		case prior.Incident != "":
			return Draft{}, ErrSent
		case now.Before(prior.LeaseUntil):
			return Draft{}, ErrSending
		}
		// The holder's process stopped: remove its hold, then claim as anyone may.
		if _, err := s.sends().DeleteOne(ctx, sendFilter(scope, owner, claim.ID,
			bson.E{Key: "lease_until", Value: prior.LeaseUntil}, bson.E{Key: "incident", Value: bson.D{{Key: "$exists", Value: false}}})); err != nil {
			return Draft{}, fmt.Errorf("take over incident draft: %w", err)
		}
		_, err = s.sends().InsertOne(ctx, claim)
		if mongo.IsDuplicateKeyError(err) {
			return Draft{}, ErrSending
		}
	}
	if err != nil {
		return Draft{}, fmt.Errorf("claim incident draft: %w", err)
	}
	// Read it again: a save may have landed before the claim.
	d, err = s.Get(ctx, scope, owner, id)
	if err != nil {
		_ = s.Release(ctx, scope, owner, id)
		return Draft{}, err
	}
	return d, nil
}

// Release gives back owner's claim of draft id, whose incident was not stored.
func (s *DraftStore) Release(ctx context.Context, scope access.Scope, owner, id string) error {
	_, err := s.sends().DeleteOne(ctx, sendFilter(scope, owner, id, bson.E{Key: "incident", Value: bson.D{{Key: "$exists", Value: false}}}))
	if err != nil {
		return fmt.Errorf("release incident draft: %w", err)
	}
	return nil
}

// Sent records that owner's claimed draft became incident incidentID, keeping
// that as the draft's receipt, and deletes the draft.
func (s *DraftStore) Sent(ctx context.Context, scope access.Scope, d Draft, incidentID string) error {
	res, err := s.sends().UpdateOne(ctx, sendFilter(scope, d.Owner, d.ID.Hex()),
		bson.D{{Key: "$set", Value: bson.D{{Key: "incident", Value: incidentID}}}})
	if err != nil {
		return fmt.Errorf("record incident draft sent: %w", err)
	}
	if res.MatchedCount == 0 {
		return ErrNotFound
	}
	if err := s.Delete(ctx, scope, d.Owner, d.ID.Hex()); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// Receipt is the ID of the incident owner's draft id became, or ErrNotFound
// if it was not sent (or not theirs).
func (s *DraftStore) Receipt(ctx context.Context, scope access.Scope, owner, id string) (string, error) {
	if owner == "" {
		return "", ErrNotFound
	}
	var r send
	err := s.sends().FindOne(ctx, sendFilter(scope, owner, id, bson.E{Key: "incident", Value: bson.D{{Key: "$exists", Value: true}}})).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read incident draft receipt: %w", err)
	}
	if r.Owner != owner || !scope.Includes(r.PartnerID) || r.Incident == "" {
		return "", ErrNotFound
	}
	return r.Incident, nil
}
