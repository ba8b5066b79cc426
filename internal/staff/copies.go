package staff

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Roster lists are read far more often than rosters change, and their
// searches (part of a name) and filters cannot all be served by indexes; on
// the embedded store every filtered or sorted read scans and sorts the whole
// collection (about 1.5 s at 50,000 staff). So each process keeps a sorted
// copy of the rosters it lists and answers list, search, filter, count and
// import comparisons from it.
//
// A copy is trusted only while the roster's version number, which every
// write bumps after it lands, is the one read before the copy was made: one
// read by _id per request, answered from the primary key on every backend.
// Writes made by this process are applied to its copy in place; writes from
// other replicas make the copy stale, and it is read again. A process that
// stops between a write and its bump leaves other copies stale, so copies
// are also read again once they reach maxCopyAge.

const maxCopyAge = 10 * time.Minute

// copyBudget bounds the people held in copies across all partners (about
// 300 bytes each); the least recently listed rosters are dropped first.
const copyBudget = 400_000

type rosterCopy struct {
	partnerID string
	version   int64
	readAt    time.Time
	members   []Member // by staff number
	names     []string // lower-case names, parallel to members, for search
	numbers   []string // lower-case staff numbers, likewise
	lru       *list.Element
}

type copies struct {
	mu     sync.Mutex
	byID   map[string]*rosterCopy
	recent *list.List // of partner IDs, most recently used first
	held   int
}

func newCopies() *copies {
	return &copies{byID: map[string]*rosterCopy{}, recent: list.New()}
}

func (s *Store) versions() *mongo.Collection { return s.db.Collection("roster_versions") }

// version is the partner's roster version; zero before any write.
func (s *Store) version(ctx context.Context, partnerID string) (int64, error) {
	var doc struct {
		Version int64 `bson:"version"`
	}
	err := s.versions().FindOne(ctx, bson.D{{Key: "_id", Value: partnerID}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read roster version: %w", err)
	}
	return doc.Version, nil
}

// current returns an up-to-date copy of the partner's roster. The copy is
// shared: callers must not change it.
func (s *Store) current(ctx context.Context, coll *mongo.Collection, partnerID string) (*rosterCopy, error) {
	version, err := s.version(ctx, partnerID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	c := s.copies
	c.mu.Lock()
	if rc, ok := c.byID[partnerID]; ok && rc.version == version && now.Sub(rc.readAt) < maxCopyAge {
		c.recent.MoveToFront(rc.lru)
		c.mu.Unlock()
		return rc, nil
	}
	c.mu.Unlock()

	cur, err := coll.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	var members []Member
	if err := cur.All(ctx, &members); err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	slices.SortFunc(members, byStaffNumber)
	rc := newCopy(partnerID, version, now, members)

	c.mu.Lock()
	defer c.mu.Unlock()
	if held, ok := c.byID[partnerID]; ok {
		if held.version > version {
			// A write in this process overtook the read: its copy is newer.
			return held, nil
		}
		c.drop(held)
	}
	c.keep(rc)
	return rc, nil
}

func byStaffNumber(a, b Member) int { return strings.Compare(a.StaffNumber, b.StaffNumber) }

// newCopy makes a copy of members, which must be in staff number order.
func newCopy(partnerID string, version int64, readAt time.Time, members []Member) *rosterCopy {
	rc := &rosterCopy{partnerID: partnerID, version: version, readAt: readAt, members: members,
		names: make([]string, len(members)), numbers: make([]string, len(members))}
	for i, m := range members {
		rc.names[i] = strings.ToLower(m.Name)
		rc.numbers[i] = strings.ToLower(m.StaffNumber)
	}
	return rc
}

func (c *copies) keep(rc *rosterCopy) {
	rc.lru = c.recent.PushFront(rc.partnerID)
	c.byID[rc.partnerID] = rc
	c.held += len(rc.members)
	for c.held > copyBudget && c.recent.Len() > 1 {
		c.drop(c.byID[c.recent.Back().Value.(string)])
	}
}

func (c *copies) drop(rc *rosterCopy) {
	c.recent.Remove(rc.lru)
	delete(c.byID, rc.partnerID)
	c.held -= len(rc.members)
}

// changed bumps the partner's roster version after members were written and
// applies them to this process's copy, if the copy was current just before.
// Without the written members (a batch failed part way) the copy is dropped.
func (s *Store) changed(ctx context.Context, partnerID string, written ...Member) {
	if len(written) == 0 {
		s.changedWith(ctx, partnerID, nil)
		return
	}
	s.changedWith(ctx, partnerID, func(members []Member) []Member {
		if len(written) == 1 {
			m := written[0]
			if at := slices.IndexFunc(members, func(o Member) bool { return o.ID == m.ID }); at >= 0 {
				if m.Assessment == nil {
					m.Assessment = members[at].Assessment // details changed; the assessment follows separately
				}
				members = slices.Delete(members, at, at+1)
			}
			at, _ := slices.BinarySearchFunc(members, m.StaffNumber, func(o Member, n string) int { return strings.Compare(o.StaffNumber, n) })
			return slices.Insert(members, at, m)
		}
		replaced := make(map[bson.ObjectID]bool, len(written))
		for _, m := range written {
			replaced[m.ID] = true
		}
		members = slices.DeleteFunc(members, func(o Member) bool { return replaced[o.ID] })
		members = append(members, written...)
		slices.SortFunc(members, byStaffNumber)
		return members
	})
}

// versionBumpTimeout bounds a roster version bump that has outlived its
// caller's context.
const versionBumpTimeout = 10 * time.Second

// changedWith bumps the partner's roster version and, if this process's copy
// was current just before, applies patch to a clone of its members; a nil
// patch drops the copy instead. The bump and the patch happen under one
// lock, so this process's own writes never miss each other's bumps.
func (s *Store) changedWith(ctx context.Context, partnerID string, patch func([]Member) []Member) {
	// The write has landed whatever the caller's context does now (a
	// client gone, a shutdown), and other replicas learn of it only from
	// the bump.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), versionBumpTimeout)
	defer cancel()
	c := s.copies
	c.mu.Lock()
	defer c.mu.Unlock()
	var doc struct {
		Version int64 `bson:"version"`
	}
	err := s.versions().FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: partnerID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	rc, held := c.byID[partnerID]
	if err != nil {
		// The write itself landed; only copies may now lag, until maxCopyAge.
		slog.ErrorContext(ctx, "roster version not bumped", "partner", partnerID, "err", err)
		if held {
			c.drop(rc)
		}
		return
	}
	if !held {
		return
	}
	c.drop(rc)
	if rc.version != doc.Version-1 || patch == nil {
		return
	}
	// Copy on write: readers may be holding the current slices.
	c.keep(newCopy(partnerID, doc.Version, rc.readAt, patch(slices.Clone(rc.members))))
}
