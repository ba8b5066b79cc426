// Package people remembers the department's staff as they sign in, so that
// the portal can reach them when something cannot wait: a critical incident
// is e-mailed to every safeguarding lead and to the contract's managers,
// whose identity provider is the only other place that knows their address.
package people

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/department/safeguarding-portal/internal/auth"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Person is a member of the department's staff as last seen signing in.
type Person struct {
	Subject  string      `bson:"_id"`
	Name     string      `bson:"name"`
	Email    string      `bson:"email"`
	Roles    []auth.Role `bson:"roles"`
	LastSeen time.Time   `bson:"last_seen"`
}

// Directory keeps the department's people in one small collection.
type Directory struct{ coll *mongo.Collection }

// New keeps the directory in db.
func New(db *mongo.Database) *Directory {
	return &Directory{coll: db.Collection("department_people")}
}

// Seen records a department person's current name, address and roles. A
// partner's people are not kept: the department never e-mails them from here.
func (d *Directory) Seen(ctx context.Context, id auth.Identity) error {
	if id.Org != auth.DepartmentOrg || id.Subject == "" {
		return nil
	}
	p := Person{Subject: id.Subject, Name: id.Name, Email: id.Email, Roles: id.Roles, LastSeen: time.Now().UTC()}
	if _, err := d.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: p.Subject}}, p, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("remember department person: %w", err)
	}
	return nil
}

// All returns everyone in the directory: a few hundred people at most.
func (d *Directory) All(ctx context.Context) ([]Person, error) {
	cur, err := d.coll.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read department people: %w", err)
	}
	var out []Person
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read department people: %w", err)
	}
	return out, nil
}

// Recipients are the addresses of every safeguarding lead and of the given
// managers (by subject), each once, in a stable order.
func Recipients(everyone []Person, managers []string) []string {
	var out []string
	for _, p := range everyone {
		if p.Email == "" {
			continue
		}
		if slices.Contains(p.Roles, auth.SafeguardingLead) || slices.Contains(managers, p.Subject) {
			out = append(out, p.Email)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
