// Starts GOV.UK Frontend. Load with <script type="module" src=".../init.js">.
// Module scripts run only in browsers GOV.UK Frontend supports, and after the
// document is parsed, so <body> exists. The govuk-frontend-supported class is
// set here rather than by an inline script, which the Content-Security-Policy
// forbids.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('govuk-frontend-supported')
initAll()
