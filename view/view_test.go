// End-to-end tests of the viewer: a real window under Xvfb, presented
// through a Vulkan swapchain (lavapipe), driven by --script, checked in its
// screenshots and in an X-side capture of the screen, with validation on.
package view

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/train"
)

// The test binary doubles as the viewer: with VKCLR_VIEW_ARGS set it runs
// Command on the main thread (glfw's requirement) instead of the tests.
func TestMain(m *testing.M) {
	if a, ok := os.LookupEnv("VKCLR_VIEW_ARGS"); ok {
		if err := Command(strings.Split(a, "\x1f")); err != nil {
			fmt.Fprintf(os.Stderr, "vkclr view: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startXvfb starts a virtual X server and returns its DISPLAY.
func startXvfb(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Fatalf("Xvfb not found (%v): the viewer tests need it; tools/deps.sh viewer installs xvfb and x11-apps", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// Xvfb writes the number and its newline in two writes and stops with "Cannot write display
	// number to fd 3" if the second one fails. So the whole line is read, and the read end stays
	// open until the server has exited: reading one chunk and dropping r let the garbage collector
	// close the pipe between the two writes, and the server died under the viewer ("Failed to
	// open display", seen only under load: full `make test` runs, CI, three test binaries at once).
	t.Cleanup(func() { r.Close() }) // registered first, so it runs after the server has been stopped
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// SIGTERM first, so the server removes its lock file and socket (a killed one leaves them, and
	// the next test's server on the same display number starts beside them); SIGKILL if it hangs.
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case d := <-num:
		if d == "" {
			t.Fatalf("Xvfb did not start: %s", log.String())
		}
		// The server writes the number once it is ready; that its socket takes a connection is
		// checked all the same, so that a server that reported and then died fails here, by name.
		sock := "/tmp/.X11-unix/X" + d
		for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
			if c, err := net.Dial("unix", sock); err == nil {
				c.Close()
				return ":" + d
			} else if time.Since(start) > 30*time.Second {
				t.Fatalf("Xvfb reported display :%s but %s takes no connection: %v\n%s", d, sock, err, log.String())
			}
			select {
			case <-exited:
				t.Fatalf("Xvfb exited after reporting display :%s: %s", d, log.String())
			default:
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Xvfb did not report a display within 30 s: %s", log.String())
	}
	return ""
}

// viewerRun is one run of the viewer in a child process.
type viewerRun struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{} // closed when the child has exited (err then holds its Wait error)
	err            error
}

// syncBuffer is a bytes.Buffer the child's output goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startViewer(t *testing.T, display, dir string, args ...string) *viewerRun {
	t.Helper()
	v := &viewerRun{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	v.cmd.Dir = dir
	v.cmd.Env = append(os.Environ(), "DISPLAY="+display, "VKCLR_VALIDATE=1", "VKCLR_VIEW_ARGS="+strings.Join(args, "\x1f"))
	v.cmd.Stdout, v.cmd.Stderr = &v.stdout, &v.stderr
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	v.done = make(chan struct{})
	go func() { v.err = v.cmd.Wait(); close(v.done) }()
	return v
}

// wait ends the run and checks that it exited cleanly with no validation message.
func (v *viewerRun) wait(t *testing.T) {
	t.Helper()
	select {
	case <-v.done:
		if v.err != nil {
			t.Fatalf("viewer: %v\nstdout:\n%s\nstderr:\n%s", v.err, v.stdout.String(), v.stderr.String())
		}
	case <-time.After(3 * time.Minute):
		v.cmd.Process.Kill()
		t.Fatalf("viewer did not finish in 3 minutes\nstdout:\n%s\nstderr:\n%s", v.stdout.String(), v.stderr.String())
	}
	if !strings.Contains(v.stderr.String(), "vkclr view: 0 Vulkan validation messages") || strings.Contains(v.stderr.String(), "vulkan validation") {
		t.Errorf("validation layer messages (or validation not on):\n%s", v.stderr.String())
	}
	m := regexp.MustCompile(`presented (\d+) frames`).FindStringSubmatch(v.stdout.String())
	if m == nil {
		t.Fatalf("no frame count in the output:\n%s", v.stdout.String())
	}
	if n, _ := strconv.Atoi(m[1]); n < 3 {
		t.Errorf("presented %d frames, want at least 3", n)
	}
}

// waitShot waits for the viewer to report a screenshot (written and closed before the report).
func waitShot(t *testing.T, v *viewerRun, name string) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 3*time.Minute; time.Sleep(50 * time.Millisecond) {
		if strings.Contains(v.stdout.String(), "screenshot "+name+":") {
			return
		}
		select {
		case <-v.done: // exited without it: no use waiting out the 3 minutes
			t.Fatalf("no screenshot %s: the viewer exited (%v)\nstdout:\n%s\nstderr:\n%s", name, v.err, v.stdout.String(), v.stderr.String())
		default:
		}
	}
	t.Fatalf("no screenshot %s\nstdout:\n%s\nstderr:\n%s", name, v.stdout.String(), v.stderr.String())
}

func readPNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := image.NewRGBA(m.Bounds())
	for y := m.Bounds().Min.Y; y < m.Bounds().Max.Y; y++ {
		for x := m.Bounds().Min.X; x < m.Bounds().Max.X; x++ {
			out.Set(x, y, m.At(x, y))
		}
	}
	return out
}

// checkOnScreen captures the X root window (xwd) and checks that the window
// at the position the viewer reported shows exactly the screenshot.
func checkOnScreen(t *testing.T, display string, v *viewerRun, shot string) {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(filepath.Base(shot)) + `: (\d+)x(\d+) at (-?\d+),(-?\d+)`).FindStringSubmatch(v.stdout.String())
	if m == nil {
		t.Fatalf("no report of %s in:\n%s", shot, v.stdout.String())
	}
	x0, _ := strconv.Atoi(m[3])
	y0, _ := strconv.Atoi(m[4])
	want := readPNG(t, shot)
	out, err := exec.Command("xwd", "-root", "-silent", "-display", display).Output()
	if err != nil {
		t.Fatalf("xwd (x11-apps): %v", err)
	}
	screen, err := decodeXWD(out)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g, w := screen.RGBAAt(x0+x, y0+y), want.RGBAAt(x, y); g != w {
				if bad++; bad <= 5 {
					t.Errorf("screen at %d,%d: %v, screenshot %v", x0+x, y0+y, g, w)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d pixels on the X screen differ from %s: the frame was not presented", bad, b.Dx()*b.Dy(), shot)
	}
}

// writeImageFolder makes a tiny image-folder dataset (DIR/train/CLASS/*.png).
func writeImageFolder(t *testing.T, root string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, cl := range []string{"ants", "bees"} {
		d := filepath.Join(root, "train", cl)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			img := image.NewRGBA(image.Rect(0, 0, 16, 16))
			for j := range img.Pix {
				img.Pix[j] = uint8(rng.IntN(256))
			}
			f, err := os.Create(filepath.Join(d, fmt.Sprintf("%d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
		}
	}
}

// metricLines are metrics.jsonl records: steps from..to with a falling loss,
// a warm-up then flat learning rate and a rising accuracy; every 10 steps an
// epoch line with a kNN accuracy.
func metricLines(from, to int) ([]train.Record, string) {
	var recs []train.Record
	var b strings.Builder
	for s := from; s <= to; s++ {
		r := train.Record{Kind: "step", Step: s, Epoch: 1 + (s-1)/10, Loss: 4 / math.Sqrt(float64(s)) * (1 + 0.1*math.Sin(float64(s))),
			Acc: float64(s) / float64(s+10), LR: 0.5 * min(1, float64(s)/8), Time: float64(s)}
		recs = append(recs, r)
		if s%10 == 0 {
			recs = append(recs, train.Record{Kind: "epoch", Step: s, Epoch: s / 10, Loss: r.Loss, Time: float64(s),
				Extra: map[string]float64{"knn_top1": 0.3 + 0.5*float64(s)/float64(s+20)}})
		}
	}
	for _, r := range recs {
		j, _ := json.Marshal(r)
		b.Write(j)
		b.WriteByte('\n')
	}
	return recs, b.String()
}

// checkCurves checks a curves-panel screenshot against the records: every
// data point's pixel has its curve's colour, and in each point's column the
// curve's pixels stay between its neighbours' heights. The mapping from data
// to pixels is computed here from scratch; only the chart areas come from
// the package (ChartAreas).
func checkCurves(t *testing.T, name string, img *image.RGBA, recs []train.Record) {
	t.Helper()
	type pt struct{ x, y float64 }
	series := make([][]pt, 4)
	maxStep := 0.0
	for _, r := range recs {
		s := float64(r.Step)
		maxStep = max(maxStep, s)
		if r.Kind == "step" {
			series[0] = append(series[0], pt{s, r.Loss})
			series[1] = append(series[1], pt{s, r.LR})
			series[2] = append(series[2], pt{s, 100 * r.Acc})
		} else {
			series[3] = append(series[3], pt{s, 100 * r.Extra["knn_top1"]})
		}
	}
	colours := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}}
	areas := ChartAreas(img.Rect.Dx(), img.Rect.Dy())
	for i, ps := range series {
		a := areas[i]
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range ps {
			lo, hi = min(lo, p.y), max(hi, p.y)
		}
		px := make([]image.Point, len(ps))
		for j, p := range ps {
			px[j] = image.Pt(a.Min.X+int(math.Round(p.x/maxStep*float64(a.Dx()-1))),
				a.Max.Y-1-int(math.Round((p.y-lo)/(hi-lo)*float64(a.Dy()-1))))
		}
		for j, p := range px {
			if got := img.RGBAAt(p.X, p.Y); got != colours[i] {
				t.Errorf("%s: chart %d, point %d (step %g, %g) at %v: colour %v, want %v", name, i, j, ps[j].x, ps[j].y, p, got, colours[i])
			}
			ylo, yhi := p.Y, p.Y
			for _, k := range []int{j - 1, j + 1} {
				if k >= 0 && k < len(px) && px[k].X != p.X {
					ylo, yhi = min(ylo, px[k].Y), max(yhi, px[k].Y)
				}
			}
			for y := a.Min.Y; y < a.Max.Y; y++ {
				if img.RGBAAt(p.X, y) == colours[i] && (y < ylo || y > yhi) {
					t.Errorf("%s: chart %d, column %d: curve pixel at y=%d, outside [%d, %d] that the data allows", name, i, p.X, y, ylo, yhi)
					break
				}
			}
		}
	}
}

func TestViewRun(t *testing.T) {
	display := startXvfb(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "pics")
	writeImageFolder(t, data)
	run := filepath.Join(dir, "run")
	os.MkdirAll(run, 0o755)
	cfg := train.Presets["demo"]
	cfg.Data, cfg.Subset, cfg.Out = data, 0, run
	cfg.Model = model.Config{Arch: "resnet18", Width: 2, Stem: "cifar", InChannels: 3, ImageSize: 16}
	if err := cfg.WriteJSON(filepath.Join(run, train.ConfigFile)); err != nil {
		t.Fatal(err)
	}
	recs1, lines1 := metricLines(1, 30)
	os.WriteFile(filepath.Join(run, train.MetricsFile), []byte(lines1), 0o644)

	v := startViewer(t, display, dir, "run", "--size", "800x560", "--script",
		"frames 2; shot a.png; waitfile grown; frames 3; shot b.png; resize 640 420; frames 3; shot d.png; key Tab; frames 2; shot c.png; key S; quit")
	waitShot(t, v, "a.png")
	checkOnScreen(t, display, v, filepath.Join(dir, "a.png"))
	// The run goes on: the viewer must pick up the new lines by itself.
	recs2, lines2 := metricLines(31, 57)
	f, _ := os.OpenFile(filepath.Join(run, train.MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(lines2)
	f.Close()
	os.WriteFile(filepath.Join(dir, "grown"), nil, 0o644)
	v.wait(t)

	a := readPNG(t, filepath.Join(dir, "a.png"))
	if a.Rect.Dx() != 800 || a.Rect.Dy() != 560 {
		t.Fatalf("a.png is %v, want 800x560", a.Rect)
	}
	checkCurves(t, "a.png", a, recs1)
	all := append(recs1, recs2...)
	checkCurves(t, "b.png (after metrics.jsonl grew)", readPNG(t, filepath.Join(dir, "b.png")), all)
	d := readPNG(t, filepath.Join(dir, "d.png"))
	if d.Rect.Dx() != 640 || d.Rect.Dy() != 420 {
		t.Fatalf("after the resize the frame is %v, want 640x420 (swapchain not rebuilt?)", d.Rect)
	}
	checkCurves(t, "d.png (resized)", d, all)
	// The settings panel: the run's settings on the left and the augmented pairs on the right.
	c := readPNG(t, filepath.Join(dir, "c.png"))
	// The s key saves what is on screen.
	if shots, _ := filepath.Glob(filepath.Join(dir, "vkclr-view-*.png")); len(shots) != 1 {
		t.Errorf("the s key saved %d screenshots, want 1", len(shots))
	} else if s := readPNG(t, shots[0]); !bytes.Equal(s.Pix, c.Pix) {
		t.Errorf("%s differs from the frame on screen", shots[0])
	}
	if bytes.Equal(c.Pix, d.Pix) {
		t.Fatal("Tab did not switch panels")
	}
	distinct := map[color.RGBA]bool{}
	for y := headerH + 30; y < c.Rect.Dy(); y++ {
		for x := 300; x < c.Rect.Dx(); x++ {
			distinct[c.RGBAAt(x, y)] = true
		}
	}
	if len(distinct) < 100 {
		t.Errorf("settings panel: %d distinct colours where the augmented views should be, want a picture", len(distinct))
	}
}

// embeddingsFile writes n random unit-ish features with labels and images
// (h x w RGB, random), as `vkclr embed --images` would.
func embeddingsFile(t *testing.T, path string, n, dim, h, w int) (feats []float64, labels []int, imgs []uint8) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	f32 := make([]float32, n*dim)
	for i := range f32 {
		f32[i] = float32(rng.NormFloat64())
	}
	lab := make([]int64, n)
	labels = make([]int, n)
	for i := range lab {
		lab[i], labels[i] = int64(i%3), i%3
	}
	imgs = make([]uint8, n*h*w*3)
	for i := range imgs {
		imgs[i] = uint8(rng.IntN(256))
	}
	f := safetensors.NewFile(safetensors.F32("features", []int{n, dim}, f32), safetensors.I64("labels", []int{n}, lab),
		&safetensors.Tensor{Name: "images", DType: safetensors.DTypeU8, Shape: []int{n, h, w, 3}, Data: imgs})
	f.Metadata = map[string]string{"classes": "ants,bees,wasps"}
	if err := safetensors.Write(path, f); err != nil {
		t.Fatal(err)
	}
	feats = make([]float64, n*dim)
	for i := range n {
		var s float64
		for j := range dim {
			s += float64(f32[i*dim+j]) * float64(f32[i*dim+j])
		}
		for j := range dim {
			feats[i*dim+j] = float64(f32[i*dim+j]) / math.Sqrt(s)
		}
	}
	return feats, labels, imgs
}

type nb struct {
	i   int
	sim float64
}

// ranked lists every other image by decreasing cosine similarity to q.
func ranked(feats []float64, n, dim, q int) []nb {
	var out []nb
	for i := range n {
		if i == q {
			continue
		}
		var s float64
		for j := range dim {
			s += feats[q*dim+j] * feats[i*dim+j]
		}
		out = append(out, nb{i, s})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].sim > out[b].sim })
	return out
}

func TestViewEmbeddings(t *testing.T) {
	display := startXvfb(t)
	dir := t.TempDir()
	const n, dim, h, w, k = 50, 12, 6, 6, 5
	const W, H = 900, 600
	feats, labels, imgs := embeddingsFile(t, filepath.Join(dir, "feats.safetensors"), n, dim, h, w)
	l := Layout(W, H, h, w, k)
	if len(l.Result) != k+1 || len(l.Grid) < 8 {
		t.Fatalf("layout of %dx%d: %d result cells, %d grid cells; the test wants %d and 8", W, H, len(l.Result), len(l.Grid), k+1)
	}
	click := l.Grid[7].Min.Add(image.Pt(l.Grid[7].Dx()/2, l.Grid[7].Dy()/2))
	v := startViewer(t, display, dir, "--embeddings", "feats.safetensors", "--k", strconv.Itoa(k), "--size", fmt.Sprintf("%dx%d", W, H), "--script",
		fmt.Sprintf("frames 2; print; shot q0.png; waitfile go; key Right; print; shot q1.png; click %d %d; print; shot q2.png; key Down; print; shot q3.png; quit", click.X, click.Y))
	waitShot(t, v, "q0.png")
	checkOnScreen(t, display, v, filepath.Join(dir, "q0.png"))
	os.WriteFile(filepath.Join(dir, "go"), nil, 0o644)
	v.wait(t)

	prints := regexp.MustCompile(`(?m)^query (\d+):(.*)$`).FindAllStringSubmatch(v.stdout.String(), -1)
	if len(prints) != 4 {
		t.Fatalf("want 4 query reports, got:\n%s", v.stdout.String())
	}
	cols := 0 // the grid's columns: Down moves the query one row
	for _, r := range l.Grid {
		if r.Min.Y == l.Grid[0].Min.Y {
			cols++
		}
	}
	// The first image, Right, the click on grid cell 7, Down (beyond the 8 queries answered so far).
	for s, q := range []int{0, 1, 7, 7 + cols} {
		shot := fmt.Sprintf("q%d.png", s)
		if got, _ := strconv.Atoi(prints[s][1]); got != q {
			t.Fatalf("%s: query %d, want %d", shot, got, q)
		}
		want := ranked(feats, n, dim, q)
		if gap := want[k-1].sim - want[k].sim; gap < 1e-4 {
			t.Fatalf("test data: neighbours %d and %d of %d are %.2g apart, too close to order", k, k+1, q, gap)
		}
		fields := strings.Fields(prints[s][2])
		if len(fields) != k {
			t.Fatalf("%s: %d neighbours reported, want %d", shot, len(fields), k)
		}
		for r, fld := range fields {
			var i int
			var sim float64
			fmt.Sscanf(fld, "%d=%g", &i, &sim)
			// The device computes in float32; 1e-5 is a few float32 roundings of a 12-term dot product.
			if i != want[r].i || math.Abs(sim-want[r].sim) > 1e-5 {
				t.Errorf("%s: neighbour %d is %d (sim %.6f), want %d (%.6f)", shot, r+1, i, sim, want[r].i, want[r].sim)
			}
		}
		img := readPNG(t, filepath.Join(dir, shot))
		for cell := range k + 1 {
			idx := q
			if cell > 0 {
				idx = want[cell-1].i
			}
			r := l.Result[cell]
			bad := 0
			for y := range h {
				for x := range w {
					p := imgs[((idx*h+y)*w+x)*3:]
					c := color.RGBA{p[0], p[1], p[2], 255}
					if got := img.RGBAAt(r.Min.X+x*l.Zoom+l.Zoom/2, r.Min.Y+y*l.Zoom+l.Zoom/2); got != c {
						bad++
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s: cell %d should show image %d (rank %d): %d of %d pixels differ", shot, cell, idx, cell, bad, h*w)
			}
		}
	}
	// Per-class leave-one-out kNN accuracy, k = 20, weights exp(sim/0.1), every image a query.
	correct, total := make([]int, 3), make([]int, 3)
	for q := range n {
		votes := make([]float64, 3)
		for _, x := range ranked(feats, n, dim, q)[:20] {
			votes[labels[x.i]] += math.Exp(x.sim / 0.1)
		}
		best := 0
		for c := range votes {
			if votes[c] > votes[best] {
				best = c
			}
		}
		total[labels[q]]++
		if best == labels[q] {
			correct[labels[q]]++
		}
	}
	for c := range 3 {
		if line := fmt.Sprintf("knn class %d: %d/%d", c, correct[c], total[c]); !strings.Contains(v.stdout.String(), line) {
			t.Errorf("want %q in the report:\n%s", line, v.stdout.String())
		}
	}
}

// Bad input and no display: a clear message, a non-zero exit, nothing written.
func TestViewErrors(t *testing.T) {
	display := startXvfb(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o644)
	f := safetensors.NewFile(safetensors.F32("features", []int{4, 2}, make([]float32, 8)))
	if err := safetensors.Write(filepath.Join(dir, "noimages.safetensors"), f); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	os.MkdirAll(run, 0o755)
	cfg := train.Presets["demo"]
	cfg.WriteJSON(filepath.Join(run, train.ConfigFile))
	before, _ := os.ReadDir(dir)
	for _, c := range []struct {
		display string
		args    []string
		want    string
	}{
		{display, []string{"empty"}, "empty is not a run folder: it has no config.json"},
		{display, []string{"file"}, "file is not a run folder (a file, not a folder)"},
		{display, []string{"missing"}, "missing is not a run folder"},
		{display, []string{"--embeddings", "noimages.safetensors"}, "carries no images and names no dataset; write it again with 'vkclr embed --images"},
		{display, []string{"--embeddings", "file"}, "safetensors"},
		{"", []string{"run"}, "no display: DISPLAY is not set"},
		{display, []string{}, "nothing to show"},
	} {
		v := startViewer(t, c.display, dir, c.args...)
		<-v.done
		err := v.err
		if code := v.cmd.ProcessState.ExitCode(); err == nil || code != 1 {
			t.Errorf("view %v: exit %d (%v), want 1", c.args, code, err)
		}
		if !strings.Contains(v.stderr.String(), c.want) {
			t.Errorf("view %v: stderr %q, want it to say %q", c.args, v.stderr.String(), c.want)
		}
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) {
		t.Errorf("failed runs wrote files: %d entries before, %d after", len(before), len(after))
	}
}
