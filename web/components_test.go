package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// govukFrontendVersion is the govuk-frontend release the components are
// ported from (package.json pins it). Upgrading means re-checking every
// component against the new template.njk files, so the test insists on it.
const govukFrontendVersion = "6.6.0"

// govukFrontendDir is where `npm ci` puts govuk-frontend.
const govukFrontendDir = "../node_modules/govuk-frontend"

// fixtureComponents are the components ported to templates/components, by
// their govuk-frontend directory name. portal_header.tmpl replaces the GOV.UK
// header and has its own test.
var fixtureComponents = []string{
	"back-link",
	"breadcrumbs",
	"button",
	"checkboxes",
	"date-input",
	"details",
	"error-message",
	"error-summary",
	"fieldset",
	"file-upload",
	"footer",
	"hint",
	"input",
	"inset-text",
	"label",
	"notification-banner",
	"pagination",
	"panel",
	"phase-banner",
	"radios",
	"select",
	"service-navigation",
	"skip-link",
	"summary-list",
	"table",
	"tag",
	"textarea",
	"warning-text",
}

// unsupportedFixtures are the fixtures the Go components knowingly do not
// reproduce, as "component/fixture name" with the reason. Every other fixture
// must match. An entry whose fixture starts matching fails the test, so the
// list cannot go stale.
var unsupportedFixtures = map[string]string{}

// macroName is the Nunjucks macro (and Go template) name for a component:
// "date-input" is govukDateInput.
func macroName(component string) string {
	var b strings.Builder
	b.WriteString("govuk")
	for _, part := range strings.Split(component, "-") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// parseComponents parses the component templates as the portal does.
func parseComponents(t testing.TB) *template.Template {
	t.Helper()
	tmpl, err := template.New("").Funcs(Funcs()).ParseFS(FS, "templates/components/*.tmpl")
	if err != nil {
		t.Fatalf("parse components: %v", err)
	}
	return tmpl
}

// requireGovukFrontend skips the test if node_modules is absent, except in CI
// (which runs `npm ci` first), where that is a failure.
func requireGovukFrontend(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(govukFrontendDir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: run npm ci before the Go tests", govukFrontendDir)
		}
		t.Skipf("%s is missing: run npm ci to test the components against the GOV.UK Frontend fixtures", govukFrontendDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Version != govukFrontendVersion {
		t.Fatalf("node_modules has govuk-frontend %s; the components are ported from %s (update them, then govukFrontendVersion)", pkg.Version, govukFrontendVersion)
	}
}

type fixtureFile struct {
	Fixtures []struct {
		Name    string         `json:"name"`
		Options map[string]any `json:"options"`
		HTML    string         `json:"html"`
	} `json:"fixtures"`
}

func TestComponentsMatchGovukFrontendFixtures(t *testing.T) {
	requireGovukFrontend(t)
	tmpl := parseComponents(t)
	seen := map[string]bool{}
	for _, component := range fixtureComponents {
		name := macroName(component)
		b, err := os.ReadFile(filepath.Join(govukFrontendDir, "dist/govuk/components", component, "fixtures.json"))
		if err != nil {
			t.Fatal(err)
		}
		var file fixtureFile
		if err := json.Unmarshal(b, &file); err != nil {
			t.Fatalf("%s fixtures: %v", component, err)
		}
		if len(file.Fixtures) == 0 {
			t.Fatalf("%s: no fixtures", component)
		}
		if tmpl.Lookup(name) == nil {
			t.Errorf("no template %q for %s", name, component)
			continue
		}
		for _, fx := range file.Fixtures {
			key := component + "/" + fx.Name
			seen[key] = true
			t.Run(key, func(t *testing.T) {
				reason, unsupported := unsupportedFixtures[key]
				diff, err := renderAndCompare(tmpl, name, fx.Options, fx.HTML)
				switch {
				case unsupported && (err != nil || diff != ""):
					t.Skipf("unsupported: %s", reason)
				case unsupported:
					t.Fatalf("fixture now matches: remove it from unsupportedFixtures (%s)", reason)
				case err != nil:
					t.Fatal(err)
				case diff != "":
					t.Errorf("%s does not match the fixture (- want, + got):\n%s", name, diff)
				}
			})
		}
	}
	for key := range unsupportedFixtures {
		if !seen[key] {
			t.Errorf("unsupportedFixtures has %q, which is not a fixture", key)
		}
	}
}

// renderAndCompare executes the named template with options and diffs its
// normalised output against the normalised fixture HTML.
func renderAndCompare(tmpl *template.Template, name string, options map[string]any, want string) (string, error) {
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, name, options); err != nil {
		return "", err
	}
	got, err := normaliseHTML(buf.String())
	if err != nil {
		return "", fmt.Errorf("parse output: %w", err)
	}
	wantN, err := normaliseHTML(want)
	if err != nil {
		return "", fmt.Errorf("parse fixture: %w", err)
	}
	return lineDiff(wantN, got), nil
}

// normaliseHTML parses an HTML fragment and prints it one node a line,
// indented by depth, so that insignificant differences disappear:
// whitespace-only text is dropped, and other text has its whitespace
// collapsed; attributes are compared as a set (sorted, and as a browser would,
// keeping only the first of duplicates); class lists keep their order but not
// their spacing; comments are dropped. Boolean attributes parse to "" however
// they were written.
func normaliseHTML(src string) ([]string, error) {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(src), body)
	if err != nil {
		return nil, err
	}
	var lines []string
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		indent := strings.Repeat("  ", depth)
		switch n.Type {
		case html.TextNode:
			if text := strings.Join(strings.Fields(n.Data), " "); text != "" {
				lines = append(lines, indent+fmt.Sprintf("%q", text))
			}
			return
		case html.ElementNode:
			lines = append(lines, indent+openTag(n))
		default:
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth+1)
		}
	}
	for _, n := range nodes {
		walk(n, 0)
	}
	return lines, nil
}

func openTag(n *html.Node) string {
	seen := map[string]bool{}
	var attrs []string
	for _, a := range n.Attr {
		key := a.Key
		if a.Namespace != "" {
			key = a.Namespace + ":" + key
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		val := a.Val
		if key == "class" {
			val = strings.Join(strings.Fields(val), " ")
		}
		attrs = append(attrs, fmt.Sprintf("%s=%q", key, val))
	}
	sort.Strings(attrs)
	if len(attrs) == 0 {
		return "<" + n.Data + ">"
	}
	return "<" + n.Data + " " + strings.Join(attrs, " ") + ">"
}

// lineDiff returns a minimal line diff of want and got ("" if equal), with
// "-" for lines only in want, "+" for lines only in got, and a line of
// context either side of each change.
func lineDiff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	// Longest common subsequence table.
	lcs := make([][]int, len(want)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(got)+1)
	}
	for i := len(want) - 1; i >= 0; i-- {
		for j := len(got) - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var ops []line
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case i < len(want) && j < len(got) && want[i] == got[j]:
			ops = append(ops, line{' ', want[i]})
			i++
			j++
		case i < len(want) && (j == len(got) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, line{'-', want[i]})
			i++
		default:
			ops = append(ops, line{'+', got[j]})
			j++
		}
	}
	var b strings.Builder
	skipped := false
	for k, l := range ops {
		near := l.op != ' ' ||
			(k > 0 && ops[k-1].op != ' ') ||
			(k+1 < len(ops) && ops[k+1].op != ' ')
		if !near {
			if !skipped {
				b.WriteString("   ...\n")
			}
			skipped = true
			continue
		}
		skipped = false
		fmt.Fprintf(&b, " %c %s\n", l.op, l.text)
	}
	return b.String()
}

func TestNormaliseHTML(t *testing.T) {
	a, err := normaliseHTML(`<p class=" a  b"   id="x" hidden>  Some
	  text <b>bold</b></p>`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := normaliseHTML(`<p hidden="" id="x" class="a b" id="y">Some text<b> bold </b></p>`)
	if err != nil {
		t.Fatal(err)
	}
	if d := lineDiff(a, b); d != "" {
		t.Errorf("equivalent HTML differs:\n%s", d)
	}
	c, err := normaliseHTML(`<p class="b a" id="x" hidden>Some text<b>bold</b></p>`)
	if err != nil {
		t.Fatal(err)
	}
	if lineDiff(a, c) == "" {
		t.Error("class order should matter")
	}
}

// TestTemplatesDefineTheirComponents checks that each component file defines
// the template it is named after.
func TestTemplatesDefineTheirComponents(t *testing.T) {
	tmpl := parseComponents(t)
	files, err := fs.Glob(FS, "templates/components/*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		base := strings.TrimSuffix(path.Base(f), ".tmpl")
		var want string
		if base == "portal_header" {
			want = "portalHeader"
		} else {
			want = macroName(strings.ReplaceAll(base, "_", "-"))
		}
		if tmpl.Lookup(want) == nil {
			t.Errorf("%s does not define %q", f, want)
		}
	}
	for _, c := range fixtureComponents {
		if _, err := fs.Stat(FS, "templates/components/"+strings.ReplaceAll(c, "-", "_")+".tmpl"); err != nil {
			t.Errorf("component %s: %v", c, err)
		}
	}
}

func render(t *testing.T, name string, data any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := parseComponents(t).ExecuteTemplate(&buf, name, data); err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	return buf.String()
}

func TestPortalHeader(t *testing.T) {
	out := render(t, "portalHeader", map[string]any{
		"departmentName": "Department for Customer Services",
		"homeHref":       "/",
	})
	got, err := normaliseHTML(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := normaliseHTML(`
<div class="govuk-header" data-module="govuk-header">
  <div class="govuk-header__container govuk-width-container">
    <div class="govuk-header__logo">
      <a href="/" class="govuk-header__link govuk-header__link--homepage govuk-header__homepage-link">Department for Customer Services</a>
    </div>
  </div>
</div>`)
	if err != nil {
		t.Fatal(err)
	}
	if d := lineDiff(want, got); d != "" {
		t.Errorf("portalHeader (- want, + got):\n%s", d)
	}
	if strings.Contains(out, "<svg") {
		t.Error("portalHeader must not render the crown")
	}
	out = render(t, "portalHeader", map[string]any{"departmentName": `<script>`, "homeHref": "javascript:alert(1)"})
	if strings.Contains(out, "<script>") || strings.Contains(out, "javascript:") {
		t.Errorf("portalHeader does not escape its params:\n%s", out)
	}
}

func TestFooterWithoutGovukBranding(t *testing.T) {
	out := render(t, "govukFooter", map[string]any{
		"hideGovukBranding": true,
		"meta": map[string]any{
			"items": []any{map[string]any{"href": "/accessibility", "text": "Accessibility statement"}},
		},
		"copyright": map[string]any{"text": "© Department for Customer Services"},
	})
	for _, banned := range []string{"<svg", "govuk-footer__crown", "govuk-footer__copyright-logo", "nationalarchives.gov.uk", "Open Government Licence", "Crown copyright"} {
		if strings.Contains(out, banned) {
			t.Errorf("footer with hideGovukBranding contains %q:\n%s", banned, out)
		}
	}
	for _, want := range []string{"Accessibility statement", "© Department for Customer Services"} {
		if !strings.Contains(out, want) {
			t.Errorf("footer with hideGovukBranding lacks %q:\n%s", want, out)
		}
	}
	out = render(t, "govukFooter", map[string]any{"hideGovukBranding": true})
	if strings.Contains(out, "copyright") || strings.Contains(out, "licence") {
		t.Errorf("footer with hideGovukBranding and no copyright or licence params should have neither:\n%s", out)
	}
}

func TestTextIsEscapedAndHTMLIsNot(t *testing.T) {
	out := render(t, "govukTag", map[string]any{"text": "<b>x</b>"})
	if !strings.Contains(out, "&lt;b&gt;x&lt;/b&gt;") {
		t.Errorf("text not escaped: %s", out)
	}
	out = render(t, "govukTag", map[string]any{"html": "<b>x</b>"})
	if !strings.Contains(out, "<b>x</b>") {
		t.Errorf("html escaped: %s", out)
	}
	out = render(t, "govukTag", map[string]any{"html": template.HTML("<b>x</b>")})
	if !strings.Contains(out, "<b>x</b>") {
		t.Errorf("template.HTML escaped: %s", out)
	}
	out = render(t, "govukBackLink", map[string]any{"href": "javascript:alert(1)", "attributes": map[string]any{"data-x": `"><script>`}})
	if strings.Contains(out, "javascript:") || strings.Contains(out, "<script>") {
		t.Errorf("unsafe href or attribute rendered: %s", out)
	}
}

func TestAttributes(t *testing.T) {
	tests := []struct {
		in   any
		want template.HTMLAttr
	}{
		{nil, ""},
		{map[string]any{"b": "2", "a": 1.0}, ` a="1" b="2"`},
		{map[string]any{"x": nil, "y": true, "z": false}, ` x="" y="true" z="false"`},
		{map[string]any{"hidden": map[string]any{"value": true, "optional": true}}, ` hidden`},
		{map[string]any{"hidden": map[string]any{"value": false, "optional": true}}, ``},
		{map[string]any{"hidden": map[string]any{"value": nil, "optional": true}}, ``},
		{map[string]any{"data-x": map[string]any{"value": "", "optional": true}}, ` data-x=""`},
		{map[string]any{"data-x": map[string]any{"value": `a"b<`}}, ` data-x="a&#34;b&lt;"`},
		{map[string]any{"href": "javascript:alert(1)"}, ` href="#ZgotmplZ"`},
		{map[string]string{"aria-label": "x"}, ` aria-label="x"`},
		{template.HTMLAttr(` data-trusted="1"`), ` data-trusted="1"`},
	}
	for _, tt := range tests {
		got, err := attributes(tt.in)
		if err != nil {
			t.Errorf("attributes(%v): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("attributes(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []any{`raw="string"`, map[string]any{"onclick": "x"}, map[string]any{"style": "x"}, map[string]any{`a"b`: "x"}} {
		if _, err := attributes(bad); err == nil {
			t.Errorf("attributes(%v): want an error", bad)
		}
	}
}

func TestLooseEq(t *testing.T) {
	for _, tt := range []struct {
		a, b any
		want bool
	}{
		{"1", 1.0, true}, {1, 1.0, true}, {"a", "a", true}, {"a", "b", false},
		{nil, nil, true}, {nil, "", false}, {false, 0.0, true}, {false, "", true},
		{true, "1", true}, {"", 0, true}, {"x", 0, false},
	} {
		if got := looseEq(tt.a, tt.b); got != tt.want {
			t.Errorf("looseEq(%#v, %#v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestAssetsHaveNoGovukBranding checks the committed build outputs: no GDS
// Transport font, no @font-face, no crown or crest, and every url() resolves
// to an embedded file.
func TestAssetsHaveNoGovukBranding(t *testing.T) {
	css, err := fs.ReadFile(FS, "static/portal.css")
	if err != nil {
		t.Fatalf("static/portal.css: %v (run npm run build:css)", err)
	}
	if len(css) < 10000 {
		t.Fatalf("static/portal.css is only %d bytes", len(css))
	}
	lower := strings.ToLower(string(css))
	// (Class names such as .govuk-footer__crown are fine: no image comes with them.)
	for _, banned := range []string{"gds transport", "@font-face", "govuk-crest", ".woff", ".svg", ".png"} {
		if strings.Contains(lower, banned) {
			t.Errorf("portal.css contains %q", banned)
		}
	}
	if !strings.Contains(lower, "font-family:arial,sans-serif") {
		t.Error("portal.css does not use the Arial font stack")
	}
	for _, m := range regexp.MustCompile(`url\(\s*['"]?([^'")]+)`).FindAllStringSubmatch(string(css), -1) {
		u := m[1]
		if strings.HasPrefix(u, "data:") {
			continue
		}
		if strings.HasPrefix(u, "/") || strings.Contains(u, ":") {
			t.Errorf("portal.css url(%s) must be relative to the stylesheet (assets are served under a versioned prefix)", u)
			continue
		}
		if _, err := fs.Stat(FS, path.Join("static", u)); err != nil {
			t.Errorf("portal.css url(%s): %v", u, err)
		}
	}

	// The crown as drawn by GOV.UK Frontend's logo macro, and the crest.
	crownPath := []byte("M33.1,9.8c.2-.1.3-.3.5-.5l4.6,2.4")
	bannedName := regexp.MustCompile(`(?i)crown|crest|royal|arms|favicon|govuk-icon|opengraph`)
	var files []string
	err = fs.WalkDir(FS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files = append(files, p)
		if bannedName.MatchString(path.Base(p)) {
			t.Errorf("%s looks like a GOV.UK crown, crest or icon", p)
		}
		b, err := fs.ReadFile(FS, p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, crownPath) {
			t.Errorf("%s contains the crown", p)
		}
		if ext := path.Ext(p); ext == ".svg" || ext == ".png" || ext == ".ico" || ext == ".woff" || ext == ".woff2" {
			t.Errorf("%s: portal.css references no images or fonts, so none should be shipped", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"static/portal.css", "static/govuk-frontend.min.js", "static/init.js"} {
		if !slices.Contains(files, want) {
			t.Errorf("missing %s (run npm run build:css)", want)
		}
	}
	js, err := fs.ReadFile(FS, "static/init.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`from './govuk-frontend.min.js'`)) || !bytes.Contains(js, []byte("initAll()")) {
		t.Errorf("init.js does not start GOV.UK Frontend:\n%s", js)
	}
}

// TestAssetsAreCurrent checks that the committed govuk-frontend.min.js is the
// one from the pinned package, so the JS and the CSS come from one release.
func TestAssetsAreCurrent(t *testing.T) {
	requireGovukFrontend(t)
	want, err := os.ReadFile(filepath.Join(govukFrontendDir, "dist/govuk/govuk-frontend.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(FS, "static/govuk-frontend.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("static/govuk-frontend.min.js differs from node_modules: run npm run build:css")
	}
}

// TestComponentsRenderWithoutParams checks that every component copes with
// missing params, as the Nunjucks macros do, rather than failing to execute.
func TestComponentsRenderWithoutParams(t *testing.T) {
	tmpl := parseComponents(t)
	names := []string{"portalHeader"}
	for _, c := range fixtureComponents {
		names = append(names, macroName(c))
	}
	for _, name := range names {
		for _, params := range []map[string]any{nil, {}} {
			var buf bytes.Buffer
			if err := tmpl.ExecuteTemplate(&buf, name, params); err != nil {
				t.Errorf("%s with params %#v: %v", name, params, err)
			}
		}
	}
}

// TestComponentsAcceptGoValues checks params built in Go rather than decoded
// from JSON: typed slices, template.HTML, ints.
func TestComponentsAcceptGoValues(t *testing.T) {
	out := render(t, "govukCheckboxes", map[string]any{
		"name":   "roles",
		"values": []string{"b"},
		"fieldset": map[string]any{
			"legend": map[string]any{"html": template.HTML("<strong>Roles</strong>")},
		},
		"items": []map[string]any{
			{"value": "a", "text": "A"},
			{"value": "b", "text": "B", "attributes": map[string]string{"data-x": "1"}},
		},
	})
	for _, want := range []string{`<strong>Roles</strong>`, `value="b" checked`, `data-x="1"`, `id="roles-2"`} {
		if !strings.Contains(out, want) {
			t.Errorf("checkboxes lack %s:\n%s", want, out)
		}
	}
	out = render(t, "govukTable", map[string]any{
		"rows": [][]map[string]any{{{"text": "x", "colspan": 2}}},
	})
	if !strings.Contains(out, `colspan="2"`) {
		t.Errorf("table lacks colspan:\n%s", out)
	}
}
