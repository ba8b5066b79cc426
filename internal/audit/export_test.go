package audit

import "time"

// FailAfterBusinessWrite makes Insert and Update stop after storing the business
// change and before appending its event, as a crash there would.
func FailAfterBusinessWrite(t *Trail, err error) {
	t.afterWrite = func() error { return err }
}

// ResumeAfterBusinessWrite undoes FailAfterBusinessWrite.
func ResumeAfterBusinessWrite(t *Trail) { t.afterWrite = nil }

// SetClock replaces the trail's clock (the default Time of events, and Recover's grace period).
func SetClock(t *Trail, now func() time.Time) { t.now = now }

// ComputeHash exposes the chain hash so tests can forge events as an attacker
// who knows the algorithm would.
func ComputeHash(e Event) string { return e.computeHash() }
