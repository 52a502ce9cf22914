package server_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/storetest"
)

// TestImportsAPI uploads a CSV, watches the import finish in the
// background, reads its counts and bad lines, and uploads it again.
func TestImportsAPI(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		csv := "Customer ID,E-mail,Ctry,Age\n" +
			"c1,ann@example.com,FR,34\n" +
			"c2,not-an-email,DE,abc\n" + // line 3: age is not a number
			"c3,cat@example.com,GB,51\n"
		h := http.Header{"Authorization": {"Bearer " + e.owner}, "Content-Type": {"text/csv"}}
		upload := func() touchbase.Import {
			t.Helper()
			r := e.do("POST", "/api/v1/imports?kind=customers&file_name=people.csv&map="+
				"Customer%20ID%3Duser_id%2CE-mail%3Demail%2CCtry%3Dtraits.country%2CAge%3Dtraits.age%3Aint", h, csv)
			if r.status != http.StatusAccepted {
				t.Fatalf("upload: status %d: %s", r.status, r.body)
			}
			var im touchbase.Import
			r.decode(t, &im)
			if im.ID == 0 || im.Status != touchbase.ImportQueued || im.Kind != touchbase.ImportCustomers {
				t.Fatalf("upload answered %+v", im)
			}
			deadline := time.Now().Add(20 * time.Second)
			for im.Status == touchbase.ImportQueued || im.Status == touchbase.ImportRunning {
				if time.Now().After(deadline) {
					t.Fatalf("import still %s", im.Status)
				}
				time.Sleep(20 * time.Millisecond)
				e.mustAPI(e.owner, "GET", "/imports/"+strconv.FormatInt(im.ID, 10), nil, 200).decode(t, &im)
			}
			return im
		}
		im := upload()
		if im.Status != touchbase.ImportDone || im.Records != 2 || im.Stored != 2 || im.Errors != 1 {
			t.Fatalf("first import: %+v", im)
		}
		if le := im.LineErrors; len(le) != 1 || le[0].Line != 3 || le[0].Column != "Age" {
			t.Fatalf("line errors %+v; want line 3, column Age", le)
		}
		var found struct {
			Items []touchbase.Customer `json:"items"`
		}
		e.mustAPI(e.owner, "GET", "/customers?user_id=c3", nil, 200).decode(t, &found)
		if len(found.Items) != 1 || found.Items[0].Email != "cat@example.com" || found.Items[0].Traits["age"] != float64(51) || found.Items[0].Traits["country"] != "GB" {
			t.Fatalf("c3 imported as %+v", found.Items)
		}
		if again := upload(); again.Stored != 0 || again.Duplicates != 2 {
			t.Fatalf("the same file again: %+v", again)
		}
		var list struct {
			Items []touchbase.Import `json:"items"`
		}
		e.mustAPI(e.owner, "GET", "/imports", nil, 200).decode(t, &list)
		if len(list.Items) != 2 || list.Items[0].ID <= list.Items[1].ID {
			t.Fatalf("list: %+v", list.Items)
		}

		analyst := e.key(e.ws.ID, touchbase.KeyAdmin, touchbase.RoleAnalyst)
		if r := e.do("POST", "/api/v1/imports?kind=customers", http.Header{"Authorization": {"Bearer " + analyst}}, csv); r.status != http.StatusForbidden {
			t.Fatalf("an analyst's upload: status %d", r.status)
		}
		if r := e.do("POST", "/api/v1/imports?kind=people", h, csv); r.status != http.StatusUnprocessableEntity && r.status != http.StatusBadRequest {
			t.Fatalf("a bad kind: status %d: %s", r.status, r.body)
		}
	})
}

// zeros reads n zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// TestImportUploadLimits: an empty upload is a 400 and one over
// MaxImportBytes a 413 (the body streamed to disk, not held), and neither
// is recorded. SQLite only: the point is the upload, sent once.
func TestImportUploadLimits(t *testing.T) {
	e := newEnv(t, storetest.Backends(t)[0].Open(t))
	upload := func(body io.Reader) (int, string) {
		req, _ := http.NewRequest("POST", e.url+"/api/v1/imports?kind=customers&file_name=people.csv", body)
		req.Header.Set("Authorization", "Bearer "+e.owner)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := upload(nil); code != http.StatusBadRequest || !strings.Contains(body, "the file is empty") {
		t.Errorf("an empty upload: %d %s", code, body)
	}
	big := io.MultiReader(strings.NewReader("user_id\n"), &zeros{n: server.MaxImportBytes})
	if code, body := upload(big); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than 512 MiB") {
		t.Errorf("an upload over the limit: %d %s", code, body)
	}
	var list struct {
		Items []touchbase.Import `json:"items"`
	}
	e.mustAPI(e.owner, "GET", "/imports", nil, 200).decode(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("recorded %+v", list.Items)
	}
}
