package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/people"
	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// newEscalationWorker builds the worker that sends escalations through the
// configured relay and webhooks. A channel without configuration keeps its
// deliveries waiting, with the reason, for leads to see.
func (s *Server) newEscalationWorker() *escalation.Worker {
	var email, webhook escalation.Sender
	if smtp := s.cfg.Escalation.SMTP; smtp.Addr != "" {
		email = &escalation.SMTPSender{Addr: smtp.Addr, From: smtp.From, Username: smtp.Username, Password: smtp.Password, StartTLS: smtp.StartTLS}
	}
	if len(s.cfg.Escalation.Webhooks) > 0 {
		secrets := map[string]string{}
		for _, w := range s.cfg.Escalation.Webhooks {
			secrets[w.URL] = w.Secret
		}
		webhook = &escalation.WebhookSender{Secrets: secrets}
	}
	w := escalation.NewWorker(s.outbox, email, webhook)
	w.Log = s.log
	return w
}

// notified follows a new incident, however it arrived: its contract's figures
// are counted again, and a critical one is escalated at once to safeguarding
// leads and the contract's managers. The deliveries are stored before any is attempted; if this process stops
// before storing them, escalationSweep stores them later.
func (s *Server) notified(ctx context.Context, in incident.Incident) error {
	// The contract's timeliness this month counts it.
	s.counter.Mark(in.PartnerID)
	if !in.Critical {
		return nil
	}
	if err := s.escalate(ctx, in); err != nil {
		return err
	}
	s.escalationWorker.Wake()
	return nil
}

// escalate stores an incident's deliveries; storing them again adds nothing.
func (s *Server) escalate(ctx context.Context, in incident.Incident) error {
	ct, err := s.partners.GetContract(ctx, access.Everything(), in.ContractID)
	if err != nil {
		return fmt.Errorf("escalate: read contract: %w", err)
	}
	names, err := s.partners.Names(ctx)
	if err != nil {
		return fmt.Errorf("escalate: %w", err)
	}
	everyone, err := s.people.All(ctx)
	if err != nil {
		return fmt.Errorf("escalate: %w", err)
	}
	emails := append(append([]string(nil), s.cfg.Escalation.Emails...), people.Recipients(everyone, ct.Managers)...)
	var hooks []string
	for _, w := range s.cfg.Escalation.Webhooks {
		hooks = append(hooks, w.URL)
	}
	dept := in.DepartmentClock()
	alert := escalation.Alert{IncidentID: in.ID.Hex(), Reference: in.Reference, PartnerID: in.PartnerID, PartnerName: names[in.PartnerID],
		ContractID: in.ContractID, Category: s.categoryName(in.Category), Critical: in.Critical, NotifiedAt: in.NotifiedAt,
		AwareAt: in.AwareAt, Deadline: dept.Deadline, Link: s.cfg.BaseURL + "/incidents/" + in.ID.Hex()}
	deliveries, err := escalation.Escalation(alert, emails, hooks)
	if err != nil {
		return fmt.Errorf("escalate: %w", err)
	}
	if err := s.outbox.Enqueue(ctx, deliveries); err != nil {
		return fmt.Errorf("escalate: %w", err)
	}
	return nil
}

// escalationSweep stores the deliveries of the last day's critical
// incidents, in case a process stopped between storing an incident and
// storing its deliveries. Deliveries are keyed by what they are for, so
// sweeping an incident already escalated changes nothing.
func (s *Server) escalationSweep(ctx context.Context) error {
	since := time.Now().Add(-24 * time.Hour).UTC()
	cur, err := s.store.DB.Collection("incidents").Find(ctx,
		bson.D{{Key: "critical", Value: true}, {Key: "notified_at", Value: bson.D{{Key: "$gte", Value: since}}}},
		options.Find().SetProjection(bson.D{{Key: "updates", Value: 0}, {Key: "what_happened", Value: 0}}))
	if err != nil {
		return fmt.Errorf("find incidents to escalate: %w", err)
	}
	var recent []incident.Incident
	if err := cur.All(ctx, &recent); err != nil {
		return fmt.Errorf("find incidents to escalate: %w", err)
	}
	var errs []error
	for _, in := range recent {
		errs = append(errs, s.escalate(ctx, in))
	}
	s.escalationWorker.Wake()
	return errors.Join(errs...)
}

// escalationLoop runs this replica's share of sending escalations, and
// sweeps for incidents whose escalation a stopped process never stored.
func (s *Server) escalationLoop() {
	defer s.background.Done()
	ctx := s.backgroundCtx
	go func() {
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			if err := s.escalationSweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("escalation sweep", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	if err := s.escalationWorker.Run(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("escalation worker stopped", "err", err)
	}
}

type escalationsPage struct {
	Deliveries []escalation.Delivery
	State      string
	States     []any
}

var deliveryStateNames = map[string]string{
	escalation.StatePending: "Waiting to send", escalation.StateSending: "Sending",
	escalation.StateDelivered: "Delivered", escalation.StateFailed: "Failed",
}

// escalationsList shows safeguarding leads every escalation delivery and
// its state, newest first.
func (s *Server) escalationsList(c *gin.Context) {
	state := c.Query("state")
	if _, ok := deliveryStateNames[state]; !ok {
		state = ""
	}
	list, err := s.outbox.List(c.Request.Context(), 200, state)
	if err != nil {
		s.fail(c, "list escalations", err)
		return
	}
	page := escalationsPage{Deliveries: list, State: state, States: []any{map[string]any{"value": "", "text": "Any state"}}}
	for _, st := range []string{escalation.StatePending, escalation.StateSending, escalation.StateDelivered, escalation.StateFailed} {
		page.States = append(page.States, map[string]any{"value": st, "text": deliveryStateNames[st], "selected": st == state})
	}
	s.render(c, http.StatusOK, "escalations", "Escalations", page)
}

// escalationRetry sends a failed delivery again.
func (s *Server) escalationRetry(c *gin.Context) {
	err := s.outbox.Retry(c.Request.Context(), c.Param("delivery"))
	switch {
	case errors.Is(err, escalation.ErrNotFailed):
		s.renderError(c, http.StatusNotFound)
		return
	case err != nil:
		s.fail(c, "retry escalation", err)
		return
	}
	s.escalationWorker.Wake()
	c.Redirect(http.StatusSeeOther, "/escalations")
}
