package main

import (
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/segment"
)

// newRegistry returns the features segments may name: the built-in ones
// and those the analytics compute. Every command that parses, checks or
// evaluates a segment uses it, so they all know the same names.
func newRegistry() *segment.Registry {
	reg := segment.NewRegistry()
	if err := analytics.RegisterFeatures(reg); err != nil {
		panic(err) // two features of ours share a name: a bug
	}
	return reg
}
