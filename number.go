package touchbase

// MaxNumber bounds every number touchbase stores: event properties,
// traits and context, order amounts, prices and quantities, whether they
// arrive through /v1, an import or the admin API. It is 2^53-1,
// JavaScript's Number.MAX_SAFE_INTEGER: the largest integer every SDK can
// send exactly, and every integer within it stays exact in a float64 (so
// ids and Unix microseconds survive). Sums stay finite with room to
// spare: a billion events of ±MaxNumber sum to about 9e24, and even a
// product of two bounded numbers summed a billion times (8.1e40) is far
// from float64's 1.8e308, where sums become +Inf and PostgreSQL raises
// "value out of range". Derived amounts (a product's price × quantity, an
// order's total over its products) are held to the same bound, so no
// stored amount exceeds it.
const MaxNumber = 1<<53 - 1

// NumberInRange reports whether f is finite and within ±MaxNumber.
func NumberInRange(f float64) bool { return f >= -MaxNumber && f <= MaxNumber }

// NumberRange is the bound as error messages state it.
const NumberRange = "numbers must be between -9007199254740991 and 9007199254740991"
