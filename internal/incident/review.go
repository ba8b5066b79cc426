package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/invisible"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrInvalid means the change itself is not acceptable (empty text, a
// close before the outcome); its message says why, for the person.
type ErrInvalid struct{ Message string }

func (e *ErrInvalid) Error() string { return e.Message }

// change is one step in an incident's life: an entry in its chronology and
// the fields that step sets, allowed only from some statuses and, for the
// department's decisions, only on the version the person saw.
type change struct {
	from    []string // statuses it may follow; nil for any but closed
	version int      // the version the person saw; 0 to skip the check
	set     bson.D
	unset   []string
	update  Update
	action  string // audit action
	// check refuses the change given the incident as it is now.
	check func(Incident) error
}

// apply makes a change to an incident within reach, with its audit event,
// and returns the incident as it now is.
func (s *Store) apply(ctx context.Context, scope access.Scope, id string, ch change, e audit.Event) (Incident, error) {
	defer s.locks.Lock(id)()
	in, err := s.Get(ctx, scope, id)
	if err != nil {
		return Incident{}, err
	}
	from := ch.from
	if from == nil {
		from = []string{Notified, UnderReview, InformationRequested}
	}
	if !slices.Contains(from, in.Status) || (ch.version != 0 && ch.version != in.Version) {
		return Incident{}, ErrConflict
	}
	if ch.check != nil {
		if err := ch.check(in); err != nil {
			return Incident{}, err
		}
	}
	now := s.now()
	if ch.update.ID.IsZero() {
		ch.update.ID = bson.NewObjectID()
	}
	ch.update.At = now
	set := append(bson.D{{Key: "updated_at", Value: now}}, ch.set...)
	update := bson.D{
		{Key: "$set", Value: set},
		{Key: "$push", Value: bson.D{{Key: "updates", Value: ch.update}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}
	if len(ch.unset) > 0 {
		u := bson.D{}
		for _, f := range ch.unset {
			u = append(u, bson.E{Key: f, Value: ""})
		}
		update = append(update, bson.E{Key: "$unset", Value: u})
	}
	e.PartnerID = in.PartnerID
	e.Resource = "incident/" + in.ID.Hex()
	e.Action = ch.action
	// The filter repeats what was checked, so a change made meanwhile by
	// someone else turns this one into a conflict rather than a lost update.
	filter := scope.ContractFieldFilter("contract_id",
		bson.E{Key: "_id", Value: in.ID}, bson.E{Key: "version", Value: in.Version}, bson.E{Key: "status", Value: in.Status})
	matched, _, err := s.trail.Update(ctx, s.incidents(), filter, update, e)
	if err != nil && !errors.Is(err, audit.ErrPending) {
		return Incident{}, fmt.Errorf("%s: %w", ch.action, err)
	}
	if !matched {
		return Incident{}, ErrConflict
	}
	after, gerr := s.Get(ctx, scope, id)
	if gerr != nil {
		return Incident{}, gerr
	}
	return after, err
}

func checkText(what, text string, most int) error {
	switch {
	case strings.TrimSpace(text) == "":
		return &ErrInvalid{"Enter " + what}
	case utf8.RuneCountInString(text) > most:
		return &ErrInvalid{fmt.Sprintf("%s must be %d characters or fewer", capital(what), most)}
	case invisible.Hides(text):
		return &ErrInvalid{capital(what) + " must not contain hidden or control characters"}
	}
	return nil
}

// Acknowledge records that the department has the incident and is reviewing it.
func (s *Store) Acknowledge(ctx context.Context, scope access.Scope, id string, version int, by Actor, note string, e audit.Event) (Incident, error) {
	if note != "" {
		if err := checkText("a note", note, maxActions); err != nil {
			return Incident{}, err
		}
	}
	text := "The department acknowledged the incident."
	if note != "" {
		text += " " + note
	}
	now := s.now()
	return s.apply(ctx, scope, id, change{from: []string{Notified}, version: version, action: "incident.acknowledge",
		set:    bson.D{{Key: "status", Value: UnderReview}, {Key: "acknowledged_at", Value: now}, {Key: "acknowledged_by", Value: by.Name}},
		update: Update{By: by, Kind: KindAcknowledged, Text: text}}, e)
}

// RequestInformation asks the partner for more; the partner is told and
// answers in the portal or through the API.
func (s *Store) RequestInformation(ctx context.Context, scope access.Scope, id string, version int, by Actor, question string, e audit.Event) (Incident, error) {
	if err := checkText("what the partner needs to tell you", question, maxActions); err != nil {
		return Incident{}, err
	}
	// The request is known by its chronology entry's ID.
	uid := bson.NewObjectID()
	return s.apply(ctx, scope, id, change{from: []string{UnderReview}, version: version, action: "incident.request_information",
		set:    bson.D{{Key: "status", Value: InformationRequested}, {Key: "open_request", Value: uid}},
		update: Update{ID: uid, By: by, Kind: KindRequest, Text: question}}, e)
}

// Respond answers the department's open request for information with u
// (who, the answer, attachments). u.ID names the chronology entry, so a
// retried API call can find whether its first attempt was made; zero picks
// a new one.
func (s *Store) Respond(ctx context.Context, scope access.Scope, id, requestID string, u Update, e audit.Event) (Incident, error) {
	if err := checkText("your answer", u.Text, maxLongText); err != nil {
		return Incident{}, err
	}
	rid, err := bson.ObjectIDFromHex(requestID)
	if err != nil {
		return Incident{}, &ErrInvalid{"The request for information was not found: answer the department's latest request"}
	}
	u.Kind, u.Answers = KindResponse, &rid
	return s.apply(ctx, scope, id, change{from: []string{InformationRequested}, action: "incident.respond",
		set: bson.D{{Key: "status", Value: UnderReview}}, unset: []string{"open_request"},
		update: u,
		check: func(in Incident) error {
			if in.OpenRequest == nil || *in.OpenRequest != rid {
				return &ErrInvalid{"That request for information has already been answered or was replaced: answer the department's latest request"}
			}
			return nil
		}}, e)
}

// AddUpdate adds u (who, what, attachments) to the chronology from either
// side: new facts, actions taken, progress of referrals. u.ID is as for
// Respond.
func (s *Store) AddUpdate(ctx context.Context, scope access.Scope, id string, u Update, e audit.Event) (Incident, error) {
	if err := checkText("the update", u.Text, maxLongText); err != nil {
		return Incident{}, err
	}
	u.Kind = KindUpdate
	return s.apply(ctx, scope, id, change{action: "incident.update", update: u}, e)
}

// HasUpdate reports whether the incident's chronology holds the entry with id.
func (in Incident) HasUpdate(id bson.ObjectID) bool {
	return slices.ContainsFunc(in.Updates, func(u Update) bool { return u.ID == id })
}

// RecordRegimeNotified records that the partner told another body (the
// ICO, the review panel), when and under what reference, and stops its clock.
func (s *Store) RecordRegimeNotified(ctx context.Context, scope access.Scope, id, regime string, at time.Time, reference string, by Actor, e audit.Event) (Incident, error) {
	in, err := s.Get(ctx, scope, id)
	if err != nil {
		return Incident{}, err
	}
	i := slices.IndexFunc(in.Clocks, func(c Clock) bool { return c.Regime == regime && regime != "department" })
	if i < 0 {
		return Incident{}, &ErrInvalid{"Select a body this incident must be notified to"}
	}
	clock := in.Clocks[i]
	switch {
	case clock.NotifiedAt != nil:
		return Incident{}, &ErrInvalid{clock.Name + " has already been recorded as notified"}
	case at.IsZero() || at.After(s.now().Add(clockSkew)):
		return Incident{}, &ErrInvalid{"When you notified " + clock.Name + " must be in the past"}
	case at.Before(in.AwareAt):
		return Incident{}, &ErrInvalid{"When you notified " + clock.Name + " must be after your organisation became aware of the incident"}
	}
	if reference != "" && !partnerReference.MatchString(reference) {
		return Incident{}, &ErrInvalid{"The reference must be up to 100 letters, numbers or symbols, without spaces"}
	}
	at = at.UTC().Truncate(time.Millisecond) // as the store keeps it
	path := fmt.Sprintf("clocks.%d.", i)
	set := bson.D{{Key: path + "notified_at", Value: at}, {Key: path + "by", Value: by.Name}, {Key: path + "reference", Value: reference}}
	text := fmt.Sprintf("%s was notified on %s.", clock.Name, at.In(calendar.London).Format("2 January 2006 at 15:04"))
	if late := at.Sub(clock.Deadline); late > 0 {
		set = append(set, bson.E{Key: path + "late_by", Value: late})
	}
	return s.apply(ctx, scope, id, change{action: "incident.regime_notified", version: in.Version, set: set,
		update: Update{By: by, Kind: KindRegimeNotified, Text: text, Regime: regime}}, e)
}

// RecordOutcome records the department's findings and lessons learned.
func (s *Store) RecordOutcome(ctx context.Context, scope access.Scope, id string, version int, by Actor, outcome, lessons string, e audit.Event) (Incident, error) {
	if err := checkText("the outcome of the review", outcome, maxLongText); err != nil {
		return Incident{}, err
	}
	if err := checkText("the lessons learned", lessons, maxLongText); err != nil {
		return Incident{}, err
	}
	return s.apply(ctx, scope, id, change{from: []string{UnderReview}, version: version, action: "incident.outcome",
		set:    bson.D{{Key: "outcome", Value: outcome}, {Key: "lessons", Value: lessons}},
		update: Update{By: by, Kind: KindOutcome, Text: "Outcome: " + outcome + "\nLessons learned: " + lessons}}, e)
}

// SignOff records a safeguarding lead's sign-off of a critical incident's
// review, which its closure needs.
func (s *Store) SignOff(ctx context.Context, scope access.Scope, id string, version int, by Actor, note string, e audit.Event) (Incident, error) {
	text := "A safeguarding lead signed off the review."
	if note != "" {
		if err := checkText("a note", note, maxActions); err != nil {
			return Incident{}, err
		}
		text += " " + note
	}
	return s.apply(ctx, scope, id, change{from: []string{UnderReview}, version: version, action: "incident.sign_off",
		set:    bson.D{{Key: "signed_off_by", Value: by.Name}},
		update: Update{By: by, Kind: KindLeadSignOff, Text: text},
		check: func(in Incident) error {
			switch {
			case !in.Critical:
				return &ErrInvalid{"Only critical incidents need a safeguarding lead's sign-off"}
			case in.Outcome == "":
				return &ErrInvalid{"Record the outcome of the review before signing it off"}
			case in.SignedOffBy != "":
				return &ErrInvalid{"The review has already been signed off"}
			}
			return nil
		}}, e)
}

// Close closes the incident once its outcome is recorded and, for a
// critical incident, a safeguarding lead has signed it off.
func (s *Store) Close(ctx context.Context, scope access.Scope, id string, version int, by Actor, e audit.Event) (Incident, error) {
	now := s.now()
	return s.apply(ctx, scope, id, change{from: []string{UnderReview}, version: version, action: "incident.close",
		set:    bson.D{{Key: "status", Value: Closed}, {Key: "closed_at", Value: now}},
		update: Update{By: by, Kind: KindClosed, Text: "The department closed the incident."},
		check: func(in Incident) error {
			switch {
			case in.Outcome == "":
				return &ErrInvalid{"Record the outcome and lessons learned before closing the incident"}
			case in.Critical && in.SignedOffBy == "":
				return &ErrInvalid{"A critical incident needs a safeguarding lead's sign-off before it is closed"}
			}
			return nil
		}}, e)
}
