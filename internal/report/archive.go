package report

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/paged"
	"github.com/department/safeguarding-portal/internal/partner"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Statuses of an archived report.
const (
	Queued  = "queued"
	Running = "running"
	Ready   = "ready"
	Failed  = "failed"
)

const (
	entriesCollection = "reports"
	bucketName        = "report_files"
	// lease is how long a replica may go without reporting progress before
	// another takes its report over, presuming it gone.
	lease = 2 * time.Minute
)

var (
	// ErrNotFound is returned for a report that does not exist or is out of
	// the caller's reach: the two are indistinguishable to the caller.
	ErrNotFound = errors.New("report not found")
	// ErrNotReady is returned for the files of a report not yet generated.
	ErrNotReady = errors.New("report not ready")
	// ErrIntegrity means the stored PDF no longer matches the hash taken
	// when it was generated. Never serve it.
	ErrIntegrity = errors.New("report file does not match its record")
)

// Requester is who asked for a report.
type Requester struct {
	Subject string `bson:"subject"`
	Name    string `bson:"name"`
	// Org is the partner ID, or the department's.
	Org string `bson:"org"`
}

// Entry is an archived report: what was asked, by whom and when, how far
// its generation has gone, and once ready the hash of its PDF.
type Entry struct {
	ID      string `bson:"_id"`
	Request `bson:",inline"`
	// PartnerID is the partner reported on; empty for the portfolio.
	// ContractIDs are the contracts the report covers, for deciding who
	// may read it.
	PartnerID   string    `bson:"partner_id,omitempty"`
	ContractIDs []string  `bson:"contract_ids"`
	Subject     string    `bson:"subject"` // as people read it
	RequestedBy Requester `bson:"requested_by"`
	RequestedAt time.Time `bson:"requested_at"`
	// ScheduleKey names a scheduled report (kind, subject, period, edition
	// and day) so that replicas running the same schedule make it once.
	ScheduleKey string `bson:"schedule_key,omitempty"`

	Status string `bson:"status"`
	// Done of Total steps; Worker and LeaseUntil say which replica is
	// generating it and until when it is presumed alive.
	Done       int        `bson:"done"`
	Total      int        `bson:"total"`
	Worker     string     `bson:"worker,omitempty"`
	LeaseUntil *time.Time `bson:"lease_until,omitempty"`
	Attempts   int        `bson:"attempts"`

	FinishedAt *time.Time    `bson:"finished_at,omitempty"`
	PDFFile    bson.ObjectID `bson:"pdf_file,omitzero"`
	DataFile   bson.ObjectID `bson:"data_file,omitzero"`
	SHA256     string        `bson:"sha256,omitempty"`
	Size       int64         `bson:"size,omitempty"`
	Pages      int           `bson:"pages,omitempty"`
	// Failure is what people are told when generation failed; the cause is
	// in the log.
	Failure string `bson:"failure,omitempty"`
}

// Percent is how far generation has gone.
func (e Entry) Percent() int {
	switch {
	case e.Status == Ready:
		return 100
	case e.Total == 0:
		return 0
	}
	return 100 * e.Done / e.Total
}

// FileName is the name a download is saved under.
func (e Entry) FileName() string { return e.ID + ".pdf" }

// Archive keeps every generated report unchanged, and generates those asked
// for, one at a time per replica.
type Archive struct {
	db      *mongo.Database
	entries *mongo.Collection
	builder *Builder
	log     *slog.Logger
	worker  string
	// claim serialises this process's claims: the embedded store's
	// conditional updates are not atomic, and real MongoDB's are, which is
	// what keeps replicas from taking the same report.
	claim sync.Mutex
	wake  chan struct{}
	// Render turns figures into a PDF; RenderPDF unless a test says otherwise.
	Render func(Report) ([]byte, error)
	// Announce, if set, is told of each report this archive makes ready
	// and, from Run, hourly of every report ready in the last week: an
	// announcement lost to a crash or a store failure just after the report
	// was made is made late rather than never. It must store what it
	// announces once however often it is told (Notices.Ready does).
	Announce func(ctx context.Context, e Entry) (int, error)
	// lastAnnounced is when Run last went over the week's reports.
	lastAnnounced time.Time
}

// announceWithin is how far back Run goes over ready reports to announce
// what was not.
const announceWithin = 7 * 24 * time.Hour

// announce tells Announce of a ready report; a failure waits for Run.
func (a *Archive) announce(ctx context.Context, e Entry) {
	if a.Announce == nil {
		return
	}
	if _, err := a.Announce(ctx, e); err != nil && ctx.Err() == nil {
		a.log.Error("report announcement not stored; it is tried again within the hour", "report_id", e.ID, "err", err)
	}
}

// announceRecent tells Announce of every report made ready in the last
// week, at most hourly.
func (a *Archive) announceRecent(ctx context.Context, now time.Time) {
	if a.Announce == nil || now.Sub(a.lastAnnounced) < time.Hour {
		return
	}
	a.lastAnnounced = now
	cur, err := a.entries.Find(ctx, bson.D{{Key: "status", Value: Ready}, {Key: "finished_at", Value: bson.D{{Key: "$gte", Value: now.Add(-announceWithin).UTC()}}}})
	if err != nil {
		a.log.Error("recent reports not read for announcement", "err", err)
		return
	}
	var recent []Entry
	if err := cur.All(ctx, &recent); err != nil {
		a.log.Error("recent reports not read for announcement", "err", err)
		return
	}
	for _, e := range recent {
		a.announce(ctx, e)
	}
}

// NewArchive keeps reports in db, generating them with builder.
func NewArchive(db *mongo.Database, builder *Builder, log *slog.Logger) *Archive {
	return &Archive{db: db, entries: db.Collection(entriesCollection), builder: builder, log: log,
		worker: randomID(8), wake: make(chan struct{}, 1), Render: RenderPDF}
}

// EnsureIndexes makes the archive's lists and the worker's claim index reads.
// One at a time: the embedded store's createIndexes fails on several that
// all exist already.
func (a *Archive) EnsureIndexes(ctx context.Context) error {
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "partner_id", Value: 1}, {Key: "requested_at", Value: 1}}, Options: options.Index().SetName("partner_requested")},
		{Keys: bson.D{{Key: "requested_at", Value: 1}}, Options: options.Index().SetName("requested")},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "requested_at", Value: 1}}, Options: options.Index().SetName("status_requested")},
	} {
		if _, err := a.entries.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("report archive indexes: %w", err)
		}
	}
	return nil
}

// NewID is a report's reference: the day and six random characters, read
// aloud easily ("RPT-20261207-7Q4M2K").
func NewID(now time.Time) string {
	return "RPT-" + now.UTC().Format("20060102") + "-" + randomID(6)
}

// randomID is n characters of Crockford's base32: no I, L, O or U to misread.
func randomID(n int) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Queue asks for a report; a worker generates it. The subject must exist,
// and Queue returns ErrNoSubject if not.
func (a *Archive) Queue(ctx context.Context, req Request, by Requester, now time.Time) (Entry, error) {
	e, err := a.entry(ctx, NewID(now), req, by, now)
	if err != nil {
		return Entry{}, err
	}
	if _, err := a.entries.InsertOne(ctx, e); err != nil {
		return Entry{}, fmt.Errorf("queue report: %w", err)
	}
	a.Wake()
	return e, nil
}

func (a *Archive) entry(ctx context.Context, id string, req Request, by Requester, now time.Time) (Entry, error) {
	partnerID, name, err := a.builder.Subject(ctx, req)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{ID: id, Request: req, PartnerID: partnerID, Subject: name, RequestedBy: by,
		RequestedAt: now.UTC().Truncate(time.Millisecond), Status: Queued, ContractIDs: []string{}}
	if req.Kind == ContractReport {
		e.ContractIDs = []string{req.SubjectID}
	} else if partnerID != "" {
		cts, err := a.builder.Partners.Contracts(ctx, access.PartnerScope(partnerID))
		if err != nil {
			return Entry{}, fmt.Errorf("read contracts: %w", err)
		}
		for _, ct := range cts {
			// Build leaves terminated contracts out of a partner's report, so
			// they must not decide who may read it either.
			if ct.Status == partner.Terminated {
				continue
			}
			e.ContractIDs = append(e.ContractIDs, ct.ID)
		}
	}
	return e, nil
}

// Wake tells this replica's worker a report is waiting.
func (a *Archive) Wake() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Visible reports whether a principal may read an archived report: the
// department's people those whose every contract is within their reach
// (the portfolio report only those who reach everything); a partner's
// people the partner editions about their own organisation.
func Visible(p access.Principal, e Entry) bool {
	if !p.May(access.ViewReports) {
		return false
	}
	if !p.May(access.ViewPortfolio) {
		return e.Edition == PartnerEdition && e.PartnerID != "" && p.Scope.Includes(e.PartnerID) && !p.Scope.All()
	}
	if p.Scope.All() {
		return true
	}
	if e.PartnerID == "" || !p.Scope.Includes(e.PartnerID) {
		return false
	}
	for _, id := range e.ContractIDs {
		if !p.Scope.IncludesContract(id, e.PartnerID) {
			return false
		}
	}
	return true
}

// Get reads an archived report within the principal's reach.
func (a *Archive) Get(ctx context.Context, p access.Principal, id string) (Entry, error) {
	var e Entry
	err := a.entries.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) || err == nil && !Visible(p, e) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("read report %s: %w", id, err)
	}
	return e, nil
}

// List lists the archived reports within the principal's reach, newest
// first, a page at a time, with how many there are in all.
func (a *Archive) List(ctx context.Context, p access.Principal, page, perPage int) ([]Entry, int, error) {
	if !p.May(access.ViewReports) {
		return nil, 0, nil
	}
	filter := bson.D{}
	if !p.Scope.All() {
		in := bson.A{}
		for _, id := range p.Scope.Partners() {
			in = append(in, id)
		}
		filter = bson.D{{Key: "partner_id", Value: bson.D{{Key: "$in", Value: in}}}}
		if !p.May(access.ViewPortfolio) {
			filter = append(filter, bson.E{Key: "edition", Value: PartnerEdition})
		}
	}
	newestFirst := bson.D{{Key: "requested_at", Value: -1}, {Key: "_id", Value: -1}}
	// The query says exactly who may read what, but for a contract manager,
	// who reaches only some of a partner's contracts: reports covering others
	// are left out after reading those about the manager's partners.
	if p.Scope.All() || !p.May(access.ViewPortfolio) {
		entries, total, err := paged.Find[Entry](ctx, a.entries, filter, newestFirst, nil, page, perPage)
		if err != nil {
			return nil, 0, fmt.Errorf("list reports: %w", err)
		}
		return entries, int(total), nil
	}
	cur, err := a.entries.Find(ctx, filter, options.Find().SetSort(newestFirst))
	if err != nil {
		return nil, 0, fmt.Errorf("list reports: %w", err)
	}
	var all []Entry
	if err := cur.All(ctx, &all); err != nil {
		return nil, 0, fmt.Errorf("list reports: %w", err)
	}
	all = slices.DeleteFunc(all, func(e Entry) bool { return !Visible(p, e) })
	perPage = max(1, min(perPage, paged.MaxPerPage))
	page = max(1, min(page, paged.MaxPage))
	from := min(len(all), (page-1)*perPage)
	return all[from:min(len(all), from+perPage)], len(all), nil
}

// PDF reads a ready report's PDF, checked against its hash.
func (a *Archive) PDF(ctx context.Context, e Entry) ([]byte, error) {
	if e.Status != Ready {
		return nil, ErrNotReady
	}
	b, err := a.download(ctx, e.PDFFile)
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", e.ID, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != e.SHA256 {
		return nil, fmt.Errorf("report %s: %w", e.ID, ErrIntegrity)
	}
	return b, nil
}

// Figures reads the figures a ready report was rendered from.
func (a *Archive) Figures(ctx context.Context, e Entry) (Report, error) {
	if e.Status != Ready {
		return Report{}, ErrNotReady
	}
	b, err := a.download(ctx, e.DataFile)
	if err != nil {
		return Report{}, fmt.Errorf("read report %s figures: %w", e.ID, err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return Report{}, fmt.Errorf("read report %s figures: %w", e.ID, err)
	}
	return r, nil
}

func (a *Archive) bucket() *mongo.GridFSBucket {
	return a.db.GridFSBucket(options.GridFSBucket().SetName(bucketName))
}

func (a *Archive) download(ctx context.Context, id bson.ObjectID) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := a.bucket().DownloadToStream(ctx, id, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (a *Archive) upload(ctx context.Context, name string, content []byte) (bson.ObjectID, error) {
	id := bson.NewObjectID()
	if err := a.bucket().UploadFromStreamWithID(ctx, id, name, bytes.NewReader(content)); err != nil {
		return bson.ObjectID{}, err
	}
	return id, nil
}

// Run generates queued reports until ctx ends: those this replica queued
// at once, and any other waiting (or left by a replica that stopped) on
// each poll.
func (a *Archive) Run(ctx context.Context, poll time.Duration) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		a.announceRecent(ctx, time.Now())
		for {
			e, ok, err := a.claimNext(ctx, time.Now())
			if err != nil {
				if ctx.Err() == nil {
					a.log.Error("report not claimed", "err", err)
				}
				break
			}
			if !ok {
				break
			}
			a.generate(ctx, e)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.wake:
		}
	}
}

// claimNext takes the oldest report waiting: queued, or running under a
// lease that has run out. Several replicas may try at once: the update is
// conditional on the state read, so only one of them gets it.
func (a *Archive) claimNext(ctx context.Context, now time.Time) (Entry, bool, error) {
	a.claim.Lock()
	defer a.claim.Unlock()
	waiting := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "status", Value: Queued}},
		bson.D{{Key: "status", Value: Running}, {Key: "lease_until", Value: bson.D{{Key: "$lt", Value: now.UTC()}}}},
	}}}
	var e Entry
	err := a.entries.FindOne(ctx, waiting, options.FindOne().SetSort(bson.D{{Key: "requested_at", Value: 1}})).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("find waiting report: %w", err)
	}
	if e.Attempts >= 3 {
		a.finish(ctx, e, bson.D{{Key: "status", Value: Failed}, {Key: "failure", Value: "The report could not be generated after three attempts."}})
		return Entry{}, false, nil
	}
	taken, ok, err := a.take(ctx, e, now)
	if err != nil || !ok {
		return Entry{}, err == nil, err // another replica took it; look again
	}
	return taken, true, nil
}

// take claims a report as it was read (queued, failed, or running under a
// lease run out) for this replica: the update is conditional on the state
// read, so of several replicas trying at once only one gets it.
func (a *Archive) take(ctx context.Context, e Entry, now time.Time) (Entry, bool, error) {
	until := now.Add(lease).UTC()
	res, err := a.entries.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: e.ID}, {Key: "status", Value: e.Status}, {Key: "attempts", Value: e.Attempts}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Running}, {Key: "worker", Value: a.worker}, {Key: "lease_until", Value: until}}},
			{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}}, {Key: "$unset", Value: bson.D{{Key: "failure", Value: ""}}}})
	if err != nil {
		return Entry{}, false, fmt.Errorf("claim report %s: %w", e.ID, err)
	}
	if res.ModifiedCount == 0 {
		return Entry{}, false, nil
	}
	e.Status, e.Worker, e.LeaseUntil, e.Attempts, e.Failure = Running, a.worker, &until, e.Attempts+1, ""
	return e, true, nil
}

// generate builds, renders and stores a claimed report.
func (a *Archive) generate(ctx context.Context, e Entry) {
	if e.ID == "" {
		return
	}
	log := a.log.With("report_id", e.ID, "kind", string(e.Kind))
	started := time.Now()
	err := a.make(ctx, &e)
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down: the lease runs out and another replica goes on
		}
		log.Error("report not generated", "err", err)
		failure := "The report could not be generated. Try again; if it fails again, tell the service desk its reference."
		if errors.Is(err, ErrNoSubject) {
			failure = "The contract or partner the report is about no longer exists."
		}
		a.finish(ctx, e, bson.D{{Key: "status", Value: Failed}, {Key: "failure", Value: failure}})
		return
	}
	log.Info("report generated", "pages", e.Pages, "bytes", e.Size, "took", time.Since(started).Round(time.Millisecond))
	a.announce(ctx, e)
}

func (a *Archive) make(ctx context.Context, e *Entry) error {
	progress := func(done, total int) {
		until := time.Now().Add(lease).UTC()
		// Progress is for people watching; a lost update only shows less.
		_, _ = a.entries.UpdateOne(ctx, bson.D{{Key: "_id", Value: e.ID}, {Key: "worker", Value: a.worker}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "done", Value: done}, {Key: "total", Value: total + 1}, {Key: "lease_until", Value: until}}}})
	}
	r, err := a.builder.Build(ctx, e.ID, e.Request, e.RequestedBy.Name, progress)
	if err != nil {
		return err
	}
	return a.store(ctx, e, r)
}

// store renders the figures and keeps the PDF and the figures, then marks
// the report ready. Files written by a run that then fails stay unreferenced
// and are never served.
func (a *Archive) store(ctx context.Context, e *Entry, r Report) error {
	pdf, err := a.Render(r)
	if err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	figures, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode report figures: %w", err)
	}
	if e.PDFFile, err = a.upload(ctx, e.FileName(), pdf); err != nil {
		return fmt.Errorf("store report PDF: %w", err)
	}
	if e.DataFile, err = a.upload(ctx, e.ID+".json", figures); err != nil {
		return fmt.Errorf("store report figures: %w", err)
	}
	sum := sha256.Sum256(pdf)
	e.SHA256, e.Size, e.Pages = hex.EncodeToString(sum[:]), int64(len(pdf)), countPages(pdf)
	if err := a.finish(ctx, *e, bson.D{{Key: "status", Value: Ready}, {Key: "pdf_file", Value: e.PDFFile}, {Key: "data_file", Value: e.DataFile},
		{Key: "sha256", Value: e.SHA256}, {Key: "size", Value: e.Size}, {Key: "pages", Value: e.Pages}}); err != nil {
		return err
	}
	e.Status = Ready
	return nil
}

// countPages counts the page objects of a PDF: "/Type /Page" not followed
// by "s" (which would be the page tree).
func countPages(pdf []byte) int {
	n := 0
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte("/Type /Page"))
		if i < 0 {
			return n
		}
		rest = rest[i+len("/Type /Page"):]
		if len(rest) == 0 || rest[0] != 's' {
			n++
		}
	}
}

func (a *Archive) finish(ctx context.Context, e Entry, set bson.D) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	set = append(set, bson.E{Key: "finished_at", Value: now}, bson.E{Key: "done", Value: max(e.Total, 1)}, bson.E{Key: "total", Value: max(e.Total, 1)})
	_, err := a.entries.UpdateOne(ctx, bson.D{{Key: "_id", Value: e.ID}},
		bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: bson.D{{Key: "lease_until", Value: ""}}}})
	if err != nil {
		return fmt.Errorf("record report %s: %w", e.ID, err)
	}
	return nil
}

// Scheduled makes a report for a schedule: the first replica to ask
// generates and archives it; the others wait for it and get the same bytes.
// It returns the entry and the PDF.
func (a *Archive) Scheduled(ctx context.Context, req Request, now time.Time, wait time.Duration) (Entry, []byte, error) {
	key := strings.Join([]string{string(req.Kind), req.SubjectID, req.Period.From.Format(time.DateOnly), req.Period.To.Format(time.DateOnly),
		string(req.Edition), now.UTC().Format(time.DateOnly)}, "|")
	sum := sha256.Sum256([]byte(key))
	id := "RPT-" + now.UTC().Format("20060102") + "-S" + strings.ToUpper(hex.EncodeToString(sum[:])[:5])
	e, err := a.entry(ctx, id, req, Requester{Name: "Scheduled report"}, now)
	if err != nil {
		return Entry{}, nil, err
	}
	e.ScheduleKey = key
	e.Status, e.Worker, e.Attempts = Running, a.worker, 1
	until := now.Add(lease).UTC()
	e.LeaseUntil = &until
	_, err = a.entries.InsertOne(ctx, e)
	switch {
	case mongo.IsDuplicateKeyError(err):
		return a.await(ctx, id, wait)
	case err != nil:
		return Entry{}, nil, fmt.Errorf("archive scheduled report: %w", err)
	}
	return a.makeScheduled(ctx, e)
}

// makeScheduled generates a scheduled report this replica holds, and reads
// back the archived PDF.
func (a *Archive) makeScheduled(ctx context.Context, e Entry) (Entry, []byte, error) {
	if err := a.make(ctx, &e); err != nil {
		a.finish(context.WithoutCancel(ctx), e, bson.D{{Key: "status", Value: Failed}, {Key: "failure", Value: "The scheduled report could not be generated."}})
		return Entry{}, nil, err
	}
	a.announce(ctx, e)
	pdf, err := a.PDF(ctx, e)
	return e, pdf, err
}

// await waits for another replica's report to be ready, taking it over if
// that replica stops.
func (a *Archive) await(ctx context.Context, id string, wait time.Duration) (Entry, []byte, error) {
	deadline := time.Now().Add(wait)
	for {
		var e Entry
		if err := a.entries.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&e); err != nil {
			return Entry{}, nil, fmt.Errorf("read scheduled report %s: %w", id, err)
		}
		if e.Status == Ready {
			pdf, err := a.PDF(ctx, e)
			return e, pdf, err
		}
		// An earlier run today failed, or its maker stopped: this one
		// takes it over, unless another replica does first.
		if e.Status == Failed || e.LeaseUntil != nil && e.LeaseUntil.Before(time.Now()) {
			taken, ok, err := a.take(ctx, e, time.Now())
			if err != nil {
				return Entry{}, nil, fmt.Errorf("take over scheduled report %s: %w", id, err)
			}
			if ok {
				return a.makeScheduled(ctx, taken)
			}
		}
		if time.Now().After(deadline) {
			return Entry{}, nil, fmt.Errorf("scheduled report %s not ready after %s", id, wait)
		}
		select {
		case <-ctx.Done():
			return Entry{}, nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
