package importfile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/rostercsv"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Import statuses.
const (
	Checked  = "checked"  // validated and compared, waiting for someone to confirm
	Applying = "applying" // being written
	Applied  = "applied"
)

// ErrNotReady means the import is not waiting for confirmation (already
// applied, being applied, or gone).
var ErrNotReady = errors.New("import is not waiting to be applied")

// storedErrors bounds the row errors kept with an import: enough to fix a file.
const storedErrors = 1000

// Import is what every import document holds, inline, beside what its kind
// of import counts.
type Import struct {
	FileName   string               `bson:"file_name"`
	SHA256     string               `bson:"sha256"`
	UploadedBy string               `bson:"uploaded_by"`
	CreatedAt  time.Time            `bson:"created_at"`
	Status     string               `bson:"status"`
	Total      int                  `bson:"total"`
	Valid      int                  `bson:"valid"`
	Errors     []rostercsv.RowError `bson:"errors"`
	MoreErrors int                  `bson:"more_errors"`
	Done       int                  `bson:"done"`
	ProgressAt time.Time            `bson:"progress_at"`
	AppliedAt  *time.Time           `bson:"applied_at,omitempty"`
	OnlyValid  bool                 `bson:"only_valid"`
	CheckedOn  time.Time            `bson:"checked_on"` // the day the file's dates were checked against
}

// New describes a file just checked: total rows, valid rows, the
// problems found and the day its dates were checked against.
func New(fileName, uploadedBy string, total, valid int, errs []rostercsv.RowError, checkedOn time.Time) Import {
	now := time.Now().UTC()
	st := Import{FileName: fileName, UploadedBy: uploadedBy, CreatedAt: now, ProgressAt: now, Status: Checked,
		Total: total, Valid: valid, Errors: errs, CheckedOn: checkedOn}
	if len(st.Errors) > storedErrors {
		st.MoreErrors, st.Errors = len(st.Errors)-storedErrors, st.Errors[:storedErrors]
	}
	return st
}

// Stalled reports whether an apply has stopped making progress (its process
// ended), so it may be started again; applying is idempotent.
func (st Import) Stalled(now time.Time) bool {
	return st.Status == Applying && now.Sub(st.ProgressAt) > 2*time.Minute
}

// Percent is how far an apply has gone.
func (st Import) Percent() int {
	if st.Valid == 0 {
		return 0
	}
	return st.Done * 100 / st.Valid
}

// Start claims a checked (or stalled) import for applying; only one caller
// wins, so a double-click or a second person cannot apply it twice at once.
// filter selects the import within the caller's reach.
func Start(ctx context.Context, imports *mongo.Collection, filter bson.D, st Import, onlyValid bool) error {
	now := time.Now().UTC()
	if st.Stalled(now) {
		filter = append(filter, bson.E{Key: "status", Value: Applying}, bson.E{Key: "progress_at", Value: st.ProgressAt})
	} else {
		filter = append(filter, bson.E{Key: "status", Value: Checked})
	}
	res, err := imports.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: Applying}, {Key: "progress_at", Value: now}, {Key: "only_valid", Value: onlyValid},
	}}})
	if err != nil {
		return fmt.Errorf("start import: %w", err)
	}
	if res.ModifiedCount == 0 {
		return ErrNotReady
	}
	return nil
}

// Progress records how many valid rows an apply has been through, with
// extra fields of the import's own to set alongside.
func Progress(ctx context.Context, imports *mongo.Collection, id bson.ObjectID, done int, extra ...bson.E) error {
	set := append(bson.D{{Key: "done", Value: done}, {Key: "progress_at", Value: time.Now().UTC()}}, extra...)
	if _, err := imports.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}}); err != nil {
		return fmt.Errorf("record import progress: %w", err)
	}
	return nil
}

// Finish marks an import applied, with its final counts, and discards its file.
func Finish(ctx context.Context, imports *mongo.Collection, files Files, id bson.ObjectID, extra ...bson.E) error {
	now := time.Now().UTC()
	set := append(bson.D{{Key: "status", Value: Applied}, {Key: "applied_at", Value: now}, {Key: "progress_at", Value: now}}, extra...)
	if _, err := imports.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}}); err != nil {
		return fmt.Errorf("finish import: %w", err)
	}
	return files.Discard(ctx, id)
}
