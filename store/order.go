package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

var _ touchbase.OrderService = (*Store)(nil)

const orderColumns = "o.id, o.workspace_id, o.order_id, o.customer_id, o.status, o.revenue, o.total, o.subtotal, o.shipping, o.tax, o.discount, o.refunded, o.currency, o.coupon, o.placed_at, o.updated_at"

// FindOrder looks up an order by the store's order id, with its items in
// line order. Returns ENOTFOUND.
func (s *Store) FindOrder(ctx context.Context, workspaceID int64, orderID string) (*touchbase.Order, error) {
	var o *touchbase.Order
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = scanOrder(tx.QueryRowContext(ctx, s.d.q("SELECT "+orderColumns+" FROM orders o WHERE o.workspace_id = ? AND o.order_id = ?"), workspaceID, orderID))
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ENOTFOUND, "order %q not found", orderID)
		} else if err != nil {
			return fmt.Errorf("find order %q: %w", orderID, err)
		}
		return s.loadItems(ctx, tx, workspaceID, []*touchbase.Order{o})
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// ListOrders returns one page of orders, newest first (placed_at, then id),
// items included, and the cursor of the next page. Since is inclusive,
// Until exclusive. EINVALID for a bad status, cursor or limit.
func (s *Store) ListOrders(ctx context.Context, workspaceID int64, f touchbase.OrderFilter) ([]*touchbase.Order, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	where := []string{"o.workspace_id = ?"}
	args := []any{workspaceID}
	if f.CustomerID != 0 {
		where = append(where, "o.customer_id = ?")
		args = append(args, f.CustomerID)
	}
	if f.Status != "" {
		switch f.Status {
		case touchbase.OrderCompleted, touchbase.OrderPartiallyRefunded, touchbase.OrderRefunded, touchbase.OrderCancelled:
		default:
			return nil, "", touchbase.Errorf(touchbase.EINVALID, "order status %q is not completed, partially_refunded, refunded or cancelled", f.Status)
		}
		where = append(where, "o.status = ?")
		args = append(args, string(f.Status))
	}
	if !f.Since.IsZero() {
		where = append(where, "o.placed_at >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, "o.placed_at < ?")
		args = append(args, f.Until.UnixMilli())
	}
	if f.After != "" {
		c, err := decodeCursor(f.After, "orders")
		if err != nil {
			return nil, "", err
		}
		placed, err := c.int()
		if err != nil {
			return nil, "", err
		}
		where = append(where, "(o.placed_at, o.id) < (?, ?)")
		args = append(args, placed, c.id)
	}
	args = append(args, limit+1)
	var (
		orders []*touchbase.Order
		next   string
	)
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.q("SELECT "+orderColumns+" FROM orders o WHERE "+strings.Join(where, " AND ")+
			" ORDER BY o.placed_at DESC, o.id DESC LIMIT ?"), args...)
		if err != nil {
			return fmt.Errorf("list orders: %w", err)
		}
		orders, err = scanOrders(rows)
		if err != nil {
			return fmt.Errorf("list orders: %w", err)
		}
		if len(orders) > limit {
			orders = orders[:limit]
			last := orders[limit-1]
			next = encodeCursor("orders", strconv.FormatInt(last.PlacedAt.UnixMilli(), 10), last.ID)
		}
		return s.loadItems(ctx, tx, workspaceID, orders)
	})
	if err != nil {
		return nil, "", err
	}
	return orders, next, nil
}

// customerOrders returns all of a customer's orders, oldest first, with
// their items.
func (s *Store) customerOrders(ctx context.Context, tx *sql.Tx, workspaceID, customerID int64) ([]*touchbase.Order, error) {
	rows, err := tx.QueryContext(ctx, s.d.q("SELECT "+orderColumns+" FROM orders o WHERE o.workspace_id = ? AND o.customer_id = ? ORDER BY o.placed_at, o.id"),
		workspaceID, customerID)
	if err != nil {
		return nil, fmt.Errorf("customer %d orders: %w", customerID, err)
	}
	orders, err := scanOrders(rows)
	if err != nil {
		return nil, fmt.Errorf("customer %d orders: %w", customerID, err)
	}
	if err := s.loadItems(ctx, tx, workspaceID, orders); err != nil {
		return nil, err
	}
	return orders, nil
}

// loadItems fills in the items of the orders with one query.
func (s *Store) loadItems(ctx context.Context, q queryer, workspaceID int64, orders []*touchbase.Order) error {
	if len(orders) == 0 {
		return nil
	}
	byID := make(map[int64]*touchbase.Order, len(orders))
	args := make([]any, 0, len(orders)+1)
	args = append(args, workspaceID)
	for _, o := range orders {
		byID[o.ID] = o
		args = append(args, o.ID)
	}
	rows, err := q.QueryContext(ctx, s.d.q(`SELECT order_id, product_id, sku, name, category, brand, variant, price, quantity
		FROM order_items WHERE workspace_id = ? AND order_id IN (?`+strings.Repeat(", ?", len(orders)-1)+`) ORDER BY order_id, line`), args...)
	if err != nil {
		return fmt.Errorf("order items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			it touchbase.OrderItem
		)
		if err := rows.Scan(&id, &it.ProductID, &it.SKU, &it.Name, &it.Category, &it.Brand, &it.Variant, &it.Price, &it.Quantity); err != nil {
			return fmt.Errorf("order items: %w", err)
		}
		if o := byID[id]; o != nil {
			o.Items = append(o.Items, it)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("order items: %w", err)
	}
	return nil
}

func scanOrders(rows *sql.Rows) ([]*touchbase.Order, error) {
	defer rows.Close()
	orders := []*touchbase.Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		orders = append(orders, o)
	}
	return orders, rows.Err()
}

func scanOrder(row interface{ Scan(...any) error }) (*touchbase.Order, error) {
	var (
		o               touchbase.Order
		customer        sql.NullInt64
		status          string
		placed, updated int64
	)
	if err := row.Scan(&o.ID, &o.WorkspaceID, &o.OrderID, &customer, &status, &o.Revenue, &o.Total, &o.Subtotal, &o.Shipping,
		&o.Tax, &o.Discount, &o.Refunded, &o.Currency, &o.Coupon, &placed, &updated); err != nil {
		return nil, err
	}
	o.CustomerID = customer.Int64
	o.Status = touchbase.OrderStatus(status)
	o.PlacedAt = time.UnixMilli(placed).UTC()
	o.UpdatedAt = time.UnixMilli(updated).UTC()
	return &o, nil
}

const productColumns = "workspace_id, product_id, sku, name, category, brand, variant, price, currency, url, image_url, created_at, updated_at"

// FindProduct returns ENOTFOUND.
func (s *Store) FindProduct(ctx context.Context, workspaceID int64, productID string) (*touchbase.Product, error) {
	p, err := scanProduct(s.rdb.QueryRowContext(ctx, s.d.q("SELECT "+productColumns+" FROM products WHERE workspace_id = ? AND product_id = ?"),
		workspaceID, productID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "product %q not found", productID)
	} else if err != nil {
		return nil, fmt.Errorf("find product %q: %w", productID, err)
	}
	return p, nil
}

// FindProducts returns the products of ids that exist, in the order of
// ids (one each).
func (s *Store) FindProducts(ctx context.Context, workspaceID int64, ids []string) ([]*touchbase.Product, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	byID := make(map[string]*touchbase.Product, len(ids))
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return s.queryIn(ctx, tx, "SELECT "+productColumns+" FROM products WHERE workspace_id = ? AND product_id IN (%s)", []any{workspaceID}, args,
			func(rows *sql.Rows) error {
				p, err := scanProduct(rows)
				if err != nil {
					return err
				}
				byID[p.ProductID] = p
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("find products: %w", err)
	}
	out := make([]*touchbase.Product, 0, len(byID))
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			out = append(out, p)
			delete(byID, id)
		}
	}
	return out, nil
}

// ListProducts returns one page of products ordered by product id and the
// cursor of the next page. Query matches the product id, SKU or name,
// case-insensitively, anywhere. EINVALID for a bad cursor or limit.
func (s *Store) ListProducts(ctx context.Context, workspaceID int64, f touchbase.ProductFilter) ([]*touchbase.Product, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	where := []string{"workspace_id = ?"}
	args := []any{workspaceID}
	if f.Category != "" {
		where = append(where, "category = ?")
		args = append(args, f.Category)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := s.ilike()
		where = append(where, "(product_id "+like+` ? ESCAPE '\' OR sku `+like+` ? ESCAPE '\' OR name `+like+` ? ESCAPE '\')`)
		p := likePattern(q)
		args = append(args, p, p, p)
	}
	if f.After != "" {
		c, err := decodeCursor(f.After, "products")
		if err != nil {
			return nil, "", err
		}
		where = append(where, "product_id > ?")
		args = append(args, c.val)
	}
	args = append(args, limit+1)
	rows, err := s.rdb.QueryContext(ctx, s.d.q("SELECT "+productColumns+" FROM products WHERE "+strings.Join(where, " AND ")+
		" ORDER BY product_id LIMIT ?"), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	products := []*touchbase.Product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list products: %w", err)
		}
		products = append(products, p)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list products: %w", err)
	}
	var next string
	if len(products) > limit {
		products = products[:limit]
		next = encodeCursor("products", products[limit-1].ProductID, 0)
	}
	return products, next, nil
}

func scanProduct(row interface{ Scan(...any) error }) (*touchbase.Product, error) {
	var (
		p                touchbase.Product
		created, updated int64
	)
	if err := row.Scan(&p.WorkspaceID, &p.ProductID, &p.SKU, &p.Name, &p.Category, &p.Brand, &p.Variant, &p.Price,
		&p.Currency, &p.URL, &p.ImageURL, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt = time.UnixMilli(created).UTC()
	p.UpdatedAt = time.UnixMilli(updated).UTC()
	return &p, nil
}
