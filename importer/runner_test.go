package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// openRunner starts a Runner over dir, closed at the test's end.
func openRunner(t *testing.T, s *store.Store, dir string) *importer.Runner {
	t.Helper()
	r := importer.NewRunner(s, dir, nil)
	if err := r.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// waitImport polls an import until it has ended.
func waitImport(t *testing.T, s *store.Store, ws, id int64) *touchbase.Import {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		im, err := s.FindImport(context.Background(), ws, id)
		if err != nil {
			t.Fatal(err)
		}
		if im.Status == touchbase.ImportDone || im.Status == touchbase.ImportFailed {
			return im
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d still %s", id, im.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// files lists dir's files.
func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestRunnerBomb: a gzip bomb uploaded to the Runner fails with the line
// limit, its upload is removed, and the next start resumes nothing.
func TestRunnerBomb(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		dir := t.TempDir()
		r := openRunner(t, s, dir)
		im := &touchbase.Import{WorkspaceID: ws, Kind: touchbase.ImportCustomers, FileName: "bomb.csv.gz"}
		if err := r.Submit(context.Background(), im, bytes.NewReader(gzipBomb(t, "user_id,notes\nu1,a\nu2,", 64<<20))); err != nil {
			t.Fatal(err)
		}
		got := waitImport(t, s, ws, im.ID)
		if got.Status != touchbase.ImportFailed || !strings.Contains(got.Error, "line 3 is longer than 4 MiB, the limit of a line") {
			t.Fatalf("import %s: %q", got.Status, got.Error)
		}
		if got.Stored != 1 {
			t.Errorf("stored %d, want u1 of line 2", got.Stored)
		}
		r.Close()
		if f := files(t, dir); len(f) != 0 {
			t.Errorf("left in the imports directory: %v", f)
		}
		openRunner(t, s, dir)
		if again := waitImport(t, s, ws, im.ID); again.Status != touchbase.ImportFailed || again.Error != got.Error {
			t.Errorf("after a restart: %s %q", again.Status, again.Error)
		}
	})
}

// TestRunnerDeaths: an import the process died during is resumed once; one
// it died during twice is failed at the next start, not run again.
func TestRunnerDeaths(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		dir := t.TempDir()
		// What a process that died leaves: the import running, its upload
		// and its count of runs.
		died := func(deaths int) *touchbase.Import {
			im := &touchbase.Import{WorkspaceID: ws, Kind: touchbase.ImportCustomers, FileName: "people.csv", Status: touchbase.ImportRunning}
			if err := s.CreateImport(context.Background(), im); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%d-%d", ws, im.ID)
			if err := os.WriteFile(filepath.Join(dir, name+".upload"), []byte("user_id\nu1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".runs"), []byte(fmt.Sprint(deaths)), 0o600); err != nil {
				t.Fatal(err)
			}
			return im
		}
		once, twice := died(1), died(2)
		// And an upload a stop cut short.
		if err := os.WriteFile(filepath.Join(dir, "upload-123"), []byte("user_id\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := openRunner(t, s, dir)
		if im := waitImport(t, s, ws, once.ID); im.Status != touchbase.ImportDone || im.Stored != 1 {
			t.Errorf("died during once: %s %q, stored %d; want resumed and done", im.Status, im.Error, im.Stored)
		}
		im := waitImport(t, s, ws, twice.ID)
		if im.Status != touchbase.ImportFailed || !strings.Contains(im.Error, "stopped abruptly 2 times while running this import") {
			t.Errorf("died during twice: %s %q; want failed, not run again", im.Status, im.Error)
		}
		if im.Stored != 0 {
			t.Errorf("died during twice: it ran (stored %d)", im.Stored)
		}
		r.Close()
		if f := files(t, dir); len(f) != 0 {
			t.Errorf("left in the imports directory: %v", f)
		}
	})
}

// TestRunnerSubmitFails: an upload that cannot be read whole (too large,
// cut off) or is empty records nothing and leaves nothing on disk.
func TestRunnerSubmitFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		dir := t.TempDir()
		r := openRunner(t, s, dir)
		tooLarge := touchbase.Errorf(touchbase.ETOOLARGE, "too large")
		for _, c := range []struct {
			body io.Reader
			code string
		}{
			{io.MultiReader(strings.NewReader("user_id\nu1\n"), &failingReader{tooLarge}), touchbase.ETOOLARGE},
			{strings.NewReader(""), touchbase.EINVALID},
		} {
			im := &touchbase.Import{WorkspaceID: ws, Kind: touchbase.ImportCustomers, FileName: "people.csv"}
			if err := r.Submit(context.Background(), im, c.body); touchbase.ErrorCode(err) != c.code {
				t.Errorf("Submit: %v, want %s", err, c.code)
			}
		}
		if ims, _ := s.ListImports(context.Background(), ws, 10); len(ims) != 0 {
			t.Errorf("recorded %+v", ims)
		}
		if f := files(t, dir); len(f) != 0 {
			t.Errorf("left in the imports directory: %v", f)
		}
	})
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }
