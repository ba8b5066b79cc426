package performance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/calendar"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Score is a contract's running score for a month.
type Score struct {
	ContractID string
	PartnerID  string
	Month      time.Time
	// Points are those of the failures that count: every one not waived.
	Points int
	// Failures counts the failures that count; Waived those waived.
	Failures int
	Waived   int
	// Threshold is the most points the month may score without service
	// credits, under the contract's terms now.
	Threshold int
	// ServiceCredit is whether the points are above the threshold.
	ServiceCredit bool
}

// QuarterScore is a contract's score for a calendar quarter, as a review
// board reads it: the three months and their total.
type QuarterScore struct {
	ContractID string
	PartnerID  string
	// Months are the quarter's three months, in order.
	Months   []Score
	Points   int
	Failures int
	Waived   int
	// OverThreshold counts the months that led to service credits.
	OverThreshold int
}

// scoreDoc is a contract's score for a month as stored: worked out from
// its failures by every detection run and again at once by a waiver, so
// that dashboards read one small document per contract and month rather
// than the failures themselves (which the embedded store would read
// whole, every one of every month, for any question asked of them).
type scoreDoc struct {
	ID         string    `bson:"_id"` // scoreID
	ContractID string    `bson:"contract_id"`
	PartnerID  string    `bson:"partner_id"`
	Month      time.Time `bson:"month"`
	Points     int       `bson:"points"`
	Failures   int       `bson:"failures"`
	Waived     int       `bson:"waived"`
	// Rev counts the times the score was stored: a count worked out from
	// failures read before another was stored is not stored over it.
	Rev        int64     `bson:"rev"`
	ComputedAt time.Time `bson:"computed_at"`
}

func scoreID(contractID string, month time.Time) string {
	return contractID + " " + month.Format("2006-01")
}

func (s *Store) scoreDocs() *mongo.Collection { return s.db.Collection("performance_scores") }

// Scores returns, for every contract within reach, its score for the
// month holding the day month (contracts without failures score nothing),
// as at the last detection run or waiver.
func (s *Store) Scores(ctx context.Context, scope access.Scope, month time.Time) (map[string]Score, error) {
	month = monthOfDay(month)
	byMonth, err := s.scores(ctx, scope, []time.Time{month})
	if err != nil {
		return nil, err
	}
	out := make(map[string]Score, len(byMonth))
	for id, ms := range byMonth {
		out[id] = ms[0]
	}
	return out, nil
}

// QuarterScores returns, for every contract within reach, its score for
// the calendar quarter holding the day month.
func (s *Store) QuarterScores(ctx context.Context, scope access.Scope, month time.Time) (map[string]QuarterScore, error) {
	first := QuarterOf(monthOfDay(month))
	months := []time.Time{first, calendar.AddMonths(first, 1), calendar.AddMonths(first, 2)}
	byMonth, err := s.scores(ctx, scope, months)
	if err != nil {
		return nil, err
	}
	out := make(map[string]QuarterScore, len(byMonth))
	for id, ms := range byMonth {
		q := QuarterScore{ContractID: id, PartnerID: ms[0].PartnerID, Months: ms}
		for _, m := range ms {
			q.Points += m.Points
			q.Failures += m.Failures
			q.Waived += m.Waived
			if m.ServiceCredit {
				q.OverThreshold++
			}
		}
		out[id] = q
	}
	return out, nil
}

// scores reads each contract's stored score for each of months (firsts of
// months): a document per contract and month, through the month_contract
// index of the scores.
func (s *Store) scores(ctx context.Context, scope access.Scope, months []time.Time) (map[string][]Score, error) {
	contracts, err := s.contracts.Contracts(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("performance scores: %w", err)
	}
	out := make(map[string][]Score, len(contracts))
	for _, c := range contracts {
		if !scope.IncludesContract(c.ID, c.PartnerID) {
			continue
		}
		threshold := s.TermsFor(c).Threshold
		ms := make([]Score, len(months))
		for i, m := range months {
			ms[i] = Score{ContractID: c.ID, PartnerID: c.PartnerID, Month: m, Threshold: threshold}
		}
		out[c.ID] = ms
	}
	in := make(bson.A, len(months))
	for i, m := range months {
		in[i] = m
	}
	cur, err := s.scoreDocs().Find(ctx, scoped(scope, bson.E{Key: "month", Value: bson.D{{Key: "$in", Value: in}}}))
	if err != nil {
		return nil, fmt.Errorf("performance scores: %w", err)
	}
	var docs []scoreDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("performance scores: %w", err)
	}
	for _, d := range docs {
		ms := out[d.ContractID]
		for i := range ms {
			if ms[i].Month.Equal(d.Month) && ms[i].PartnerID == d.PartnerID {
				ms[i].Points, ms[i].Failures, ms[i].Waived = d.Points, d.Failures, d.Waived
			}
		}
	}
	for _, ms := range out {
		for i := range ms {
			ms[i].ServiceCredit = ms[i].Points > ms[i].Threshold
		}
	}
	return out, nil
}

// count works out the scores of the failures matching filter, by contract
// and month, in one aggregation, which real MongoDB answers from the
// month_contract index of the failures alone. The embedded store's $group
// has $sum but no $cond, and computes only the first of several
// accumulators (the others come back 0), so failures are counted by
// contract, month, waived or not, and points, and added up here: a
// contract's failures score a handful of distinct points.
func (s *Store) count(ctx context.Context, filter bson.D) (map[string]*scoreDoc, error) {
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: filter}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "contract", Value: "$contract_id"}, {Key: "partner", Value: "$partner_id"},
				{Key: "month", Value: "$month"}, {Key: "waived", Value: "$waived"}, {Key: "points", Value: "$points"}}},
			{Key: "count", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}},
	}
	cur, err := s.failures().Aggregate(ctx, pipeline)
	if err != nil {
		return nil, fmt.Errorf("count performance failures: %w", err)
	}
	var rows []struct {
		Key struct {
			Contract string    `bson:"contract"`
			Partner  string    `bson:"partner"`
			Month    time.Time `bson:"month"`
			Waived   bool      `bson:"waived"`
			Points   int       `bson:"points"`
		} `bson:"_id"`
		Count int `bson:"count"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count performance failures: %w", err)
	}
	out := map[string]*scoreDoc{}
	for _, r := range rows {
		id := scoreID(r.Key.Contract, r.Key.Month)
		d := out[id]
		if d == nil {
			d = &scoreDoc{ID: id, ContractID: r.Key.Contract, PartnerID: r.Key.Partner, Month: r.Key.Month.UTC()}
			out[id] = d
		}
		if r.Key.Waived {
			d.Waived += r.Count
		} else {
			d.Points += r.Key.Points * r.Count
			d.Failures += r.Count
		}
	}
	return out, nil
}

// put stores a score worked out while it was at revision rev (0: none
// stored), unless another was stored meanwhile; it reports whether it did.
func (s *Store) put(ctx context.Context, d scoreDoc, rev int64) (bool, error) {
	defer s.scoreLocks.Lock(d.ID)()
	d.Rev, d.ComputedAt = rev+1, s.now()
	if rev == 0 {
		_, err := s.scoreDocs().InsertOne(ctx, d)
		if mongo.IsDuplicateKeyError(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("store performance score: %w", err)
		}
		return true, nil
	}
	res, err := s.scoreDocs().ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "rev", Value: rev}}, d)
	if err != nil {
		return false, fmt.Errorf("store performance score: %w", err)
	}
	return res.MatchedCount == 1, nil
}

// tally works out again, from the failures, the score of every contract
// for each of months, and stores those that differ. A score a waiver
// stored meanwhile is left as it is: it counted later failures. (Failures
// are never removed, so no stored score is left without any.)
func (s *Store) tally(ctx context.Context, months []time.Time) error {
	in := make(bson.A, len(months))
	for i, m := range months {
		in[i] = m
	}
	filter := bson.D{{Key: "month", Value: bson.D{{Key: "$in", Value: in}}}}
	// The stored scores first: one stored after them is newer than the count.
	stored, err := s.storedScores(ctx, filter)
	if err != nil {
		return err
	}
	counted, err := s.count(ctx, filter)
	if err != nil {
		return err
	}
	var errs []error
	for id, d := range counted {
		was, ok := stored[id]
		if ok && was.Points == d.Points && was.Failures == d.Failures && was.Waived == d.Waived {
			continue
		}
		if _, err := s.put(ctx, *d, was.Rev); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Store) storedScores(ctx context.Context, filter bson.D) (map[string]scoreDoc, error) {
	cur, err := s.scoreDocs().Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("read performance scores: %w", err)
	}
	var docs []scoreDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read performance scores: %w", err)
	}
	out := make(map[string]scoreDoc, len(docs))
	for _, d := range docs {
		out[d.ID] = d
	}
	return out, nil
}

// retally works out one contract's score for a month again, after a
// waiver, until it stores one no other change overtook.
func (s *Store) retally(ctx context.Context, contractID string, month time.Time) error {
	id := scoreID(contractID, month)
	for range 5 {
		stored, err := s.storedScores(ctx, bson.D{{Key: "_id", Value: id}})
		if err != nil {
			return err
		}
		counted, err := s.count(ctx, bson.D{{Key: "contract_id", Value: contractID}, {Key: "month", Value: month}})
		if err != nil {
			return err
		}
		d, ok := counted[id]
		if !ok {
			return nil
		}
		if ok, err := s.put(ctx, *d, stored[id].Rev); err != nil || ok {
			return err
		}
	}
	return fmt.Errorf("store performance score %s: overtaken five times", id)
}
