package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration and where each value comes from",
		Long: `Print the effective configuration and where each value comes from:
a flag, a TOUCHBASE_* environment variable, the config file, or the default.
Precedence is flags > environment > config file > defaults. It takes
serve's flags too, to show what serve would run with.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			c := a.cfg
			if a.json {
				type entry struct {
					Key    string `json:"key"`
					Value  string `json:"value"`
					Source string `json:"source"`
					Env    string `json:"env"`
					Flag   string `json:"flag"`
				}
				out := make([]entry, len(settings))
				for i, s := range settings {
					out[i] = entry{s.key, display(s.key, c.Value(s.key)), c.Source(s.key), s.env(), "--" + s.flag()}
				}
				return a.printJSON(out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
			for _, s := range settings {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.key, display(s.key, c.Value(s.key)), c.Source(s.key))
			}
			return tw.Flush()
		},
	}
	addServeFlags(cmd.Flags())
	return cmd
}

// display hides secrets in a value shown to the user.
func display(key, value string) string {
	if key == "db" {
		return redactDSN(value)
	}
	return value
}
