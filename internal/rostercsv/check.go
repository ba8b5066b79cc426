package rostercsv

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/invisible"
)

const (
	maxFieldChars       = 1_000
	maxRecordChars      = 10_000
	maxStaffNumberChars = 32
	maxTextChars        = 200
	maxSiteChars        = 200
	maxSites            = 50
	maxEmailChars       = 254 // RFC 5321's limit on a forward path
)

// Messages shared by several rules.
const (
	msgFormula = " must not start with =, +, -, @. Spreadsheets treat these as the start of a formula"
	msgEmail   = "Email address must be in the correct format, like name@example.com"
	msgRecord  = "This row is longer than 10,000 characters. Check it for a missing closing quote mark (\")"
	msgQuote   = "This row could not be read because a quote mark (\") is in the wrong place. " +
		"Remove the quote mark, or save the file again from your spreadsheet program"
	msgCategory = "Category must be " + categoryAdults + ", " + categoryChildren + " or " + categoryNotFacing +
		" (or \"" + categoryAdultsName + "\", \"" + categoryChildName + "\" or \"" + categoryNotFaceName + "\")"
)

// Per-column messages, built once so the row checks do not allocate.
var (
	msgUnreadable [numColumns]string
	msgControl    [numColumns]string
	msgHidden     [numColumns]string
	msgTooLong    = [numColumns]string{
		colStaffNumber: "Staff number must be 32 characters or fewer",
		colName:        "Name must be 200 characters or fewer",
		colEmail:       "Email address must be 254 characters or fewer",
		colRoleTitle:   "Role title must be 200 characters or fewer",
		colCategory:    msgCategory,
		colSites:       "Sites must be 1,000 characters or fewer in total",
		colModule:      "Course must be 200 characters or fewer",
		colProvider:    "Provider must be 200 characters or fewer",
	}
	msgMissing = [numColumns]string{
		colStaffNumber: "Enter a staff number",
		colName:        "Enter a name",
		colRoleTitle:   "Enter a role title",
		colCategory:    "Enter a category",
		colStartDate:   "Enter a start date",
		colProvider:    "Enter who provided the course",
	}
	msgDateFormat [numColumns]string
	msgDateReal   [numColumns]string
	msgDateEarly  [numColumns]string
)

func init() {
	for c, label := range columnLabels {
		msgUnreadable[c] = label + " contains characters that could not be read. " +
			"Save the file as \"CSV UTF-8 (Comma delimited)\" and try again"
		msgControl[c] = label + " must not contain line breaks, tabs or other hidden control characters"
		msgHidden[c] = label + " contains hidden right-to-left or formatting characters. " +
			"Type it again rather than copying and pasting it"
	}
	for _, c := range []column{colStartDate, colLeavingDate, colCompleted} {
		msgDateFormat[c] = columnLabels[c] + " must be a date in the format YYYY-MM-DD or DD/MM/YYYY, like 2025-04-01"
		msgDateReal[c] = columnLabels[c] + " must be a real date, like 2025-04-01"
		msgDateEarly[c] = columnLabels[c] + " must be in 1900 or later"
		msgTooLong[c] = msgDateFormat[c]
	}
}

type textProblem uint8

const (
	textOK textProblem = iota
	textUnreadable
	textControl
	textHidden
)

// scanText finds characters no roster value should hold. Most values are
// plain ASCII, so that case is a byte loop.
func scanText(s string) textProblem {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return scanUnicode(s[i:])
		}
		if c < 0x20 || c == 0x7f {
			return textControl
		}
	}
	return textOK
}

func scanUnicode(s string) textProblem {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			return textUnreadable
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return textControl
		case invisible.Char(r):
			return textHidden
		}
	}
	return textOK
}

// startsFormula reports a value a spreadsheet would run as a formula.
func startsFormula(s string) bool {
	return s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0
}

// cellProblem applies the rules every value shares.
func cellProblem(c column, raw string) string {
	if len(raw) > maxFieldChars && utf8.RuneCountInString(raw) > maxFieldChars {
		return msgTooLong[c]
	}
	switch scanText(raw) {
	case textUnreadable:
		return msgUnreadable[c]
	case textControl:
		return msgControl[c]
	case textHidden:
		return msgHidden[c]
	}
	return ""
}

func checkStaffNumber(v string) string {
	if v == "" {
		return msgMissing[colStaffNumber]
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(isASCIIAlnum(c) || c == '-' || c == '_' || c == '/') {
			return "Staff number must only include letters A to Z, numbers, hyphens (-), underscores (_) and slashes (/)"
		}
	}
	if len(v) > maxStaffNumberChars {
		return msgTooLong[colStaffNumber]
	}
	// A leading hyphen would make a spreadsheet read the number as a formula.
	if !isASCIIAlnum(v[0]) {
		return "Staff number must start with a letter or number"
	}
	return ""
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// checkText applies the rules for name, role_title and provider.
func checkText(c column, v string) string {
	switch {
	case v == "":
		return msgMissing[c]
	case len(v) > maxTextChars && utf8.RuneCountInString(v) > maxTextChars:
		return msgTooLong[c]
	case startsFormula(v):
		return columnLabels[c] + msgFormula
	}
	return ""
}

func parseEmail(v string) (string, string) {
	if v == "" {
		return "", ""
	}
	v = strings.ToLower(v)
	if len(v) > maxEmailChars && utf8.RuneCountInString(v) > maxEmailChars {
		return "", msgTooLong[colEmail]
	}
	// Addresses such as "=1+1@example.com" are valid but would run in a
	// spreadsheet; nobody's real work address starts like that.
	if startsFormula(v) {
		return "", columnLabels[colEmail] + msgFormula
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || !plausibleDomain(v) {
		return "", msgEmail
	}
	return v, ""
}

// plausibleDomain rejects what ParseAddress allows but no staff member's
// address has: a domain without a dot (user@localhost) or a literal IP.
func plausibleDomain(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	d := addr[at+1:]
	return strings.IndexByte(d, '.') > 0 && !strings.HasSuffix(d, ".") && !strings.ContainsAny(d, "[]")
}

// categoryKeys maps a normalised spelling (see categoryKey) to its code.
var categoryKeys = map[string]string{
	"customer facing adults":           categoryAdults,
	"customer facing with adults":      categoryAdults,
	"regulated activity children":      categoryChildren,
	"regulated activity with children": categoryChildren,
	"not customer facing":              categoryNotFacing,
}

// appendCategoryKey lets "Customer facing with adults", "customer-facing
// with adults" and "CUSTOMER_FACING_ADULTS" all match, since people retype
// these: it lower-cases ASCII letters and turns each run of spaces, hyphens
// and underscores into one space.
func appendCategoryKey(dst []byte, v string) []byte {
	gap := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ' ' || c == '-' || c == '_':
			gap = len(dst) > 0
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if gap {
			dst = append(dst, ' ')
			gap = false
		}
		dst = append(dst, c)
	}
	return dst
}

func parseCategory(v string) (string, string) {
	switch v {
	case categoryAdults, categoryChildren, categoryNotFacing:
		return v, ""
	case "":
		return "", msgMissing[colCategory]
	}
	if len(v) <= maxFieldChars {
		var buf [64]byte
		if code, ok := categoryKeys[string(appendCategoryKey(buf[:0], v))]; ok {
			return code, ""
		}
	}
	return "", msgCategory
}

func parseSites(v string) ([]string, string) {
	n := 0
	for item := range strings.SplitSeq(v, ";") {
		if strings.TrimSpace(item) != "" {
			n++
		}
	}
	if n == 0 {
		return []string{}, ""
	}
	if n > maxSites {
		return nil, fmt.Sprintf("Sites can list up to %d sites. This row lists %d", maxSites, n)
	}
	sites := make([]string, 0, n)
	for item := range strings.SplitSeq(v, ";") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
			continue
		case len(item) > maxSiteChars && utf8.RuneCountInString(item) > maxSiteChars:
			return nil, "Each site must be 200 characters or fewer"
		case startsFormula(item):
			return nil, "Each site" + msgFormula
		}
		sites = append(sites, item)
	}
	return sites, ""
}

type dateProblem uint8

const (
	dateOK dateProblem = iota
	dateFormat
	dateNotReal
	dateTooEarly
)

// parseDate reads YYYY-MM-DD or DD/MM/YYYY (UK HR exports), allowing one
// digit for day and month in the latter because spreadsheets often drop the
// zero. It never reads MM/DD/YYYY: 04/01/2025 is 4 January.
func parseDate(v string) (time.Time, dateProblem) {
	var y, m, d int
	var ok bool
	if len(v) == 10 && v[4] == '-' && v[7] == '-' {
		y, ok = digits(v[0:4], 4)
		if ok {
			m, ok = digits(v[5:7], 2)
		}
		if ok {
			d, ok = digits(v[8:10], 2)
		}
	} else if ds, rest, found := strings.Cut(v, "/"); found {
		ms, ys, found := strings.Cut(rest, "/")
		ok = found
		if ok {
			d, ok = digits(ds, 1, 2)
		}
		if ok {
			m, ok = digits(ms, 1, 2)
		}
		if ok {
			y, ok = digits(ys, 4)
		}
	}
	if !ok {
		return time.Time{}, dateFormat
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, dateNotReal
	}
	// A year such as 0225 is a typing slip, not a real start date.
	if y < 1900 {
		return time.Time{}, dateTooEarly
	}
	return t, dateOK
}

// digits parses s as a decimal number whose length is one of lens.
func digits(s string, lens ...int) (int, bool) {
	okLen := false
	for _, l := range lens {
		okLen = okLen || len(s) == l
	}
	if !okLen {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func dateMessage(c column, p dateProblem) string {
	switch p {
	case dateFormat:
		return msgDateFormat[c]
	case dateNotReal:
		return msgDateReal[c]
	case dateTooEarly:
		return msgDateEarly[c]
	}
	return ""
}

// shown returns a value fit to show back to the person fixing the file. The
// staff number column of a bad row may hold anything, including hidden
// characters that would garble the error list, or megabytes of text.
func shown(s string) string {
	const most = 40
	if len(s) <= most && scanText(s) == textOK {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s { // invalid bytes arrive as U+FFFD
		if unicode.IsControl(r) || invisible.Char(r) || r == '\u2028' || r == '\u2029' {
			continue
		}
		if n == most {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
