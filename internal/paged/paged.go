// Package paged reads one page of a list, with how many match in all, the
// way the portal's list pages show them.
package paged

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MaxPerPage bounds a page, whatever a caller asks for.
const MaxPerPage = 100

// MaxPage bounds the page number, whatever an address asks for, so that
// working out how many to skip cannot overflow.
const MaxPage = 1_000_000

// Find returns page (from 1) of the documents in coll matching filter in
// sort order, perPage at a time (1 to MaxPerPage), with only the fields in
// projection, and how many match in all. The result is never nil, so a page
// ranges over it without a check. sort should end in _id, so that pages
// neither repeat nor skip documents that tie.
func Find[T any](ctx context.Context, coll *mongo.Collection, filter, sort, projection bson.D, page, perPage int) ([]T, int64, error) {
	total, err := coll.CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", coll.Name(), err)
	}
	perPage = min(max(perPage, 1), MaxPerPage)
	page = min(max(page, 1), MaxPage)
	opts := options.Find().SetSort(sort).SetSkip(int64((page - 1) * perPage)).SetLimit(int64(perPage))
	if projection != nil {
		opts.SetProjection(projection)
	}
	cur, err := coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", coll.Name(), err)
	}
	out := []T{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", coll.Name(), err)
	}
	return out, total, nil
}
