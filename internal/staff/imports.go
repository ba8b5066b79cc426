package staff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/importfile"
	"github.com/department/safeguarding-portal/internal/rostercsv"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Import is an uploaded roster file, checked against the roster and waiting
// for the officer to confirm; then the record of what it changed.
type Import struct {
	ID                bson.ObjectID `bson:"_id"`
	PartnerID         string        `bson:"partner_id"`
	importfile.Import `bson:",inline"`
	New               int `bson:"new"`
	Changed           int `bson:"changed"`
	Unchanged         int `bson:"unchanged"`
}

// applyBatch is how many rows are written between progress reports.
const applyBatch = 1000

func (s *Store) imports() *mongo.Collection { return s.db.Collection("roster_imports") }
func (s *Store) importFiles() importfile.Files {
	return importfile.In(s.db.Collection("roster_import_rows"))
}

// EnsureImportIndexes creates the index that reads a kept import file back
// without a scan on real MongoDB.
func (s *Store) EnsureImportIndexes(ctx context.Context) error {
	return s.importFiles().EnsureIndexes(ctx)
}

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
	im := Import{ID: bson.NewObjectID(), PartnerID: partnerID,
		Import: importfile.New(fileName, uploadedBy, parsed.Total, len(parsed.Rows), parsed.Errors, parsed.Today)}
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
	if im.SHA256, err = s.importFiles().Keep(ctx, im.ID, raw); err != nil {
		return Import{}, err
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
// caller wins. It returns importfile.ErrNotReady if another did.
func (s *Store) StartImport(ctx context.Context, scope access.Scope, im Import, onlyValid bool) error {
	return importfile.Start(ctx, s.imports(), scope.Filter("partner_id", bson.E{Key: "_id", Value: im.ID}), im.Import, onlyValid)
}

// importedRows reads back the file an import checked and parses it again, as
// on the day it was checked, so it yields exactly the rows the officer confirmed.
func (s *Store) importedRows(ctx context.Context, im Import) ([]rostercsv.Row, error) {
	raw, err := s.importFiles().Read(ctx, im.ID, im.SHA256)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", im.ID.Hex(), err)
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
		if err := importfile.Progress(ctx, s.imports(), im.ID, done); err != nil {
			return err
		}
	}
	return importfile.Finish(ctx, s.imports(), s.importFiles(), im.ID)
}
