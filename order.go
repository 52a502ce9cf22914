package touchbase

import (
	"context"
	"time"
)

// OrderStatus is where an order stands.
type OrderStatus string

// Order statuses.
const (
	OrderCompleted         OrderStatus = "completed"
	OrderPartiallyRefunded OrderStatus = "partially_refunded"
	OrderRefunded          OrderStatus = "refunded"
	OrderCancelled         OrderStatus = "cancelled"
)

// Order is one purchase, from Segment E-commerce Spec v2 events or an import.
// CustomerID is 0 for a guest order. Money is in the order's Currency.
type Order struct {
	ID          int64       `json:"id"`
	WorkspaceID int64       `json:"workspace_id"`
	OrderID     string      `json:"order_id"`
	CustomerID  int64       `json:"customer_id,omitempty"`
	Status      OrderStatus `json:"status"`
	// Revenue is what the order counts for in the customer's revenue:
	// Segment's revenue, else total, else the sum of its items.
	Revenue  float64 `json:"revenue"`
	Total    float64 `json:"total"`
	Subtotal float64 `json:"subtotal"`
	Shipping float64 `json:"shipping"`
	Tax      float64 `json:"tax"`
	Discount float64 `json:"discount"`
	// Refunded is the amount refunded so far.
	Refunded  float64     `json:"refunded"`
	Currency  string      `json:"currency,omitempty"`
	Coupon    string      `json:"coupon,omitempty"`
	PlacedAt  time.Time   `json:"placed_at"`
	UpdatedAt time.Time   `json:"updated_at"`
	Items     []OrderItem `json:"items,omitempty"`
}

// OrderItem is one line of an order.
type OrderItem struct {
	ProductID string  `json:"product_id"`
	SKU       string  `json:"sku,omitempty"`
	Name      string  `json:"name,omitempty"`
	Category  string  `json:"category,omitempty"`
	Brand     string  `json:"brand,omitempty"`
	Variant   string  `json:"variant,omitempty"`
	Price     float64 `json:"price"`
	Quantity  float64 `json:"quantity"`
}

// OrderChangeKind says what an e-commerce event does to an order.
type OrderChangeKind string

// Order change kinds, from Segment's E-commerce Spec v2 event names.
const (
	OrderChangeCompleted OrderChangeKind = "completed" // Order Completed: create or replace
	OrderChangeUpdated   OrderChangeKind = "updated"   // Order Updated: replace fields that are given
	OrderChangeRefunded  OrderChangeKind = "refunded"  // Order Refunded: full or partial refund
	OrderChangeCancelled OrderChangeKind = "cancelled" // Order Cancelled
)

// OrderChange is what an e-commerce event does to one order. For refunds,
// RefundAmount is the amount refunded by this event (0 means in full).
type OrderChange struct {
	Kind         OrderChangeKind
	Order        Order
	RefundAmount float64
	// KeyedByMessageID says the event gave no order_id: the order's id is
	// the event's messageId (Order Completed only; the other order events
	// need an order_id to name an order).
	KeyedByMessageID bool
}

// Product is an item of the catalogue, kept current from e-commerce events.
type Product struct {
	WorkspaceID int64     `json:"workspace_id"`
	ProductID   string    `json:"product_id"`
	SKU         string    `json:"sku,omitempty"`
	Name        string    `json:"name,omitempty"`
	Category    string    `json:"category,omitempty"`
	Brand       string    `json:"brand,omitempty"`
	Variant     string    `json:"variant,omitempty"`
	Price       float64   `json:"price"`
	Currency    string    `json:"currency,omitempty"`
	URL         string    `json:"url,omitempty"`
	ImageURL    string    `json:"image_url,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// OrderFilter selects orders; zero fields do not filter.
type OrderFilter struct {
	CustomerID int64
	Status     OrderStatus
	Since      time.Time
	Until      time.Time
	After      string // opaque cursor
	Limit      int    // default 50, at most 1000
}

// ProductFilter selects products; zero fields do not filter.
type ProductFilter struct {
	Category string
	Query    string // matches product id, sku or name
	After    string
	Limit    int
}

// OrderService reads orders and products.
type OrderService interface {
	// FindOrder looks up by the store's order id; returns ENOTFOUND.
	FindOrder(ctx context.Context, workspaceID int64, orderID string) (*Order, error)
	// ListOrders returns orders newest first (items included) and the next cursor.
	ListOrders(ctx context.Context, workspaceID int64, f OrderFilter) ([]*Order, string, error)
	// FindProduct returns ENOTFOUND.
	FindProduct(ctx context.Context, workspaceID int64, productID string) (*Product, error)
	// ListProducts returns products by product id and the next cursor.
	ListProducts(ctx context.Context, workspaceID int64, f ProductFilter) ([]*Product, string, error)
}
