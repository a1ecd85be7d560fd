// Tests: the plain (non-terminal) output line by line, and a smoke test of the bar.

package progress

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestPlainOutput(t *testing.T) {
	type step struct {
		n      int
		fields string
	}
	// steps returns Set calls for 1..upTo with a loss that falls as it goes.
	steps := func(upTo int) []step {
		var s []step
		for n := 1; n <= upTo; n++ {
			s = append(s, step{n, fmt.Sprintf("loss %.2f", 5-float64(n)/100)})
		}
		return s
	}
	cases := []struct {
		name   string
		total  int
		desc   string
		tick   time.Duration // clock advance before each Set
		steps  []step
		finish int    // times Finish is called
		after  []step // Set calls after Finish, ignored
		want   string
	}{
		{
			name: "every tenth, then done", total: 200, desc: "epoch 1/3", tick: 100 * time.Millisecond,
			steps: steps(200), finish: 2, after: []step{{5, "late"}},
			want: `epoch 1/3: 10% 20/200 elapsed 2s eta 18s | loss 4.80
epoch 1/3: 20% 40/200 elapsed 4s eta 16s | loss 4.60
epoch 1/3: 30% 60/200 elapsed 6s eta 14s | loss 4.40
epoch 1/3: 40% 80/200 elapsed 8s eta 12s | loss 4.20
epoch 1/3: 50% 100/200 elapsed 10s eta 10s | loss 4.00
epoch 1/3: 60% 120/200 elapsed 12s eta 8s | loss 3.80
epoch 1/3: 70% 140/200 elapsed 14s eta 6s | loss 3.60
epoch 1/3: 80% 160/200 elapsed 16s eta 4s | loss 3.40
epoch 1/3: 90% 180/200 elapsed 18s eta 2s | loss 3.20
epoch 1/3: done 200/200 in 20s | loss 3.00
`,
		},
		{
			name: "stopped early", total: 100, desc: "eval", tick: time.Second,
			steps: steps(25), finish: 1,
			want: `eval: 10% 10/100 elapsed 10s eta 1m30s | loss 4.90
eval: 20% 20/100 elapsed 20s eta 1m20s | loss 4.80
eval: stopped at 25% 25/100 after 25s | loss 4.75
`,
		},
		{
			name: "one jump to the end, clamped", total: 10, tick: time.Minute,
			steps: []step{{3, ""}, {15, "acc 0.91"}}, finish: 1,
			want: `30% 3/10 elapsed 1m0s eta 2m20s
done 10/10 in 2m0s | acc 0.91
`,
		},
		{
			name: "unknown total reports every 30s", total: 0, desc: "scan", tick: 10 * time.Second,
			steps: steps(7), finish: 1,
			want: `scan: 3 elapsed 30s | loss 4.97
scan: 6 elapsed 1m0s | loss 4.94
scan: done 7 in 1m10s | loss 4.93
`,
		},
		{
			name: "finish without steps", total: 50, desc: "epoch 2", tick: time.Second, finish: 1,
			want: "epoch 2: stopped at 0% 0/50 after 0s\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			clock := &fakeClock{t: time.Unix(1e9, 0)}
			b := newBar(c.total, c.desc, &out, false, clock.now)
			for _, s := range c.steps {
				clock.t = clock.t.Add(c.tick)
				b.Set(s.n, s.fields)
			}
			for range c.finish {
				b.Finish()
			}
			for _, s := range c.after {
				b.Set(s.n, s.fields)
			}
			if got := out.String(); got != c.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

func TestNewOnBufferIsPlain(t *testing.T) {
	var out bytes.Buffer
	b := New(4, "eval", &out)
	for n := 1; n <= 4; n++ {
		b.Set(n, "acc 0.5")
	}
	b.Finish()
	got := out.String()
	if strings.ContainsAny(got, "\r\x1b") || !strings.HasPrefix(got, "eval: 25% 1/4 elapsed ") ||
		!strings.Contains(got, "eval: done 4/4 in ") || strings.Count(got, "\n") != 4 {
		t.Errorf("plain output on a buffer:\n%q", got)
	}
}

// TestTerminalBar only checks that the animated path draws the bar, the
// metrics and a final newline; its look belongs to the library.
func TestTerminalBar(t *testing.T) {
	var out bytes.Buffer
	b := newBar(100, "epoch 1/2", &out, true, time.Now)
	for n := 1; n <= 100; n++ {
		b.Set(n, "loss 4.12 img/s 812")
	}
	b.Finish()
	got := out.String()
	for _, want := range []string{"\r", "100%", "(100/100)", "epoch 1/2: loss 4.12 img/s 812"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar output lacks %q:\n%q", want, got)
		}
	}
	if !strings.HasSuffix(got, "\n") {
		t.Errorf("bar output does not end with a newline:\n%q", got)
	}

	out.Reset()
	b = newBar(100, "eval", &out, true, time.Now)
	for n := 1; n <= 40; n++ {
		b.Set(n, "acc 0.3") // all but the first are throttled
	}
	b.Finish()
	got = out.String()
	last := got[strings.LastIndex(got, "\r"):]
	if !strings.Contains(last, "(40/100)") || strings.Contains(got, "100%") || !strings.HasSuffix(got, "\n") {
		t.Errorf("a bar stopped at 40/100 should end showing 40/100 and a newline:\n%q", got)
	}
}

func TestConcurrentSet(t *testing.T) {
	var out bytes.Buffer
	b := New(1000, "x", &out)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := g; n <= 1000; n += 4 {
				b.Set(n, "")
			}
		})
	}
	wg.Wait()
	b.Finish()
	if lines := strings.Count(out.String(), "\n"); lines < 1 || lines > 11 {
		t.Errorf("%d lines for one loop, want 1 to 11:\n%s", lines, out.String())
	}
}
