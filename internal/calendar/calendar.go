// Package calendar holds the department's calendar: dates are calendar days
// in Europe/London, whatever the server's time zone.
package calendar

import (
	"time"
	_ "time/tzdata" // the production image carries no zoneinfo
)

// London is the time zone every date in the portal is a day of.
var London = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("calendar: " + err.Error())
	}
	return loc
}
