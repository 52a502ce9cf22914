-- +goose Up
-- Amounts beyond ±9007199254740991 (touchbase.MaxNumber), which ingestion
-- refuses since this migration, could be stored before it: two orders of
-- revenue 1e308 summed to +Inf (SQLite) or "value out of range"
-- (PostgreSQL), and the stats, the orders and customers lists and every
-- analysis failed for good. Such an amount is nonsense, not money: it
-- becomes 0, as an amount not given is read, and the order features of its
-- customer are counted again from the orders, as ingestion counts them.
-- NOT (abs(x) <= bound) also holds for infinities and PostgreSQL's NaN.
-- Events keep their properties as they were sent.

-- The customers first, while their orders still show which are poisoned.
UPDATE customers SET
    revenue = (SELECT coalesce(sum(
            CASE WHEN abs(o.revenue) <= 9007199254740991 THEN o.revenue ELSE 0 END -
            CASE WHEN abs(o.refunded) <= 9007199254740991 THEN o.refunded ELSE 0 END), 0)
        FROM orders o WHERE o.workspace_id = customers.workspace_id AND o.customer_id = customers.id AND o.status <> 'cancelled'),
    refund_total = (SELECT coalesce(sum(CASE WHEN abs(o.refunded) <= 9007199254740991 THEN o.refunded ELSE 0 END), 0)
        FROM orders o WHERE o.workspace_id = customers.workspace_id AND o.customer_id = customers.id AND o.status <> 'cancelled'),
    refunds = (SELECT count(*) FROM orders o WHERE o.workspace_id = customers.workspace_id AND o.customer_id = customers.id
        AND o.status <> 'cancelled' AND o.refunded > 0 AND abs(o.refunded) <= 9007199254740991)
WHERE NOT (abs(revenue) <= 1.7976931348623157e308 AND abs(refund_total) <= 1.7976931348623157e308)
    OR (workspace_id, id) IN (SELECT workspace_id, customer_id FROM orders
        WHERE customer_id IS NOT NULL AND NOT (abs(revenue) <= 9007199254740991 AND abs(refunded) <= 9007199254740991));

UPDATE orders SET
    revenue = CASE WHEN abs(revenue) <= 9007199254740991 THEN revenue ELSE 0 END,
    total = CASE WHEN abs(total) <= 9007199254740991 THEN total ELSE 0 END,
    subtotal = CASE WHEN abs(subtotal) <= 9007199254740991 THEN subtotal ELSE 0 END,
    shipping = CASE WHEN abs(shipping) <= 9007199254740991 THEN shipping ELSE 0 END,
    tax = CASE WHEN abs(tax) <= 9007199254740991 THEN tax ELSE 0 END,
    discount = CASE WHEN abs(discount) <= 9007199254740991 THEN discount ELSE 0 END,
    refunded = CASE WHEN abs(refunded) <= 9007199254740991 THEN refunded ELSE 0 END
WHERE NOT (abs(revenue) <= 9007199254740991 AND abs(total) <= 9007199254740991 AND abs(subtotal) <= 9007199254740991
    AND abs(shipping) <= 9007199254740991 AND abs(tax) <= 9007199254740991 AND abs(discount) <= 9007199254740991
    AND abs(refunded) <= 9007199254740991);

-- A line's price and quantity, then their product (each factor is bounded
-- by then, so the product is finite on PostgreSQL too).
UPDATE order_items SET
    price = CASE WHEN abs(price) <= 9007199254740991 THEN price ELSE 0 END,
    quantity = CASE WHEN abs(quantity) <= 9007199254740991 THEN quantity ELSE 0 END
WHERE NOT (abs(price) <= 9007199254740991 AND abs(quantity) <= 9007199254740991);
UPDATE order_items SET price = 0 WHERE NOT (abs(price * quantity) <= 9007199254740991);

UPDATE products SET price = 0 WHERE NOT (abs(price) <= 9007199254740991);

-- Scores are derived: one that is not finite was not computed.
UPDATE customer_scores SET rfm_monetary = NULL WHERE NOT (abs(rfm_monetary) <= 1.7976931348623157e308);
UPDATE customer_scores SET predicted_clv = NULL WHERE NOT (abs(predicted_clv) <= 1.7976931348623157e308);

-- +goose Down
-- The amounts replaced were not money; there is nothing to restore.
SELECT 1;
