package partner

import (
	"context"
	"fmt"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// PerformanceTerms are how a contract holds its partner to its key
// performance indicators: the points each failure scores, how long a new
// starter or a lapsed requirement may go unmet before it counts, and the
// points in a calendar month above which the partner owes service credits.
// The department sets defaults (see package performance); a contract may
// carry its own, as negotiated.
type PerformanceTerms struct {
	LateNotification  int `bson:"late_notification"`
	OverdueAction     int `bson:"overdue_action"`
	StaffNotCompliant int `bson:"staff_not_compliant"`
	FailedInspection  int `bson:"failed_inspection"`
	// GraceDays is how many days someone may work without a required
	// training module or vetting check before it counts as a failure.
	GraceDays int `bson:"grace_days"`
	// Threshold is the most points a month may score without service credits.
	Threshold int `bson:"threshold"`
}

// Bounds on the terms: generous for any contract, tight enough that a
// figure typed wrong is caught.
const (
	MaxPoints    = 100
	MaxGraceDays = 365
	MaxThreshold = 10_000
)

// Check guards the invariants stored terms keep; forms say what is wrong
// in people's words first.
func (t PerformanceTerms) Check() error {
	for what, v := range map[string]int{
		"late notification points": t.LateNotification, "overdue action points": t.OverdueAction,
		"staff points": t.StaffNotCompliant, "failed inspection points": t.FailedInspection,
	} {
		if v < 0 || v > MaxPoints {
			return fmt.Errorf("performance terms: %s must be 0 to %d (got %d)", what, MaxPoints, v)
		}
	}
	if t.GraceDays < 0 || t.GraceDays > MaxGraceDays {
		return fmt.Errorf("performance terms: grace days must be 0 to %d (got %d)", MaxGraceDays, t.GraceDays)
	}
	if t.Threshold < 0 || t.Threshold > MaxThreshold {
		return fmt.Errorf("performance terms: threshold must be 0 to %d (got %d)", MaxThreshold, t.Threshold)
	}
	return nil
}

// Detail is the terms as the audit trail keeps them: figures only.
func (t PerformanceTerms) Detail() string {
	return fmt.Sprintf("late notification %d, overdue action %d, staff %d, failed inspection %d, grace %d days, threshold %d",
		t.LateNotification, t.OverdueAction, t.StaffNotCompliant, t.FailedInspection, t.GraceDays, t.Threshold)
}

// SetPerformanceTerms gives a contract its own performance terms, or with
// nil returns it to the department's defaults, with its audit event.
// version is the version the change was based on. Failures already
// recorded keep the points they scored. Errors: ErrNotFound, ErrConflict,
// ErrUnchanged.
func (s *Store) SetPerformanceTerms(ctx context.Context, scope access.Scope, contractID string, version int64, terms *PerformanceTerms, e audit.Event) error {
	if terms != nil {
		if err := terms.Check(); err != nil {
			return err
		}
	}
	cur, err := s.current(ctx, scope, contractID, version)
	if err != nil {
		return err
	}
	switch {
	case terms == nil && cur.Performance == nil,
		terms != nil && cur.Performance != nil && *terms == *cur.Performance:
		return ErrUnchanged
	case terms == nil:
		e.Detail = "default terms"
		return s.change(ctx, scope, cur, bson.D{{Key: "performance", Value: nil}}, e)
	}
	t := *terms
	e.Detail = t.Detail()
	return s.change(ctx, scope, cur, bson.D{{Key: "performance", Value: t}}, e)
}
