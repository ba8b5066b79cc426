package devidp

import (
	"crypto/subtle"
	"slices"
	"strings"
)

// demoPassword is shared by every demo user: the provider exists so developers
// and tests can sign in as each role quickly, not to protect anything.
const demoPassword = "password"

// User is a demo account. Username is also the user's email address.
type User struct {
	Username, Name string
	Roles          []string
	Org            string
}

// subject is stable across restarts so portal data keyed by sub survives them.
func (u User) subject() string { return "dev-" + u.Username }

var demoUsers = []User{
	{Username: "staff@northgate.example", Name: "Sam Patel", Roles: []string{"partner_staff"}, Org: "northgate"},
	{Username: "officer@northgate.example", Name: "Olivia Hart", Roles: []string{"partner_compliance_officer"}, Org: "northgate"},
	{Username: "officer@brightwell.example", Name: "Ben Okafor", Roles: []string{"partner_compliance_officer"}, Org: "brightwell"},
	{Username: "manager@department.example", Name: "Maya Collins", Roles: []string{"contract_manager"}, Org: "department"},
	{Username: "lead@department.example", Name: "Leah Brooks", Roles: []string{"safeguarding_lead"}, Org: "department"},
	{Username: "auditor@department.example", Name: "Arun Mehta", Roles: []string{"auditor"}, Org: "department"},
}

// Users returns the demo users in a fixed order. The password for each is "password".
func Users() []User {
	users := make([]User, len(demoUsers))
	for i, u := range demoUsers {
		u.Roles = slices.Clone(u.Roles) // callers must not be able to change the provider's users
		users[i] = u
	}
	return users
}

func userBySubject(sub string) (User, bool) {
	for _, u := range demoUsers {
		if u.subject() == sub {
			return u, true
		}
	}
	return User{}, false
}

// authenticateUser reports the user whose credentials these are. Email
// addresses are compared case-insensitively, as people type them either way.
func authenticateUser(username, password string) (User, bool) {
	username = strings.ToLower(strings.TrimSpace(username))
	passwordOK := subtle.ConstantTimeCompare([]byte(password), []byte(demoPassword)) == 1
	for _, u := range demoUsers {
		if u.Username == username {
			return u, passwordOK
		}
	}
	return User{}, false
}
