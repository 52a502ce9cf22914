package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/bench/loadgen"
)

func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args string
		err  string // substring; "" for success
		rate float64
	}{
		{"throughput defaults", "", "", 0},
		{"rate default offered load", "--mode rate", "", 10000},
		{"soak at full speed", "--mode soak --events 1000", "", 0},
		{"soak at a rate", "--mode soak --rate 20000", "", 20000},
		{"throughput takes no rate", "--mode throughput --rate 5", "--rate is for", 0},
		{"rate mode needs a rate", "--mode rate --rate 0", "needs --rate", 0},
		{"unknown mode", "--mode fast", "want throughput, rate or soak", 0},
		{"stray argument", "sqlite", "unexpected argument", 0},
		{"memprofile alone", "--memprofile m.out", "need --cpuprofile", 0},
		{"binary or rev", "--binary /bin/true --rev HEAD", "alternatives", 0},
		{"profserve flags alone", "--profserve-flags --x", "need --cpuprofile", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parseFlags(strings.Fields(c.args), io.Discard)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.rate != c.rate || cfg.senders != 8 || cfg.duration != time.Minute || cfg.workload.BatchSize != 250 || cfg.workload.Users != 100000 {
				t.Errorf("config %+v", cfg)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	for _, c := range []struct {
		name                 string
		acked, dups, unknown int64
		stored               int64
		ok                   bool
	}{
		{"exact", 1000, 0, 0, 1000, true},
		{"lost", 1000, 0, 0, 999, false},
		{"extra", 1000, 0, 0, 1001, false},
		{"unanswered stored", 1000, 0, 250, 1250, true},
		{"unanswered not stored", 1000, 0, 250, 1000, true},
		{"beyond unanswered", 1000, 0, 250, 1251, false},
		{"duplicates reported", 1000, 5, 0, 995, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := verify(&loadgen.Report{EventsAcked: c.acked, Duplicates: c.dups, Unknown: c.unknown}, c.stored)
			if v.OK != c.ok {
				t.Errorf("verify = %+v, want ok %v", v, c.ok)
			}
		})
	}
}

func TestSummariseMemory(t *testing.T) {
	var flat, growing []memSample
	for i := range 20 {
		ev := int64(i) * 500000
		flat = append(flat, memSample{Acked: ev, RSS: 200 << 20})
		growing = append(growing, memSample{Acked: ev, RSS: (200 + int64(i)*5) << 20}) // 10 MB per million
	}
	if m := summariseMemory(flat); m.SlopeMBPerMEvents != 0 || m.RSSMax != 200 || m.RSSFirst != 200 {
		t.Errorf("flat: %+v", m)
	}
	if m := summariseMemory(growing); m.SlopeMBPerMEvents < 9.99 || m.SlopeMBPerMEvents > 10.01 || m.RSSLast != 295 {
		t.Errorf("growing: slope %v, last %v", m.SlopeMBPerMEvents, m.RSSLast)
	}
}
