// Package progress shows the trainer's and evaluator's progress: an animated
// bar with ETA and metrics on a terminal, and plain log lines every 10%
// everywhere else (CI, log files, pipes), where carriage returns would only
// produce noise.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// unknownTotalEvery is how often the plain output reports when the total is
// unknown and there are no tenths to report at.
const unknownTotalEvery = 30 * time.Second

// redrawEvery limits terminal redraws to a rate a person can read.
const redrawEvery = 100 * time.Millisecond

// Bar tracks one loop (an epoch, an evaluation pass). Create it with New,
// call Set after each step and Finish once when the loop ends. It is safe
// for use by several goroutines.
type Bar struct {
	mu     sync.Mutex
	desc   string
	total  int // <= 0: unknown
	w      io.Writer
	pb     *progressbar.ProgressBar // nil on a non-terminal
	now    func() time.Time
	start  time.Time
	n      int
	fields string
	done   bool

	lastDraw time.Time // terminal: when the bar was last redrawn

	// Plain output state.
	lastTenth   int // last tenth of total reported, 0..10
	lastPrintN  int // n at the last line printed, -1 before any
	lastPrintAt time.Time
}

// New starts a bar for a loop of total steps described by desc ("epoch
// 3/100", "eval"), writing to w. A total <= 0 means unknown. Whether w is a
// terminal decides between the animated bar and plain lines.
func New(total int, desc string, w io.Writer) *Bar {
	return newBar(total, desc, w, isTerminal(w), time.Now)
}

func newBar(total int, desc string, w io.Writer, terminal bool, now func() time.Time) *Bar {
	b := &Bar{desc: desc, total: total, w: w, now: now, start: now(), lastPrintN: -1}
	if terminal {
		limit := total
		if limit <= 0 {
			limit = -1 // the library's spinner for an unknown length
		}
		b.pb = progressbar.NewOptions(limit,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			// Metrics go last so their changing width does not move the bar.
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	b.lastPrintAt = b.start
	return b
}

// isTerminal reports whether w is a terminal that can redraw a line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
}

// Set records that n steps are done and shows fields (for example
// "loss 4.12 acc 0.31 lr 0.3 img/s 812") beside the bar. n beyond the total
// is clamped.
func (b *Bar) Set(n int, fields string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	if b.total > 0 && n > b.total {
		n = b.total
	}
	b.n, b.fields = n, fields
	if b.pb != nil {
		// Throttle here rather than in the library, whose throttle drops
		// the last updates and would leave a stale count when Finish
		// ends the loop early.
		if now := b.now(); now.Sub(b.lastDraw) >= redrawEvery || (b.total > 0 && n >= b.total) {
			b.draw()
			b.lastDraw = now
		}
		return
	}
	b.plainUpdate()
}

// Finish ends the bar, leaving its last state on screen (or in the log)
// followed by a newline. Call it once when the loop ends, early or not;
// further calls to Set or Finish do nothing.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	b.done = true
	if b.pb != nil {
		b.draw()
		if b.total > 0 && b.n >= b.total {
			_ = b.pb.Finish()
		} else {
			_ = b.pb.Exit()
		}
		fmt.Fprintln(b.w)
		return
	}
	// A finished loop was already reported when it reached the total.
	if b.total <= 0 || b.n < b.total || b.n != b.lastPrintN {
		b.printLine()
	}
}

// draw redraws the terminal bar with the current count and metrics.
func (b *Bar) draw() {
	b.pb.Describe(b.label())
	_ = b.pb.Set(b.n) // errors only past the max, which Set's clamp rules out
}

// label is the text after the bar: description and metrics.
func (b *Bar) label() string {
	if b.fields == "" {
		return b.desc
	}
	if b.desc == "" {
		return b.fields
	}
	return b.desc + ": " + b.fields
}

// plainUpdate prints a line when n crosses into a new tenth of the total,
// or, for an unknown total, when enough time has passed.
func (b *Bar) plainUpdate() {
	if b.total <= 0 {
		if b.now().Sub(b.lastPrintAt) >= unknownTotalEvery {
			b.printLine()
		}
		return
	}
	if tenth := 10 * b.n / b.total; tenth > b.lastTenth {
		b.lastTenth = tenth
		b.printLine()
	}
}

// printLine writes one plain progress line, such as
// "epoch 3/100: 40% 400/1000 elapsed 1m2s eta 1m33s | loss 4.12 acc 0.31",
// or "done 1000/1000 in 2m35s" once the total is reached.
func (b *Bar) printLine() {
	now := b.now()
	elapsed := now.Sub(b.start)
	var s strings.Builder
	if b.desc != "" {
		s.WriteString(b.desc)
		s.WriteString(": ")
	}
	switch {
	case b.total <= 0 && b.done:
		fmt.Fprintf(&s, "done %d in %s", b.n, round(elapsed))
	case b.total <= 0:
		fmt.Fprintf(&s, "%d elapsed %s", b.n, round(elapsed))
	case b.n >= b.total:
		fmt.Fprintf(&s, "done %d/%d in %s", b.n, b.total, round(elapsed))
	case b.done:
		fmt.Fprintf(&s, "stopped at %d%% %d/%d after %s", 100*b.n/b.total, b.n, b.total, round(elapsed))
	default:
		fmt.Fprintf(&s, "%d%% %d/%d elapsed %s", 100*b.n/b.total, b.n, b.total, round(elapsed))
		if b.n > 0 {
			eta := time.Duration(float64(elapsed) * float64(b.total-b.n) / float64(b.n))
			fmt.Fprintf(&s, " eta %s", round(eta))
		}
	}
	if b.fields != "" {
		s.WriteString(" | ")
		s.WriteString(b.fields)
	}
	s.WriteByte('\n')
	io.WriteString(b.w, s.String())
	b.lastPrintN, b.lastPrintAt = b.n, now
}

// round drops sub-second noise from long durations.
func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
