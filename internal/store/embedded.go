package store

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Embedded is an in-process FerretDB (SQLite handler) speaking the MongoDB wire
// protocol on a loopback port, so development and tests exercise the same driver
// code paths as production MongoDB.
type Embedded struct {
	db     *ferretdb.FerretDB
	cancel context.CancelFunc
	done   chan struct{}
}

// startingFerretDB serialises ferretdb.New.
var startingFerretDB sync.Mutex

// StartEmbedded starts FerretDB storing its files in dir.
func StartEmbedded(dir string) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create embedded store directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve embedded store directory: %w", err)
	}
	// FerretDB logs every error reply with a full dump (index checks, endSessions
	// on disconnect); only real failures are worth an operator's attention.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	// ferretdb.New writes package state (its version's package name), so
	// stores started at once, as parallel tests do, must start in turn.
	startingFerretDB.Lock()
	defer startingFerretDB.Unlock()
	db, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded store: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{db: db, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = db.Run(ctx)
	}()
	return e, nil
}

// URI is the mongodb:// address of the embedded server.
func (e *Embedded) URI() string { return e.db.MongoDBURI() }

// Stop closes the listener and the SQLite files, waiting until they are closed so
// a restart finds the data intact.
func (e *Embedded) Stop() {
	e.cancel()
	<-e.done
}

// Open connects to uri or, when uri is empty, to an embedded store started in
// embeddedDir. Closing disconnects and then stops the embedded store, in that order.
func Open(ctx context.Context, uri, embeddedDir, database string) (st *Store, closeAll func(), err error) {
	var embedded *Embedded
	if uri == "" {
		if embedded, err = StartEmbedded(embeddedDir); err != nil {
			return nil, nil, err
		}
		uri = embedded.URI()
	}
	if st, err = Connect(ctx, uri, database); err != nil {
		if embedded != nil {
			embedded.Stop()
		}
		return nil, nil, err
	}
	return st, func() {
		_ = st.Close(context.Background())
		if embedded != nil {
			embedded.Stop()
		}
	}, nil
}
