package partner

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// IDPattern is what a partner ID looks like. The ID is also the organisation
// claim its people carry and part of its roster collection's name, so it is
// kept to characters that are safe in both.
var IDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// reservedIDs can never be partner IDs: "department" is the department's own
// organisation (a partner with that ID would be mistaken for it), and "new"
// is a page address (/partners/new) that would hide the partner's page.
var reservedIDs = []string{"department", "new"}

// ValidID reports whether id can be a new partner's ID.
func ValidID(id string) bool { return IDPattern.MatchString(id) && !slices.Contains(reservedIDs, id) }

// companiesHouseNumber is 8 digits (England and Wales), or 2 letters and 6
// digits (Scotland SC, Northern Ireland NI, LLPs OC and the like).
var companiesHouseNumber = regexp.MustCompile(`^([0-9]{8}|[A-Z]{2}[0-9]{6})$`)

// NormaliseCompaniesHouseNumber writes a number as Companies House does:
// upper case, no spaces.
func NormaliseCompaniesHouseNumber(n string) string {
	return strings.ToUpper(strings.Join(strings.Fields(n), ""))
}

// ValidCompaniesHouseNumber reports whether n, normalised, is a Companies House number.
func ValidCompaniesHouseNumber(n string) bool { return companiesHouseNumber.MatchString(n) }

func (s *Store) checkWritable() error {
	if s.trail == nil {
		return errors.New("partner store has no audit trail: changes would go unrecorded")
	}
	return nil
}

func (p Partner) check() error {
	switch {
	case !ValidID(p.ID):
		return fmt.Errorf("invalid partner ID %q", p.ID)
	case strings.TrimSpace(p.Name) == "":
		return fmt.Errorf("partner %s has no name", p.ID)
	case !ValidCompaniesHouseNumber(p.CompaniesHouseNumber):
		return fmt.Errorf("partner %s: invalid Companies House number", p.ID)
	}
	return nil
}

// Create adds a partner, with its audit event. Adding a partner reaches no
// existing data, so it takes no scope; who may add partners is the policy's
// decision. It returns ErrDuplicate if the ID is taken.
func (s *Store) Create(ctx context.Context, p Partner, e audit.Event) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	if err := p.check(); err != nil {
		return err
	}
	if p.Contacts == nil {
		p.Contacts = []Contact{}
	}
	e.Resource = "partner/" + p.ID
	e.PartnerID = p.ID
	if _, err := s.trail.Insert(ctx, s.partners, p, e); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return ErrDuplicate
		}
		return fmt.Errorf("create partner %s: %w", p.ID, err)
	}
	return nil
}

// Update changes a partner's name, Companies House number and contacts, with
// its audit event. The ID never changes: it is the partner's organisation
// claim. ErrNotFound if the partner is outside scope.
func (s *Store) Update(ctx context.Context, scope access.Scope, p Partner, e audit.Event) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	if !scope.Includes(p.ID) {
		return ErrNotFound
	}
	if err := p.check(); err != nil {
		return err
	}
	if p.Contacts == nil {
		p.Contacts = []Contact{}
	}
	e.Resource = "partner/" + p.ID
	e.PartnerID = p.ID
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "name", Value: p.Name},
		{Key: "companies_house_number", Value: p.CompaniesHouseNumber},
		{Key: "contacts", Value: p.Contacts},
	}}}
	// A lone _id filter: the one the SQLite store answers without a scan.
	matched, _, err := s.trail.Update(ctx, s.partners, bson.D{{Key: "_id", Value: p.ID}}, update, e)
	if err != nil {
		return fmt.Errorf("update partner %s: %w", p.ID, err)
	}
	if !matched {
		return ErrNotFound
	}
	return nil
}

// Claimable returns the partner if subject added it and it has no contracts
// yet. A contract manager's scope comes from their contracts, so a partner
// they have just added is out of their reach until its first contract is
// added; this is the one way in, and it closes once any contract exists, so
// nobody can add themselves to an established partner's data by adding a
// contract to it. Like ManagedBy, it works out reach, so it takes no scope.
func (s *Store) Claimable(ctx context.Context, id, subject string) (Partner, error) {
	if subject == "" || !IDPattern.MatchString(id) {
		return Partner{}, ErrNotFound
	}
	p, err := s.Get(ctx, access.PartnerScope(id), id)
	if err != nil {
		return Partner{}, err
	}
	if p.CreatedBy != subject {
		return Partner{}, ErrNotFound
	}
	n, err := s.contracts.CountDocuments(ctx, bson.D{{Key: "partner_id", Value: id}}, options.Count().SetLimit(1))
	if err != nil {
		return Partner{}, fmt.Errorf("count partner %s's contracts: %w", id, err)
	}
	if n > 0 {
		return Partner{}, ErrNotFound
	}
	return p, nil
}
