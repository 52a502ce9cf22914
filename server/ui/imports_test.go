package ui_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/storetest"
)

// importCSV has a bad timestamp on line 3.
const importCSV = "Customer ID,E-mail,Signed Up,Country\n" +
	"imp-1,imp1@example.com,2024-03-01,DE\n" +
	"imp-2,imp2@example.com,not a date,FR\n" +
	"imp-3,imp3@example.com,2024-03-03,NL\n"

// upload posts the import form as a browser does: multipart, with the CSRF
// token as a field.
func (c *client) upload(csrf string, fields map[string]string, name, content string, hdr ...string) page {
	c.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf != "" {
		mw.WriteField("csrf", csrf)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.e.t.Fatal(err)
	}
	fw.Write([]byte(content))
	mw.Close()
	req, err := http.NewRequest("POST", c.e.url+"/ui/imports", &buf)
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if len(hdr) == 0 {
		hdr = []string{"Origin", c.e.url, "Sec-Fetch-Site", "same-origin"}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return page{resp.StatusCode, resp.Header, b.String()}
}

func TestImportUpload(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	csrf := c.login("marketer@example.com")

	list := c.do("GET", "/ui/imports", nil)
	if list.status != 200 || !strings.Contains(list.body, `id="imports-empty"`) || !strings.Contains(list.body, `id="import-form"`) {
		t.Fatalf("empty list: status %d: %.500s", list.status, list.body)
	}

	t.Run("bad mapping comes back on the form", func(t *testing.T) {
		p := c.upload(csrf, map[string]string{"kind": "customers", "map": "Customer ID=nonsense"}, "people.csv", importCSV)
		if p.status != http.StatusBadRequest && p.status != http.StatusUnprocessableEntity {
			t.Errorf("status %d, want 400 or 422", p.status)
		}
		if !strings.Contains(p.body, `id="import-error"`) || !strings.Contains(p.body, "unknown field") || !strings.Contains(p.body, "Customer ID=nonsense") {
			t.Errorf("no mapping error on the form: %.2000s", p.body)
		}
	})
	t.Run("no file", func(t *testing.T) {
		p := c.upload(csrf, map[string]string{"kind": "customers"}, "empty.csv", "")
		if !strings.Contains(p.body, "is empty") {
			t.Errorf("status %d: %.500s", p.status, p.body)
		}
	})

	p := c.upload(csrf, map[string]string{"kind": "customers", "format": "",
		"map": "Customer ID=user_id,E-mail=email,Signed Up=timestamp,Country=traits.country"}, "people.csv", importCSV)
	if p.status != http.StatusSeeOther || !regexp.MustCompile(`^/ui/imports/\d+$`).MatchString(p.header.Get("Location")) {
		t.Fatalf("upload: status %d, Location %q: %.500s", p.status, p.header.Get("Location"), p.body)
	}
	where := p.header.Get("Location")
	deadline := time.Now().Add(15 * time.Second)
	for {
		p = c.do("GET", where, nil, "HX-Request", "true", "HX-Target", "import-status")
		if p.status != 200 {
			t.Fatalf("status fragment: %d", p.status)
		}
		if !strings.Contains(p.body, "every 1s") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import never ended: %.1000s", p.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p = c.do("GET", where, nil)
	for _, want := range []string{"import-done", `id="line-errors-table"`, `<td class="num">3</td>`, "Signed Up", where + "/errors.csv", `id="import-customers"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("import page lacks %q: %.3000s", want, p.body)
		}
	}
	counts := regexp.MustCompile(`Stored</div><div class="kpi-value kpi-value-small">(\d+)<`).FindStringSubmatch(p.body)
	if counts == nil || counts[1] != "2" {
		t.Errorf("stored %v, want 2", counts)
	}
	if id := e.customerID(e.acme.ID, "imp3@example.com"); id == 0 {
		t.Error("imported customer not found")
	}

	csv := c.do("GET", where+"/errors.csv", nil)
	if csv.status != 200 || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(csv.body, "line,column,message\n3,Signed Up,") {
		t.Errorf("errors.csv: %d %q: %q", csv.status, csv.header.Get("Content-Type"), csv.body)
	}

	list = c.do("GET", "/ui/imports", nil)
	if !strings.Contains(list.body, `href="`+where+`">people.csv</a>`) || !strings.Contains(list.body, "import-done") {
		t.Errorf("list lacks the import: %.3000s", list.body)
	}

	t.Run("another workspace's import is not found", func(t *testing.T) {
		o := e.client()
		o.login("owner@example.com")
		if p := o.do("GET", where, nil); p.status != 200 {
			t.Fatalf("owner of the same workspace: %d", p.status)
		}
		beta := o.do("GET", "/ui/", nil).csrf(t)
		o.post("/ui/workspace", beta, map[string][]string{"workspace_id": {strconv.FormatInt(e.beta.ID, 10)}})
		for _, path := range []string{where, where + "/errors.csv"} {
			if p := o.do("GET", path, nil); p.status != http.StatusNotFound {
				t.Errorf("%s from Beta: status %d, want 404", path, p.status)
			}
		}
	})
	t.Run("CSRF-less upload refused", func(t *testing.T) {
		if p := c.upload("", map[string]string{"kind": "customers"}, "x.csv", importCSV); p.status != http.StatusForbidden {
			t.Errorf("no token: status %d", p.status)
		}
		if p := c.upload(csrf, map[string]string{"kind": "customers"}, "x.csv", importCSV, "Origin", "https://evil.example"); p.status != http.StatusForbidden {
			t.Errorf("other origin: status %d", p.status)
		}
	})
}

func TestImportAnalyst(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	csrf := c.login("analyst@example.com")
	p := c.do("GET", "/ui/imports", nil)
	if p.status != 200 || strings.Contains(p.body, `id="import-form"`) || !strings.Contains(p.body, `id="imports-empty"`) {
		t.Errorf("analyst's list: status %d, form shown %v", p.status, strings.Contains(p.body, `id="import-form"`))
	}
	if p := c.upload(csrf, map[string]string{"kind": "customers"}, "x.csv", importCSV); p.status != http.StatusForbidden {
		t.Errorf("analyst upload: status %d, want 403", p.status)
	}
}

// TestImportWarningsShown: an order without an order id is imported,
// keyed by its messageId, and the import's page counts and lists the
// warning with its line.
func TestImportWarningsShown(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	csrf := c.login("marketer@example.com")
	orders := "order_id,user_id,timestamp,product_id,price\n" +
		"W-1,cust-001,2024-03-01,tee-01,29\n" +
		",cust-001,2024-03-02,cap-05,35\n"
	p := c.upload(csrf, map[string]string{"kind": "orders"}, "orders.csv", orders)
	if p.status != http.StatusSeeOther {
		t.Fatalf("upload: status %d: %.500s", p.status, p.body)
	}
	where := p.header.Get("Location")
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if p = c.do("GET", where, nil); !strings.Contains(p.body, "every 1s") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import never ended: %.1000s", p.body)
		}
	}
	for _, want := range []string{"import-done", `id="import-warnings">1<`, `id="line-warnings-table"`, `<td class="num">3</td><td>order_id</td>`,
		"keyed by its messageId"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("import page lacks %q: %.4000s", want, p.body)
		}
	}
	if strings.Contains(p.body, `id="line-errors-table"`) {
		t.Error("the order without an order id is listed as an error")
	}
	if list := c.do("GET", "/ui/imports", nil); !strings.Contains(list.body, `<td class="num">1</td>`) {
		t.Errorf("the list lacks the warning count: %.3000s", list.body)
	}
}
