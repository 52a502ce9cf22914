package touchbase_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
)

func TestNumberInRange(t *testing.T) {
	if !strings.Contains(touchbase.NumberRange, "-"+strconv.Itoa(touchbase.MaxNumber)+" and "+strconv.Itoa(touchbase.MaxNumber)) {
		t.Errorf("NumberRange %q does not state MaxNumber %d", touchbase.NumberRange, touchbase.MaxNumber)
	}
	for f, want := range map[float64]bool{
		0: true, -1.5: true, touchbase.MaxNumber: true, -touchbase.MaxNumber: true, 1 << 53: false,
		1e308: false, math.Inf(1): false, math.Inf(-1): false, math.NaN(): false, 5e-324: true,
	} {
		if got := touchbase.NumberInRange(f); got != want {
			t.Errorf("NumberInRange(%g) = %v, want %v", f, got, want)
		}
	}
}
