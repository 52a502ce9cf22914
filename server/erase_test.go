package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
	"github.com/touchbase/touchbase/wal"
)

// The person to erase: every byte string here must be gone from every
// file touchbase keeps once the erase answers.
var erasedPerson = struct {
	userID, anonymousID, email, phone, name string
}{"zq-user-5d1c", "anon-zq-5d1c", "Zelda.Quux.5d1c@Example.org", "+44 7700 900517", "Zelda Quuxington"}

// needles are the forms the person's data takes on disk: as sent, and
// normalised (emails lower-cased, phones reduced to digits and +).
func erasedNeedles() []string {
	p := erasedPerson
	return []string{p.userID, p.anonymousID, strings.ToLower(p.email), "+447700900517", p.phone, p.name}
}

// scanFiles returns, for each file under dir, the needles it holds
// (compared without regard to case).
func scanFiles(t *testing.T, dir string, needles []string) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b = bytes.ToLower(b)
		for _, n := range needles {
			if bytes.Contains(b, bytes.ToLower([]byte(n))) {
				found[path] = append(found[path], n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func (f *durableServer) post(t *testing.T, path, token string, basic bool, method string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if basic {
		req.SetBasicAuth(token, "")
	} else {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (f *durableServer) mustTrack(t *testing.T, endpoint string, body any) {
	t.Helper()
	if status, b := f.post(t, "/v1/"+endpoint, f.write, true, "POST", body); status != 200 {
		t.Fatalf("POST /v1/%s: %d %s", endpoint, status, b)
	}
}

// customerID returns the id of the customer with the user id (0: none).
func (f *durableServer) customerID(t *testing.T, userID string) int64 {
	t.Helper()
	status, b := f.post(t, "/api/v1/customers?user_id="+userID, f.owner, false, "GET", nil)
	if status != 200 {
		t.Fatalf("list customers: %d %s", status, b)
	}
	var p page[touchbase.Customer]
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Items) == 0 {
		return 0
	}
	return p.Items[0].ID
}

// setAside writes a failed/ entry as the writer does for a request the
// store refuses.
func setAside(t *testing.T, logDir string, seq uint64, ws int64, body string) string {
	t.Helper()
	dir := filepath.Join(logDir, "failed")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"seq": seq, "workspace_id": ws, "endpoint": "batch",
		"received_at": time.Now().UTC(), "error": "refused", "body": body})
	p := filepath.Join(dir, fmt.Sprintf("%020d.json", seq))
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// keptDamagedFile writes failed/SEQ.log as SkipCorrupt keeps a damaged
// log file, holding a record of body.
func keptDamagedFile(t *testing.T, logDir string, ws int64, body string) string {
	t.Helper()
	tmp := t.TempDir()
	l, err := wal.Open(tmp, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]wal.Entry{{WorkspaceID: ws, Endpoint: "batch", ReceivedAt: time.Now(), Body: []byte(body)}}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	b, err := os.ReadFile(filepath.Join(tmp, fmt.Sprintf("%020d.log", 1)))
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, "garbage after the damage"...)
	p := filepath.Join(logDir, "failed", fmt.Sprintf("%020d.log", 1))
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEraseLeavesNoCopy: once DELETE /api/v1/customers/{id} answers, no
// file touchbase keeps holds the person's identifiers or name: not the
// ingestion log (its active file included), not failed/, not SQLite's
// freed pages or write-ahead log. On PostgreSQL, no row version of theirs
// is left for VACUUM. Another person's data stays.
func TestEraseLeavesNoCopy(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			data := t.TempDir()
			var st *store.Store
			if be.Name == "sqlite" {
				var err error
				if st, err = store.Open(ctx, filepath.Join(data, "touchbase.db")); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
			} else {
				st = be.Open(t)
			}
			logDir := filepath.Join(data, "ingest-log")
			f := startDurableServer(t, st, logDir)
			p := erasedPerson
			other := map[string]any{"type": "track", "event": "Viewed", "userId": "other-user", "messageId": "other-1",
				"context": map[string]any{"traits": map[string]any{"email": "other@example.org"}}}

			// Set aside earlier: a batch naming both, and a damaged log file
			// naming the person.
			mixed, _ := json.Marshal(map[string]any{"batch": []any{
				map[string]any{"type": "identify", "userId": p.userID, "messageId": "zq-failed", "traits": map[string]any{"email": p.email, "name": p.name}},
				map[string]any{"type": "track", "event": "Viewed", "userId": "other-user", "messageId": "other-failed"},
			}})
			failedJSON := setAside(t, logDir, 9999, f.ws, string(mixed))
			damaged := keptDamagedFile(t, logDir, f.ws, `{"batch":[{"type":"identify","userId":"`+p.userID+`","traits":{"phone":"`+p.phone+`"}}]}`)

			// The person's history: traits rewritten several times, each
			// time shorter (SQLite puts the shorter row at the end of the
			// space the longer one held and frees the rest, its first
			// columns), events naming them.
			for i := 0; i < 6; i++ {
				f.mustTrack(t, "identify", map[string]any{"userId": p.userID, "anonymousId": p.anonymousID, "messageId": fmt.Sprintf("zq-id-%d", i),
					"traits": map[string]any{"email": p.email, "phone": p.phone, "name": p.name, "plan": strings.Repeat("gold", 300-50*i)}})
				f.mustTrack(t, "track", map[string]any{"userId": p.userID, "event": "Order Note", "messageId": fmt.Sprintf("zq-tr-%d", i),
					"properties": map[string]any{"note": "deliver to " + p.name, "count": i},
					"context":    map[string]any{"traits": map[string]any{"email": p.email, "phone": p.phone}}})
			}
			f.mustTrack(t, "batch", map[string]any{"batch": []any{
				map[string]any{"type": "page", "name": "Home", "anonymousId": p.anonymousID, "messageId": "zq-page"},
				other,
			}})
			if !f.w.Settle(ctx, 10*time.Second) {
				t.Fatal("not applied")
			}
			id := f.customerID(t, p.userID)
			if id == 0 || f.customerID(t, "other-user") == 0 {
				t.Fatal("customers not found")
			}
			if status, b := f.post(t, fmt.Sprintf("/api/v1/customers/%d", id), f.owner, false, "DELETE", nil); status != 204 {
				t.Fatalf("erase: %d %s", status, b)
			}

			scan := data
			if be.Name != "sqlite" {
				scan = logDir
			}
			for path, found := range scanFiles(t, scan, erasedNeedles()) {
				t.Errorf("after the erase, %s still holds %q", strings.TrimPrefix(path, data+"/"), found)
			}
			if _, err := os.Stat(damaged); !os.IsNotExist(err) {
				t.Errorf("the damaged log file kept in failed/ names the person and is still there: %v", err)
			}
			// The other person's event in the mixed request is kept for
			// the operator.
			if b, err := os.ReadFile(failedJSON); err != nil || !bytes.Contains(b, []byte("other-failed")) {
				t.Errorf("the other person's set-aside event is gone: %v %s", err, b)
			}
			if f.customerID(t, "other-user") == 0 {
				t.Error("the other person was erased too")
			}
			if be.Name == "postgres" {
				checkNoRowVersions(t, st, strings.ToLower(p.email), p.name)
			}
		})
	}
}

// checkNoRowVersions checks, with pageinspect, that no row version (live
// or dead) in the tables an erase touches still holds any of needles: the
// erase vacuumed them. It skips where pageinspect is not installed.
func checkNoRowVersions(t *testing.T, st *store.Store, needles ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.DB().ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pageinspect"); err != nil {
		t.Logf("pageinspect is not available (%v): row versions not checked", err)
		return
	}
	for _, table := range []string{"customers", "identities", "events"} {
		for _, n := range needles {
			var hits int
			err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM generate_series(0, pg_relation_size($1::regclass) / current_setting('block_size')::int - 1) AS blk,
				LATERAL heap_page_items(get_raw_page($1::text, blk::int)) AS it
				WHERE it.t_data IS NOT NULL AND position(convert_to($2, 'UTF8') in it.t_data) > 0`, table, n).Scan(&hits)
			if err != nil {
				t.Fatalf("inspect %s: %v", table, err)
			}
			if hits > 0 {
				t.Errorf("after the erase, %d row versions in %s still hold %q", hits, table, n)
			}
		}
	}
}
