// Builds the portal's front-end assets into web/static/ (run: npm run build:css).
//
// The outputs are committed and embedded into the Go binary (web/embed.go), so
// `go run` and `go build` never need Node or npm. Re-run this script after
// changing the SCSS below or upgrading govuk-frontend, and commit the results.
//
// Outputs:
//   web/static/portal.css               compiled, compressed GOV.UK Frontend + portal styles
//   web/static/govuk-frontend.min.js    GOV.UK Frontend's ES module build, copied verbatim
//   web/static/init.js                  tiny ES module that starts GOV.UK Frontend
//
// The portal is a departmental service, not on GOV.UK: it must not use the GDS
// Transport font or the crown/royal arms. So the font stack is Arial/system with
// no @font-face, and no GOV.UK images (crest, crown, favicons) are copied.
//
// Static files are served from /assets/<fingerprint>/<file>, so any url() in
// the CSS must be relative to portal.css. $govuk-assets-path is therefore
// relative ("govuk/"). GOV.UK Frontend 6.6.0's only image reference is the
// footer's crest, which image-url() below maps to `none`.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import * as sass from 'sass'

const webDir = dirname(fileURLToPath(import.meta.url))
const rootDir = dirname(webDir)
const staticDir = join(webDir, 'static')
const govukDir = join(rootDir, 'node_modules', 'govuk-frontend', 'dist', 'govuk')

// Images referenced by the CSS that must never be shipped: the crest is the
// royal arms, the rest are GOV.UK's crown icons and favicons.
const forbiddenImages = new Set([
  'govuk-crest.svg',
  'favicon.ico',
  'favicon.svg',
  'govuk-icon-180.png',
  'govuk-icon-192.png',
  'govuk-icon-512.png',
  'govuk-icon-mask.svg',
  'govuk-opengraph-image.png'
])

// Entry stylesheet. Kept inline (rather than in web/static/) so that no source
// SCSS is embedded in the binary.
const entry = `
@use "sass:meta";
@use "portal:urls";

@use "pkg:govuk-frontend" as govuk with (
  $govuk-font-family: (arial, sans-serif),
  $govuk-include-default-font-face: false,
  $govuk-assets-path: "govuk/",
  $govuk-image-url-function: meta.get-function("image-url", $module: "urls")
);

// ---------------------------------------------------------------------------
// Portal-specific styles. Templates never use inline styles (the CSP forbids
// them), so small layout helpers live here.
// ---------------------------------------------------------------------------

// Header (web/templates/components/portal_header.tmpl): the department name is
// text, not the GOV.UK logotype, so size it as a heading rather than at the
// logotype's 30px.
.govuk-header__link--homepage {
  @include govuk.govuk-font($size: 24, $weight: bold);
}

// GOV.UK Frontend tightens the word spacing of the homepage link for the
// GOV.UK wordmark; on a department's name in words it runs them together.
.govuk-header__homepage-link {
  word-spacing: normal;
}

// The footer's copyright link draws the crest (royal arms) in ::before. Our
// image-url() removes the crest, and this removes the box it would occupy,
// should a page ever render that link.
.govuk-footer__copyright-logo::before {
  content: none;
  display: none;
}

// Account bar (layouts/base.tmpl): who is signed in, and the sign-out button.
.portal-account-bar {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: space-between;
  gap: govuk.govuk-spacing(2) govuk.govuk-spacing(4);
  padding: govuk.govuk-spacing(2) 0;
  border-bottom: 1px solid govuk.govuk-functional-colour("border");
}

.portal-account-bar__who,
.portal-account-bar__form {
  margin: 0;
}

// Utility: a row of items (for example, a heading and an action) that wraps.
.portal-cluster {
  display: flex;
  flex-wrap: wrap;
  align-items: baseline;
  justify-content: space-between;
  gap: govuk.govuk-spacing(2) govuk.govuk-spacing(4);
}

// Utility: remove the bottom margin from the last child of a container.
.portal-flush > :last-child {
  margin-bottom: 0;
}

// Accounts of incidents keep the line breaks people typed.
.portal-prewrap {
  white-space: pre-wrap;
}

// An incident's chronology: one entry after another, down a rule.
.portal-chronology__item {
  padding-left: govuk.govuk-spacing(3);
  border-left: 4px solid govuk.govuk-functional-colour("border");
  margin-bottom: govuk.govuk-spacing(4);
}
`

// The urls module: image-url() maps GOV.UK Frontend images to paths relative to
// portal.css, and forbidden images (the crest) to none.
const urlsModule = `
@use "sass:list";

$forbidden: (${[...forbiddenImages].map((n) => JSON.stringify(n)).join(', ')});

@function image-url($filename) {
  @if list.index($forbidden, $filename) {
    @return none;
  }
  @return url("govuk/images/" + $filename);
}
`

const portalImporter = {
  canonicalize(url) {
    return url === 'portal:urls' ? new URL('portal:urls') : null
  },
  load() {
    return { contents: urlsModule, syntax: 'scss' }
  }
}

const result = sass.compileString(entry, {
  style: 'compressed',
  url: pathToFileURL(join(webDir, 'portal.scss')),
  importers: [portalImporter, new sass.NodePackageImporter(rootDir)],
  // Deprecation warnings from inside govuk-frontend are not ours to fix.
  quietDeps: true
})

const css = result.css

// Guard rails: fail the build rather than ship the GOV.UK font or crown.
if (/GDS Transport/i.test(css) || /@font-face/i.test(css)) {
  throw new Error('portal.css must not contain GDS Transport or @font-face')
}

const urls = [...css.matchAll(/url\(\s*(['"]?)([^'")]+)\1\s*\)/g)].map((m) => m[2])
const images = new Set()
for (const u of urls) {
  if (u.startsWith('data:')) continue
  if (/^(\/|[a-z]+:)/i.test(u)) {
    throw new Error(`portal.css url(${u}) must be relative to portal.css`)
  }
  const m = /^govuk\/images\/([^?#]+)$/.exec(u)
  if (!m) throw new Error(`portal.css has an unexpected url(${u})`)
  if (forbiddenImages.has(m[1])) throw new Error(`portal.css references ${m[1]}`)
  images.add(m[1])
}

mkdirSync(staticDir, { recursive: true })
writeFileSync(join(staticDir, 'portal.css'), css + '\n')

for (const name of images) {
  const dest = join(staticDir, 'govuk', 'images', name)
  mkdirSync(dirname(dest), { recursive: true })
  copyFileSync(join(govukDir, 'assets', 'images', name), dest)
}

copyFileSync(join(govukDir, 'govuk-frontend.min.js'), join(staticDir, 'govuk-frontend.min.js'))

writeFileSync(
  join(staticDir, 'init.js'),
  `// Starts GOV.UK Frontend. Load with <script type="module" src=".../init.js">.
// Module scripts run only in browsers GOV.UK Frontend supports, and after the
// document is parsed, so <body> exists. The govuk-frontend-supported class is
// set here rather than by an inline script, which the Content-Security-Policy
// forbids.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('govuk-frontend-supported')
initAll()
`
)

const version = JSON.parse(
  readFileSync(join(rootDir, 'node_modules', 'govuk-frontend', 'package.json'), 'utf8')
).version
console.log(
  `govuk-frontend ${version}: wrote ${relative(rootDir, join(staticDir, 'portal.css'))} ` +
    `(${css.length} bytes, url()s: ${urls.length ? urls.join(', ') : 'none'}), ` +
    `govuk-frontend.min.js, init.js` +
    (images.size ? `, images: ${[...images].join(', ')}` : '')
)
