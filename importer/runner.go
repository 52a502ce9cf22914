package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/touchbase/touchbase"
)

// RunnerStore is what a Runner needs of the store; *store.Store is one.
type RunnerStore interface {
	Store
	touchbase.ImportService
}

// Runner runs uploaded imports in the background, one at a time (the
// store has one writer anyway). Uploads are kept in a directory until
// their import ends; an import interrupted by a stop is run again at the
// next Open, which imports nothing twice. One the process died during
// twice (killed, out of memory) is failed instead of run a third time, so
// that no file can bring the server down at every start.
type Runner struct {
	// MaxBytes bounds what an upload may hold once decompressed
	// (ImportOptions.MaxBytes); 0 is DefaultMaxBytes. Set before Open.
	MaxBytes int64

	st  RunnerStore
	dir string
	log *slog.Logger

	queue  chan *touchbase.Import
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewRunner returns a Runner keeping uploads in dir.
func NewRunner(st RunnerStore, dir string, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{st: st, dir: dir, log: log, queue: make(chan *touchbase.Import, 1000)}
}

// Open starts the worker and queues the imports a previous process left
// queued or running.
func (r *Runner) Open(ctx context.Context) error {
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return fmt.Errorf("imports directory: %w", err)
	}
	var pending []*touchbase.Import
	for _, status := range []touchbase.ImportStatus{touchbase.ImportRunning, touchbase.ImportQueued} {
		ims, err := r.st.ListImportsByStatus(ctx, status)
		if err != nil {
			return err
		}
		pending = append(pending, ims...)
	}
	// Uploads a stop cut short: never recorded, never to be run.
	if spooled, err := filepath.Glob(filepath.Join(r.dir, "upload-*")); err == nil {
		for _, f := range spooled {
			os.Remove(f)
		}
	}
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.wg.Add(1)
	go r.loop(ctx)
	for _, im := range pending {
		fail := ""
		if _, err := os.Stat(r.upload(im)); err != nil {
			// Not ours (the CLI's, which died with its process, or an
			// upload lost): say so instead of leaving it "running".
			fail = "interrupted, and its file is gone: import the file again"
		} else if n := r.deaths(im); n >= maxDeaths {
			fail = fmt.Sprintf("touchbase stopped abruptly %d times while running this import (killed, or out of memory), so it is not run again: import the file again, in parts if it is large", n)
		}
		if fail != "" {
			im.Status, im.Error = touchbase.ImportFailed, fail
			if err := r.st.UpdateImport(ctx, im); err != nil {
				r.log.Error("import: record an interrupted import", "id", im.ID, "err", err)
			}
			r.log.Warn("import: not resumed", "id", im.ID, "workspace", im.WorkspaceID, "file", im.FileName, "why", fail)
			os.Remove(r.upload(im))
			os.Remove(r.deathsFile(im))
			continue
		}
		r.log.Info("import: resuming", "id", im.ID, "workspace", im.WorkspaceID, "file", im.FileName)
		r.queue <- im
	}
	return nil
}

// maxDeaths is how many times the process may die during one import
// before the import is failed rather than resumed: once is a kill or a
// crash to recover from; twice, the file may be the cause.
const maxDeaths = 2

// deathsFile counts the runs of an import that began and neither ended nor
// stopped cleanly: the process died during them.
func (r *Runner) deathsFile(im *touchbase.Import) string {
	return filepath.Join(r.dir, fmt.Sprintf("%d-%d.runs", im.WorkspaceID, im.ID))
}

// deaths is how many runs of im the process died during.
func (r *Runner) deaths(im *touchbase.Import) int {
	b, err := os.ReadFile(r.deathsFile(im))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// Close stops the worker; an import it was running stays "running" and
// resumes at the next Open.
func (r *Runner) Close() error {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	return nil
}

// Submit saves body as an upload on disk, as it arrives, then records im
// (queued) and queues it. EINVALID for a bad kind, format or mapping
// (checked before anything is saved, so that the uploader hears of it at
// once rather than finding a failed import later) and for an empty file;
// EUNAVAILABLE when too many wait; body's error (an upload too large)
// when it cannot be read whole, and then nothing is recorded.
func (r *Runner) Submit(ctx context.Context, im *touchbase.Import, body io.Reader) error {
	if err := CheckOptions(im.Kind, im.Options); err != nil {
		return err
	}
	if len(r.queue) == cap(r.queue) {
		return touchbase.Errorf(touchbase.EUNAVAILABLE, "%d imports are waiting; try again later", cap(r.queue))
	}
	tmp, n, err := r.spool(body)
	if err != nil {
		return fmt.Errorf("save upload: %w", err)
	}
	if n == 0 {
		os.Remove(tmp)
		return touchbase.Errorf(touchbase.EINVALID, "the file is empty")
	}
	im.Status, im.Size = touchbase.ImportQueued, n
	if err := r.st.CreateImport(ctx, im); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, r.upload(im)); err != nil {
		os.Remove(tmp)
		im.Status, im.Error = touchbase.ImportFailed, "upload failed: "+err.Error()
		_ = r.st.UpdateImport(context.WithoutCancel(ctx), im)
		return fmt.Errorf("save upload: %w", err)
	}
	run := *im // the worker's own: the caller may read im meanwhile
	select {
	case r.queue <- &run:
		return nil
	default:
		return touchbase.Errorf(touchbase.EUNAVAILABLE, "%d imports are waiting; try again later", cap(r.queue))
	}
}

// spool writes an upload to a temporary file in the imports directory
// (on the data disk, never in memory), which Submit renames into place
// once the import is recorded, so that a file under its final name is
// whole.
func (r *Runner) spool(body io.Reader) (string, int64, error) {
	f, err := os.CreateTemp(r.dir, "upload-*")
	if err != nil {
		return "", 0, err
	}
	n, err := io.Copy(f, body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, err
	}
	return f.Name(), n, nil
}

func (r *Runner) upload(im *touchbase.Import) string {
	return filepath.Join(r.dir, fmt.Sprintf("%d-%d.upload", im.WorkspaceID, im.ID))
}

func (r *Runner) loop(ctx context.Context) {
	defer r.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case im := <-r.queue:
			r.run(ctx, im)
		}
	}
}

func (r *Runner) run(ctx context.Context, im *touchbase.Import) {
	path := r.upload(im)
	f, err := os.Open(path)
	if err != nil {
		im.Status, im.Error = touchbase.ImportFailed, "its file is gone: import the file again"
		_ = r.st.UpdateImport(ctx, im)
		return
	}
	defer f.Close()
	// Count this run as one the process dies during until it ends or
	// stops cleanly: the count survives only a death.
	deaths := r.deathsFile(im)
	if err := os.WriteFile(deaths, []byte(strconv.Itoa(r.deaths(im)+1)), 0o600); err != nil {
		r.log.Warn("import: count the run", "id", im.ID, "err", err)
	}
	defer os.Remove(deaths)
	im.Options.MaxBytes = r.MaxBytes
	r.log.Info("import: started", "id", im.ID, "workspace", im.WorkspaceID, "kind", im.Kind, "file", im.FileName)
	err = Execute(ctx, r.st, r.st, im, f, nil)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// Stopping: leave it running, to resume at the next start.
		im.Status, im.Error, im.FinishedAt = touchbase.ImportRunning, "", nil
		_ = r.st.UpdateImport(context.WithoutCancel(ctx), im)
		return
	}
	if err != nil {
		r.log.Warn("import: failed", "id", im.ID, "err", err)
	} else {
		r.log.Info("import: done", "id", im.ID, "lines", im.Lines, "stored", im.Stored, "errors", im.Errors)
	}
	f.Close()
	os.Remove(path)
}

// CheckOptions reports, as an EINVALID error, what is wrong with importing
// a file of kind with opts before any of it is read: the kind, the format
// and the column mapping.
func CheckOptions(kind touchbase.ImportKind, opts touchbase.ImportOptions) error {
	if !kind.Valid() {
		return touchbase.Errorf(touchbase.EINVALID, "import kind %q is not one of customers, orders, products, events", kind)
	}
	if opts.Format != "" && !slices.Contains(Formats, opts.Format) {
		return touchbase.Errorf(touchbase.EINVALID, "format %q is not one of %s", opts.Format, strings.Join(Formats, ", "))
	}
	_, err := parseMap(kind, opts.Map)
	return err
}
