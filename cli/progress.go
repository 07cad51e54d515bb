package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/ratchetdb/ratchet"
)

// liveAfter is how long a version runs before its live line appears: quick versions only
// print their final line.
const liveAfter = time.Second

// isTerminal reports whether stream (stdin, stdout) is a terminal: where a live line can be
// redrawn, or a question asked.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// liveLine shows, on a terminal, the version that is running once it has run for
// [liveAfter]: its script, the statement it is at and the time so far. The line is erased
// before anything else is printed, and the version's final line takes its place.
type liveLine struct {
	w     io.Writer
	after time.Duration
	// index maps a version and a statement's line to the statement's 1-based position and
	// total maps a version to its statement count, from the plan: the engine reports the
	// line of a statement it sends on its own.
	index map[int]map[int]int
	total map[int]int

	mu  sync.Mutex // guards cur and the drawing
	cur *runningVersion
}

// runningVersion is the version the live line is about.
type runningVersion struct {
	version   int
	script    string
	statement int // 1-based; 0 while none was reported
	started   time.Time
	bar       *progressbar.ProgressBar
	stop      chan struct{}
	done      chan struct{}
}

// newLiveLine returns a live line writing to w, knowing the statements of plan's versions.
func newLiveLine(w io.Writer, plan *ratchet.Plan) *liveLine {
	l := &liveLine{w: w, after: liveAfter, index: map[int]map[int]int{}, total: map[int]int{}}
	if plan != nil {
		for _, st := range plan.Steps {
			lines := map[int]int{}
			for i, s := range st.Statements {
				if _, dup := lines[s.Line]; !dup {
					lines[s.Line] = i + 1
				}
			}
			l.index[st.Version], l.total[st.Version] = lines, len(st.Statements)
		}
	}
	return l
}

// event follows the engine's events. It is called on the goroutine running the upgrade.
func (l *liveLine) event(e ratchet.Event) {
	switch e.Kind {
	case ratchet.VersionStarted:
		l.end()
		l.start(e.Version, e.Script)
	case ratchet.StatementStarted:
		l.mu.Lock()
		if r := l.cur; r != nil && r.version == e.Version {
			if i, ok := l.index[e.Version][e.Line]; ok {
				r.statement = i
			} else {
				r.statement++
			}
		}
		l.mu.Unlock()
	case ratchet.VersionApplied:
		l.end()
	}
}

// start begins following a version; its line is drawn once it has run for l.after.
func (l *liveLine) start(version int, script string) {
	r := &runningVersion{version: version, script: script, started: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	l.mu.Lock()
	l.cur = r
	l.mu.Unlock()
	go l.run(r)
}

func (l *liveLine) run(r *runningVersion) {
	defer close(r.done)
	wait := time.NewTimer(l.after)
	defer wait.Stop()
	select {
	case <-wait.C:
	case <-r.stop:
		return
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		l.mu.Lock()
		if r.bar == nil {
			// The bar's spinner mode (unknown length) draws a spinner and the description,
			// and erases its own line. Its own redrawing goroutine is off (interval 0): it
			// would draw after the line was erased; each tick here draws and turns the
			// spinner instead.
			r.bar = progressbar.NewOptions(-1,
				progressbar.OptionSetWriter(l.w),
				progressbar.OptionSetElapsedTime(false),
				progressbar.OptionSpinnerType(14),
				progressbar.OptionSetSpinnerChangeInterval(0),
				progressbar.OptionUseANSICodes(true),
			)
		}
		r.bar.Describe(l.describe(r))
		_ = r.bar.Add(1)
		l.mu.Unlock()
		select {
		case <-tick.C:
		case <-r.stop:
			return
		}
	}
}

// describe is the live line's text:
// "version 5  versions/005_x_default_upgrade.sql  statement 3 of 8  12s".
func (l *liveLine) describe(r *runningVersion) string {
	text := fmt.Sprintf("version %d  %s", r.version, r.script)
	switch n := l.total[r.version]; {
	case r.statement > 0 && n > 0:
		text += fmt.Sprintf("  statement %d of %d", r.statement, n)
	case r.statement > 0:
		text += fmt.Sprintf("  statement %d", r.statement)
	case n > 0:
		text += "  " + statements(n)
	}
	return text + "  " + time.Since(r.started).Truncate(time.Second).String()
}

// end stops following the running version and erases its line, if it was drawn.
func (l *liveLine) end() {
	l.mu.Lock()
	r := l.cur
	l.cur = nil
	l.mu.Unlock()
	if r == nil {
		return
	}
	close(r.stop)
	<-r.done
	if r.bar != nil {
		_ = r.bar.Clear()
		_ = r.bar.Exit()
	}
}

// pause erases the line, if drawn, so that another line can be printed; the next tick
// draws it again.
func (l *liveLine) pause() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil && l.cur.bar != nil {
		_ = l.cur.bar.Clear()
	}
}
