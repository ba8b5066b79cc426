package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/evidence"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	partnerA = "partner-a"
	partnerB = "partner-b"
)

func newStore(t *testing.T) (*evidence.Store, *mongo.Database) {
	t.Helper()
	db := storetest.Database(t)
	s := evidence.NewStore(db)
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	return s, db
}

// counts returns the documents in the record collection and the GridFS
// files and chunks collections.
func counts(t *testing.T, db *mongo.Database) [3]int64 {
	t.Helper()
	var n [3]int64
	for i, c := range []string{"evidence_files", "evidence.files", "evidence.chunks"} {
		v, err := db.Collection(c).CountDocuments(context.Background(), bson.D{})
		if err != nil {
			t.Fatalf("count %s: %v", c, err)
		}
		n[i] = v
	}
	return n
}

func TestPutGetOpen(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	pdf := certificatePDF()
	f, err := s.Put(ctx, partnerA, "  DBS certificate.pdf ", "officer-1", pdf, limit)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	sum := sha256.Sum256(pdf)
	if f.PartnerID != partnerA || f.Name != "DBS certificate.pdf" || f.ContentType != evidence.PDF ||
		f.Size != int64(len(pdf)) || f.SHA256 != hex.EncodeToString(sum[:]) || f.UploadedBy != "officer-1" ||
		f.UploadedAt.IsZero() || f.DeleteAfter != nil || f.DeletedAt != nil {
		t.Errorf("Put returned %+v", f)
	}
	got, err := s.Get(ctx, partnerA, f.ID.Hex())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !got.UploadedAt.Equal(f.UploadedAt) || got.SHA256 != f.SHA256 || got.Name != f.Name || got.Size != f.Size {
		t.Errorf("Get = %+v\nPut = %+v", got, f)
	}
	of, data, err := s.Open(ctx, partnerA, f.ID.Hex())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if of.ID != f.ID || !bytes.Equal(data, pdf) {
		t.Errorf("Open returned %d bytes of %s", len(data), of.ID.Hex())
	}
	if n := counts(t, db); n != [3]int64{1, 1, 1} {
		t.Errorf("records, GridFS files, chunks = %v; want one of each", n)
	}
	// The GridFS name is the id: the uploader's name keys nothing.
	var gf bson.M
	if err := db.Collection("evidence.files").FindOne(ctx, bson.D{}).Decode(&gf); err != nil {
		t.Fatal(err)
	}
	if gf["filename"] != f.ID.Hex() {
		t.Errorf("GridFS filename %v, want the id", gf["filename"])
	}

	// An image is stored as redrawn, and its hash is of what is stored.
	img, err := s.Put(ctx, partnerA, "photo.jpg", "officer-1", withEXIF(jpegFile(t), 6), limit)
	if err != nil {
		t.Fatalf("Put JPEG: %v", err)
	}
	_, data, err = s.Open(ctx, partnerA, img.ID.Hex())
	if err != nil {
		t.Fatalf("Open JPEG: %v", err)
	}
	if sum := sha256.Sum256(data); img.ContentType != evidence.JPEG || hex.EncodeToString(sum[:]) != img.SHA256 || bytes.Contains(data, []byte("Exif")) {
		t.Errorf("stored JPEG: type %q, hash match %v, EXIF kept %v", img.ContentType, hex.EncodeToString(sum[:]) == img.SHA256, bytes.Contains(data, []byte("Exif")))
	}
}

// TestOpenLargeFile crosses several GridFS chunks (255 KiB each).
func TestOpenLargeFile(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	pdf := certificatePDFWith(pdfCatalog, pdfStream("/Subtype /Image /Width 1000 /Height 1000 /Filter /DCTDecode", bytes.Repeat([]byte("0123456789abcdef"), 60_000)))
	f, err := s.Put(ctx, partnerA, "scan.pdf", "u", pdf, limit)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	_, data, err := s.Open(ctx, partnerA, f.ID.Hex())
	if err != nil || !bytes.Equal(data, pdf) {
		t.Fatalf("Open = %d bytes, %v; want %d bytes", len(data), err, len(pdf))
	}
}

// TestTenantIsolation: another partner's file, a random id and a malformed
// one all look the same: not found, and nothing changes.
func TestTenantIsolation(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	f, err := s.Put(ctx, partnerA, "c.pdf", "u", certificatePDF(), limit)
	if err != nil {
		t.Fatal(err)
	}
	id := f.ID.Hex()
	for name, tc := range map[string]struct{ partner, id string }{
		"other partner":             {partnerB, id},
		"other partner, upper case": {partnerB, strings.ToUpper(id)},
		"no partner":                {"", id},
		"partner of invalid UTF-8":  {"partner-a\xff", id},
		"partner prefix":            {"partner", id},
		"random id":                 {partnerA, bson.NewObjectID().Hex()},
		"empty id":                  {partnerA, ""},
		"short id":                  {partnerA, id[:23]},
		"long id":                   {partnerA, id + "0"},
		"not hex":                   {partnerA, strings.Repeat("z", 24)},
		"invalid UTF-8 id":          {partnerA, "\xff" + id[1:]},
		"operator as id":            {partnerA, `{"$ne": null}`},
		"path in id":                {partnerA, "../" + id},
		"huge id":                   {partnerA, strings.Repeat("a", 1<<16)},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Get(ctx, tc.partner, tc.id); !errors.Is(err, evidence.ErrNotFound) {
				t.Errorf("Get: %v", err)
			}
			if f, data, err := s.Open(ctx, tc.partner, tc.id); !errors.Is(err, evidence.ErrNotFound) || data != nil || f.PartnerID != "" {
				t.Errorf("Open: %d bytes, %v", len(data), err)
			}
			if err := s.StartRetention(ctx, tc.partner, tc.id, time.Now()); !errors.Is(err, evidence.ErrNotFound) {
				t.Errorf("StartRetention: %v", err)
			}
			if err := s.Remove(ctx, tc.partner, tc.id); !errors.Is(err, evidence.ErrNotFound) {
				t.Errorf("Remove: %v", err)
			}
		})
	}
	got, err := s.Get(ctx, partnerA, id)
	if err != nil || got.DeleteAfter != nil {
		t.Errorf("owner's file after the attempts: %+v, %v", got, err)
	}
	if n := counts(t, db); n != [3]int64{1, 1, 1} {
		t.Errorf("records, GridFS files, chunks = %v; want the file untouched", n)
	}
	if _, data, err := s.Open(ctx, partnerA, strings.ToUpper(id)); err != nil || len(data) == 0 {
		t.Errorf("owner opening by upper-case id: %v", err)
	}
}

// TestPutLeavesNothingBehind: a refused upload writes nothing, and one that
// fails after its content was written takes the content with it.
func TestPutLeavesNothingBehind(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	hostile := certificatePDFWith("<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>")
	_, err := s.Put(ctx, partnerA, "c.pdf", "u", hostile, limit)
	var r *evidence.Refusal
	if !errors.As(err, &r) {
		t.Fatalf("Put hostile = %v; want a refusal", err)
	}
	if _, err := s.Put(ctx, partnerA, "../c.pdf", "u", certificatePDF(), limit); !errors.As(err, &r) {
		t.Fatalf("Put with a path as name = %v; want a refusal", err)
	}
	if _, err := s.Put(ctx, "", "c.pdf", "u", certificatePDF(), limit); err == nil {
		t.Fatal("Put with no partner succeeded")
	}
	if n := counts(t, db); n != [3]int64{} {
		t.Fatalf("after refusals: records, GridFS files, chunks = %v; want none", n)
	}

	// The context ends before anything is written.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Put(cancelled, partnerA, "c.pdf", "u", certificatePDF(), limit); err == nil {
		t.Fatal("Put on an ended context succeeded")
	}
	if n := counts(t, db); n != [3]int64{} {
		t.Fatalf("after an ended context: records, GridFS files, chunks = %v; want none", n)
	}

	// The record cannot be written (a unique index it breaks): the content,
	// already in GridFS, must go.
	_, err = db.Collection("evidence_files").Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "uploaded_by", Value: 1}}, Options: options.Index().SetUnique(true).SetName("test_unique_uploader"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, partnerA, "c.pdf", "same-user", certificatePDF(), limit); err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(ctx, partnerA, "c.pdf", "same-user", withEXIF(jpegFile(t), 1), limit)
	if err == nil || errors.As(err, &r) {
		t.Fatalf("Put breaking the index = %v; want a store error", err)
	}
	if n := counts(t, db); n != [3]int64{1, 1, 1} {
		t.Fatalf("after a failed record: records, GridFS files, chunks = %v; want only the first file", n)
	}
}

// TestOpenDetectsTampering: content changed in the database is never
// served.
func TestOpenDetectsTampering(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	chunks := db.Collection("evidence.chunks")
	for name, tamper := range map[string]func(id bson.ObjectID) error{
		"a byte changed": func(id bson.ObjectID) error {
			var c struct {
				Data []byte `bson:"data"`
			}
			if err := chunks.FindOne(ctx, bson.D{{Key: "files_id", Value: id}}).Decode(&c); err != nil {
				return err
			}
			c.Data[len(c.Data)/2] ^= 0x20
			_, err := chunks.UpdateOne(ctx, bson.D{{Key: "files_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: c.Data}}}})
			return err
		},
		"chunk shortened": func(id bson.ObjectID) error {
			_, err := chunks.UpdateOne(ctx, bson.D{{Key: "files_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: []byte("%PDF-1.7 short")}}}})
			return err
		},
		"chunk removed": func(id bson.ObjectID) error {
			_, err := chunks.DeleteMany(ctx, bson.D{{Key: "files_id", Value: id}})
			return err
		},
		"content removed": func(id bson.ObjectID) error {
			return db.GridFSBucket(options.GridFSBucket().SetName("evidence")).Delete(ctx, id)
		},
		"content moved to another partner": func(id bson.ObjectID) error {
			_, err := db.Collection("evidence.files").UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "metadata.partner_id", Value: partnerB}}}})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := s.Put(ctx, partnerA, "c.pdf", "u", certificatePDF(), limit)
			if err != nil {
				t.Fatal(err)
			}
			if err := tamper(f.ID); err != nil {
				t.Fatal(err)
			}
			_, data, err := s.Open(ctx, partnerA, f.ID.Hex())
			if !errors.Is(err, evidence.ErrIntegrity) || data != nil {
				t.Errorf("Open = %d bytes, %v; want ErrIntegrity", len(data), err)
			}
		})
	}
}

func TestRetention(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	f, err := s.Put(ctx, partnerA, "dbs.pdf", "u", certificatePDF(), limit)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Put(ctx, partnerB, "dbs.pdf", "u", certificatePDF(), limit)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	id := f.ID.Hex()
	if err := s.StartRetention(ctx, partnerA, id, base.Add(48*time.Hour)); err != nil {
		t.Fatalf("StartRetention: %v", err)
	}
	// Again, later: the earlier date stays. Earlier: it wins.
	if err := s.StartRetention(ctx, partnerA, id, base.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, partnerA, id); got.DeleteAfter == nil || !got.DeleteAfter.Equal(base.Add(48*time.Hour)) {
		t.Fatalf("DeleteAfter after a later date = %v", got.DeleteAfter)
	}
	if err := s.StartRetention(ctx, partnerA, id, base.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, partnerA, id); got.DeleteAfter == nil || !got.DeleteAfter.Equal(base.Add(24*time.Hour)) {
		t.Fatalf("DeleteAfter after an earlier date = %v", got.DeleteAfter)
	}

	// Before the date: nothing goes.
	if n, err := s.DeleteExpired(ctx, base.Add(24*time.Hour-time.Millisecond)); n != 0 || err != nil {
		t.Fatalf("DeleteExpired before the date = %d, %v", n, err)
	}
	if _, _, err := s.Open(ctx, partnerA, id); err != nil {
		t.Fatalf("Open before the date: %v", err)
	}
	// On the date: the content goes, the record and hash stay.
	if n, err := s.DeleteExpired(ctx, base.Add(24*time.Hour)); n != 1 || err != nil {
		t.Fatalf("DeleteExpired on the date = %d, %v", n, err)
	}
	rec, data, err := s.Open(ctx, partnerA, id)
	if !errors.Is(err, evidence.ErrDeleted) || data != nil {
		t.Fatalf("Open after deletion = %d bytes, %v; want ErrDeleted", len(data), err)
	}
	if rec.SHA256 != f.SHA256 || rec.DeletedAt == nil || !rec.DeletedAt.Equal(base.Add(24*time.Hour)) {
		t.Errorf("record after deletion = %+v", rec)
	}
	if got, err := s.Get(ctx, partnerA, id); err != nil || got.SHA256 != f.SHA256 || got.Name != "dbs.pdf" {
		t.Errorf("Get after deletion = %+v, %v", got, err)
	}
	if n := counts(t, db); n != [3]int64{2, 1, 1} {
		t.Errorf("records, GridFS files, chunks = %v; want both records, only the other partner's content", n)
	}
	// Again: nothing more to do.
	if n, err := s.DeleteExpired(ctx, base.Add(72*time.Hour)); n != 0 || err != nil {
		t.Errorf("DeleteExpired again = %d, %v", n, err)
	}
	if _, data, err := s.Open(ctx, partnerB, other.ID.Hex()); err != nil || len(data) == 0 {
		t.Errorf("other partner's file: %v", err)
	}
	// Retention started after deletion changes nothing that matters.
	if err := s.StartRetention(ctx, partnerA, id, base); err != nil {
		t.Errorf("StartRetention after deletion: %v", err)
	}
	if n, err := s.DeleteExpired(ctx, base.Add(72*time.Hour)); n != 0 || err != nil {
		t.Errorf("DeleteExpired after a late StartRetention = %d, %v", n, err)
	}
}

// TestDeleteExpiredConcurrently: two portal replicas sweep at once; each
// file is counted once, by the sweep that removed its content, and neither
// fails on content the other removed. A file whose content an earlier,
// interrupted run removed is marked but not counted.
func TestDeleteExpiredConcurrently(t *testing.T) {
	s1, db := newStore(t)
	s2 := evidence.NewStore(db)
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	const files = 8
	for i := range files {
		f, err := s1.Put(ctx, partnerA, "c.pdf", "u", certificatePDF(), limit)
		if err != nil {
			t.Fatal(err)
		}
		if err := s1.StartRetention(ctx, partnerA, f.ID.Hex(), base.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// One half-finished earlier run: content gone, record not yet marked.
	var half evidence.File
	if err := db.Collection("evidence_files").FindOne(ctx, bson.D{}).Decode(&half); err != nil {
		t.Fatal(err)
	}
	if err := db.GridFSBucket(options.GridFSBucket().SetName("evidence")).Delete(ctx, half.ID); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for _, s := range []*evidence.Store{s1, s2, s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.DeleteExpired(ctx, base.Add(time.Hour))
			if err != nil {
				t.Errorf("DeleteExpired: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != files-1 {
		t.Errorf("files counted = %d across the sweeps, want %d", total, files-1)
	}
	if n := counts(t, db); n != [3]int64{files, 0, 0} {
		t.Errorf("records, GridFS files, chunks = %v; want records only", n)
	}
	deleted, err := db.Collection("evidence_files").CountDocuments(ctx, bson.D{{Key: "deleted_at", Value: bson.D{{Key: "$exists", Value: true}}}})
	if err != nil || deleted != files {
		t.Errorf("records marked deleted = %d, %v", deleted, err)
	}
}

// TestConcurrentPutOpen runs uploads and downloads at once (with -race):
// GridFS buckets keep unsynchronised buffers, so sharing one would garble
// files.
func TestConcurrentPutOpen(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := certificatePDFWith(pdfCatalog, pdfStream("/Subtype /Image /Width 1 /Height 1 /Filter /DCTDecode", bytes.Repeat([]byte{byte('a' + i)}, 300<<10)))
			f, err := s.Put(ctx, partnerA, "c.pdf", "u", data, limit)
			if err != nil {
				t.Error(err)
				return
			}
			_, got, err := s.Open(ctx, partnerA, f.ID.Hex())
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("Open = %d bytes, %v", len(got), err)
			}
		}()
	}
	wg.Wait()
}

func TestRemove(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	f, err := s.Put(ctx, partnerA, "c.pdf", "u", certificatePDF(), limit)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, partnerB, f.ID.Hex()); !errors.Is(err, evidence.ErrNotFound) {
		t.Fatalf("Remove by another partner: %v", err)
	}
	if err := s.Remove(ctx, partnerA, f.ID.Hex()); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if n := counts(t, db); n != [3]int64{} {
		t.Errorf("records, GridFS files, chunks = %v; want none", n)
	}
	if _, err := s.Get(ctx, partnerA, f.ID.Hex()); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("Get after Remove: %v", err)
	}
}

func TestEnsureIndexesTwice(t *testing.T) {
	s, _ := newStore(t)
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes again: %v", err)
	}
}
