// Package view renders the portal's pages: GOV.UK component templates, one
// layout, and a template per page, all embedded in the binary.
package view

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

// Renderer holds every page, each parsed with the layout and components.
type Renderer struct {
	pages  map[string]*template.Template
	Assets *Assets
}

// New parses templates/ from fsys, with the given template functions (the
// component helpers, web.Funcs, and the portal's own).
func New(fsys fs.FS, assets *Assets, funcs ...template.FuncMap) (*Renderer, error) {
	base := template.New("").Funcs(template.FuncMap{"asset": assets.URL})
	for _, f := range funcs {
		base = base.Funcs(f)
	}
	for _, pattern := range []string{"templates/components/*.tmpl", "templates/layouts/*.tmpl"} {
		var err error
		if base, err = base.ParseFS(fsys, pattern); err != nil {
			return nil, fmt.Errorf("parse %s: %w", pattern, err)
		}
	}
	r := &Renderer{pages: map[string]*template.Template{}, Assets: assets}
	err := fs.WalkDir(fsys, "templates/pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tmpl") {
			return err
		}
		t, err := base.Clone()
		if err != nil {
			return fmt.Errorf("clone base for %s: %w", p, err)
		}
		if t, err = t.ParseFS(fsys, p); err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
		r.pages[strings.TrimSuffix(strings.TrimPrefix(p, "templates/pages/"), ".tmpl")] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Render writes page with data to w. The page is rendered in full before a byte
// is written, so a template error never leaves half a page behind.
func (r *Renderer) Render(w io.Writer, page string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("render: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// Pages lists the page names, for tests.
func (r *Renderer) Pages() []string {
	names := make([]string, 0, len(r.pages))
	for n := range r.pages {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Assets serves the static files under a prefix that changes whenever any of
// them changes, so browsers may cache them for a year and still never see a
// stale file. One version for the whole set keeps relative module imports working.
type Assets struct {
	fsys    fs.FS
	Version string
}

// NewAssets fingerprints every file under static/ in fsys.
func NewAssets(fsys fs.FS) (*Assets, error) {
	static, err := fs.Sub(fsys, "static")
	if err != nil {
		return nil, fmt.Errorf("open static assets: %w", err)
	}
	h := sha256.New()
	err = fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fingerprint static assets: %w", err)
	}
	return &Assets{fsys: static, Version: hex.EncodeToString(h.Sum(nil))[:12]}, nil
}

// URL is the fingerprinted address of the static file name.
func (a *Assets) URL(name string) string { return "/assets/" + a.Version + "/" + name }

// Prefix is the path under which this build's assets are served.
func (a *Assets) Prefix() string { return "/assets/" + a.Version + "/" }

// ServeHTTP serves a file whose path has already had Prefix removed.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request, name string) bool {
	name = path.Clean("/" + name)[1:]
	b, err := fs.ReadFile(a.fsys, name)
	if err != nil || name == "" {
		return false
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js", ".mjs":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	case ".png":
		w.Header().Set("Content-Type", "image/png")
	case ".ico":
		w.Header().Set("Content-Type", "image/x-icon")
	default:
		w.Header().Set("Content-Type", http.DetectContentType(b))
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+a.Version+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	return true
}
