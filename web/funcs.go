package web

import (
	"errors"
	"fmt"
	"html"
	"html/template"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Funcs returns the helpers used by the component templates in
// templates/components. The components take the same params as the GOV.UK
// Frontend Nunjucks macros, as a map[string]any (for example decoded from
// JSON, or built with dict/list in a page template).
//
// Escaping: every value is escaped by html/template, except values passed
// through trustedHTML, which the components apply only to `html` params (and
// the macros' other *Html params and slots). Those are trusted markup written
// by portal code, never user input.
func Funcs() template.FuncMap {
	return template.FuncMap{
		// Building params.
		"dict": dict,
		"list": list,

		// Reading params.
		"hasKey":  hasKey,
		"getOr":   getOr,
		"default": defaultValue,
		"when":    when,
		"length":  length,
		"compact": compact,
		"isMap":   isMap,
		"isString": func(v any) bool {
			_, ok := v.(string)
			return ok
		},
		"isBool": func(v any) bool {
			_, ok := v.(bool)
			return ok
		},
		"isNull": isNull,

		// Comparing, Nunjucks-style.
		"looseEq":  looseEq,
		"contains": contains,

		// Output.
		"classes":        classes,
		"attributes":     attributes,
		"i18nAttributes": i18nAttributes,
		"trustedHTML":    trustedHTML,
		"headingLevel":   headingLevel,
		"capitalize":     capitalize,
		"add":            add,
	}
}

// dict builds a map from key/value pairs: dict "text" "Save" "classes" "x".
func dict(pairs ...any) (map[string]any, error) {
	if len(pairs)%2 != 0 {
		return nil, errors.New("dict: odd number of arguments")
	}
	m := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		k, ok := pairs[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", pairs[i])
		}
		m[k] = pairs[i+1]
	}
	return m, nil
}

// list builds a []any: list (dict ...) (dict ...).
func list(items ...any) []any { return items }

// asMap returns v as a map[string]any, or nil.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// hasKey reports whether the map has key, even if its value is nil. It is the
// Go spelling of Nunjucks' `params.x !== undefined`.
func hasKey(m any, key string) bool {
	_, ok := asMap(m)[key]
	return ok
}

// isNull reports whether the map has key with a nil value: Nunjucks'
// `params.x === null`, as in the footer's `contentLicence: null`.
func isNull(m any, key string) bool {
	v, ok := asMap(m)[key]
	return ok && v == nil
}

// getOr returns m[key], or fallback if the key is absent or nil. It is
// Nunjucks' `params.x | default(fallback)`, which replaces only undefined
// values, not empty ones. (Components pass sub-params on with dict, which
// cannot tell undefined from nil, so nil counts as undefined here.)
func getOr(m any, key string, fallback any) any {
	if v := asMap(m)[key]; v != nil {
		return v
	}
	return fallback
}

// defaultValue returns v, or fallback if v is empty: Nunjucks'
// `v | default(fallback, true)`. Written `.x | default "fallback"`.
func defaultValue(fallback, v any) any {
	if isTrue(v) {
		return v
	}
	return fallback
}

// when returns v if cond is true, else nil (which renders as nothing, and
// which classes and attributes skip).
func when(cond, v any) any {
	if isTrue(cond) {
		return v
	}
	return nil
}

// isTrue is html/template's notion of truth (as used by {{if}}).
func isTrue(v any) bool {
	t, _ := template.IsTrue(v)
	return t
}

// jsTruthy is JavaScript's notion of truth: unlike Go's, empty lists and maps
// are true.
func jsTruthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case template.HTML:
		return v != ""
	}
	if f, ok := toFloat(v); ok {
		return f != 0 && !math.IsNaN(f)
	}
	return true
}

// length is len for strings (in characters), lists and maps; 0 otherwise.
func length(v any) int {
	if s, ok := v.(string); ok {
		return utf8.RuneCountInString(s)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len()
	}
	return 0
}

// compact returns the list without its falsy (JavaScript) items, like
// Nunjucks' `select("truthy")`.
func compact(v any) []any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil
	}
	var out []any
	for i := 0; i < rv.Len(); i++ {
		if item := rv.Index(i).Interface(); jsTruthy(item) {
			out = append(out, item)
		}
	}
	return out
}

// isMap reports whether v is a params object.
func isMap(v any) bool { return asMap(v) != nil }

// toFloat converts Go numbers (and JSON's float64) to float64.
func toFloat(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}

// jsString is JavaScript's String(v), with nil as "".
func jsString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case template.HTML:
		return html.UnescapeString(string(v))
	case bool:
		return strconv.FormatBool(v)
	}
	if f, ok := toFloat(v); ok {
		if f == math.Trunc(f) && math.Abs(f) < 1e21 {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// looseEq is JavaScript's `a == b` for the values params hold, used where the
// macros compare an item's value with the field's value: "1" == 1, and nil
// equals only nil.
func looseEq(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := a.(bool); ok {
		a = boolNumber(x)
	}
	if x, ok := b.(bool); ok {
		b = boolNumber(x)
	}
	as, aStr := stringValue(a)
	bs, bStr := stringValue(b)
	if aStr && bStr {
		return as == bs
	}
	af, aNum := toFloat(a)
	bf, bNum := toFloat(b)
	switch {
	case aNum && bNum:
		return af == bf
	case aNum && bStr:
		return af == stringNumber(bs)
	case aStr && bNum:
		return stringNumber(as) == bf
	}
	return false
}

func boolNumber(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func stringValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case template.HTML:
		return string(v), true
	}
	return "", false
}

// stringNumber is JavaScript's Number(s) (NaN if not a number).
func stringNumber(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// strictEq is JavaScript's `a === b` for the values params hold.
func strictEq(a, b any) bool {
	if as, ok := stringValue(a); ok {
		bs, ok := stringValue(b)
		return ok && as == bs
	}
	if af, ok := toFloat(a); ok {
		bf, ok := toFloat(b)
		return ok && af == bf
	}
	if ab, ok := a.(bool); ok {
		bb, ok := b.(bool)
		return ok && ab == bb
	}
	return a == nil && b == nil
}

// contains is Nunjucks' `v in collection`: strict membership for a list,
// substring for a string, key for a map.
func contains(collection, v any) bool {
	switch c := collection.(type) {
	case nil:
		return false
	case string:
		return strings.Contains(c, jsString(v))
	case map[string]any:
		_, ok := c[jsString(v)]
		return ok
	}
	rv := reflect.ValueOf(collection)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		for i := 0; i < rv.Len(); i++ {
			if strictEq(rv.Index(i).Interface(), v) {
				return true
			}
		}
	}
	return false
}

// classes joins its non-empty arguments with single spaces, for class and
// other space-separated token lists (such as aria-describedby).
func classes(parts ...any) string {
	var out []string
	for _, p := range parts {
		if s := strings.Join(strings.Fields(jsString(p)), " "); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// attributeName is what attributes accepts as an attribute name.
var attributeName = regexp.MustCompile(`^[a-zA-Z_:][-a-zA-Z0-9_:.]*$`)

// urlAttributes are attributes whose values are URLs, filtered as html/template
// would filter them.
var urlAttributes = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true,
	"cite": true, "poster": true, "xlink:href": true,
}

// attributes renders a component's `attributes` param, as govukAttributes does:
//
//   - map values are escaped and rendered ` name="value"`; nil renders name="".
//   - a {value, optional: true} map renders ` name` for true, nothing for
//     nil or false, and ` name="value"` otherwise.
//   - a template.HTMLAttr is trusted and rendered as it is.
//
// Nunjucks also accepts a raw string; attributes refuses one, as it would be
// unescaped markup. Event handler (on*) and style attributes are refused too:
// the Content-Security-Policy would block them anyway.
func attributes(v any) (template.HTMLAttr, error) {
	var m map[string]any
	switch a := v.(type) {
	case nil:
		return "", nil
	case template.HTMLAttr:
		return a, nil
	case map[string]any:
		m = a
	case map[string]string:
		m = make(map[string]any, len(a))
		for k, s := range a {
			m[k] = s
		}
	default:
		return "", fmt.Errorf("attributes: want a map or template.HTMLAttr, got %T", v)
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		lower := strings.ToLower(name)
		if !attributeName.MatchString(name) || strings.HasPrefix(lower, "on") || lower == "style" {
			return "", fmt.Errorf("attributes: attribute name %q not allowed", name)
		}
		value, optional := m[name], false
		if opts, ok := value.(map[string]any); ok {
			value = opts["value"]
			optional, _ = opts["optional"].(bool)
		}
		if optional {
			if value == true {
				b.WriteString(" " + name)
				continue
			}
			if value == nil || value == false {
				continue
			}
		}
		s := jsString(value)
		if urlAttributes[lower] && !safeURL(s) {
			s = "#ZgotmplZ"
		}
		b.WriteString(" " + name + `="` + html.EscapeString(s) + `"`)
	}
	return template.HTMLAttr(b.String()), nil
}

// safeURL reports whether u is relative or uses a harmless scheme.
func safeURL(u string) bool {
	u = strings.TrimSpace(u)
	i := strings.IndexAny(u, ":/?#")
	if i < 0 || u[i] != ':' {
		return true
	}
	switch strings.ToLower(u[:i]) {
	case "http", "https", "mailto", "tel":
		return true
	}
	return false
}

// i18nAttributes renders govukI18nAttributes: ` data-i18n.key="message"`, or
// one ` data-i18n.key.rule="message"` per plural rule in messages.
func i18nAttributes(key string, message, messages any) (template.HTMLAttr, error) {
	if !attributeName.MatchString(key) {
		return "", fmt.Errorf("i18nAttributes: bad key %q", key)
	}
	var b strings.Builder
	if plural := asMap(messages); len(plural) > 0 {
		rules := make([]string, 0, len(plural))
		for rule := range plural {
			rules = append(rules, rule)
		}
		sort.Strings(rules)
		for _, rule := range rules {
			if !attributeName.MatchString(rule) {
				return "", fmt.Errorf("i18nAttributes: bad plural rule %q", rule)
			}
			fmt.Fprintf(&b, ` data-i18n.%s.%s="%s"`, key, rule, html.EscapeString(jsString(plural[rule])))
		}
	} else if jsTruthy(message) {
		fmt.Fprintf(&b, ` data-i18n.%s="%s"`, key, html.EscapeString(jsString(message)))
	}
	return template.HTMLAttr(b.String()), nil
}

// trustedHTML marks an `html` param as markup. Portal code passes
// template.HTML; fixtures and other JSON pass strings, which are trusted the
// same way. Use it only for `html` params: `text` params are always escaped.
func trustedHTML(v any) template.HTML {
	switch v := v.(type) {
	case nil:
		return ""
	case template.HTML:
		return v
	case string:
		return template.HTML(v)
	}
	return template.HTML(html.EscapeString(jsString(v)))
}

// headingLevel returns v as a heading level 1–6, or fallback if v is empty or
// not a heading level.
func headingLevel(v any, fallback int) int {
	var n float64
	if s, ok := stringValue(v); ok {
		n = stringNumber(s)
	} else if f, ok := toFloat(v); ok {
		n = f
	}
	if n >= 1 && n <= 6 && n == math.Trunc(n) {
		return int(n)
	}
	return fallback
}

// capitalize is Nunjucks' capitalize: first character upper case, the rest
// lower case.
func capitalize(v any) string {
	s := strings.ToLower(jsString(v))
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[size:]
}

// add adds two numbers; the result is an int if both are ints.
func add(a, b any) (any, error) {
	ai, aInt := a.(int)
	bi, bInt := b.(int)
	if aInt && bInt {
		return ai + bi, nil
	}
	af, ok1 := toFloat(a)
	bf, ok2 := toFloat(b)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("add: %v + %v: not numbers", a, b)
	}
	return af + bf, nil
}
