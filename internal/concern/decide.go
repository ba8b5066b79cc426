package concern

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/partner"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// NewDecision is a lead's decision as they make it.
type NewDecision struct {
	Outcome string
	Reason  string
}

// Decide records a lead's decision on an open concern within reach, as the
// lead saw it (at version), with its audit event, and returns the concern
// as it now is. Of two decisions made on the same version one is recorded
// and the other is refused with ErrConflict. A decision sent again (the
// same person, outcome and reason on the same version) is answered with
// the decision already recorded, so a retried request records it once.
//
// A decision to suspend also sets the contract's status to suspended, with
// the decision's reason, through the contract store. The store has no
// transactions, so the decision is taken first (recorded on the concern as
// pending, which refuses any other decision), then the contract's status
// is changed, then the decision is recorded. If the status change is
// refused the pending decision is removed again and nothing else stays.
// If the work stops between the steps (a crash, the store out of reach),
// the next decision on the concern, by anyone, finishes it first: it looks
// for the change in the contract's status history, makes it if the
// contract is still as it was when the decision was taken, and removes
// the pending decision otherwise. Finishing is safe to run twice at once.
// An error wrapping audit.ErrPending means the decision was recorded.
func (s *Store) Decide(ctx context.Context, scope access.Scope, id string, version int, d NewDecision, by Actor, e audit.Event) (Concern, error) {
	if err := checkActor(by); err != nil {
		return Concern{}, err
	}
	o, known := outcomes[d.Outcome]
	if !known {
		return Concern{}, &ErrInvalid{"Select a decision"}
	}
	if err := checkReason("the reason for the decision", d.Reason); err != nil {
		return Concern{}, err
	}
	d.Reason = strings.TrimSpace(d.Reason)
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Concern{}, ErrNotFound
	}
	defer s.locks.Lock(oid.Hex())()
	c, err := s.Get(ctx, scope, id)
	if err != nil {
		return Concern{}, err
	}
	if c.Pending != nil {
		unlock := s.contractLocks.Lock(c.ContractID)
		c, err = s.finish(ctx, scope, c, e)
		unlock()
		if err != nil && !errors.Is(err, audit.ErrPending) && !errors.Is(err, ErrConflict) {
			return Concern{}, err
		}
	}
	if c.sentAgain(version, d, by) {
		return c, nil
	}
	if c.Version != version || c.Status != Open {
		return Concern{}, ErrConflict
	}
	if o.kind != c.Kind || (d.Outcome == SuspendContract && c.ContractID == "") {
		return Concern{}, &ErrInvalid{"Select a decision"}
	}
	dec := Decision{ID: bson.NewObjectID(), Outcome: d.Outcome, Reason: d.Reason, By: by, At: s.now(), BasedOn: version}
	if d.Outcome != SuspendContract {
		return s.record(ctx, scope, c, dec, e)
	}
	defer s.contractLocks.Lock(c.ContractID)()
	ct, err := s.contract(ctx, scope, c.ContractID)
	if err != nil {
		return Concern{}, err
	}
	switch ct.Status {
	case partner.Terminated:
		return Concern{}, &ErrInvalid{"The contract has been terminated, so it cannot be suspended"}
	case partner.Suspended:
		// Suspended meanwhile, on the contract's page or by another
		// decision: the decision stands, and changes nothing there.
		return s.record(ctx, scope, c, dec, e)
	}
	dec.ContractVersion, dec.StatusHistoryLen = ct.Version, len(ct.StatusHistory)
	claim := e
	claim.Action = "concern.suspend.start"
	claim.Detail = SuspendContract + ", contract status change pending"
	matched, err := s.write(ctx, scope, c, bson.D{{Key: "version", Value: c.Version}, {Key: "status", Value: Open}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "pending", Value: dec}, {Key: "updated_at", Value: dec.At}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}, claim)
	switch {
	case err != nil && !errors.Is(err, audit.ErrPending):
		return Concern{}, err
	case !matched:
		return Concern{}, ErrConflict
	}
	c.Pending, c.Version = &dec, c.Version+1
	if s.afterClaim != nil {
		if err := s.afterClaim(); err != nil {
			return Concern{}, err
		}
	}
	return s.finish(ctx, scope, c, e)
}

// sentAgain reports whether this very decision (the same person, outcome
// and reason on the same version) is already recorded.
func (c Concern) sentAgain(version int, d NewDecision, by Actor) bool {
	return slices.ContainsFunc(c.Decisions, func(dec Decision) bool {
		return dec.BasedOn == version && dec.By.ID == by.ID && dec.Outcome == d.Outcome && dec.Reason == d.Reason
	})
}

// record adds a decision to an open concern as it was read, with its audit
// event.
func (s *Store) record(ctx context.Context, scope access.Scope, c Concern, dec Decision, e audit.Event) (Concern, error) {
	e.Action = "concern.decide"
	e.Detail = dec.Outcome
	if dec.Outcome == SuspendContract {
		e.Detail += ", contract already suspended"
	}
	matched, err := s.write(ctx, scope, c, bson.D{{Key: "version", Value: c.Version}, {Key: "status", Value: Open}}, decisionUpdate(dec), e)
	switch {
	case err != nil && !errors.Is(err, audit.ErrPending):
		return Concern{}, err
	case !matched:
		return Concern{}, ErrConflict
	}
	after, gerr := s.Get(ctx, scope, c.ID.Hex())
	if gerr != nil {
		return Concern{}, gerr
	}
	return after, err
}

// decisionUpdate adds dec to a concern's decisions, decides the concern
// unless dec keeps it open, and clears any pending decision.
func decisionUpdate(dec Decision) bson.D {
	set := bson.D{{Key: "outcome", Value: dec.Outcome}, {Key: "updated_at", Value: dec.At}}
	if !outcomes[dec.Outcome].keepsOpen {
		set = append(set, bson.E{Key: "status", Value: Decided}, bson.E{Key: "decided_at", Value: dec.At})
	}
	return bson.D{
		{Key: "$set", Value: set},
		{Key: "$push", Value: bson.D{{Key: "decisions", Value: dec}}},
		{Key: "$unset", Value: bson.D{{Key: "pending", Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}
}

// finish completes c's pending decision to suspend: it changes the
// contract's status unless that is done, then records the decision; or,
// if the contract has changed in another way since the decision was
// taken, it removes the pending decision and answers ErrConflict. It
// returns the concern as it then is. The caller holds the locks of the
// concern and its contract. Another replica may be finishing the same
// decision: every step checks for the other's and accepts it.
func (s *Store) finish(ctx context.Context, scope access.Scope, c Concern, e audit.Event) (Concern, error) {
	p := *c.Pending
	refused := func(cause error) (Concern, error) {
		if err := s.release(ctx, scope, c, p, e); err != nil {
			return Concern{}, err
		}
		after, err := s.Get(ctx, scope, c.ID.Hex())
		if err != nil {
			return Concern{}, err
		}
		return after, cause
	}
	done, ct, err := s.suspended(ctx, scope, c.ContractID, p)
	switch {
	case errors.Is(err, ErrNotFound):
		return refused(ErrNotFound)
	case err != nil:
		// The contract cannot be read: leave the decision pending for the
		// next attempt to finish.
		return Concern{}, err
	}
	if !done {
		if ct.Version != p.ContractVersion {
			return refused(ErrConflict)
		}
		status := e
		status.Action, status.Outcome = "contract.status", audit.Success
		err := s.contracts.SetStatus(ctx, scope, ct.ID, p.ContractVersion, partner.Suspended, p.Reason, p.By.Name, status)
		if err != nil && !errors.Is(err, audit.ErrPending) && !errors.Is(err, partner.ErrUnchanged) {
			// Refused, or not known to have been made: read the contract
			// again to tell, and leave the decision pending if it cannot be read.
			done, _, rerr := s.suspended(ctx, scope, c.ContractID, p)
			switch {
			case errors.Is(rerr, ErrNotFound):
				return refused(ErrNotFound)
			case rerr != nil:
				return Concern{}, fmt.Errorf("suspend contract %s: %w (and reading it again: %w)", ct.ID, err, rerr)
			case !done && (errors.Is(err, partner.ErrConflict) || errors.Is(err, partner.ErrNotFound)):
				return refused(ErrConflict)
			case !done:
				return refused(fmt.Errorf("suspend contract %s: %w", ct.ID, err))
			}
		}
	}
	p.SuspendedContract = true
	rec := e
	rec.Action = "concern.decide"
	rec.Detail = SuspendContract + ", contract suspended"
	matched, err := s.write(ctx, scope, c, bson.D{{Key: "pending.id", Value: p.ID}}, decisionUpdate(p), rec)
	if err != nil && !errors.Is(err, audit.ErrPending) {
		return Concern{}, err
	}
	after, gerr := s.Get(ctx, scope, c.ID.Hex())
	switch {
	case gerr != nil:
		return Concern{}, gerr
	case !matched && !after.decided(p.ID):
		return after, ErrConflict
	}
	return after, err
}

// suspended reports whether the contract's status history holds the
// change decision p makes (an entry after those it had when p was taken,
// to suspended, for p's reason, by p's maker), and returns the contract.
func (s *Store) suspended(ctx context.Context, scope access.Scope, contractID string, p Decision) (bool, partner.Contract, error) {
	ct, err := s.contract(ctx, scope, contractID)
	if err != nil {
		return false, partner.Contract{}, err
	}
	for i := min(p.StatusHistoryLen, len(ct.StatusHistory)); i < len(ct.StatusHistory); i++ {
		h := ct.StatusHistory[i]
		if h.Status == partner.Suspended && h.Reason == p.Reason && h.By == p.By.Name {
			return true, ct, nil
		}
	}
	return false, ct, nil
}

// release removes a pending decision whose status change was refused,
// with its audit event; if another finisher removed or recorded it
// first, there is nothing to do.
func (s *Store) release(ctx context.Context, scope access.Scope, c Concern, p Decision, e audit.Event) error {
	e.Action = "concern.suspend.release"
	e.Detail = SuspendContract + ", contract status not changed"
	_, err := s.write(ctx, scope, c, bson.D{{Key: "pending.id", Value: p.ID}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "updated_at", Value: s.now()}}},
		{Key: "$unset", Value: bson.D{{Key: "pending", Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}, e)
	if err != nil && !errors.Is(err, audit.ErrPending) {
		return err
	}
	return nil
}

// write applies update to concern c if it still matches conds, with its
// audit event, and reports whether it matched. The caller holds c's lock.
// An error wrapping audit.ErrPending means the change was stored.
func (s *Store) write(ctx context.Context, scope access.Scope, c Concern, conds, update bson.D, e audit.Event) (bool, error) {
	e.PartnerID, e.Resource, e.Outcome = c.PartnerID, resource(c.ID), audit.Success
	// The conditions say the concern is still as it was read; the scope is
	// repeated in case the concern was read with another.
	filter := scoped(scope, append(bson.D{{Key: "_id", Value: c.ID}}, conds...)...)
	matched, _, err := s.trail.Update(ctx, s.coll(), filter, update, e)
	if err != nil {
		return matched, fmt.Errorf("%s: %w", e.Action, err)
	}
	return matched, nil
}
