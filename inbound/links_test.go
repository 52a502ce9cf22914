package inbound_test

import (
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
)

// TestLinksAreHTTP: a product's url and image_url reach the catalogue only
// as http(s) URLs; the event keeps what was sent.
func TestLinksAreHTTP(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://shop.example/p/1", "https://shop.example/p/1"},
		{"HTTP://shop.example/p?a=1#x", "HTTP://shop.example/p?a=1#x"},
		{" https://shop.example/p ", "https://shop.example/p"},
		{"javascript:alert(document.cookie)", ""},
		{"JavaScript:alert(1)", ""},
		{" javascript:alert(1)", ""},
		{"java\tscript:alert(1)", ""},
		{"data:text/html;base64,PHNjcmlwdD4=", ""},
		{"vbscript:msgbox(1)", ""},
		{"file:///etc/passwd", ""},
		{"//evil.example/p", ""},
		{"/p/1", ""},
		{"p/1", ""},
		{"https://", ""},
		{"https:///path", ""},
		{"https://shop.example/a b", ""},
		{"https:\\\\evil.example", ""},
		{"https://shop.example\\@evil.example", ""},
		{"not a url", ""},
	} {
		t.Run(tc.url, func(t *testing.T) {
			if got := touchbase.WebLink(tc.url); got != tc.want {
				t.Fatalf("WebLink(%q) = %q, want %q", tc.url, got, tc.want)
			}
			quoted := strings.NewReplacer(`\`, `\\`, "\t", `\t`).Replace(tc.url)
			m := one(t, "track", `{"userId":"u","event":"Product Viewed","properties":{"product_id":"p","url":"`+quoted+`","image_url":"`+quoted+`"}}`)
			if len(m.Products) != 1 || m.Products[0].URL != tc.want || m.Products[0].ImageURL != tc.want {
				t.Fatalf("products %+v, want url and image_url %q", m.Products, tc.want)
			}
			if !strings.Contains(string(m.Properties), `"url":"`+quoted+`"`) {
				t.Fatalf("properties %s lost the url as sent", m.Properties)
			}
		})
	}
}
