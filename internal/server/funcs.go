package server

import (
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/compliance"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/report"
	"github.com/department/safeguarding-portal/internal/requirements"
	"html/template"
	"strconv"
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

// trendWords says how a percentage moved, in points: "up 2.5 points".
func trendWords(points float64) string {
	switch r := strconv.FormatFloat(max(points, -points), 'f', 1, 64); {
	case r == "0.0":
		return "no change"
	case points > 0:
		return "up " + r + " points"
	default:
		return "down " + r + " points"
	}
}

var staffCategoryNames = map[string]string{
	staff.CustomerFacingAdults: "Customer-facing with adults",
	staff.RegulatedChildren:    "Regulated activity with children",
	staff.NotCustomerFacing:    "Not customer-facing",
}

// pageFuncs are the portal's own template functions, beside the component helpers.
var pageFuncs = template.FuncMap{
	"join":                 strings.Join,
	"statusName":           func(s string) string { return contractStatusNames[s] },
	"statusClass":          func(s string) string { return contractStatusClasses[s] },
	"trend":                func(points *float64) string { return trendWords(*points) },
	"inspectionRatingName": oversight.RatingName,
	"actionPriorityName":   oversight.PriorityName,
	"serviceLineOptions": func(selected string) []any {
		items := []any{map[string]any{"value": "", "text": "Any service"}}
		for _, l := range partner.ServiceLines {
			items = append(items, map[string]any{"value": l, "text": partner.ServiceLineName(l), "selected": l == selected})
		}
		return items
	},
	"categoryName": func(s string) string { return staffCategoryNames[s] },
	"date":         func(t time.Time) string { return t.In(london).Format("2 January 2006") },
	"dateTime":     func(t time.Time) string { return t.In(london).Format("2 January 2006 15:04:05") },
	"errorList":    errorList,
	"dateInput":    dateInput,
	"categoryRadios": func(categories []string, selected string) []any {
		items := make([]any, 0, len(categories))
		for _, c := range categories {
			items = append(items, map[string]any{"value": c, "text": staffCategoryNames[c], "checked": c == selected})
		}
		return items
	},
	"leavingDate": func(t *time.Time) string {
		if t == nil {
			return "Not left"
		}
		return t.In(london).Format("2 January 2006")
	},
	"categoryOptions": func(categories []string, selected string) []any {
		items := []any{map[string]any{"value": "", "text": "Any category"}}
		for _, c := range categories {
			items = append(items, map[string]any{"value": c, "text": staffCategoryNames[c], "selected": c == selected})
		}
		return items
	},
	"siteOptions": func(sites []string, selected string) []any {
		items := []any{map[string]any{"value": "", "text": "Any site"}}
		for _, s := range sites {
			items = append(items, map[string]any{"value": s, "text": s, "selected": s == selected})
		}
		return items
	},
	"endSessionLabel": func(name string) template.HTML {
		return template.HTML(`End session<span class="govuk-visually-hidden"> of ` + template.HTMLEscapeString(name) + `</span>`)
	},
	"fieldError": fieldErrorMessage,
	"stateName":  func(st compliance.State) string { return stateNames[st] },
	"stateClass": func(st compliance.State) string { return stateClasses[st] },
	"outcomeName": func(o string) string {
		if o == records.OutcomeRiskAssessed {
			return "Information disclosed, risk-assessed and approved"
		}
		return "Clear"
	},
	"ragName":             func(r string) string { return ragNames[r] },
	"ragClass":            func(r string) string { return ragClasses[r] },
	"percent":             func(p float64) string { return strconv.FormatFloat(p, 'f', 1, 64) + "%" },
	"incidentStatusName":  func(st string) string { return incidentStatusNames[st] },
	"incidentStatusClass": func(st string) string { return incidentStatusClasses[st] },
	"indicatorName":       incident.IndicatorName,
	"agencyName":          incident.AgencyName,
	"lateness":            deadline.DescribeLateness,
	"deliveryStateName":   func(st string) string { return deliveryStateNames[st] },
	"dateTimeShort":       func(t time.Time) string { return t.In(london).Format("2 January 2006, 15:04") },
	"fileSize":            fileSize,
	// Governance reports' figures, written as their PDF writes them.
	// The accessible page writes figures as the PDF does, so the two read alike.
	"reportNum":     report.FormatCount,
	"reportPercent": report.FormatPercent,
	"reportRAG":     report.RAGWord,
	"reportRAGClass": func(r string) string {
		if c, ok := ragClasses[r]; ok {
			return c
		}
		return "govuk-tag--grey"
	},
	"reportMonth":   reportMonth,
	"reportMinutes": reportMinutes,
	"day": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return calendar.Format(calendar.Day(t))
	},
	// count says how many of something: "1 person", "3 people".
	"count": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	},
}

var stateNames = map[compliance.State]string{
	compliance.Met: "Met", compliance.ExpiringSoon: "Expiring soon", compliance.Expired: "Expired",
	compliance.Missing: "Missing", compliance.AwaitingVerification: "Awaiting verification",
}

var stateClasses = map[compliance.State]string{
	compliance.Met: "govuk-tag--green", compliance.ExpiringSoon: "govuk-tag--yellow", compliance.Expired: "govuk-tag--red",
	compliance.Missing: "govuk-tag--red", compliance.AwaitingVerification: "govuk-tag--grey",
}

var ragNames = map[string]string{"green": "Green", "amber": "Amber", "red": "Red", "grey": "No staff"}

var ragClasses = map[string]string{"green": "govuk-tag--green", "amber": "govuk-tag--orange", "red": "govuk-tag--red", "grey": "govuk-tag--grey"}

// catalogueFuncs name modules and vetting types as the configured catalogue does.
func catalogueFuncs(cat *requirements.Catalogue) template.FuncMap {
	return template.FuncMap{
		"moduleName":  func(id string) string { return recordName(cat, "training", id) },
		"vettingName": func(id string) string { return recordName(cat, "vetting", id) },
		"whatName":    func(kind, id string) string { return recordName(cat, kind, id) },
	}
}

// recordName is a record's module (kind "training") or vetting type as
// people read it; an ID the catalogue no longer has shows as itself.
func recordName(cat *requirements.Catalogue, kind, id string) string {
	if kind == "vetting" {
		if v, ok := cat.VettingType(id); ok {
			return v.Name
		}
	} else if m, ok := cat.Module(id); ok {
		return m.Name
	}
	return id
}

// errorList turns form errors into govukErrorSummary's list, each linking to its field.
func errorList(errs []fieldError) []any {
	out := make([]any, len(errs))
	for i, e := range errs {
		out[i] = map[string]any{"text": e.Message, "href": "#" + e.Field}
	}
	return out
}

// fieldErrorMessage is the govukErrorMessage params for field, or nil.
func fieldErrorMessage(errs []fieldError, field string) any {
	for _, e := range errs {
		if e.Field == field {
			return map[string]any{"text": e.Message}
		}
	}
	return nil
}

// dateInput is govukDateInput's params for a date field, with its error and the values as typed.
func dateInput(id, legend, hint string, d dateField, errs []fieldError) map[string]any {
	msg := fieldErrorMessage(errs, id)
	errClass := ""
	if msg != nil {
		errClass = " govuk-input--error"
	}
	p := map[string]any{
		"id":         id,
		"namePrefix": id,
		"fieldset":   map[string]any{"legend": map[string]any{"text": legend, "classes": "govuk-fieldset__legend--s"}},
		"items": []any{
			map[string]any{"name": "day", "label": "Day", "value": d.Day, "classes": "govuk-input--width-2" + errClass},
			map[string]any{"name": "month", "label": "Month", "value": d.Month, "classes": "govuk-input--width-2" + errClass},
			map[string]any{"name": "year", "label": "Year", "value": d.Year, "classes": "govuk-input--width-4" + errClass},
		},
	}
	if hint != "" {
		p["hint"] = map[string]any{"text": hint}
	}
	if msg != nil {
		p["errorMessage"] = msg
	}
	return p
}

// fileSize is a file's size as GOV.UK writes it: "340 KB", "1.2 MB".
func fileSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1000*1000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	default:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	}
}
