package server

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/invisible"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/gin-gonic/gin"
)

// dateField is a GOV.UK date input as typed: kept as text so a mistake is shown back as entered.
type dateField struct{ Day, Month, Year string }

func readDate(c *gin.Context, name string) dateField {
	return dateField{
		Day:   strings.TrimSpace(c.PostForm(name + "-day")),
		Month: strings.TrimSpace(c.PostForm(name + "-month")),
		Year:  strings.TrimSpace(c.PostForm(name + "-year")),
	}
}

func dateFieldOf(t *time.Time) dateField {
	if t == nil {
		return dateField{}
	}
	return dateField{Day: strconv.Itoa(t.Day()), Month: strconv.Itoa(int(t.Month())), Year: strconv.Itoa(t.Year())}
}

func (d dateField) empty() bool { return d.Day == "" && d.Month == "" && d.Year == "" }

// parse reads the date, or says what is wrong in GOV.UK words.
func (d dateField) parse(what string) (time.Time, string) {
	if d.empty() {
		return time.Time{}, "Enter " + what
	}
	day, e1 := strconv.Atoi(d.Day)
	month, e2 := strconv.Atoi(d.Month)
	year, e3 := strconv.Atoi(d.Year)
	if e1 != nil || e2 != nil || e3 != nil || year < 1900 || year > 2200 {
		return time.Time{}, strings.ToUpper(what[:1]) + what[1:] + " must be a real date"
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day || int(t.Month()) != month {
		return time.Time{}, strings.ToUpper(what[:1]) + what[1:] + " must be a real date"
	}
	return t, ""
}

// staffForm is the add and change form, as typed.
type staffForm struct {
	StaffNumber, Name, Email, RoleTitle, Category, Sites string
	Start, Leaving                                       dateField
}

var staffNumberPattern = regexp.MustCompile(`^[A-Za-z0-9_/-]{1,32}$`)

func readStaffForm(c *gin.Context) staffForm {
	return staffForm{
		StaffNumber: strings.TrimSpace(c.PostForm("staff_number")),
		Name:        strings.TrimSpace(c.PostForm("name")),
		Email:       strings.TrimSpace(c.PostForm("email")),
		RoleTitle:   strings.TrimSpace(c.PostForm("role_title")),
		Category:    c.PostForm("category"),
		Sites:       c.PostForm("sites"),
		Start:       readDate(c, "start_date"),
		Leaving:     readDate(c, "leaving_date"),
	}
}

func formOf(m staff.Member) staffForm {
	return staffForm{
		StaffNumber: m.StaffNumber, Name: m.Name, Email: m.Email, RoleTitle: m.RoleTitle, Category: m.Category,
		Sites: strings.Join(m.Sites, "\n"), Start: dateFieldOf(&m.StartDate), Leaving: dateFieldOf(m.LeavingDate),
	}
}

// member checks the form and builds the roster entry, or lists what to fix, in form order.
func (f staffForm) member(partnerID string) (staff.Member, []fieldError) {
	var errs []fieldError
	m := staff.Member{PartnerID: partnerID, StaffNumber: f.StaffNumber, Name: f.Name, Email: strings.ToLower(f.Email), RoleTitle: f.RoleTitle, Category: f.Category}
	switch {
	case f.StaffNumber == "":
		errs = append(errs, fieldError{"staff_number", "Enter the staff number"})
	case !staffNumberPattern.MatchString(f.StaffNumber):
		errs = append(errs, fieldError{"staff_number", "Staff number must be up to 32 letters, numbers, hyphens, underscores or slashes"})
	}
	errs = append(errs, textError("name", "their full name", "Full name", f.Name, true)...)
	if f.Email != "" {
		if !validEmail(f.Email) {
			errs = append(errs, fieldError{"email", "Enter an email address in the correct format, like name@example.com"})
		}
	}
	errs = append(errs, textError("role_title", "their role title", "Role title", f.RoleTitle, true)...)
	if !slices.Contains(staff.Categories, f.Category) {
		errs = append(errs, fieldError{"category", "Select the staff category"})
	}
	for _, line := range strings.Split(f.Sites, "\n") {
		if site := strings.TrimSpace(line); site != "" && !slices.Contains(m.Sites, site) {
			m.Sites = append(m.Sites, site)
		}
	}
	for _, site := range m.Sites {
		if errs2 := textError("sites", "", "Each site", site, false); len(errs2) > 0 {
			errs = append(errs, errs2...)
			break
		}
	}
	if len(m.Sites) > 50 {
		errs = append(errs, fieldError{"sites", "Enter no more than 50 sites"})
	}
	start, msg := f.Start.parse("the date they started")
	if msg != "" {
		errs = append(errs, fieldError{"start_date", msg})
	} else if start.After(time.Now().AddDate(1, 0, 0)) {
		errs = append(errs, fieldError{"start_date", "The date they started must be within the next year"})
	}
	m.StartDate = start
	if !f.Leaving.empty() {
		left, msg := f.Leaving.parse("the date they left")
		switch {
		case msg != "":
			errs = append(errs, fieldError{"leaving_date", msg})
		case !start.IsZero() && left.Before(start):
			errs = append(errs, fieldError{"leaving_date", "The date they left must be the same as or after the date they started"})
		default:
			m.LeavingDate = &left
		}
	}
	return m, errs
}

// textError checks a free-text field: present if required, short, and free of
// characters that hide text or run as spreadsheet formulas in an export.
func textError(field, enter, label, v string, required bool) []fieldError {
	switch {
	case v == "" && required:
		return []fieldError{{field, "Enter " + enter}}
	case len([]rune(v)) > 200:
		return []fieldError{{field, label + " must be 200 characters or fewer"}}
	case v != "" && strings.ContainsAny(v[:1], "=+-@"):
		return []fieldError{{field, label + " must not start with =, +, - or @"}}
	case strings.IndexFunc(v, hiddenRune) >= 0:
		return []fieldError{{field, label + " must not contain hidden formatting characters"}}
	}
	return nil
}

// hiddenRune is a control character or one that hides what text says.
func hiddenRune(r rune) bool { return unicode.IsControl(r) || invisible.Char(r) }

type staffFormPage struct {
	Partner    partner.Partner
	Form       staffForm
	Errors     []fieldError
	Action     string
	Heading    string
	Categories []string
	Back       string
}

// newStaff shows and handles the form to add someone to the roster.
func (s *Server) newStaff(c *gin.Context) {
	org, ok := s.reachablePartner(c, access.EditStaff)
	if !ok {
		return
	}
	page := staffFormPage{Partner: org, Action: c.Request.URL.Path, Heading: "Add a member of staff",
		Categories: staff.Categories, Back: "/partners/" + org.ID + "/staff"}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "staff-form", page.Heading, page)
		return
	}
	page.Form = readStaffForm(c)
	m, errs := page.Form.member(org.ID)
	if len(errs) == 0 {
		added, err := s.staff.Add(c.Request.Context(), principal(c).Scope, m, event(c, "staff.add", "", org.ID, audit.Success))
		err = s.stored(c, err)
		switch {
		case errors.Is(err, staff.ErrDuplicate):
			errs = append(errs, fieldError{"staff_number", "Someone on the roster already has staff number " + m.StaffNumber})
		case err != nil:
			s.fail(c, "add staff member", err)
			return
		default:
			s.refreshPartner(org.ID)
			c.Redirect(http.StatusSeeOther, fmt.Sprintf("/partners/%s/staff/%s?saved=1", org.ID, added.ID.Hex()))
			return
		}
	}
	page.Errors = errs
	s.render(c, http.StatusBadRequest, "staff-form", "Error: "+page.Heading, page)
}

// editStaff shows and handles the form to change someone's details.
func (s *Server) editStaff(c *gin.Context) {
	org, current, ok := s.reachableMember(c, access.EditStaff)
	if !ok {
		return
	}
	record := fmt.Sprintf("/partners/%s/staff/%s", org.ID, current.ID.Hex())
	page := staffFormPage{Partner: org, Action: c.Request.URL.Path, Heading: "Change " + current.Name + "’s details",
		Categories: staff.Categories, Back: record, Form: formOf(current)}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "staff-form", page.Heading, page)
		return
	}
	page.Form = readStaffForm(c)
	m, errs := page.Form.member(org.ID)
	if len(errs) == 0 {
		m.ID = current.ID
		err := s.stored(c, s.staff.Update(c.Request.Context(), principal(c).Scope, m, event(c, "staff.update", "", org.ID, audit.Success)))
		switch {
		case errors.Is(err, staff.ErrDuplicate):
			errs = append(errs, fieldError{"staff_number", "Someone else on the roster already has staff number " + m.StaffNumber})
		case errors.Is(err, staff.ErrNotFound):
			s.renderError(c, http.StatusNotFound)
			return
		case err != nil:
			s.fail(c, "update staff member", err)
			return
		default:
			s.refreshPartner(org.ID)
			c.Redirect(http.StatusSeeOther, record+"?saved=1")
			return
		}
	}
	page.Errors = errs
	s.render(c, http.StatusBadRequest, "staff-form", "Error: "+page.Heading, page)
}

// staffLeft records that someone has left: they stay on the record, inactive,
// and drop out of compliance.
func (s *Server) staffLeft(c *gin.Context) {
	org, current, ok := s.reachableMember(c, access.EditStaff)
	if !ok {
		return
	}
	record := fmt.Sprintf("/partners/%s/staff/%s", org.ID, current.ID.Hex())
	data := struct {
		Partner partner.Partner
		Member  staff.Member
		Date    dateField
		Errors  []fieldError
		Back    string
	}{Partner: org, Member: current, Back: record}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "staff-leave", "When did "+current.Name+" leave?", data)
		return
	}
	data.Date = readDate(c, "leaving_date")
	left, msg := data.Date.parse("the date they left")
	switch {
	case msg != "":
		data.Errors = []fieldError{{"leaving_date", msg}}
	case left.Before(current.StartDate):
		data.Errors = []fieldError{{"leaving_date", "The date they left must be the same as or after the date they started, " + current.StartDate.Format("2 January 2006")}}
	case left.After(time.Now().AddDate(1, 0, 0)):
		data.Errors = []fieldError{{"leaving_date", "The date they leave must be within the next year"}}
	}
	if len(data.Errors) > 0 {
		s.render(c, http.StatusBadRequest, "staff-leave", "Error: When did "+current.Name+" leave?", data)
		return
	}
	current.LeavingDate = &left
	if err := s.stored(c, s.staff.Update(c.Request.Context(), principal(c).Scope, current, event(c, "staff.left", "", org.ID, audit.Success))); err != nil {
		if errors.Is(err, staff.ErrNotFound) {
			s.renderError(c, http.StatusNotFound)
			return
		}
		s.fail(c, "record leaver", err)
		return
	}
	s.refreshPartner(org.ID)
	c.Redirect(http.StatusSeeOther, record+"?saved=1")
}
