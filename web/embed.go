// Package web holds the portal's templates and compiled front-end assets.
//
// templates/components/ are Go ports of the GOV.UK Frontend Nunjucks macros
// (see Funcs for the helpers they use); static/ is produced by
// `npm run build:css` (web/build-assets.mjs) and committed, so building the
// binary needs no Node or npm.
package web

import "embed"

// FS holds the templates and compiled static assets.
//
//go:embed templates static
var FS embed.FS
