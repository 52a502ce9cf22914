package storetest

import (
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// Run is the conformance suite of the store's admin and read side:
// workspaces, users, keys, bootstrap, customers, erasure and export,
// events, orders, products, stats, tenancy (no method shows or changes
// one workspace's data through another's id), console sessions,
// memberships, the dashboard report, segments, analyses, consent and the
// change feed. open must return a fresh,
// empty, migrated store; each group gets its own.
func Run(t *testing.T, open func(t testing.TB) *store.Store) {
	groups := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"Workspaces", testWorkspaces},
		{"Users", testUsers},
		{"Keys", testKeys},
		{"Bootstrap", testBootstrap},
		{"BootstrapRace", testBootstrapRace},
		{"CustomerPaging", testCustomerPaging},
		{"CustomerFilters", testCustomerFilters},
		{"Customer", testCustomer},
		{"EraseExport", testEraseExport},
		{"Events", testEvents},
		{"Orders", testOrders},
		{"Products", testProducts},
		{"Stats", testStats},
		{"Tenancy", testTenancy},
		{"Sessions", testSessions},
		{"Memberships", testMemberships},
		{"Invitations", testInvitations},
		{"HomeWorkspace", testHomeWorkspace},
		{"Report", testReport},
		{"Segments", testSegments},
		{"Analysis", testAnalysis},
		{"Feed", testFeed},
		{"Consents", testConsents},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.fn(t, open(t))
		})
	}
}

// wantCode fails the test unless err carries the touchbase error code
// (code "" means no error).
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := touchbase.ErrorCode(err); got != code {
		if code == "" {
			t.Fatalf("unexpected error: %v", err)
		}
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}

// must fails the test on an error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// at returns Epoch plus d, as a pointer (for features).
func at(d time.Duration) *time.Time {
	tm := Epoch.Add(d)
	return &tm
}

// fixedClock makes s's clock return tm.
func fixedClock(s *store.Store, tm time.Time) { s.Now = func() time.Time { return tm } }
