// Package clv predicts customer lifetime value with the two "buy till you die"
// models of Fader, Hardie and Lee, fitted by maximum likelihood:
//
//   - BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy
//     Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2))
//     for how many purchases a customer will make and whether they are still
//     a customer at all (P(alive));
//   - Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value
//     Curves for Customer Base Analysis", JMR 42(4); Fader & Hardie 2013,
//     "The Gamma-Gamma Model of Monetary Value") for how much they will spend
//     per purchase.
//
// The flow is Summarize (transactions to one Summary per customer), Fit (or
// FitBGNBD and FitGammaGamma), then Model.PredictAll for every customer's
// P(alive), churn risk, expected purchases, expected spend, CLV and next order
// date. BGNBD.CompareHoldout checks a fit against a holdout period, as the
// paper does.
//
// The package is pure: no I/O, no goroutines, no package state; the same input
// gives the same output. Time is in the Unit chosen in Options (a day or a
// week); the parameter alpha and every duration in and out of a model are in
// that unit.
//
// Definitions, as in the papers and in the lifetimes Python package:
//
//   - purchases on the same calendar day are one transaction (their amounts
//     summed): the models are for purchase occasions, not order lines;
//   - frequency x is the number of repeat purchase days in the calibration
//     period, that is all purchase days but the first;
//   - recency t_x is the time from the first to the last purchase day;
//   - T is the time from the first purchase day to the last day of the
//     calibration period;
//   - monetary value is the mean value of the repeat purchase days (the first
//     purchase is left out because it is often different in kind, and because
//     that is the definition the Gamma-Gamma estimates were published with).
package clv
