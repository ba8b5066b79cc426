package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/gin-gonic/gin"
)

// Partners and contracts are managed by contract managers (for the contracts
// assigned to them) and safeguarding leads (for all): the ManageContracts
// action. Everyone who may view contracts sees a contract's page read-only,
// partner people only for their own organisation's contracts. A contract or
// partner out of the caller's reach is not found, never refused, so
// references reveal nothing.

// catalogue is the requirement catalogue contract pages read and tailor.
// catalogue is a copy of the configured requirements, the caller's to change.
func (s *Server) catalogue() *requirements.Catalogue { return s.requirements.Clone() }

// displayName is the signed-in person as histories show them; the audit
// trail keeps their subject.
func displayName(c *gin.Context) string {
	if sess := session(c); sess != nil {
		for _, n := range []string{sess.Identity.Name, sess.Identity.Email, sess.Identity.Subject} {
			if n = strings.TrimSpace(n); n != "" {
				return n
			}
		}
	}
	return principal(c).Subject
}

// notReachable answers 404 for a partner or contract out of reach, and puts
// the attempt on record: reaching for another organisation's data is what
// auditors most need to see.
func (s *Server) notReachable(c *gin.Context, action access.Action, kind, id string) {
	// The trail keeps valid UTF-8 only, and a short note of what was tried.
	id = strings.ToValidUTF8(id, "\uFFFD")
	if r := []rune(id); len(r) > 64 {
		id = string(r[:64])
	}
	if err := s.record(c, event(c, string(action), kind+"/"+id, "", audit.Denied)); err != nil {
		s.fail(c, "audit refused access", err)
		return
	}
	s.renderError(c, http.StatusNotFound)
}

// stored treats a change whose audit event is still pending as saved: the
// change and its event are in the document, Recover appends the event, and
// repeating the change would record it twice.
func (s *Server) stored(c *gin.Context, err error) error {
	if errors.Is(err, audit.ErrPending) {
		s.log.Warn("change saved with its audit event pending", "err", err, "request_id", c.GetString(ctxRequestID))
		return nil
	}
	return err
}

// manageablePartner is the :partner of the path if the caller may manage its
// contracts, with the scope to do it in. A contract manager reaches a partner
// through the contracts assigned to them, or one they added themselves that
// has no contract yet (see partner.Store.Claimable).
func (s *Server) manageablePartner(c *gin.Context) (partner.Partner, access.Scope, bool) {
	ctx := c.Request.Context()
	p := principal(c)
	id := c.Param("partner")
	if p.May(access.ManageContracts) {
		if p.MayOn(access.ManageContracts, id) {
			org, err := s.partners.Get(ctx, p.Scope, id)
			switch {
			case err == nil:
				return org, p.Scope, true
			case !errors.Is(err, partner.ErrNotFound):
				s.fail(c, "load partner", err)
				return partner.Partner{}, access.Scope{}, false
			}
		} else {
			org, err := s.partners.Claimable(ctx, id, p.Subject)
			switch {
			case err == nil:
				return org, access.PartnerScope(id), true
			case !errors.Is(err, partner.ErrNotFound):
				s.fail(c, "load partner", err)
				return partner.Partner{}, access.Scope{}, false
			}
		}
	}
	s.notReachable(c, access.ManageContracts, "partner", id)
	return partner.Partner{}, access.Scope{}, false
}

// reachableContract is the :contract of the path if the caller may take
// action on it.
func (s *Server) reachableContract(c *gin.Context, action access.Action) (partner.Contract, bool) {
	p := principal(c)
	id := c.Param("contract")
	if p.May(action) {
		ct, err := s.partners.GetContract(c.Request.Context(), p.Scope, id)
		switch {
		case err == nil && p.MayOn(action, ct.PartnerID):
			return ct, true
		case err != nil && !errors.Is(err, partner.ErrNotFound):
			s.fail(c, "load contract", err)
			return partner.Contract{}, false
		}
	}
	s.notReachable(c, action, "contract", id)
	return partner.Contract{}, false
}

// canManage reports whether the caller may change ct: the action on its
// partner, and the contract itself within their scope.
func canManage(p access.Principal, ct partner.Contract) bool {
	return p.MayOn(access.ManageContracts, ct.PartnerID) && p.Scope.IncludesContract(ct.ID, ct.PartnerID)
}

// formVersion reads the version a contract form was based on. Every contract
// form carries it; a post without it did not come from the form (an empty
// requirements form would otherwise clear every requirement).
func formVersion(c *gin.Context) (int64, bool) {
	v, err := strconv.ParseInt(c.PostForm("version"), 10, 64)
	return v, err == nil && v >= 0
}

func (s *Server) partnerName(c *gin.Context, scope access.Scope, id string) string {
	if org, err := s.partners.Get(c.Request.Context(), scope, id); err == nil {
		return org.Name
	}
	return id
}

// conflictError is shown when someone else saved the contract first; the
// form then shows the contract as it now is.
const conflictError = "Someone else changed this contract while you were working on it. Check the details, which now include their changes, and try again."

// ----- Partners -----

const contactSlots = 3

type contactForm struct{ Name, Role, Email string }

// partnerForm is the add and change partner form, as typed.
type partnerForm struct {
	ID, Name, CompaniesHouseNumber string
	Contacts                       []contactForm
}

func readPartnerForm(c *gin.Context) partnerForm {
	f := partnerForm{
		ID:                   strings.ToLower(strings.TrimSpace(c.PostForm("id"))),
		Name:                 strings.TrimSpace(c.PostForm("name")),
		CompaniesHouseNumber: strings.TrimSpace(c.PostForm("companies_house_number")),
	}
	for i := 1; i <= contactSlots; i++ {
		f.Contacts = append(f.Contacts, contactForm{
			Name:  strings.TrimSpace(c.PostForm(fmt.Sprintf("contact-%d-name", i))),
			Role:  strings.TrimSpace(c.PostForm(fmt.Sprintf("contact-%d-role", i))),
			Email: strings.TrimSpace(c.PostForm(fmt.Sprintf("contact-%d-email", i))),
		})
	}
	return f
}

func partnerFormOf(p partner.Partner) partnerForm {
	f := partnerForm{ID: p.ID, Name: p.Name, CompaniesHouseNumber: p.CompaniesHouseNumber}
	for _, ct := range p.Contacts {
		f.Contacts = append(f.Contacts, contactForm{Name: ct.Name, Role: ct.Role, Email: ct.Email})
	}
	for len(f.Contacts) < contactSlots {
		f.Contacts = append(f.Contacts, contactForm{})
	}
	return f
}

// partner checks the form and builds the partner, or lists what to fix, in
// form order. The ID is checked only when adding: it never changes.
func (f partnerForm) partner(adding bool) (partner.Partner, []fieldError) {
	var errs []fieldError
	p := partner.Partner{ID: f.ID, Name: f.Name, CompaniesHouseNumber: partner.NormaliseCompaniesHouseNumber(f.CompaniesHouseNumber)}
	if adding {
		switch {
		case f.ID == "":
			errs = append(errs, fieldError{"id", "Enter the partner identifier"})
		case !partner.IDPattern.MatchString(f.ID):
			errs = append(errs, fieldError{"id", "Partner identifier must be up to 40 lower-case letters, numbers and hyphens, starting with a letter or number"})
		case !partner.ValidID(f.ID):
			errs = append(errs, fieldError{"id", "Partner identifier cannot be " + f.ID + ": choose another"})
		}
	}
	errs = append(errs, textError("name", "the partner's name", "Name", f.Name, true)...)
	switch {
	case p.CompaniesHouseNumber == "":
		errs = append(errs, fieldError{"companies_house_number", "Enter the Companies House number"})
	case !partner.ValidCompaniesHouseNumber(p.CompaniesHouseNumber):
		errs = append(errs, fieldError{"companies_house_number", "Companies House number must be 8 digits, or 2 letters then 6 digits, like 08123456 or SC123456"})
	}
	for i, ct := range f.Contacts {
		if ct == (contactForm{}) {
			continue
		}
		n := i + 1
		prefix := fmt.Sprintf("contact-%d-", n)
		errs = append(errs, textError(prefix+"name", fmt.Sprintf("the name of contact %d", n), fmt.Sprintf("Contact %d’s name", n), ct.Name, true)...)
		errs = append(errs, textError(prefix+"role", "", fmt.Sprintf("Contact %d’s role", n), ct.Role, false)...)
		switch {
		case ct.Email == "":
			errs = append(errs, fieldError{prefix + "email", fmt.Sprintf("Enter the email address of contact %d", n)})
		case !validEmail(ct.Email):
			errs = append(errs, fieldError{prefix + "email", "Enter an email address in the correct format, like name@example.com"})
		}
		p.Contacts = append(p.Contacts, partner.Contact{Name: ct.Name, Role: ct.Role, Email: strings.ToLower(ct.Email)})
	}
	if len(p.Contacts) == 0 {
		errs = append(errs, fieldError{"contact-1-name", "Enter at least one contact at the partner"})
	}
	return p, errs
}

func validEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Address == v && len(v) <= 254
}

type partnerFormPage struct {
	Adding  bool
	Partner partner.Partner
	Form    partnerForm
	Errors  []fieldError
	Action  string
	Heading string
	Back    string
}

// newPartner shows and handles the form to add a partner. Whoever adds it may
// go on to add its first contract.
func (s *Server) newPartner(c *gin.Context) {
	p := principal(c)
	if !p.May(access.ManageContracts) {
		s.renderError(c, http.StatusForbidden)
		return
	}
	page := partnerFormPage{Adding: true, Action: c.Request.URL.Path, Heading: "Add a partner", Back: homePaths[session(c).Identity.PrimaryRole()],
		Form: partnerFormOf(partner.Partner{})}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "partner-form", page.Heading, page)
		return
	}
	page.Form = readPartnerForm(c)
	org, errs := page.Form.partner(true)
	if len(errs) == 0 {
		org.CreatedBy = p.Subject
		err := s.stored(c, s.partners.Create(c.Request.Context(), org, event(c, "partner.create", "partner/"+org.ID, org.ID, audit.Success)))
		switch {
		case errors.Is(err, partner.ErrDuplicate):
			errs = append(errs, fieldError{"id", "A partner with identifier " + org.ID + " already exists"})
		case err != nil:
			s.fail(c, "add partner", err)
			return
		default:
			// The roster needs its unique staff number index before anyone
			// adds staff; start-up creates it too, so a failure here heals.
			if err := s.staff.EnsureIndexes(c.Request.Context(), org.ID); err != nil {
				s.log.Error("create new partner's roster indexes", "partner", org.ID, "err", err, "request_id", c.GetString(ctxRequestID))
			}
			c.Redirect(http.StatusSeeOther, "/partners/"+org.ID+"/contracts/new?partner_added=1")
			return
		}
	}
	page.Errors = errs
	s.render(c, http.StatusBadRequest, "partner-form", "Error: "+page.Heading, page)
}

// editPartner shows and handles the form to change a partner's details.
func (s *Server) editPartner(c *gin.Context) {
	org, scope, ok := s.manageablePartner(c)
	if !ok {
		return
	}
	done := "/partners/" + org.ID
	if !principal(c).MayOn(access.ViewPartner, org.ID) {
		// A partner added but without a contract yet: the next step is its first.
		done = "/partners/" + org.ID + "/contracts/new"
	}
	page := partnerFormPage{Partner: org, Action: c.Request.URL.Path, Heading: "Change " + org.Name + "’s details", Back: done, Form: partnerFormOf(org)}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "partner-form", page.Heading, page)
		return
	}
	page.Form = readPartnerForm(c)
	page.Form.ID = org.ID
	changed, errs := page.Form.partner(false)
	if len(errs) == 0 {
		changed.CreatedBy = org.CreatedBy
		err := s.stored(c, s.partners.Update(c.Request.Context(), scope, changed, event(c, "partner.update", "partner/"+org.ID, org.ID, audit.Success)))
		switch {
		case errors.Is(err, partner.ErrNotFound):
			s.renderError(c, http.StatusNotFound)
			return
		case err != nil:
			s.fail(c, "update partner", err)
			return
		}
		if strings.HasSuffix(done, "/contracts/new") {
			c.Redirect(http.StatusSeeOther, done)
		} else {
			c.Redirect(http.StatusSeeOther, done+"?saved=1")
		}
		return
	}
	page.Errors = errs
	s.render(c, http.StatusBadRequest, "partner-form", "Error: "+page.Heading, page)
}

// ----- Contract details -----

// contractForm is the add and change contract form, as typed.
type contractForm struct {
	Reference, Title, ServiceLine, Managers string
	Start, End                              dateField
}

func readContractForm(c *gin.Context) contractForm {
	return contractForm{
		Reference:   strings.ToUpper(strings.TrimSpace(c.PostForm("reference"))),
		Title:       strings.TrimSpace(c.PostForm("title")),
		ServiceLine: c.PostForm("service_line"),
		Managers:    c.PostForm("managers"),
		Start:       readDate(c, "start_date"),
		End:         readDate(c, "end_date"),
	}
}

func contractFormOf(ct partner.Contract) contractForm {
	return contractForm{
		Reference: ct.ID, Title: ct.Title, ServiceLine: ct.ServiceLine, Managers: strings.Join(ct.Managers, "\n"),
		Start: dateFieldOf(&ct.StartDate), End: dateFieldOf(&ct.EndDate),
	}
}

// managerRules say whose place among the managers the form keeps: a
// contract manager adding a contract is always one of its managers, and one
// changing it cannot remove themselves (they would lose the contract
// mid-edit; a safeguarding lead reassigns contracts).
type managerRules struct {
	self       string
	addSelf    bool
	keepSelf   bool
	checkingID bool
}

// contract checks the form and builds the contract, or lists what to fix, in form order.
func (f contractForm) contract(partnerID string, r managerRules) (partner.Contract, []fieldError) {
	var errs []fieldError
	ct := partner.Contract{ID: f.Reference, PartnerID: partnerID, Title: f.Title, ServiceLine: f.ServiceLine}
	if r.checkingID {
		switch {
		case f.Reference == "":
			errs = append(errs, fieldError{"reference", "Enter the contract reference"})
		case !partner.ReferencePattern.MatchString(f.Reference):
			errs = append(errs, fieldError{"reference", "Contract reference must be in the format CS-ABC-2025-014"})
		}
	}
	errs = append(errs, textError("title", "the contract title", "Contract title", f.Title, true)...)
	if partner.ServiceLineName(f.ServiceLine) == "" {
		errs = append(errs, fieldError{"service_line", "Select the service line"})
	}
	start, msg := f.Start.parse("the start date")
	if msg != "" {
		errs = append(errs, fieldError{"start_date", msg})
	}
	end, msg := f.End.parse("the end date")
	switch {
	case msg != "":
		errs = append(errs, fieldError{"end_date", msg})
	case !start.IsZero() && !end.After(start):
		errs = append(errs, fieldError{"end_date", "The end date must be after the start date"})
	}
	ct.StartDate, ct.EndDate = start, end

	if r.addSelf && r.self != "" {
		ct.Managers = append(ct.Managers, r.self)
	}
	var managerErr string
	for _, line := range strings.Split(f.Managers, "\n") {
		m := strings.TrimSpace(line)
		switch {
		case m == "" || slices.Contains(ct.Managers, m):
			continue
		case strings.ContainsFunc(m, func(r rune) bool { return r == ' ' || r == '\t' || hiddenRune(r) }):
			managerErr = "Enter one contract manager on each line, with no spaces"
		case utf8.RuneCountInString(m) > 200:
			managerErr = "Each contract manager must be 200 characters or fewer"
		}
		ct.Managers = append(ct.Managers, m)
	}
	switch {
	case managerErr != "":
	case len(ct.Managers) == 0:
		managerErr = "Enter at least one contract manager"
	case len(ct.Managers) > partner.MaxManagers:
		managerErr = fmt.Sprintf("Enter no more than %d contract managers", partner.MaxManagers)
	case r.keepSelf && !slices.Contains(ct.Managers, r.self):
		managerErr = "You cannot remove yourself as a contract manager. Ask a safeguarding lead to reassign the contract"
	}
	if managerErr != "" {
		errs = append(errs, fieldError{"managers", managerErr})
	}
	return ct, errs
}

type contractFormPage struct {
	Adding       bool
	PartnerAdded bool
	Partner      partner.Partner
	Contract     partner.Contract
	Form         contractForm
	Errors       []fieldError
	Action       string
	Heading      string
	Back         string
	ServiceLines []any
	ManagersHint string
	// Version is the contract version the form is based on: the one it was
	// first shown with, kept across corrections so a change saved meanwhile
	// by someone else is still detected.
	Version int64
}

func serviceLineItems() []any {
	items := make([]any, 0, len(partner.ServiceLines))
	for _, l := range partner.ServiceLines {
		items = append(items, map[string]any{"value": l, "text": partner.ServiceLineName(l)})
	}
	return items
}

func managersHint(self string, addSelf bool) string {
	h := "Enter the sign-in identifier of each contract manager on its own line. They can then manage this contract."
	if addSelf {
		h += " You are included automatically"
	}
	return h + " (your identifier is " + self + ")."
}

// newContract shows and handles the form to add a contract to a partner.
func (s *Server) newContract(c *gin.Context) {
	org, scope, ok := s.manageablePartner(c)
	if !ok {
		return
	}
	p := principal(c)
	rules := managerRules{self: p.Subject, addSelf: slices.Contains(p.Roles, auth.ContractManager), checkingID: true}
	back := homePaths[session(c).Identity.PrimaryRole()]
	if p.MayOn(access.ViewPartner, org.ID) {
		back = "/partners/" + org.ID
	}
	page := contractFormPage{Adding: true, PartnerAdded: c.Query("partner_added") == "1", Partner: org, Action: c.Request.URL.Path,
		Heading: "Add a contract", Back: back, ServiceLines: serviceLineItems(), ManagersHint: managersHint(p.Subject, rules.addSelf)}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "contract-form", page.Heading, page)
		return
	}
	page.Form = readContractForm(c)
	ct, errs := page.Form.contract(org.ID, rules)
	if len(errs) == 0 {
		ct.Status, ct.StatusChangedBy = partner.Active, displayName(c)
		err := s.stored(c, s.partners.CreateContract(c.Request.Context(), scope, ct, event(c, "contract.create", "contract/"+ct.ID, org.ID, audit.Success)))
		switch {
		case errors.Is(err, partner.ErrDuplicate):
			errs = append(errs, fieldError{"reference", "A contract with reference " + ct.ID + " already exists"})
		case errors.Is(err, partner.ErrNotFound):
			s.renderError(c, http.StatusNotFound)
			return
		case err != nil:
			s.fail(c, "add contract", err)
			return
		default:
			s.refreshPartner(org.ID)
			c.Redirect(http.StatusSeeOther, "/contracts/"+ct.ID+"?saved=1")
			return
		}
	}
	page.Errors = errs
	s.render(c, http.StatusBadRequest, "contract-form", "Error: "+page.Heading, page)
}

// editContract shows and handles the form to change a contract's details.
func (s *Server) editContract(c *gin.Context) {
	ct, ok := s.reachableContract(c, access.ManageContracts)
	if !ok {
		return
	}
	p := principal(c)
	rules := managerRules{self: p.Subject, keepSelf: !p.Scope.All() && slices.Contains(ct.Managers, p.Subject)}
	page := contractFormPage{Partner: partner.Partner{ID: ct.PartnerID, Name: s.partnerName(c, p.Scope, ct.PartnerID)}, Contract: ct,
		Action: c.Request.URL.Path, Heading: "Change contract details", Back: "/contracts/" + ct.ID,
		ServiceLines: serviceLineItems(), ManagersHint: managersHint(p.Subject, false), Form: contractFormOf(ct), Version: ct.Version}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "contract-form", page.Heading, page)
		return
	}
	version, ok := formVersion(c)
	if !ok {
		s.renderError(c, http.StatusBadRequest)
		return
	}
	page.Version = version
	page.Form = readContractForm(c)
	page.Form.Reference = ct.ID
	changed, errs := page.Form.contract(ct.PartnerID, rules)
	status := http.StatusBadRequest
	if len(errs) == 0 {
		changed.Version = version
		err := s.stored(c, s.partners.UpdateContract(c.Request.Context(), p.Scope, changed, event(c, "contract.update", "contract/"+ct.ID, ct.PartnerID, audit.Success)))
		switch {
		case errors.Is(err, partner.ErrUnchanged):
			errs = append(errs, fieldError{"title", "You have not changed anything"})
		case errors.Is(err, partner.ErrConflict):
			if ct, ok = s.reachableContract(c, access.ManageContracts); !ok {
				return
			}
			page.Contract, page.Form, page.Version, status = ct, contractFormOf(ct), ct.Version, http.StatusConflict
			errs = append(errs, fieldError{"title", conflictError})
		case errors.Is(err, partner.ErrNotFound):
			s.renderError(c, http.StatusNotFound)
			return
		case err != nil:
			s.fail(c, "update contract", err)
			return
		default:
			c.Redirect(http.StatusSeeOther, "/contracts/"+ct.ID+"?saved=1")
			return
		}
	}
	page.Errors = errs
	s.render(c, status, "contract-form", "Error: "+page.Heading, page)
}

// ----- Contract page -----

type moduleRequirement struct {
	Name, Refresh string
	Tailored      bool
}

type categoryRequirements struct {
	ID, Name string
	Training []moduleRequirement
	Vetting  []string
}

// refreshText is a refresh period as the contract page reads it.
func refreshText(months int) string {
	switch {
	case months <= 0:
		return "No refresh needed"
	case months == 1:
		return "Every month"
	case months%12 == 0 && months > 12:
		return fmt.Sprintf("Every %d months (%d years)", months, months/12)
	default:
		return fmt.Sprintf("Every %d months", months)
	}
}

// vettingText names a vetting requirement's alternatives in catalogue order:
// "Enhanced DBS check with children's barred list or …".
func vettingText(cat *requirements.Catalogue, group []string) string {
	var names []string
	for _, v := range cat.Vetting {
		if slices.Contains(group, v.ID) {
			names = append(names, v.Name)
		}
	}
	for _, id := range group {
		if _, ok := cat.VettingType(id); !ok {
			names = append(names, id)
		}
	}
	return strings.Join(names, " or ")
}

// requirementsView lays a set out per staff category, in catalogue order.
func requirementsView(cat *requirements.Catalogue, set requirements.Set) []categoryRequirements {
	var ids []string
	for _, c := range cat.Categories {
		ids = append(ids, c.ID)
	}
	for _, r := range set.Rules {
		if !slices.Contains(ids, r.Category) {
			ids = append(ids, r.Category)
		}
	}
	var out []categoryRequirements
	for _, id := range ids {
		r, _ := set.Rule(id)
		v := categoryRequirements{ID: id, Name: cat.CategoryName(id)}
		for _, m := range cat.Modules {
			if slices.Contains(r.Training, m.ID) {
				v.Training = append(v.Training, moduleRequirement{Name: m.Name, Refresh: refreshText(set.Refresh(cat, m.ID)), Tailored: set.RefreshMonths[m.ID] > 0})
			}
		}
		for _, g := range r.Vetting {
			v.Vetting = append(v.Vetting, vettingText(cat, g))
		}
		out = append(out, v)
	}
	return out
}

type contractPage struct {
	Contract           partner.Contract
	PartnerName        string
	Summary            []any
	Saved              bool
	CanManage          bool
	ReasonParagraphs   []string
	StatusHistory      []partner.StatusChange
	Tailored           bool
	Requirements       []categoryRequirements
	RequirementHistory []partner.RequirementChange
	// Concerns are the escalations about the contract, for those who may raise them.
	Concerns *contractConcerns
}

// contractPage shows a contract: its details, status and why, status
// history, requirement set and how it was tailored. A partner's people see
// their own contracts, including why a status was set: that is how the
// department tells them.
func (s *Server) contractPage(c *gin.Context) {
	ct, ok := s.reachableContract(c, access.ViewContracts)
	if !ok {
		return
	}
	p := principal(c)
	page := contractPage{Contract: ct, PartnerName: s.partnerName(c, p.Scope, ct.PartnerID), Saved: c.Query("saved") == "1", CanManage: canManage(p, ct)}
	change := func(href, what string) map[string]any {
		if !page.CanManage {
			return nil
		}
		return map[string]any{"items": []any{map[string]any{"href": href, "text": "Change", "visuallyHiddenText": what}}}
	}
	row := func(key, value string, actions map[string]any) map[string]any {
		r := map[string]any{"key": map[string]any{"text": key}, "value": map[string]any{"text": value}}
		if actions != nil {
			r["actions"] = actions
		}
		return r
	}
	edit := "/contracts/" + ct.ID + "/edit"
	page.Summary = []any{
		row("Partner", page.PartnerName, nil),
		row("Title", ct.Title, change(edit, "title")),
		row("Service line", ct.ServiceLineName(), change(edit, "service line")),
		row("Start date", ct.StartDate.In(london).Format("2 January 2006"), change(edit, "start date")),
		row("End date", ct.EndDate.In(london).Format("2 January 2006"), change(edit, "end date")),
	}
	// Managers' sign-in identifiers are the department's business, not the partner's.
	if p.Org == auth.DepartmentOrg {
		page.Summary = append(page.Summary, row("Contract managers", strings.Join(ct.Managers, ", "), change(edit, "contract managers")))
	}
	for _, para := range strings.Split(strings.ReplaceAll(ct.StatusReason, "\r\n", "\n"), "\n") {
		if para = strings.TrimSpace(para); para != "" {
			page.ReasonParagraphs = append(page.ReasonParagraphs, para)
		}
	}
	page.StatusHistory = slices.Clone(ct.StatusHistory)
	slices.Reverse(page.StatusHistory)
	cat := s.catalogue()
	set := cat.Default
	if ct.Requirements != nil {
		set, page.Tailored = *ct.Requirements, true
	}
	page.Requirements = requirementsView(cat, set)
	page.RequirementHistory = slices.Clone(ct.RequirementHistory)
	slices.Reverse(page.RequirementHistory)
	var err error
	if page.Concerns, err = s.contractConcernsBlock(c, ct); err != nil {
		s.fail(c, "list the contract's concerns", err)
		return
	}
	s.render(c, http.StatusOK, "contract", ct.ID, page)
}

// ----- Contract status -----

type statusPage struct {
	Contract    partner.Contract
	PartnerName string
	Status      string
	Reason      string
	Items       []any
	Errors      []fieldError
	Action      string
	Back        string
	MaxReason   string
	Version     int64
}

// reasonLimit is partner.MaxReason as people read it: "2,000".
var reasonLimit = fmt.Sprintf("%d,%03d", partner.MaxReason/1000, partner.MaxReason%1000)

// reasonError checks a status reason: present, bounded, and free of
// characters that hide text (line breaks are fine: it is a paragraph).
func reasonError(reason string) string {
	switch {
	case reason == "":
		return "Enter the reason for the change"
	case utf8.RuneCountInString(reason) > partner.MaxReason:
		return "Reason must be " + reasonLimit + " characters or fewer"
	case strings.ContainsFunc(reason, func(r rune) bool { return r != '\n' && r != '\r' && r != '\t' && hiddenRune(r) }):
		return "Reason must not contain hidden formatting characters"
	}
	return ""
}

// contractStatus shows and handles the form to change a contract's status:
// put under review, suspend where safeguarding fails, reinstate, terminate.
func (s *Server) contractStatus(c *gin.Context) {
	ct, ok := s.reachableContract(c, access.ManageContracts)
	if !ok {
		return
	}
	p := principal(c)
	page := statusPage{Contract: ct, PartnerName: s.partnerName(c, p.Scope, ct.PartnerID), Action: c.Request.URL.Path,
		Back: "/contracts/" + ct.ID, MaxReason: reasonLimit, Version: ct.Version}
	items := func(current string) []any {
		out := make([]any, 0, len(partner.Statuses))
		for _, st := range partner.Statuses {
			item := map[string]any{"value": st, "text": contractStatusNames[st]}
			if st == current {
				item["hint"] = map[string]any{"text": "The contract’s status now"}
			}
			out = append(out, item)
		}
		return out
	}
	page.Items = items(ct.Status)
	const heading = "Change the contract’s status"
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "contract-status", heading, page)
		return
	}
	version, ok := formVersion(c)
	if !ok {
		s.renderError(c, http.StatusBadRequest)
		return
	}
	page.Version = version
	page.Status = c.PostForm("status")
	page.Reason = strings.TrimSpace(c.PostForm("reason"))
	switch {
	case !slices.Contains(partner.Statuses, page.Status):
		page.Errors = append(page.Errors, fieldError{"status", "Select the contract’s new status"})
	case page.Status == ct.Status && version == ct.Version:
		page.Errors = append(page.Errors, fieldError{"status", "The contract is already " + strings.ToLower(contractStatusNames[ct.Status]) + ": select a different status"})
	}
	if msg := reasonError(page.Reason); msg != "" {
		page.Errors = append(page.Errors, fieldError{"reason", msg})
	}
	status := http.StatusBadRequest
	if len(page.Errors) == 0 {
		err := s.stored(c, s.partners.SetStatus(c.Request.Context(), p.Scope, ct.ID, version, page.Status, page.Reason, displayName(c),
			event(c, "contract.status", "contract/"+ct.ID, ct.PartnerID, audit.Success)))
		switch {
		case errors.Is(err, partner.ErrConflict), errors.Is(err, partner.ErrUnchanged):
			// Someone else decided first: show what they decided, keep the reason typed.
			if ct, ok = s.reachableContract(c, access.ManageContracts); !ok {
				return
			}
			page.Contract, page.Items, page.Version, status = ct, items(ct.Status), ct.Version, http.StatusConflict
			page.Errors = append(page.Errors, fieldError{"status", conflictError})
		case errors.Is(err, partner.ErrNotFound):
			s.renderError(c, http.StatusNotFound)
			return
		case err != nil:
			s.fail(c, "change contract status", err)
			return
		default:
			s.refreshPartner(ct.PartnerID)
			c.Redirect(http.StatusSeeOther, "/contracts/"+ct.ID+"?saved=1")
			return
		}
	}
	s.render(c, status, "contract-status", "Error: "+heading, page)
}

// ----- Contract requirements -----

// vettingOption is one vetting requirement a contract manager can choose for
// a staff category: a requirement group from the default set, such as
// "BPSS or CTC or SC or DV". Offering the default's groups keeps tailoring
// to choices the department has thought through.
type vettingOption struct {
	Key   string
	Group []string
	Text  string
}

func vettingKey(group []string) string {
	g := slices.Clone(group)
	slices.Sort(g)
	return strings.Join(slices.Compact(g), "|")
}

// vettingOptions are the requirement groups of the given sets (the default
// first, then the contract's own, so a group the default has since dropped
// can still be kept or removed), each once.
func vettingOptions(cat *requirements.Catalogue, sets ...requirements.Set) []vettingOption {
	var out []vettingOption
	for _, set := range sets {
		for _, r := range set.Rules {
			for _, g := range r.Vetting {
				key := vettingKey(g)
				if !slices.ContainsFunc(out, func(o vettingOption) bool { return o.Key == key }) {
					out = append(out, vettingOption{Key: key, Group: slices.Clone(g), Text: vettingText(cat, g)})
				}
			}
		}
	}
	return out
}

type requirementsCategoryForm struct {
	ID, Name       string
	TrainingItems  []any
	TrainingValues []string
	VettingItems   []any
	VettingValues  []string
}

type refreshField struct {
	ID, Name, Value, Hint string
}

type requirementsPage struct {
	Contract    partner.Contract
	PartnerName string
	Categories  []requirementsCategoryForm
	Refresh     []refreshField
	Errors      []fieldError
	Action      string
	Back        string
	Version     int64
}

// requirementsForm fills the form: per category, the chosen module IDs
// (training) and vetting option keys (vetting); refresh periods as typed.
func requirementsForm(cat *requirements.Catalogue, options []vettingOption, training, vetting map[string][]string, refresh map[string]string) ([]requirementsCategoryForm, []refreshField) {
	var cats []requirementsCategoryForm
	for _, c := range cat.Categories {
		f := requirementsCategoryForm{ID: c.ID, Name: c.Name, TrainingValues: training[c.ID], VettingValues: vetting[c.ID]}
		for _, m := range cat.Modules {
			f.TrainingItems = append(f.TrainingItems, map[string]any{"value": m.ID, "text": m.Name})
		}
		for _, o := range options {
			f.VettingItems = append(f.VettingItems, map[string]any{"value": o.Key, "text": o.Text})
		}
		cats = append(cats, f)
	}
	var fields []refreshField
	for _, m := range cat.Modules {
		fields = append(fields, refreshField{ID: "refresh-" + m.ID, Name: m.Name, Value: refresh[m.ID],
			Hint: "Leave blank to use the default: " + strings.ToLower(refreshText(m.RefreshMonths)) + "."})
	}
	return cats, fields
}

// selectionOf is the form's selection for a stored set.
func selectionOf(set requirements.Set) (training, vetting map[string][]string, refresh map[string]string) {
	training, vetting, refresh = map[string][]string{}, map[string][]string{}, map[string]string{}
	for _, r := range set.Rules {
		training[r.Category] = slices.Clone(r.Training)
		for _, g := range r.Vetting {
			vetting[r.Category] = append(vetting[r.Category], vettingKey(g))
		}
	}
	for id, n := range set.RefreshMonths {
		refresh[id] = strconv.Itoa(n)
	}
	return training, vetting, refresh
}

// requirementsField maps a requirements.Validate field to the form's own.
func requirementsField(f, first string) string {
	switch {
	case strings.HasPrefix(f, "refresh_months."):
		return "refresh-" + strings.TrimPrefix(f, "refresh_months.")
	case strings.HasPrefix(f, "rules.") && strings.HasSuffix(f, ".vetting"):
		return "vetting-" + strings.TrimSuffix(strings.TrimPrefix(f, "rules."), ".vetting")
	case strings.HasPrefix(f, "rules."):
		return "training-" + strings.TrimSuffix(strings.TrimPrefix(f, "rules."), ".training")
	}
	return "training-" + first
}

// contractRequirements shows and handles the form to tailor a contract's
// requirement set: per staff category, the mandatory modules and vetting,
// and the contract's refresh periods. Each save is described in the
// contract's requirement history as what changed from the set in force.
func (s *Server) contractRequirements(c *gin.Context) {
	ct, ok := s.reachableContract(c, access.ManageContracts)
	if !ok {
		return
	}
	p := principal(c)
	cat := s.catalogue()
	current := cat.Default
	if ct.Requirements != nil {
		current = *ct.Requirements
	}
	options := vettingOptions(cat, cat.Default, current)
	page := requirementsPage{Contract: ct, PartnerName: s.partnerName(c, p.Scope, ct.PartnerID), Action: c.Request.URL.Path, Back: "/contracts/" + ct.ID, Version: ct.Version}
	const heading = "Tailor the requirements"
	if c.Request.Method == http.MethodGet {
		training, vetting, refresh := selectionOf(current)
		page.Categories, page.Refresh = requirementsForm(cat, options, training, vetting, refresh)
		s.render(c, http.StatusOK, "contract-requirements", heading, page)
		return
	}
	version, ok := formVersion(c)
	if !ok {
		s.renderError(c, http.StatusBadRequest)
		return
	}
	page.Version = version
	training, vetting, refresh := map[string][]string{}, map[string][]string{}, map[string]string{}
	set := requirements.Set{}
	var errs []fieldError
	for _, category := range cat.Categories {
		r := requirements.Rule{Category: category.ID, Training: c.PostFormArray("training-" + category.ID)}
		training[category.ID] = r.Training
		for _, key := range c.PostFormArray("vetting-" + category.ID) {
			vetting[category.ID] = append(vetting[category.ID], key)
			i := slices.IndexFunc(options, func(o vettingOption) bool { return o.Key == key })
			if i < 0 {
				errs = append(errs, fieldError{"vetting-" + category.ID, "Select vetting requirements from the list"})
				continue
			}
			r.Vetting = append(r.Vetting, slices.Clone(options[i].Group))
		}
		set.Rules = append(set.Rules, r)
	}
	for _, m := range cat.Modules {
		v := strings.TrimSpace(c.PostForm("refresh-" + m.ID))
		refresh[m.ID] = v
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fieldError{"refresh-" + m.ID, "Refresh period for " + m.Name + " must be a whole number of months, like 12"})
			continue
		}
		if set.RefreshMonths == nil {
			set.RefreshMonths = map[string]int{}
		}
		set.RefreshMonths[m.ID] = n
	}
	first := cat.Categories[0].ID
	for _, e := range cat.Validate(set) {
		field := requirementsField(e.Field, first)
		if !slices.ContainsFunc(errs, func(x fieldError) bool { return x.Field == field }) {
			errs = append(errs, fieldError{field, e.Message})
		}
	}
	status := http.StatusBadRequest
	if len(errs) == 0 {
		summary := requirements.Diff(cat, current, set)
		if len(summary) == 0 || set.Equal(current) {
			errs = append(errs, fieldError{"training-" + first, "You have not changed anything"})
		} else {
			err := s.stored(c, s.partners.SetRequirements(c.Request.Context(), p.Scope, ct.ID, version, set, displayName(c), summary,
				event(c, "contract.requirements", "contract/"+ct.ID, ct.PartnerID, audit.Success)))
			switch {
			case errors.Is(err, partner.ErrConflict):
				// The change was worked out against a set that is no longer
				// in force: show the set as it is now.
				if ct, ok = s.reachableContract(c, access.ManageContracts); !ok {
					return
				}
				current = cat.Default
				if ct.Requirements != nil {
					current = *ct.Requirements
				}
				training, vetting, refresh = selectionOf(current)
				options = vettingOptions(cat, cat.Default, current)
				page.Contract, page.Version, status = ct, ct.Version, http.StatusConflict
				errs = append(errs, fieldError{"training-" + first, conflictError})
			case errors.Is(err, partner.ErrNotFound):
				s.renderError(c, http.StatusNotFound)
				return
			case err != nil:
				s.fail(c, "tailor contract requirements", err)
				return
			default:
				s.refreshPartner(ct.PartnerID)
				c.Redirect(http.StatusSeeOther, "/contracts/"+ct.ID+"?saved=1")
				return
			}
		}
	}
	page.Errors = errs
	page.Categories, page.Refresh = requirementsForm(cat, options, training, vetting, refresh)
	s.render(c, status, "contract-requirements", "Error: "+heading, page)
}
