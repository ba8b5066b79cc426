// Package importfile is what every CSV import shares: the uploaded file,
// kept between the moment it is checked and the moment, minutes later,
// someone confirms it (so an import applies exactly the bytes that were
// checked), and the import's progress from checked to applied.
//
// A file is kept as a few binary chunks rather than one document (a 20 MB
// upload does not fit in one) or one document per row (the store writes a
// few large values far faster than thousands of small documents).
package importfile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const chunkBytes = 4 << 20

type chunk struct {
	ID    bson.ObjectID `bson:"_id"`
	Owner bson.ObjectID `bson:"import_id"`
	Seq   int           `bson:"seq"`
	Data  []byte        `bson:"data"`
}

// Files keeps files in one collection, each under the ID of what owns it.
type Files struct{ coll *mongo.Collection }

// In keeps files in coll.
func In(coll *mongo.Collection) Files { return Files{coll: coll} }

// EnsureIndexes creates the index that reads a file back without a scan on
// real MongoDB.
func (f Files) EnsureIndexes(ctx context.Context) error {
	_, err := f.coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "import_id", Value: 1}, {Key: "seq", Value: 1}}, Options: options.Index().SetName("import_seq"),
	})
	if err != nil {
		return fmt.Errorf("create index on %s: %w", f.coll.Name(), err)
	}
	return nil
}

// Keep stores raw under owner and returns its SHA-256, hex-encoded. Keep it
// before the document that names it, so that document is only ever found
// with its file complete.
func (f Files) Keep(ctx context.Context, owner bson.ObjectID, raw []byte) (string, error) {
	for seq, start := 0, 0; start < len(raw); seq, start = seq+1, start+chunkBytes {
		c := chunk{ID: bson.NewObjectID(), Owner: owner, Seq: seq, Data: raw[start:min(start+chunkBytes, len(raw))]}
		if _, err := f.coll.InsertOne(ctx, c); err != nil {
			return "", fmt.Errorf("keep uploaded file: %w", err)
		}
	}
	return checksum(raw), nil
}

// Read returns the file kept under owner, refusing it unless its SHA-256 is
// still sum.
func (f Files) Read(ctx context.Context, owner bson.ObjectID, sum string) ([]byte, error) {
	cur, err := f.coll.Find(ctx, bson.D{{Key: "import_id", Value: owner}}, options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read kept file: %w", err)
	}
	var chunks []chunk
	if err := cur.All(ctx, &chunks); err != nil {
		return nil, fmt.Errorf("read kept file: %w", err)
	}
	var raw []byte
	for _, c := range chunks {
		raw = append(raw, c.Data...)
	}
	if checksum(raw) != sum {
		return nil, fmt.Errorf("kept file %s does not match its checksum", owner.Hex())
	}
	return raw, nil
}

// Discard removes the file kept under owner, once it has been applied.
func (f Files) Discard(ctx context.Context, owner bson.ObjectID) error {
	if _, err := f.coll.DeleteMany(ctx, bson.D{{Key: "import_id", Value: owner}}); err != nil {
		return fmt.Errorf("discard kept file: %w", err)
	}
	return nil
}

func checksum(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}
