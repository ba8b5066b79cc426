package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// File is the record of one piece of evidence. The record outlives the
// content: when retention removes a DBS certificate's content, the record
// and its hash stay as proof of what was seen and when.
type File struct {
	ID          bson.ObjectID `bson:"_id"` // also the GridFS file id
	PartnerID   string        `bson:"partner_id"`
	Name        string        `bson:"name"` // display name, never a storage key
	ContentType string        `bson:"content_type"`
	Size        int64         `bson:"size"`
	SHA256      string        `bson:"sha256"` // hex of the stored bytes
	UploadedBy  string        `bson:"uploaded_by"`
	UploadedAt  time.Time     `bson:"uploaded_at"`
	// DeleteAfter is set when retention starts (e.g. vetting evidence once
	// verified): the content may be kept no longer than the decision needs.
	DeleteAfter *time.Time `bson:"delete_after,omitempty"`
	// DeletedAt is when retention removed the content; the record stays.
	DeletedAt *time.Time `bson:"deleted_at,omitempty"`
}

var (
	// ErrNotFound is returned for a file that does not exist, belongs to
	// another partner, or is named by a malformed id: the three are
	// indistinguishable to the caller, so a partner cannot learn which
	// other partners' ids exist.
	ErrNotFound = errors.New("evidence file not found")
	// ErrDeleted is returned for a file whose content retention removed.
	ErrDeleted = errors.New("evidence file content has been deleted")
	// ErrIntegrity means the stored content no longer matches the hash
	// taken when it was uploaded: someone with database access changed or
	// lost it. Raise an alert; never serve the content.
	ErrIntegrity = errors.New("evidence file content does not match its record")
)

const (
	filesCollection = "evidence_files"
	bucketName      = "evidence"
)

// Store keeps evidence files: content in the GridFS bucket "evidence", keyed
// by a random ObjectID (never the uploader's file name), and records in
// "evidence_files". Every method takes the partner first and reads nothing
// of another partner's.
type Store struct {
	db    *mongo.Database
	files *mongo.Collection
	// buckets: a GridFSBucket holds buffers it reuses and state it updates
	// without locks, so each operation takes one of its own.
	buckets sync.Pool
}

// NewStore returns a store on db.
func NewStore(db *mongo.Database) *Store {
	s := &Store{db: db, files: db.Collection(filesCollection)}
	s.buckets.New = func() any { return db.GridFSBucket(options.GridFSBucket().SetName(bucketName)) }
	return s
}

func (s *Store) bucket() *mongo.GridFSBucket { return s.buckets.Get().(*mongo.GridFSBucket) }

func (s *Store) release(b *mongo.GridFSBucket) { s.buckets.Put(b) }

// Checked is an upload that passed Check, ready to keep. Only Accept makes
// one, so Keep can never be handed bytes nobody checked, and a page that
// checks a file to report its problems does not pay for checking it twice.
type Checked struct {
	name, contentType string
	data              []byte
}

// Accept checks an upload (see Check) and readies it for Keep.
func Accept(name string, data []byte, maxBytes int64) (Checked, error) {
	stored, contentType, err := Check(name, data, maxBytes)
	if err != nil {
		return Checked{}, err
	}
	display, err := DisplayName(name)
	if err != nil {
		return Checked{}, err
	}
	return Checked{name: display, contentType: contentType, data: stored}, nil
}

// Put checks an upload (see Check) and stores it for partnerID. A refused
// upload returns the *Refusal (wrapped) and writes nothing.
func (s *Store) Put(ctx context.Context, partnerID, name, uploadedBy string, data []byte, maxBytes int64) (File, error) {
	if !validPartner(partnerID) {
		return File{}, errors.New("store evidence: invalid partner id")
	}
	c, err := Accept(name, data, maxBytes)
	if err != nil {
		return File{}, fmt.Errorf("store evidence: %w", err)
	}
	return s.Keep(ctx, partnerID, uploadedBy, c)
}

// Keep stores a checked upload for partnerID. The content is written before
// the record, and whatever was written is removed if a later step fails: the
// store has no transactions, and a record must never point at missing
// content, nor content outlive a failed upload.
func (s *Store) Keep(ctx context.Context, partnerID, uploadedBy string, c Checked) (File, error) {
	if !validPartner(partnerID) {
		return File{}, errors.New("store evidence: invalid partner id")
	}
	if c.data == nil {
		return File{}, errors.New("store evidence: the upload was not checked")
	}
	stored, contentType, display := c.data, c.contentType, c.name
	sum := sha256.Sum256(stored)
	f := File{
		ID:          bson.NewObjectID(),
		PartnerID:   partnerID,
		Name:        display,
		ContentType: contentType,
		Size:        int64(len(stored)),
		SHA256:      hex.EncodeToString(sum[:]),
		UploadedBy:  uploadedBy,
		UploadedAt:  time.Now().UTC().Truncate(time.Millisecond), // what the store keeps
	}
	b := s.bucket()
	defer s.release(b)
	// The GridFS name is the id too: a client's file name is not a key to
	// anything, and a lookup by name cannot reach this file.
	opts := options.GridFSUpload().SetMetadata(bson.D{{Key: "partner_id", Value: partnerID}})
	if err := b.UploadFromStreamWithID(ctx, f.ID, f.ID.Hex(), bytes.NewReader(stored), opts); err != nil {
		return File{}, s.undoPut(ctx, b, f.ID, fmt.Errorf("store evidence content: %w", err))
	}
	if _, err := s.files.InsertOne(ctx, f); err != nil {
		return File{}, s.undoPut(ctx, b, f.ID, fmt.Errorf("store evidence record: %w", err))
	}
	return f, nil
}

// undoPut removes whatever a failed Put wrote, even when the failure was
// the request's context ending, and returns cause with any failure to undo.
func (s *Store) undoPut(ctx context.Context, b *mongo.GridFSBucket, id bson.ObjectID, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errs []error
	if _, err := s.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		errs = append(errs, err)
	}
	if err := s.deleteContent(ctx, b, id); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(cause, fmt.Errorf("remove partial evidence %s: %w", id.Hex(), errors.Join(errs...)))
	}
	return cause
}

// deleteContent removes a file's GridFS content; see removeContent.
func (s *Store) deleteContent(ctx context.Context, b *mongo.GridFSBucket, id bson.ObjectID) error {
	_, err := s.removeContent(ctx, b, id)
	return err
}

// removeContent removes a file's GridFS content and reports whether this
// call removed it. Content already gone is not an error (a second portal
// replica, or an earlier run, removed it), but its chunks are removed
// again: GridFS removes the file document first, so a run that stopped half
// way leaves chunks with no file document, and the driver ignores a failure
// to remove those.
func (s *Store) removeContent(ctx context.Context, b *mongo.GridFSBucket, id bson.ObjectID) (bool, error) {
	err := b.Delete(ctx, id)
	removed := err == nil
	if errors.Is(err, mongo.ErrFileNotFound) {
		_, err = b.GetChunksCollection().DeleteMany(ctx, bson.D{{Key: "files_id", Value: id}})
	}
	if err != nil {
		return false, fmt.Errorf("delete evidence content %s: %w", id.Hex(), err)
	}
	return removed, nil
}

// Get returns the record of a partner's file. The filter names the partner
// as well as the id, and the result is checked again here: on the embedded
// store a filter is evaluated by a different engine than in production, and
// one partner seeing another's DBS evidence is the failure this portal must
// never have.
func (s *Store) Get(ctx context.Context, partnerID, id string) (File, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil || !validPartner(partnerID) {
		return File{}, ErrNotFound
	}
	var f File
	err = s.files.FindOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "partner_id", Value: partnerID}}).Decode(&f)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return File{}, ErrNotFound
	case err != nil:
		return File{}, fmt.Errorf("get evidence %s: %w", oid.Hex(), err)
	case f.PartnerID != partnerID || f.ID != oid:
		return File{}, ErrNotFound
	}
	return f, nil
}

// Open returns a partner's file and its content. The record is read first,
// for that partner only, so no content of another partner's is ever read,
// even into memory. The content is checked against the hash taken at
// upload: changed content (ErrIntegrity) is never returned, since evidence
// a reviewer relies on must be what the partner uploaded. A file whose
// content retention removed returns its record with ErrDeleted.
func (s *Store) Open(ctx context.Context, partnerID, id string) (File, []byte, error) {
	f, err := s.Get(ctx, partnerID, id)
	if err != nil {
		return File{}, nil, err
	}
	if f.DeletedAt != nil {
		return f, nil, ErrDeleted
	}
	b := s.bucket()
	defer s.release(b)
	ds, err := b.OpenDownloadStream(ctx, f.ID)
	if errors.Is(err, mongo.ErrFileNotFound) {
		if f.DeleteAfter != nil && !f.DeleteAfter.After(time.Now()) {
			return f, nil, ErrDeleted // being removed by retention right now
		}
		return File{}, nil, fmt.Errorf("open evidence %s: content missing: %w", f.ID.Hex(), ErrIntegrity)
	}
	if err != nil {
		return File{}, nil, fmt.Errorf("open evidence %s: %w", f.ID.Hex(), err)
	}
	defer func() { _ = ds.Close() }()
	gf := ds.GetFile()
	if gf.Length != f.Size || !contentOwnedBy(gf.Metadata, partnerID) {
		return File{}, nil, fmt.Errorf("open evidence %s: content does not belong to its record: %w", f.ID.Hex(), ErrIntegrity)
	}
	var buf bytes.Buffer
	buf.Grow(int(f.Size))
	// Read no more than the record says, whatever the chunks hold.
	if _, err := io.Copy(&buf, io.LimitReader(ds, f.Size+1)); err != nil {
		if errors.Is(err, mongo.ErrWrongSize) || errors.Is(err, mongo.ErrMissingChunk) {
			err = errors.Join(err, ErrIntegrity) // chunks changed or removed
		}
		return File{}, nil, fmt.Errorf("read evidence %s: %w", f.ID.Hex(), err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if int64(buf.Len()) != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
		return File{}, nil, fmt.Errorf("read evidence %s: %w", f.ID.Hex(), ErrIntegrity)
	}
	return f, buf.Bytes(), nil
}

func contentOwnedBy(metadata bson.Raw, partnerID string) bool {
	v, err := metadata.LookupErr("partner_id")
	if err != nil {
		return false
	}
	p, ok := v.StringValueOK()
	return ok && p == partnerID
}

// StartRetention sets when a partner's file content is to be deleted.
// Calling it again never extends retention: the earlier date is kept, so
// a repeated or late event cannot keep DBS evidence longer than allowed.
func (s *Store) StartRetention(ctx context.Context, partnerID, id string, deleteAfter time.Time) error {
	f, err := s.Get(ctx, partnerID, id)
	if err != nil {
		return err
	}
	at := deleteAfter.UTC().Truncate(time.Millisecond)
	res, err := s.files.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: f.ID}, {Key: "partner_id", Value: partnerID}},
		bson.D{{Key: "$min", Value: bson.D{{Key: "delete_after", Value: at}}}})
	if err != nil {
		return fmt.Errorf("start retention of evidence %s: %w", f.ID.Hex(), err)
	}
	if res.MatchedCount == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteExpired removes the content of every file whose retention date has
// come, keeping the records and hashes, and returns how many files' content
// it removed. Content goes before the record is marked, so a run that stops
// half way is finished by the next. Portal replicas may run it at once:
// neither fails on content the other removed, a record is marked only while
// unmarked, and each file is counted by the one replica whose delete
// removed it. The count does not rest on the conditional update: FerretDB
// v1 evaluates an update's filter and writes in two steps, so two replicas
// can both "win" it, whereas deleting a document is one step everywhere.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Millisecond)
	cur, err := s.files.Find(ctx,
		bson.D{
			{Key: "delete_after", Value: bson.D{{Key: "$lte", Value: now}}},
			{Key: "deleted_at", Value: bson.D{{Key: "$exists", Value: false}}},
		},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("find expired evidence: %w", err)
	}
	var due []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &due); err != nil {
		return 0, fmt.Errorf("find expired evidence: %w", err)
	}
	b := s.bucket()
	defer s.release(b)
	deleted := 0
	var errs []error
	for _, d := range due {
		// One file failing does not keep every later file's content.
		removed, err := s.removeContent(ctx, b, d.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_, err = s.files.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: d.ID}, {Key: "deleted_at", Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "deleted_at", Value: now}}}})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark evidence %s deleted: %w", d.ID.Hex(), err))
			continue
		}
		if removed {
			deleted++
		}
	}
	if len(errs) > 0 {
		return deleted, fmt.Errorf("delete expired evidence: %w", errors.Join(errs...))
	}
	return deleted, nil
}

// EnsureIndexes creates the indexes production MongoDB needs: a partner's
// files, the retention sweep, and GridFS's own (which the driver creates
// only when the bucket is empty). One index per call: FerretDB drops the
// connection on a createIndexes of several that all exist.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	models := []struct {
		coll  *mongo.Collection
		model mongo.IndexModel
	}{
		{s.files, mongo.IndexModel{Keys: bson.D{{Key: "partner_id", Value: 1}, {Key: "uploaded_at", Value: -1}}}},
		{s.files, mongo.IndexModel{Keys: bson.D{{Key: "delete_after", Value: 1}}}},
		{s.db.Collection(bucketName + ".files"), mongo.IndexModel{Keys: bson.D{{Key: "filename", Value: int32(1)}, {Key: "uploadDate", Value: int32(1)}}}},
		{s.db.Collection(bucketName + ".chunks"), mongo.IndexModel{
			Keys:    bson.D{{Key: "files_id", Value: int32(1)}, {Key: "n", Value: int32(1)}},
			Options: options.Index().SetUnique(true),
		}},
	}
	for _, m := range models {
		if _, err := m.coll.Indexes().CreateOne(ctx, m.model); err != nil {
			return fmt.Errorf("create evidence index on %s: %w", m.coll.Name(), err)
		}
	}
	return nil
}

// validPartner refuses partner ids a filter cannot hold: an empty one would
// match records written without a partner, and invalid UTF-8 is an error
// from the server rather than "not found".
func validPartner(id string) bool { return id != "" && utf8.ValidString(id) }
