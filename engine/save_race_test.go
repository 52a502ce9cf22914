package engine_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/storetest"
)

// Two saves at once, one making A name B and the other B name A, each
// pass a check made against the segments as they were: only one of them
// may be stored, never the cycle. The engines are two, as a server's and a
// CLI's are, over the one store.
func TestSaveRefusesACycleUnderConcurrentSaves(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			s := be.Open(t)
			ws := storetest.Workspace(t, s, "shop").ID
			engines := []*engine.Engine{
				engine.New(s, segment.NewRegistry(), engine.Config{}),
				engine.New(s, segment.NewRegistry(), engine.Config{}),
			}
			for _, e := range engines {
				defer e.Close()
			}
			parse := func(text string) *segment.Node {
				n, err := segment.Parse(text)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			a := &touchbase.Segment{WorkspaceID: ws, Name: "A", Kind: touchbase.SegmentDynamic}
			b := &touchbase.Segment{WorkspaceID: ws, Name: "B", Kind: touchbase.SegmentDynamic}
			for _, seg := range []*touchbase.Segment{a, b} {
				if err := engines[0].Save(ctx, seg, parse(`country = "DE"`)); err != nil {
					t.Fatal(err)
				}
			}
			for round := range 30 {
				for _, seg := range []*touchbase.Segment{a, b} {
					if err := engines[0].Save(ctx, &touchbase.Segment{WorkspaceID: ws, ID: seg.ID, Name: seg.Name, Kind: seg.Kind}, parse(`country = "DE"`)); err != nil {
						t.Fatal(err)
					}
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				errs := make([]error, 2)
				for i, pair := range [][2]*touchbase.Segment{{a, b}, {b, a}} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						seg := &touchbase.Segment{WorkspaceID: ws, ID: pair[0].ID, Name: pair[0].Name, Kind: pair[0].Kind}
						errs[i] = engines[i].Save(ctx, seg, parse(`in segment "`+pair[1].Name+`"`))
					}()
				}
				close(start)
				wg.Wait()
				for _, err := range errs {
					if err != nil && touchbase.ErrorCode(err) != touchbase.EINVALID {
						t.Fatalf("round %d: %v", round, err)
					}
				}
				all, err := s.ListSegments(ctx, ws)
				if err != nil {
					t.Fatal(err)
				}
				naming := 0
				for _, seg := range all {
					n, err := engine.Definition(seg)
					if err != nil {
						t.Fatal(err)
					}
					if len(segment.Refs(n)) > 0 {
						naming++
					}
				}
				if naming > 1 {
					t.Fatalf("round %d: A and B name each other (errors %v): a cycle was stored", round, errs)
				}
				if naming != 1 || slices.IndexFunc(errs, func(err error) bool { return err == nil }) < 0 {
					t.Fatalf("round %d: %d segments name the other, errors %v; want exactly one save to pass", round, naming, errs)
				}
			}
		})
	}
}
