package performance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/compliance"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/paged"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/staff"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Lookback is how many months before the current one detection looks back:
// a new portal records the past year, and every run after re-reads that
// year, so a record made late (an inspection written up weeks after it took
// place) still counts in the month it happened.
const Lookback = 12

// Detector finds failures in the records of the other stores, across the
// whole department, and records each once in Failures. It reads every
// roster, so it runs in the background, never for a request.
//
// What counts, per indicator:
//   - a late notification: each incident that reached the department after
//     its deadline, in the month it was notified;
//   - an overdue action: each action not closed by its due date, in every
//     month it is overdue in. An open action has been overdue every day
//     since it fell due, so those months are all recorded at once; an
//     action closed late keeps the months recorded while it was overdue
//     (one closed before any run saw it overdue, on a portal that was not
//     running, is not recorded);
//   - staff without required training or vetting: each person still working
//     whose stored assessment under a contract shows a requirement missing
//     or expired for longer than the contract's grace period, once per
//     contract in the month of each run that sees it. A missing requirement
//     counts from the latest of the person's start, the contract's start and
//     the last change to the contract's requirements (any of which may be
//     what made it required); an expired one from its expiry. Evidence
//     awaiting the department's verification does not count: the partner
//     has done its part. Leavers never count;
//   - a failed inspection: each completed inspection rated inadequate, in
//     the month it took place.
//
// Every failure's ID is worked out from what failed (and the month, for
// those that recur), so running detection again, or on several replicas at
// once, records each failure once: a second insert meets the first's key.
type Detector struct {
	Failures  *Store
	Partners  *partner.Store
	Incidents *incident.Store
	Oversight *oversight.Store
	Staff     *staff.Store
}

// detectorActor is who the trail says recorded a failure.
var detectorActor = audit.Actor{Kind: audit.KindSystem, Subject: "performance-detector"}

// Detect finds the failures as at now and records those not yet recorded,
// returning how many it recorded. A source that cannot be read does not
// stop the others; their errors are returned together.
func (d *Detector) Detect(ctx context.Context, now time.Time) (int, error) {
	today := calendar.Today(now)
	r := run{d: d, now: now.UTC().Truncate(time.Millisecond), today: today, month: monthOfDay(today)}
	r.from = calendar.AddMonths(r.month, -Lookback)
	everyone := access.Everything()
	cs, err := d.Partners.Contracts(ctx, everyone)
	if err != nil {
		return 0, fmt.Errorf("detect performance failures: %w", err)
	}
	r.contracts = make(map[string]partner.Contract, len(cs))
	for _, c := range cs {
		r.contracts[c.ID] = c
	}
	if r.known, err = d.Failures.recordedSince(ctx, r.from); err != nil {
		return 0, err
	}
	var errs []error
	for _, source := range []func(context.Context) error{r.lateNotifications, r.overdueActions, r.failedInspections, r.staffNotCompliant} {
		if err := source(ctx); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				return r.added, errors.Join(errs...)
			}
		}
	}
	// Every month looked at is counted again, whether or not this run found
	// anything: a run stopped between recording and counting is made good.
	var months []time.Time
	for m := r.from; !m.After(r.month); m = calendar.AddMonths(m, 1) {
		months = append(months, m)
	}
	if err := d.Failures.tally(ctx, months); err != nil {
		errs = append(errs, err)
	}
	return r.added, errors.Join(errs...)
}

// run is one detection: what it knows and what it has recorded.
type run struct {
	d         *Detector
	now       time.Time
	today     time.Time
	month     time.Time // this month
	from      time.Time // the earliest month looked at
	contracts map[string]partner.Contract
	known     map[bson.ObjectID]bool
	added     int
}

// record records f (under contract c, which decides its partner and
// points) unless it is known already.
func (r *run) record(ctx context.Context, c partner.Contract, f Failure) error {
	if f.Month.Before(r.from) || r.known[f.ID] {
		return nil
	}
	f.ContractID, f.PartnerID = c.ID, c.PartnerID
	f.Points = PointsFor(r.d.Failures.TermsFor(c), f.Indicator)
	f.RecordedAt, f.Version = r.now, 1
	added, err := r.d.Failures.insert(ctx, f)
	if err != nil {
		return err
	}
	r.known[f.ID] = true
	if added {
		r.added++
	}
	return nil
}

// contract is the contract a source's record names, if it exists and is
// the partner's.
func (r *run) contract(contractID, partnerID string) (partner.Contract, bool) {
	c, ok := r.contracts[contractID]
	return c, ok && c.PartnerID == partnerID
}

func (r *run) lateNotifications(ctx context.Context) error {
	since := time.Date(r.from.Year(), r.from.Month(), 1, 0, 0, 0, 0, calendar.London)
	late, err := r.d.Incidents.LateSince(ctx, access.Everything(), since)
	if err != nil {
		return err
	}
	for _, in := range late {
		c, ok := r.contract(in.ContractID, in.PartnerID)
		if !ok {
			continue
		}
		day := calendar.Today(in.NotifiedAt)
		notified := in.NotifiedAt.UTC()
		f := Failure{ID: failureID(LateNotification, in.ID.Hex()), Indicator: LateNotification, Month: monthOfDay(day), OccurredOn: day,
			Evidence: Evidence{IncidentID: in.ID.Hex(), IncidentReference: in.Reference, NotifiedAt: &notified, LateBy: in.LateBy}}
		if err := r.record(ctx, c, f); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) overdueActions(ctx context.Context) error {
	for page := 1; ; page++ {
		actions, total, err := r.d.Oversight.ListActions(ctx, access.Everything(), oversight.ActionFilter{OverdueAsOf: r.now}, page, paged.MaxPerPage)
		if err != nil {
			return fmt.Errorf("detect overdue actions: %w", err)
		}
		for _, a := range actions {
			c, ok := r.contract(a.ContractID, a.PartnerID)
			if !ok {
				continue
			}
			firstOverdue := calendar.AddDays(a.DueOn, 1)
			due := a.DueOn
			for m := latest(monthOfDay(firstOverdue), r.from); !m.After(r.month); m = calendar.AddMonths(m, 1) {
				f := Failure{ID: failureID(OverdueAction, a.ID.Hex(), m.Format("2006-01")), Indicator: OverdueAction, Month: m,
					OccurredOn: latest(firstOverdue, m), Evidence: Evidence{ActionID: a.ID.Hex(), ActionTitle: a.Title, DueOn: &due}}
				if err := r.record(ctx, c, f); err != nil {
					return err
				}
			}
		}
		if int64(page*paged.MaxPerPage) >= total {
			return nil
		}
	}
}

func (r *run) failedInspections(ctx context.Context) error {
	for page := 1; ; page++ {
		ins, total, err := r.d.Oversight.ListInspections(ctx, access.Everything(), oversight.InspectionFilter{Status: oversight.Completed}, page, paged.MaxPerPage)
		if err != nil {
			return fmt.Errorf("detect failed inspections: %w", err)
		}
		for _, in := range ins {
			c, ok := r.contract(in.ContractID, in.PartnerID)
			if !ok || in.Rating != oversight.Inadequate || in.CompletedOn == nil {
				continue
			}
			on := calendar.Day(*in.CompletedOn)
			f := Failure{ID: failureID(FailedInspection, in.ID.Hex()), Indicator: FailedInspection, Month: monthOfDay(on), OccurredOn: on,
				Evidence: Evidence{InspectionID: in.ID.Hex(), Site: in.Site, InspectedOn: &on, Rating: in.Rating}}
			if err := r.record(ctx, c, f); err != nil {
				return err
			}
		}
		if int64(page*paged.MaxPerPage) >= total {
			return nil
		}
	}
}

func (r *run) staffNotCompliant(ctx context.Context) error {
	ps, err := r.d.Partners.List(ctx, access.Everything())
	if err != nil {
		return fmt.Errorf("detect staff without requirements: %w", err)
	}
	type found struct {
		c partner.Contract
		f Failure
	}
	var errs []error
	for _, p := range ps {
		// A roster is read whole before anything is recorded: the store
		// drops a cursor left waiting while thousands of failures are written.
		var all []found
		err := r.d.Staff.Each(ctx, access.PartnerScope(p.ID), p.ID, func(m staff.Member) error {
			if m.Assessment == nil || !m.Active || (m.LeavingDate != nil && !calendar.Day(*m.LeavingDate).After(r.today)) {
				return nil
			}
			for _, st := range m.Assessment.Contracts {
				c, ok := r.contract(st.ContractID, p.ID)
				if !ok || c.Status == partner.Terminated || !st.Applies || st.Compliant {
					continue
				}
				since, missing := notMetSince(m, c, st)
				grace := r.d.Failures.TermsFor(c).GraceDays
				if len(missing) == 0 || calendar.AddDays(since, grace).Compare(r.today) >= 0 {
					continue
				}
				id := failureID(StaffNotCompliant, c.ID, p.ID, m.ID.Hex(), r.month.Format("2006-01"))
				if r.known[id] {
					continue
				}
				// The first day past the grace period, or this month's first.
				pastGrace := calendar.AddDays(since, grace+1)
				all = append(all, found{c, Failure{ID: id, Indicator: StaffNotCompliant, Month: r.month, OccurredOn: latest(pastGrace, r.month),
					Evidence: Evidence{StaffID: m.ID.Hex(), StaffNumber: m.StaffNumber, Since: &since, Missing: missing}}})
			}
			return nil
		})
		for _, x := range all {
			if err == nil {
				err = r.record(ctx, x.c, x.f)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("detect staff without requirements at %s: %w", p.ID, err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// notMetSince is the requirements a person does not meet under a contract
// (missing or expired; see Detector for when each started to count), and
// the day the earliest of them stopped being met.
func notMetSince(m staff.Member, c partner.Contract, st staff.Standing) (time.Time, []Missing) {
	required := latest(calendar.Day(m.StartDate), calendar.Day(c.StartDate))
	if n := len(c.RequirementHistory); n > 0 {
		required = latest(required, calendar.Today(c.RequirementHistory[n-1].At))
	}
	var since time.Time
	var missing []Missing
	for _, g := range st.Gaps {
		var from time.Time
		switch {
		case g.State == string(compliance.Expired) && g.Due != nil:
			from = latest(calendar.Day(*g.Due), required)
		case g.State == string(compliance.Expired), g.State == string(compliance.Missing):
			from = required
		default:
			continue
		}
		missing = append(missing, Missing{Key: g.Key, State: g.State, Since: from})
		if since.IsZero() || from.Before(since) {
			since = from
		}
	}
	return since, missing
}

// latest is the later of two times.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// recordedSince is the IDs of the failures recorded for months from from
// on: what a detection run need not record again. One read, in the order
// of the month_contract index.
func (s *Store) recordedSince(ctx context.Context, from time.Time) (map[bson.ObjectID]bool, error) {
	cur, err := s.failures().Find(ctx, bson.D{{Key: "month", Value: bson.D{{Key: "$gte", Value: from}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read recorded performance failures: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	known := map[bson.ObjectID]bool{}
	for cur.Next(ctx) {
		var doc struct {
			ID bson.ObjectID `bson:"_id"`
		}
		if err := cur.Decode(&doc); err != nil {
			return nil, fmt.Errorf("read recorded performance failures: %w", err)
		}
		known[doc.ID] = true
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read recorded performance failures: %w", err)
	}
	return known, nil
}

// insert stores a failure with its audit event, appended in the background
// with others' (a run may record many). It reports false, and stores
// nothing, if the failure is already recorded.
func (s *Store) insert(ctx context.Context, f Failure) (bool, error) {
	e := audit.Event{Actor: detectorActor, Action: "performance.record", Resource: "performance_failure/" + f.ID.Hex(),
		PartnerID: f.PartnerID, Outcome: audit.Success,
		Detail: fmt.Sprintf("%s, %d points, %s", f.Indicator, f.Points, f.Month.Format("2006-01"))}
	_, err := s.trail.InsertSettlingLater(ctx, s.failures(), f, e)
	switch {
	case mongo.IsDuplicateKeyError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("record performance failure: %w", err)
	}
	return true, nil
}
