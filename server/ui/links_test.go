package ui_test

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/inbound"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// TestRecommendationsNeverLinkScripts: product events that give script,
// data or relative links, from the store's server side and from a public
// write key, leave no such link for the real recommender to hand to the
// console: Ada's recommendations show, none links anywhere but http(s).
func TestRecommendationsNeverLinkScripts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, func(svc *server.Services) {
			svc.Analyst = analytics.New(s, svc.Features, analytics.Config{})
		})
		bad := []string{"javascript:alert(document.cookie)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
			"vbscript:msgbox(1)", "/relative", "JaVaScRiPt:alert(2)"}
		var batch []map[string]any
		for i, p := range products {
			u := bad[i%len(bad)]
			batch = append(batch, map[string]any{"type": "track", "userId": "ada", "event": "Product Viewed",
				"timestamp":  time.Now().Add(-time.Hour).Format(time.RFC3339),
				"properties": map[string]any{"product_id": p.id, "url": u, "image_url": u}})
		}
		e.ingest(e.acme.ID, batch)
		// And from a browser's public write key.
		body, _ := json.Marshal(map[string]any{"batch": batch[:3]})
		req, err := inbound.Parse("batch", body, time.Now().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for i := range req.Inbounds {
			req.Inbounds[i].WorkspaceID, req.Inbounds[i].Public = e.acme.ID, true
			req.Inbounds[i].MessageID += "-public"
		}
		if _, err := s.Ingest(context.Background(), req.Inbounds); err != nil {
			t.Fatal(err)
		}

		c := e.client()
		c.login("owner@example.com")
		p := c.do("GET", "/ui/customers/"+idOf(e.ada), nil)
		wantIn(t, "360", p, `class="rec-name"`)
		// The events keep the properties as sent (the timeline shows them
		// as text); no link of the page may carry them.
		links := regexp.MustCompile(`(?i)\b(?:href|src|action)="([^"]*)"`).FindAllStringSubmatch(p.body, -1)
		for _, l := range links {
			u := strings.ToLower(html.UnescapeString(l[1]))
			if strings.Contains(u, "zgotmplz") || strings.HasPrefix(u, "/relative") || (strings.Contains(u, ":") &&
				!strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://")) {
				t.Errorf("the customer page links to %q", l[1])
			}
		}
		if n := strings.Count(p.body, `class="rec-name"><a href="`); n != 0 {
			t.Errorf("%d recommendations are links, though no product has an http(s) link", n)
		}
	})
}
