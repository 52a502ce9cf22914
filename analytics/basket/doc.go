// Package basket is market-basket analysis: frequent itemsets mined by
// FP-Growth, association rules with support, confidence and lift, and
// "frequently bought together" lists for every product.
//
// It is a pure package: no I/O besides reading baskets from an io.Reader,
// no goroutines, no package state, and the same input always gives the same
// output in the same order.
//
// # Data
//
// Item names (the store's product ids or SKUs) are interned in an [Items]
// dictionary as dense int32 ids; [Transactions] hold the baskets in one flat
// slice with offsets (compressed sparse rows), each basket sorted and free of
// duplicates. A [Builder] makes them, [ParseBaskets] reads the one-basket-a-
// line format of the arules "Groceries" file.
//
// # Rules, exactly as arules
//
// [Mine] reproduces apriori() of the R package arules (C code by Christian
// Borgelt) rule for rule, so that published figures can be checked:
//
//   - an itemset is frequent when its count is at least ceil(N × MinSupport)
//     (arules prints the truncated value as "Absolute minimum support
//     count", but compares with the ceiling);
//   - every rule has exactly one item on the right-hand side;
//   - rule length is |antecedent| + 1 and must lie in [MinLen, MaxLen];
//   - a rule is kept when its confidence is at least MinConfidence − 1e-12;
//   - with MinLen 1, an item whose support reaches MinConfidence gives the
//     rule {} => {item} (confidence = support, lift 1).
//
// # Frequently bought together
//
// [Together] counts every co-occurring pair once per basket with a vertical
// (item to baskets) index, then keeps each product's best companions; the
// numbers are those of the two-item rules {product} => {companion}.
package basket
