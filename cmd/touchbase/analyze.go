package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
)

func (a *app) analyzeCmd() *cobra.Command {
	return groupCmd("analyze", "Customer intelligence: RFM, clusters, lifetime value, basket rules, recommendations, cohorts",
		a.analyzeRFMCmd(), a.analyzeClustersCmd(), a.analyzeCLVCmd(), a.analyzeBasketCmd(), a.analyzeRecommendCmd(), a.analyzeCohortsCmd())
}

// analyzeFlags are the flags every analysis shares.
type analyzeFlags struct {
	workspace string
	asOf      string
}

func (f *analyzeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.workspace, "workspace", "", "workspace name (default: the first workspace)")
	cmd.Flags().StringVar(&f.asOf, "as-of", "", "analyse as if the clock said this time (RFC 3339 or a date; default now)")
}

// runAnalysis runs one analysis of the workspace in this process, showing
// its stages on a terminal, and prints its result: as JSON with --json,
// else with human.
func (a *app) runAnalysis(cmd *cobra.Command, f *analyzeFlags, kind touchbase.AnalysisKind, p analytics.Params, human func(w io.Writer, result []byte) error) error {
	if err := a.setup(cmd); err != nil {
		return err
	}
	if f.asOf != "" {
		ms, err := segment.ParseTime(f.asOf)
		if err != nil {
			return usageErrorf(cmd, "--as-of: %v", err)
		}
		p.AsOf = time.UnixMilli(ms).UTC()
	}
	ctx := cmd.Context()
	return a.inWorkspace(ctx, f.workspace, func(st *store.Store, ws *touchbase.Workspace) error {
		r := analytics.New(st, newRegistry(), analytics.Config{Logger: a.log})
		defer r.Close()
		run, err := r.Run(ctx, ws.ID, kind, p, a.analysisProgress(kind))
		if err != nil {
			return err
		}
		if a.json {
			_, err := a.stdout.Write(append(indentJSON(run.Result), '\n'))
			return err
		}
		return human(a.stdout, run.Result)
	})
}

// analysisProgress shows a run's stages on stderr when it is a terminal,
// and how far a long stage is, once a second.
func (a *app) analysisProgress(kind touchbase.AnalysisKind) analytics.Progress {
	if a.json || !isTerminal(a.stderr) {
		return nil
	}
	start := time.Now()
	last, shown := "", time.Time{}
	return func(stage string, done, total int) {
		if stage == last && done != total && time.Since(shown) < time.Second {
			return
		}
		last, shown = stage, time.Now()
		if total > 0 {
			fmt.Fprintf(a.stderr, "%s: %s (%d of %d) %s\n", kind, stage, done, total, time.Since(start).Round(time.Millisecond))
			return
		}
		fmt.Fprintf(a.stderr, "%s: %s %s\n", kind, stage, time.Since(start).Round(time.Millisecond))
	}
}

func (a *app) analyzeRFMCmd() *cobra.Command {
	var f analyzeFlags
	var period string
	cmd := &cobra.Command{
		Use:   "rfm",
		Short: "Score customers by recency, frequency and monetary value, and sort them into the eleven RFM groups",
		Long: `Score every customer who ever ordered 1-5 on recency, frequency and monetary
value (quintiles; equal values always get the same score) and put them in one
of eleven groups, Champions to Lost (docs/analytics.md has the table). The
scores are saved: segments use them as rfm.segment, rfm.r, rfm.f, rfm.m,
rfm.score. --period counts only the orders of that period (such as 365d);
by default all orders count.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p := analytics.Params{Period: segment.Duration(period)}
			return a.runAnalysis(cmd, &f, touchbase.AnalysisRFM, p, printRFM)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&period, "period", "", "count the orders of this period before as-of, such as 365d (default: all)")
	return cmd
}

func (a *app) analyzeClustersCmd() *cobra.Command {
	var f analyzeFlags
	var p analytics.Params
	var features string
	cmd := &cobra.Command{
		Use:   "clusters",
		Short: "Group customers into clusters by k-means, and describe each in words",
		Long: `Cluster the customers who ordered by k-means++ (several seeded restarts) on
log-transformed, standardised features: recency, frequency and monetary by
default, or any numeric features given with --features, numeric traits as
traits.NAME among them (used as they are, not log-transformed). Without --k, the
number of clusters is chosen by silhouette between --min-k and --max-k.
Customers get a cluster feature (segments: cluster = 2); a new run keeps the
numbers of clusters that are essentially the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if features != "" {
				for _, name := range strings.Split(features, ",") {
					p.Features = append(p.Features, strings.TrimSpace(name))
				}
			}
			return a.runAnalysis(cmd, &f, touchbase.AnalysisClusters, p, printClusters)
		},
	}
	f.add(cmd)
	cmd.Flags().IntVar(&p.K, "k", 0, "number of clusters (default: chosen by silhouette)")
	cmd.Flags().IntVar(&p.MinK, "min-k", 2, "smallest k to try")
	cmd.Flags().IntVar(&p.MaxK, "max-k", 8, "largest k to try")
	cmd.Flags().StringVar(&features, "features", "", "comma-separated features, traits.NAME for a numeric trait (default recency,frequency,monetary)")
	cmd.Flags().Uint64Var(&p.Seed, "seed", 1, "random seed")
	return cmd
}

func (a *app) analyzeCLVCmd() *cobra.Command {
	var f analyzeFlags
	var p analytics.Params
	var horizon string
	cmd := &cobra.Command{
		Use:   "clv",
		Short: "Fit BG/NBD and Gamma-Gamma, and predict each customer's purchases, P(alive) and lifetime value",
		Long: `Fit the BG/NBD model (purchase frequency and dropout: r, alpha, a, b) and the
Gamma-Gamma model (spend per order: p, q, v) by maximum likelihood on the
orders up to --calibration-end (a date, the last day counted; default today),
in weeks or days (--unit). Each customer gets p_alive, expected_purchases,
predicted_clv over --horizon, churn_risk and next_order_at. With orders after
the calibration end, the prediction is compared with what happened.

  touchbase analyze clv --calibration-end 1997-09-30 --unit week --json

prints r, alpha, a, b, p, q, v with the log-likelihoods and standard errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p.Horizon = segment.Duration(horizon)
			return a.runAnalysis(cmd, &f, touchbase.AnalysisCLV, p, printCLV)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&p.CalibrationEnd, "calibration-end", "", "last day of the fitting period, YYYY-MM-DD (default: today)")
	cmd.Flags().StringVar(&p.Unit, "unit", "week", "time unit of the model: day or week")
	cmd.Flags().StringVar(&horizon, "horizon", "365d", "how far ahead to predict, such as 90d or 52w")
	return cmd
}

func (a *app) analyzeBasketCmd() *cobra.Command {
	var f analyzeFlags
	var p analytics.Params
	var baskets string
	cmd := &cobra.Command{
		Use:   "basket",
		Short: "Find association rules between products (FP-Growth): what is bought together",
		Long: `Find every rule {A, B} => {C} among the products of the store's orders whose
support (share of orders with all of them) and confidence (share of orders
with A and B that also hold C) reach the thresholds, with its lift.

--baskets FILE analyses a plain file instead, without any store: one
transaction per line, items separated by commas (as groceries.csv):

  touchbase analyze basket --baskets groceries.csv --min-support 0.001 --min-confidence 0.5 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if baskets == "" {
				return a.runAnalysis(cmd, &f, touchbase.AnalysisBasket, p, printBasket)
			}
			if err := a.setup(cmd); err != nil {
				return err
			}
			in, err := os.Open(baskets)
			if err != nil {
				return touchbase.Errorf(touchbase.EINVALID, "--baskets: %v", err)
			}
			defer in.Close()
			res, err := analytics.MineBaskets(in, p)
			if err != nil {
				return fmt.Errorf("%s: %w", baskets, err)
			}
			if a.json {
				return a.printJSON(res)
			}
			return writeRules(a.stdout, res)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&baskets, "baskets", "", "analyse this basket file (one transaction per line, comma-separated items) instead of the store")
	cmd.Flags().Float64Var(&p.MinSupport, "min-support", 0.01, "smallest share of orders a rule's products must be in together")
	cmd.Flags().Float64Var(&p.MinConfidence, "min-confidence", 0.2, "smallest confidence of a rule")
	cmd.Flags().IntVar(&p.MinLen, "min-len", 2, "fewest products in a rule, both sides counted (1 allows {} => {item})")
	cmd.Flags().IntVar(&p.MaxRules, "max-rules", -1, "keep at most this many rules, by lift (-1: all)")
	return cmd
}

func (a *app) analyzeCohortsCmd() *cobra.Command {
	var f analyzeFlags
	cmd := &cobra.Command{
		Use:   "cohorts",
		Short: "Monthly acquisition cohorts: retention and revenue by month of first order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runAnalysis(cmd, &f, touchbase.AnalysisCohorts, analytics.Params{}, printCohorts)
		},
	}
	f.add(cmd)
	return cmd
}

func (a *app) analyzeRecommendCmd() *cobra.Command {
	var f analyzeFlags
	var customer, product string
	var together bool
	var limit int
	cmd := &cobra.Command{
		Use:   "recommend (--customer ID|USER_ID|EMAIL | --product ID [--together])",
		Short: "Recommend products to a customer, or products like a product",
		Long: `For a customer: products bought together with what they bought (item-to-item
co-occurrence weighted by their history), leaving out what they have, topped
up with what is popular. For a product: products bought by the same
customers, or with --together, products in the same orders (basket rules).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (customer == "") == (product == "") {
				return usageErrorf(cmd, "give --customer or --product")
			}
			if err := a.setup(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.inWorkspace(ctx, f.workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				r := analytics.New(st, newRegistry(), analytics.Config{Logger: a.log})
				defer r.Close()
				var recs []analytics.Recommendation
				var err error
				switch {
				case customer != "":
					var id int64
					if id, err = findCustomerID(ctx, storeLookup(ctx, st, ws.ID), customer); err != nil {
						return err
					}
					recs, err = r.RecommendForCustomer(ctx, ws.ID, id, limit)
				case together:
					recs, err = r.BoughtTogether(ctx, ws.ID, product, limit)
				default:
					recs, err = r.SimilarProducts(ctx, ws.ID, product, limit)
				}
				if err != nil {
					return err
				}
				if a.json {
					if recs == nil {
						recs = []analytics.Recommendation{}
					}
					return a.printJSON(map[string]any{"items": recs})
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PRODUCT\tNAME\tSCORE\tWHY")
				for _, rec := range recs {
					fmt.Fprintf(tw, "%s\t%s\t%.3g\t%s\n", rec.ProductID, rec.Name, rec.Score, rec.Reason)
				}
				return tw.Flush()
			})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&customer, "customer", "", "the customer: touchbase id, user id or email")
	cmd.Flags().StringVar(&product, "product", "", "the product id")
	cmd.Flags().BoolVar(&together, "together", false, "with --product: products in the same orders (basket rules)")
	cmd.Flags().IntVar(&limit, "limit", 10, "how many")
	return cmd
}
