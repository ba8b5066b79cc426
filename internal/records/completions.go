package records

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/importfile"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/rostercsv"
	"github.com/department/safeguarding-portal/internal/staff"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// CompletionsImport is an uploaded file of training completions, checked
// against the roster and each person's records and waiting for the officer
// to confirm; then the record of what it added.
type CompletionsImport struct {
	ID                bson.ObjectID `bson:"_id"`
	PartnerID         string        `bson:"partner_id"`
	importfile.Import `bson:",inline"`
	// New completions will be added; Recorded are already on the person's
	// record (the same course and date) and are left alone.
	New      int `bson:"new"`
	Recorded int `bson:"recorded"`
	People   int `bson:"people"` // people the new completions are for
	Added    int `bson:"added"`  // completions the apply added
}

// completionsBatch is how many rows are written between progress reports
// and assessments.
const completionsBatch = 250

func (s *Store) completionImports() *mongo.Collection {
	return s.db.Collection("completion_imports")
}

func (s *Store) completionFiles() importfile.Files {
	return importfile.In(s.db.Collection("completion_import_files"))
}

// ModuleNames maps each module's code and name, lower-cased, to its code,
// as ParseCompletions expects.
func ModuleNames(cat *requirements.Catalogue) map[string]string {
	names := make(map[string]string, 2*len(cat.Modules))
	for _, m := range cat.Modules {
		names[strings.ToLower(m.ID)] = m.ID
		names[strings.ToLower(strings.Join(strings.Fields(m.Name), " "))] = m.ID
	}
	return names
}

// notOnRoster turns rows for people the roster does not have into row
// problems, keeping the rest.
func notOnRoster(parsed *rostercsv.Completions, roster map[string]staff.Member) ([]rostercsv.Completion, []rostercsv.RowError) {
	var kept []rostercsv.Completion
	errs := parsed.Errors
	for _, r := range parsed.Rows {
		if _, ok := roster[strings.ToLower(r.StaffNumber)]; ok {
			kept = append(kept, r)
			continue
		}
		errs = append(errs, rostercsv.RowError{Line: r.Line, StaffNumber: r.StaffNumber, Column: "staff_number",
			Message: "No one on the roster has staff number " + r.StaffNumber + ". Add them to the roster first, or check the number"})
	}
	// Problems are listed in file order, as the person fixing the file reads it.
	sortRowErrors(errs)
	return kept, errs
}

func sortRowErrors(errs []rostercsv.RowError) {
	for i := 1; i < len(errs); i++ { // nearly sorted already: insertion sort is linear
		for j := i; j > 0 && errs[j].Line < errs[j-1].Line; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// BooksOf returns the record books of the given people: a few read by _id,
// many in one pass over the partner's books. People without records get an
// empty book.
func (s *Store) BooksOf(ctx context.Context, scope access.Scope, partnerID string, ids map[bson.ObjectID]bool) (map[bson.ObjectID]Book, error) {
	books := make(map[bson.ObjectID]Book, len(ids))
	if len(ids) <= 200 {
		for id := range ids {
			b, err := s.Get(ctx, scope, partnerID, id)
			if err != nil {
				return nil, err
			}
			books[id] = b
		}
		return books, nil
	}
	err := s.Each(ctx, scope, partnerID, func(b Book) error {
		if ids[b.StaffID] {
			books[b.StaffID] = b
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id := range ids {
		if _, ok := books[id]; !ok {
			books[id] = Book{StaffID: id, PartnerID: partnerID}
		}
	}
	return books, nil
}

// recorded is every completion the given people's books hold, keyed as
// rostercsv.Completion.Key, with the import that added it ("" if none did).
func recorded(roster map[string]staff.Member, books map[bson.ObjectID]Book) map[string]string {
	byID := make(map[bson.ObjectID]string, len(books))
	for _, m := range roster {
		if _, ok := books[m.ID]; ok {
			byID[m.ID] = m.StaffNumber
		}
	}
	keys := map[string]string{}
	for id, b := range books {
		for _, t := range b.Training {
			keys[rostercsv.Completion{StaffNumber: byID[id], Module: t.Module, Completed: t.Completed}.Key()] = t.ImportID
		}
	}
	return keys
}

// CheckCompletions compares a parsed completions file with the roster and
// people's records, and keeps it, unapplied, for the officer to confirm.
// Nothing on anyone's record changes.
func (u *Upkeep) CheckCompletions(ctx context.Context, scope access.Scope, partnerID, fileName, uploadedBy string, raw []byte, parsed *rostercsv.Completions) (CompletionsImport, error) {
	if _, err := u.Records.books(scope, partnerID); err != nil {
		return CompletionsImport{}, err
	}
	roster, err := u.Staff.ByStaffNumber(ctx, scope, partnerID)
	if err != nil {
		return CompletionsImport{}, err
	}
	rows, errs := notOnRoster(parsed, roster)
	im := CompletionsImport{ID: bson.NewObjectID(), PartnerID: partnerID,
		Import: importfile.New(fileName, uploadedBy, parsed.Total, len(rows), errs, parsed.Today)}
	people := map[bson.ObjectID]bool{}
	for _, r := range rows {
		people[roster[strings.ToLower(r.StaffNumber)].ID] = true
	}
	books, err := u.Records.BooksOf(ctx, scope, partnerID, people)
	if err != nil {
		return CompletionsImport{}, err
	}
	have := recorded(roster, books)
	gaining := map[bson.ObjectID]bool{}
	for _, r := range rows {
		if _, ok := have[r.Key()]; ok {
			im.Recorded++
			continue
		}
		im.New++
		gaining[roster[strings.ToLower(r.StaffNumber)].ID] = true
	}
	im.People = len(gaining)
	// The file first: an import document is only ever found complete.
	if im.SHA256, err = u.Records.completionFiles().Keep(ctx, im.ID, raw); err != nil {
		return CompletionsImport{}, err
	}
	if _, err := u.Records.completionImports().InsertOne(ctx, im); err != nil {
		return CompletionsImport{}, fmt.Errorf("keep completions import: %w", err)
	}
	return im, nil
}

// GetCompletions returns a completions import of a partner within scope.
func (u *Upkeep) GetCompletions(ctx context.Context, scope access.Scope, partnerID, id string) (CompletionsImport, error) {
	if _, err := u.Records.books(scope, partnerID); err != nil {
		return CompletionsImport{}, err
	}
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return CompletionsImport{}, ErrNotFound
	}
	var im CompletionsImport
	err = u.Records.completionImports().FindOne(ctx, scope.Filter("partner_id", bson.E{Key: "_id", Value: oid})).Decode(&im)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && im.PartnerID != partnerID) {
		return CompletionsImport{}, ErrNotFound
	}
	if err != nil {
		return CompletionsImport{}, fmt.Errorf("get completions import: %w", err)
	}
	return im, nil
}

// StartCompletions claims a checked (or stalled) import for applying; only
// one caller wins. It returns importfile.ErrNotReady if another did.
func (u *Upkeep) StartCompletions(ctx context.Context, scope access.Scope, im CompletionsImport, onlyValid bool) error {
	return importfile.Start(ctx, u.Records.completionImports(), scope.Filter("partner_id", bson.E{Key: "_id", Value: im.ID}), im.Import, onlyValid)
}

// ApplyCompletions adds a started import's new completions to people's
// records, each with its audit event (event is the template) and a place in
// the verification queue, assessing each batch's people again as it goes.
// Completions already recorded, including by an earlier apply of the same
// import that stopped part way, are left alone: applying twice adds nothing.
func (u *Upkeep) ApplyCompletions(ctx context.Context, scope access.Scope, im CompletionsImport, recordedBy string, event audit.Event) error {
	raw, err := u.Records.completionFiles().Read(ctx, im.ID, im.SHA256)
	if err != nil {
		return fmt.Errorf("completions import %s: %w", im.ID.Hex(), err)
	}
	parsed, err := rostercsv.ParseCompletions(bytes.NewReader(raw),
		rostercsv.Options{MaxBytes: int64(len(raw)) + 1, Today: im.CheckedOn.In(calendar.London)}, ModuleNames(u.Catalogue))
	if err != nil {
		return fmt.Errorf("completions import %s: parse kept file: %w", im.ID.Hex(), err)
	}
	roster, err := u.Staff.ByStaffNumber(ctx, scope, im.PartnerID)
	if err != nil {
		return err
	}
	// A person who left the roster since the check is not written to.
	rows, _ := notOnRoster(parsed, roster)
	added := 0
	for start := 0; start < len(rows); start += completionsBatch {
		batch := rows[start:min(start+completionsBatch, len(rows))]
		people := map[bson.ObjectID]bool{}
		for _, r := range batch {
			people[roster[strings.ToLower(r.StaffNumber)].ID] = true
		}
		books, err := u.Records.BooksOf(ctx, scope, im.PartnerID, people)
		if err != nil {
			return err
		}
		have := recorded(roster, books)
		for _, r := range batch {
			m := roster[strings.ToLower(r.StaffNumber)]
			if by, ok := have[r.Key()]; ok {
				if by == im.ID.Hex() { // added by an earlier apply of this import that stopped
					added++
				}
				continue
			}
			e := event
			e.Detail = "from completions import " + im.ID.Hex()
			t, err := u.Records.AddTraining(ctx, scope, im.PartnerID, m.ID, Training{
				Module: r.Module, Completed: r.Completed, Provider: r.Provider, RecordedBy: recordedBy, ImportID: im.ID.Hex(),
			}, e)
			if err != nil {
				return fmt.Errorf("completions import row %d: %w", r.Line, err)
			}
			added++
			have[r.Key()] = im.ID.Hex()
			if err := u.Records.Enqueue(ctx, Waiting{RecordID: t.ID, PartnerID: im.PartnerID, StaffID: m.ID, StaffName: m.Name,
				StaffNumber: m.StaffNumber, Kind: "training", What: t.Module, Submitted: t.RecordedAt}); err != nil {
				return err
			}
		}
		ids := make([]bson.ObjectID, 0, len(people))
		for id := range people {
			ids = append(ids, id)
		}
		if err := u.Reassess(ctx, im.PartnerID, ids...); err != nil {
			return err
		}
		if err := importfile.Progress(ctx, u.Records.completionImports(), im.ID, start+len(batch)); err != nil {
			return err
		}
	}
	return importfile.Finish(ctx, u.Records.completionImports(), u.Records.completionFiles(), im.ID, bson.E{Key: "added", Value: added})
}

// EnsureImportIndexes creates the index that reads a kept completions file
// back without a scan on real MongoDB.
func (s *Store) EnsureImportIndexes(ctx context.Context) error {
	return s.completionFiles().EnsureIndexes(ctx)
}
