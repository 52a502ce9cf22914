package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/touchbase/touchbase"
)

// Recorder keeps import records; *store.Store is one.
type Recorder interface {
	UpdateImport(ctx context.Context, im *touchbase.Import) error
}

// saveEvery is how often a running import's counts are saved, for those
// watching it through the API.
const saveEvery = time.Second

// Execute runs an import that has a record (CreateImport): it marks it
// running, runs it from the start (its counts reset: a rerun of an
// interrupted import counts afresh, finding what it had imported as
// duplicates), saves its counts every second, and records how it ended:
// done, or failed with the error. The record's last save is a durable
// commit, which makes the import's bulk writes durable too. progress, if
// not nil, sees every committed batch.
//
// The error is Run's (nil when done); the record says the same.
func Execute(ctx context.Context, st Store, rec Recorder, im *touchbase.Import, r io.Reader, progress func(*touchbase.Import)) error {
	now := time.Now().UTC()
	im.Status, im.StartedAt, im.FinishedAt, im.Error = touchbase.ImportRunning, &now, nil, ""
	im.ImportCounts, im.LineErrors = touchbase.ImportCounts{}, nil
	if err := rec.UpdateImport(ctx, im); err != nil {
		return fmt.Errorf("import %d: %w", im.ID, err)
	}
	last := time.Now()
	runErr := Run(ctx, st, im, r, func(im *touchbase.Import) {
		if progress != nil {
			progress(im)
		}
		if time.Since(last) >= saveEvery {
			last = time.Now()
			// A failed save only delays what watchers see; the final
			// save below reports for real.
			_ = rec.UpdateImport(ctx, im)
		}
	})
	end := time.Now().UTC()
	im.FinishedAt = &end
	im.Status = touchbase.ImportDone
	if runErr != nil {
		im.Status, im.Error = touchbase.ImportFailed, errorText(runErr)
	}
	// Record the end even when ctx was cancelled (an interrupted CLI run
	// stays "running" only if the process dies).
	saveCtx := ctx
	if errors.Is(ctx.Err(), context.Canceled) {
		saveCtx = context.WithoutCancel(ctx)
	}
	if err := rec.UpdateImport(saveCtx, im); err != nil && runErr == nil {
		return fmt.Errorf("import %d: record the end: %w", im.ID, err)
	}
	return runErr
}

// errorText is what a user reads of an error.
func errorText(err error) string {
	var te *touchbase.Error
	if errors.As(err, &te) {
		return te.Message
	}
	return err.Error()
}
