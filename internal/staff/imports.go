package staff

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/rostercsv"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Import statuses.
const (
	ImportChecked  = "checked"  // validated and compared, waiting for the officer to confirm
	ImportApplying = "applying" // being written
	ImportApplied  = "applied"
)

// ErrImportNotReady means the import is not waiting for confirmation (already
// applied, being applied, or gone).
var ErrImportNotReady = errors.New("import is not waiting to be applied")

// Import is an uploaded roster file, checked against the roster and waiting
// for the officer to confirm; then the record of what it changed.
type Import struct {
	ID         bson.ObjectID        `bson:"_id"`
	PartnerID  string               `bson:"partner_id"`
	FileName   string               `bson:"file_name"`
	SHA256     string               `bson:"sha256"`
	UploadedBy string               `bson:"uploaded_by"`
	CreatedAt  time.Time            `bson:"created_at"`
	Status     string               `bson:"status"`
	Total      int                  `bson:"total"`
	Valid      int                  `bson:"valid"`
	Errors     []rostercsv.RowError `bson:"errors"`
	MoreErrors int                  `bson:"more_errors"`
	New        int                  `bson:"new"`
	Changed    int                  `bson:"changed"`
	Unchanged  int                  `bson:"unchanged"`
	Done       int                  `bson:"done"`
	ProgressAt time.Time            `bson:"progress_at"`
	AppliedAt  *time.Time           `bson:"applied_at,omitempty"`
	OnlyValid  bool                 `bson:"only_valid"`
	CheckedOn  time.Time            `bson:"checked_on"` // the day the file's dates were checked against
}

// Stalled reports whether an apply has stopped making progress (its process
// ended), so it may be started again; applying is idempotent.
func (im Import) Stalled(now time.Time) bool {
	return im.Status == ImportApplying && now.Sub(im.ProgressAt) > 2*time.Minute
}

// storedErrors bounds the row errors kept with an import: enough to fix a file.
const storedErrors = 1000

// fileChunk holds a slice of an uploaded file, kept until the import is
// applied: a 20 MB file would not fit one document, and the store keeps a
// few binary values far faster than thousands of row documents.
type fileChunk struct {
	ID       bson.ObjectID `bson:"_id"`
	ImportID bson.ObjectID `bson:"import_id"`
	Seq      int           `bson:"seq"`
	Data     []byte        `bson:"data"`
}

const chunkBytes = 4 << 20

// applyBatch is how many rows are written between progress reports.
const applyBatch = 1000

func (s *Store) imports() *mongo.Collection    { return s.db.Collection("roster_imports") }
func (s *Store) importRows() *mongo.Collection { return s.db.Collection("roster_import_rows") }

// memberFromRow is the roster entry a file row describes.
func memberFromRow(partnerID string, r rostercsv.Row) Member {
	return Member{
		PartnerID: partnerID, StaffNumber: r.StaffNumber, Name: r.Name, Email: strings.ToLower(r.Email),
		RoleTitle: r.RoleTitle, Category: r.Category, Sites: r.Sites, StartDate: r.StartDate, LeavingDate: r.LeavingDate,
	}
}

// CheckImport compares a parsed file with the roster and keeps it, unapplied,
// for the officer to confirm. Nothing on the roster changes.
func (s *Store) CheckImport(ctx context.Context, scope access.Scope, partnerID, fileName, uploadedBy string, raw []byte, parsed *rostercsv.Result) (Import, error) {
	if _, err := s.roster(scope, partnerID); err != nil {
		return Import{}, err
	}
	current, err := s.ByStaffNumber(ctx, scope, partnerID)
	if err != nil {
		return Import{}, err
	}
	sum := sha256.Sum256(raw)
	now := time.Now().UTC()
	im := Import{
		ID: bson.NewObjectID(), PartnerID: partnerID, FileName: fileName, SHA256: hex.EncodeToString(sum[:]),
		UploadedBy: uploadedBy, CreatedAt: now, ProgressAt: now, Status: ImportChecked,
		Total: parsed.Total, Valid: len(parsed.Rows), Errors: parsed.Errors, CheckedOn: parsed.Today,
	}
	if len(im.Errors) > storedErrors {
		im.MoreErrors, im.Errors = len(im.Errors)-storedErrors, im.Errors[:storedErrors]
	}
	for _, r := range parsed.Rows {
		existing, ok := current[strings.ToLower(r.StaffNumber)]
		switch {
		case !ok:
			im.New++
		case existing.SameDetails(memberFromRow(partnerID, r)):
			im.Unchanged++
		default:
			im.Changed++
		}
	}
	// The file first: an import document is only ever found complete.
	for seq, start := 0, 0; start < len(raw); seq, start = seq+1, start+chunkBytes {
		chunk := fileChunk{ID: bson.NewObjectID(), ImportID: im.ID, Seq: seq, Data: raw[start:min(start+chunkBytes, len(raw))]}
		if _, err := s.importRows().InsertOne(ctx, chunk); err != nil {
			return Import{}, fmt.Errorf("keep import file: %w", err)
		}
	}
	if _, err := s.imports().InsertOne(ctx, im); err != nil {
		return Import{}, fmt.Errorf("keep import: %w", err)
	}
	return im, nil
}

// GetImport returns an import of a partner within scope.
func (s *Store) GetImport(ctx context.Context, scope access.Scope, partnerID, id string) (Import, error) {
	if _, err := s.roster(scope, partnerID); err != nil {
		return Import{}, err
	}
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Import{}, ErrNotFound
	}
	var im Import
	err = s.imports().FindOne(ctx, scope.Filter("partner_id", bson.E{Key: "_id", Value: oid})).Decode(&im)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && im.PartnerID != partnerID) {
		return Import{}, ErrNotFound
	}
	if err != nil {
		return Import{}, fmt.Errorf("get import: %w", err)
	}
	return im, nil
}

// StartImport claims a checked (or stalled) import for applying; only one
// caller wins, so a double-click or a second officer cannot apply it twice at once.
func (s *Store) StartImport(ctx context.Context, scope access.Scope, im Import, onlyValid bool) error {
	now := time.Now().UTC()
	filter := scope.Filter("partner_id", bson.E{Key: "_id", Value: im.ID})
	if im.Stalled(now) {
		filter = append(filter, bson.E{Key: "status", Value: ImportApplying}, bson.E{Key: "progress_at", Value: im.ProgressAt})
	} else {
		filter = append(filter, bson.E{Key: "status", Value: ImportChecked})
	}
	res, err := s.imports().UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: ImportApplying}, {Key: "progress_at", Value: now}, {Key: "only_valid", Value: onlyValid},
	}}})
	if err != nil {
		return fmt.Errorf("start import: %w", err)
	}
	if res.ModifiedCount == 0 {
		return ErrImportNotReady
	}
	return nil
}

// importedRows reads back the file an import checked and parses it again, as
// on the day it was checked, so it yields exactly the rows the officer confirmed.
func (s *Store) importedRows(ctx context.Context, im Import) ([]rostercsv.Row, error) {
	cur, err := s.importRows().Find(ctx, bson.D{{Key: "import_id", Value: im.ID}}, options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read import file: %w", err)
	}
	var chunks []fileChunk
	if err := cur.All(ctx, &chunks); err != nil {
		return nil, fmt.Errorf("read import file: %w", err)
	}
	var raw []byte
	for _, c := range chunks {
		raw = append(raw, c.Data...)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != im.SHA256 {
		return nil, fmt.Errorf("import %s: kept file does not match its checksum", im.ID.Hex())
	}
	parsed, err := rostercsv.Parse(bytes.NewReader(raw), rostercsv.Options{MaxBytes: int64(len(raw)) + 1, Today: im.CheckedOn.In(calendar.London)})
	if err != nil {
		return nil, fmt.Errorf("import %s: parse kept file: %w", im.ID.Hex(), err)
	}
	if len(parsed.Rows) != im.Valid {
		return nil, fmt.Errorf("import %s: kept file has %d valid rows, checked %d", im.ID.Hex(), len(parsed.Rows), im.Valid)
	}
	return parsed.Rows, nil
}

// ApplyImport writes a started import's valid rows: new people in batches,
// changed people one by one with their own audit events, unchanged people not
// at all, so applying the same file twice changes nothing. It reports progress
// on the import as it goes. event is the template for the per-person events.
func (s *Store) ApplyImport(ctx context.Context, scope access.Scope, im Import, event audit.Event) error {
	current, err := s.ByStaffNumber(ctx, scope, im.PartnerID)
	if err != nil {
		return err
	}
	rows, err := s.importedRows(ctx, im)
	if err != nil {
		return err
	}
	done := 0
	for start := 0; start < len(rows); start += applyBatch {
		chunk := rows[start:min(start+applyBatch, len(rows))]
		var fresh []Member
		for _, r := range chunk {
			m := memberFromRow(im.PartnerID, r)
			existing, ok := current[strings.ToLower(r.StaffNumber)]
			switch {
			case !ok:
				m.ImportID = im.ID.Hex()
				m.Active = m.LeavingDate == nil || m.LeavingDate.After(time.Now())
				fresh = append(fresh, m)
			case existing.SameDetails(m):
			default:
				m.ID = existing.ID
				e := event
				e.Detail = "from import " + im.ID.Hex()
				if err := s.Update(ctx, scope, m, e); err != nil {
					return fmt.Errorf("import row %d: %w", r.Line, err)
				}
			}
		}
		if err := s.InsertMany(ctx, scope, im.PartnerID, fresh); err != nil {
			return err
		}
		done += len(chunk)
		if _, err := s.imports().UpdateOne(ctx, bson.D{{Key: "_id", Value: im.ID}}, bson.D{{Key: "$set", Value: bson.D{
			{Key: "done", Value: done}, {Key: "progress_at", Value: time.Now().UTC()},
		}}}); err != nil {
			return fmt.Errorf("record import progress: %w", err)
		}
	}
	now := time.Now().UTC()
	if _, err := s.imports().UpdateOne(ctx, bson.D{{Key: "_id", Value: im.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: ImportApplied}, {Key: "applied_at", Value: now}, {Key: "progress_at", Value: now},
	}}}); err != nil {
		return fmt.Errorf("finish import: %w", err)
	}
	if _, err := s.importRows().DeleteMany(ctx, bson.D{{Key: "import_id", Value: im.ID}}); err != nil {
		return fmt.Errorf("discard applied import rows: %w", err)
	}
	return nil
}
