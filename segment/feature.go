package segment

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/touchbase/touchbase"
)

// Feature is a named, typed value touchbase keeps for every customer, that
// segments may name as a bare field: the built-in features, and those the
// analytics add (rfm.segment, cluster, predicted_clv, ...).
type Feature struct {
	Name string
	Type Type // never TypeAny
	Doc  string
	// SQL is the feature's value as a SQL expression over the customers
	// table aliased c, for dialect d (NULL when not set). It is
	// touchbase's own text, never user input.
	SQL func(d Dialect) string
	// Get returns the feature's value for one customer and whether it is
	// set; the engine fills its columns with it.
	Get func(c *touchbase.Customer) (Value, bool)
	// Volatile says the value changes with most events (events,
	// last_seen_at): the engine sets it on every new profile, and checks
	// the others, which mostly stay, all at once.
	Volatile bool
}

// Registry is the set of features segments may name. It is safe for
// concurrent use; features are added at start, by the packages that
// compute them.
type Registry struct {
	mu       sync.RWMutex
	features map[string]*Feature
}

// NewRegistry returns a registry holding the built-in features.
func NewRegistry() *Registry {
	r := &Registry{features: map[string]*Feature{}}
	for _, f := range builtins() {
		r.MustRegister(f)
	}
	return r
}

// Register adds f; a name may be registered once.
func (r *Registry) Register(f Feature) error {
	if f.Name == "" || f.Type == TypeAny || f.SQL == nil || f.Get == nil {
		return fmt.Errorf("feature %q: name, type, SQL and Get are required", f.Name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.features[f.Name]; ok {
		return fmt.Errorf("feature %q is registered already", f.Name)
	}
	r.features[f.Name] = &f
	return nil
}

// MustRegister is Register for features known at compile time.
func (r *Registry) MustRegister(f Feature) {
	if err := r.Register(f); err != nil {
		panic(err)
	}
}

// Lookup returns the feature called name.
func (r *Registry) Lookup(name string) (*Feature, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.features[name]
	return f, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.features))
	for n := range r.features {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Dialect is a SQL dialect the compiler writes.
type Dialect uint8

// Dialects.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// builtins are the features every customer has: the store's built-in
// features (touchbase.Features) and the primary identifiers.
func builtins() []Feature {
	col := func(c string) func(Dialect) string { return func(Dialect) string { return "c." + c } }
	num := func(f func(*touchbase.Features) float64) func(*touchbase.Customer) (Value, bool) {
		return func(c *touchbase.Customer) (Value, bool) { return Number(f(&c.Features)), true }
	}
	tm := func(f func(*touchbase.Features) *time.Time) func(*touchbase.Customer) (Value, bool) {
		return func(c *touchbase.Customer) (Value, bool) {
			t := f(&c.Features)
			if t == nil {
				return Value{}, false
			}
			return Value{Type: TypeTime, Time: t.UnixMilli()}, true
		}
	}
	str := func(f func(*touchbase.Customer) string) func(*touchbase.Customer) (Value, bool) {
		return func(c *touchbase.Customer) (Value, bool) {
			s := f(c)
			return String(s), s != ""
		}
	}
	return []Feature{
		{Name: "orders", Type: TypeNumber, Doc: "orders placed and not cancelled", SQL: col("orders"),
			Get: num(func(f *touchbase.Features) float64 { return float64(f.Orders) })},
		{Name: "revenue", Type: TypeNumber, Doc: "revenue of those orders, net of refunds", SQL: col("revenue"),
			Get: num(func(f *touchbase.Features) float64 { return f.Revenue })},
		{Name: "aov", Type: TypeNumber, Doc: "average order value: revenue / orders (0 without orders)",
			SQL: func(Dialect) string { return "(CASE WHEN c.orders > 0 THEN c.revenue / c.orders ELSE 0 END)" },
			Get: func(c *touchbase.Customer) (Value, bool) {
				if c.Features.Orders > 0 {
					return Number(c.Features.Revenue / float64(c.Features.Orders)), true
				}
				return Number(0), true
			}},
		{Name: "refunds", Type: TypeNumber, Doc: "refunds received", SQL: col("refunds"),
			Get: num(func(f *touchbase.Features) float64 { return float64(f.Refunds) })},
		{Name: "refund_total", Type: TypeNumber, Doc: "amount refunded", SQL: col("refund_total"),
			Get: num(func(f *touchbase.Features) float64 { return f.RefundTotal })},
		{Name: "events", Type: TypeNumber, Doc: "events on the timeline", SQL: col("events"), Volatile: true,
			Get: num(func(f *touchbase.Features) float64 { return float64(f.Events) })},
		{Name: "first_order_at", Type: TypeTime, Doc: "time of the first order", SQL: col("first_order_at"),
			Get: tm(func(f *touchbase.Features) *time.Time { return f.FirstOrderAt })},
		{Name: "last_order_at", Type: TypeTime, Doc: "time of the last order", SQL: col("last_order_at"),
			Get: tm(func(f *touchbase.Features) *time.Time { return f.LastOrderAt })},
		{Name: "first_seen_at", Type: TypeTime, Doc: "time of the first event", SQL: col("first_seen_at"),
			Get: tm(func(f *touchbase.Features) *time.Time { return f.FirstSeenAt })},
		{Name: "last_seen_at", Type: TypeTime, Doc: "time of the last event", SQL: col("last_seen_at"), Volatile: true,
			Get: tm(func(f *touchbase.Features) *time.Time { return f.LastSeenAt })},
		{Name: "created_at", Type: TypeTime, Doc: "when the profile was created", SQL: col("created_at"),
			Get: func(c *touchbase.Customer) (Value, bool) {
				return Value{Type: TypeTime, Time: c.CreatedAt.UnixMilli()}, true
			}},
		{Name: "user_id", Type: TypeString, Doc: "the customer's user id", SQL: col("user_id"),
			Get: str(func(c *touchbase.Customer) string { return c.UserID })},
		{Name: "email", Type: TypeString, Doc: "the customer's email address", SQL: col("email"),
			Get: str(func(c *touchbase.Customer) string { return c.Email })},
		{Name: "phone", Type: TypeString, Doc: "the customer's phone number", SQL: col("phone"),
			Get: str(func(c *touchbase.Customer) string { return c.Phone })},
	}
}
