package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/touchbase/touchbase/analytics"
)

// indentJSON is b indented for a reader (b as it is when it is not JSON).
func indentJSON(b []byte) []byte {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return b
	}
	return out.Bytes()
}

// decodeResult decodes a run's result into v.
func decodeResult(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read result: %w", err)
	}
	return nil
}

func printRFM(w io.Writer, b []byte) error {
	var res analytics.RFMResult
	if err := decodeResult(b, &res); err != nil {
		return err
	}
	period := "all time"
	if res.Period != "" {
		period = "the last " + res.Period
	}
	fmt.Fprintf(w, "RFM of %d customers as of %s (orders of %s; %d active, %d not in the period)\n\n",
		res.Scored, res.AsOf.Format("2006-01-02 15:04 MST"), period, res.Active, res.Inactive)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "GROUP\tCUSTOMERS\tSHARE\tREVENUE SHARE\tDAYS SINCE ORDER\tORDERS\tREVENUE\t")
	for _, g := range res.Groups {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\t%.0f\t%.1f\t%.2f\t\n", g.Name, g.Count, 100*g.Share, 100*g.RevenueShare,
			g.MeanRecencyDays, g.MeanOrders, g.MeanRevenue)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nSegments name them: rfm.segment = \"At Risk\", rfm.r >= 4, rfm.score = \"555\".")
	return nil
}

func printClusters(w io.Writer, b []byte) error {
	var res analytics.ClusterResult
	if err := decodeResult(b, &res); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d clusters of %d customers on %s (inertia %.4g, %d iterations)\n", res.K, res.Customers,
		strings.Join(res.Features, ", "), res.Inertia, res.Iterations)
	for _, s := range res.Silhouettes {
		mark := ""
		if s.K == res.K {
			mark = "  <- chosen"
		}
		fmt.Fprintf(w, "  k=%d silhouette %.3f%s\n", s.K, s.Silhouette, mark)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "CLUSTER\tCUSTOMERS\tSHARE\tDESCRIPTION"
	for _, f := range res.Features {
		head += "\tMEAN " + strings.ToUpper(f)
	}
	fmt.Fprintln(tw, head)
	for _, c := range res.Clusters {
		line := fmt.Sprintf("%d\t%d\t%.1f%%\t%s", c.Number, c.Size, 100*c.Share, c.Description)
		for _, m := range c.Means {
			line += fmt.Sprintf("\t%.4g", m)
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nSegments name them: cluster = 2.")
	return nil
}

func printCLV(w io.Writer, b []byte) error {
	var res analytics.CLVResult
	if err := decodeResult(b, &res); err != nil {
		return err
	}
	se := func(name string) string {
		if v, ok := res.StdErrors[name]; ok {
			return fmt.Sprintf(" (±%.4f)", v)
		}
		return ""
	}
	fmt.Fprintf(w, "Lifetime value: %d customers fitted on orders up to %s, in %ss; horizon %s\n\n",
		res.Customers, res.CalibrationEnd, res.Unit, res.Horizon)
	fmt.Fprintf(w, "BG/NBD       r=%.4f%s alpha=%.4f%s a=%.4f%s b=%.4f%s  log-likelihood %.2f\n",
		res.R, se("r"), res.Alpha, se("alpha"), res.A, se("a"), res.B, se("b"), res.BGNBDLogLikelihood)
	fmt.Fprintf(w, "Gamma-Gamma  p=%.4f%s q=%.4f%s v=%.4f%s  log-likelihood %.2f (%d repeat customers)\n\n",
		res.P, se("p"), res.Q, se("q"), res.V, se("v"), res.GammaGammaLogLikelihood, res.Repeaters)
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "Note: %s\n", warn)
	}
	fmt.Fprintf(w, "Expected over the horizon: %.0f orders, %.2f revenue\n", res.ExpectedPurchases, res.PredictedRevenue)
	fmt.Fprintf(w, "Churn risk: %d low, %d medium, %d high\n", res.Risk["low"], res.Risk["medium"], res.Risk["high"])
	if h := res.Holdout; h != nil {
		fmt.Fprintf(w, "\nHoldout (%.1f %ss after the calibration end): %.0f orders predicted, %.0f happened\n", h.Length, res.Unit, h.Predicted, h.Actual)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "REPEAT ORDERS\tCUSTOMERS\tACTUAL\tPREDICTED\t")
		for _, r := range h.Rows {
			fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.3f\t\n", r.Frequency, r.Customers, r.Actual, r.Predicted)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nSegments name them: p_alive < 0.3, predicted_clv > 500, churn_risk = \"high\".")
	return nil
}

func printBasket(w io.Writer, b []byte) error {
	var res analytics.BasketResult
	if err := decodeResult(b, &res); err != nil {
		return err
	}
	return writeRules(w, &res)
}

// writeRules prints a basket analysis's rules, best lift first, naming
// the products when their names are known.
func writeRules(w io.Writer, res *analytics.BasketResult) error {
	fmt.Fprintf(w, "%d rules among %d products in %d orders (support >= %g, confidence >= %g)\n\n",
		res.Found, res.Products, res.Orders, res.MinSupport, res.MinConfidence)
	name := func(ids []string) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = id
			if n := res.Names[id]; n != "" {
				out[i] = n
			}
		}
		return "{" + strings.Join(out, ", ") + "}"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSUPPORT\tCONFIDENCE\tLIFT\tCOUNT")
	for _, r := range res.Rules {
		fmt.Fprintf(tw, "%s => %s\t%.4f\t%.3f\t%.2f\t%d\n", name(r.Antecedent), name(r.Consequent), r.Support, r.Confidence, r.Lift, r.Count)
	}
	return tw.Flush()
}

func printCohorts(w io.Writer, b []byte) error {
	var res analytics.CohortResult
	if err := decodeResult(b, &res); err != nil {
		return err
	}
	width := 0
	for _, c := range res.Cohorts {
		width = max(width, len(c.Retention))
	}
	width = min(width, 13)
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', tabwriter.AlignRight)
	head := "COHORT\tCUSTOMERS\t"
	for i := 1; i < width; i++ {
		head += fmt.Sprintf("M%d\t", i)
	}
	fmt.Fprintln(tw, head)
	for _, c := range res.Cohorts {
		line := fmt.Sprintf("%s\t%d\t", c.Month, c.Size)
		for i := 1; i < width; i++ {
			if i < len(c.Retention) {
				line += fmt.Sprintf("%.0f%%\t", 100*c.Retention[i])
			} else {
				line += "\t"
			}
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nMn: share of the cohort that ordered n months after its first month.")
	return nil
}
