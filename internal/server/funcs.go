package server

import (
	"html/template"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/staff"
)

// london is where the department works: every date shown is a calendar date there.
var london = mustLoadLocation("Europe/London")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

var contractStatusNames = map[string]string{
	partner.Active:      "Active",
	partner.UnderReview: "Under review",
	partner.Suspended:   "Suspended",
	partner.Terminated:  "Terminated",
}

var contractStatusClasses = map[string]string{
	partner.Active:      "govuk-tag--green",
	partner.UnderReview: "govuk-tag--yellow",
	partner.Suspended:   "govuk-tag--red",
	partner.Terminated:  "govuk-tag--grey",
}

var staffCategoryNames = map[string]string{
	staff.CustomerFacingAdults: "Customer-facing with adults",
	staff.RegulatedChildren:    "Regulated activity with children",
	staff.NotCustomerFacing:    "Not customer-facing",
}

// pageFuncs are the portal's own template functions, beside the component helpers.
var pageFuncs = template.FuncMap{
	"join":         strings.Join,
	"statusName":   func(s string) string { return contractStatusNames[s] },
	"statusClass":  func(s string) string { return contractStatusClasses[s] },
	"categoryName": func(s string) string { return staffCategoryNames[s] },
	"date":         func(t time.Time) string { return t.In(london).Format("2 January 2006") },
}
