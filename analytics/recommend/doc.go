// Package recommend recommends products from purchase histories with
// item-to-item collaborative filtering (Linden, Smith & York, "Amazon.com
// recommendations: item-to-item collaborative filtering", 2003).
//
// Training ([Train], or a [Builder] fed one purchase or order at a time)
// interns product ids and customers to dense indexes, keeps each customer's
// history as one flat row per (customer, product), and computes for every
// product its most similar products from how often they were bought by the
// same customers. Only the best [TrainOptions.Neighbours] neighbours of each
// product are kept, so the model's size grows with the catalogue, not with
// the square of it.
//
// A customer's recommendations ([Model.ForCustomer], [Model.ForHistory]) sum
// the similarities of each candidate to the products the customer bought,
// each weighted by how often and how recently the customer bought it. What
// the customer already bought is left out unless [Options.Repeats] says
// otherwise, and when co-occurrence gives fewer than the products asked for,
// the list is filled from [Options.Fallback] (for instance what is popular
// in the customer's segment, from [Model.Popular]) and then from overall
// popularity. Every recommendation carries its [Reason].
//
// [Model.Similar] answers "customers who bought this also bought".
//
// Everything is deterministic: products are indexed in the order of their
// ids, every sum runs in index order, and ties are broken by product id.
// The package does no I/O; docs/analytics.md reports its offline evaluation
// on the UCI Online Retail data set.
package recommend
