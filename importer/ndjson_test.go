package importer_test

import (
	"reflect"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// TestNDJSON imports Segment calls one per line, with blank lines, a
// broken line and an invalid message. (A line over the limit stops the
// import: TestLineLimit.)
func TestNDJSON(t *testing.T) {
	data := "\ufeff" + `{"type":"identify","userId":"u1","traits":{"plan":"pro"}}` + "\n" + // 1
		"\n" + // 2
		`{"type":"track","userId":"u1","event":"Clicked"}` + "\r\n" + // 3
		"{not json\n" + // 4
		"   \n" + // 5
		`{"type":"track","event":"Nobody"}` + "\n" + // 6
		`{"type":"track","userId":"u1","event":"Opened","messageId":"m8"}` + "\n" + // 7
		`{"type":"track","anonymousId":"a9","event":"Last","properties":{"n":9}}` // 8, no newline
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		im := mustImport(t, s, ws, touchbase.ImportEvents, "events.ndjson", touchbase.ImportOptions{}, data)
		var lines []int
		for _, le := range im.LineErrors {
			lines = append(lines, le.Line)
		}
		if !reflect.DeepEqual(lines, []int{4, 6}) {
			t.Errorf("line errors at %v, want 4 and 6: %+v", lines, im.LineErrors)
		}
		if im.Lines != 8 {
			t.Errorf("Lines = %d, want 8", im.Lines)
		}
		got := storetest.QueryStrings(t, s, "SELECT event FROM events WHERE workspace_id = ? ORDER BY event", ws)
		if want := []string{"", "Clicked", "Last", "Opened"}; !reflect.DeepEqual(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
		if tr := traitsOf(t, s, ws, "u1"); tr["plan"] != "pro" {
			t.Errorf("u1 traits %v, want plan pro (the first line, after a BOM)", tr)
		}
		if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND message_id = 'm8'", ws); n != 1 {
			t.Errorf("the given messageId was not kept")
		}
	})
}
