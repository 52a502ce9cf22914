package storetest_test

import (
	"testing"

	"github.com/touchbase/touchbase/storetest"
)

// TestStore runs the conformance suite on every backend.
func TestStore(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { storetest.Run(t, b.Open) })
	}
}
