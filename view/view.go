// Package view is `vkclr view`: a window on a training run (curves that
// follow metrics.jsonl live, the settings, augmented views of the data) and
// on embeddings (a query image and its nearest neighbours, per-class kNN
// accuracy). It is the only package that imports glfw, and only binaries
// built with the `viewer` tag link it, so headless training needs no X11.
//
// Design: every frame is composed on the host as an RGBA image (text,
// lines, thumbnails) and handed to vk.Swapchain, which copies it into the
// acquired swapchain image and presents it; no graphics pipeline. Frames
// are composed only when something changed (a key, a resize, metrics.jsonl
// grew), so an idle or minimized window costs nothing. Neighbour search is
// one matmul on the device (ops' GEMM).
package view

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"github.com/go-gl/glfw/v3.3/glfw"
	"github.com/spf13/pflag"

	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/vk"
)

// glfw calls must come from the main thread.
func init() { runtime.LockOSThread() }

// Options of one viewer session.
type Options struct {
	Run        string // run folder ("" for none)
	Embeddings string // a `vkclr embed` file ("" for none)
	K          int    // neighbours shown
	KNNQueries int    // images classified for the per-class kNN accuracy
	Width      int
	Height     int
	Device     string
	Validate   bool
	ShotDir    string    // where the s key saves screenshots
	Script     string    // test driving: see runScript
	Out        io.Writer // messages (screenshots saved, script reports)
}

const keysHelp = "Tab panels  s screenshot  q quit"

// Command runs `vkclr view` with its command-line arguments.
func Command(args []string) error {
	fs := pflag.NewFlagSet("view", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: vkclr view RUN_FOLDER | --embeddings FEATS.safetensors [RUN_FOLDER]\n\n"+
			"A window on a run (curves live, settings, augmented views) and on embeddings\n(nearest neighbours). Keys: %s, arrows/click choose the query.\n\nFlags:\n%s", keysHelp, fs.FlagUsages())
	}
	var o Options
	fs.StringVar(&o.Embeddings, "embeddings", "", "a 'vkclr embed' file: show nearest neighbours")
	fs.IntVarP(&o.K, "k", "k", 8, "neighbours shown")
	fs.IntVar(&o.KNNQueries, "knn-queries", 2000, "images classified (leave-one-out) for the per-class kNN accuracy")
	size := fs.String("size", "1100x700", "window size WxH")
	fs.StringVar(&o.Device, "device", "", "Vulkan device: index or name substring")
	fs.BoolVar(&o.Validate, "vk-validate", false, "enable the Vulkan validation layer")
	fs.StringVar(&o.ShotDir, "shots", ".", "folder for screenshots (the s key)")
	fs.StringVar(&o.Script, "script", "", "for tests: commands run frame by frame ('frames N; key Tab; click X Y; shot F.png; waitfile F; resize W H; quit')")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := fmt.Sscanf(*size, "%dx%d", &o.Width, &o.Height); err != nil || o.Width < 64 || o.Height < 64 {
		return fmt.Errorf("--size %q: want WxH, at least 64x64", *size)
	}
	switch fs.NArg() {
	case 0:
	case 1:
		o.Run = fs.Arg(0)
	default:
		return fmt.Errorf("one run folder at most, got %q", fs.Args())
	}
	if o.Run == "" && o.Embeddings == "" {
		return fmt.Errorf("nothing to show: give a run folder, --embeddings FEATS.safetensors, or both")
	}
	if o.K < 1 {
		return fmt.Errorf("--k %d: must be positive", o.K)
	}
	o.Out = os.Stdout
	return Main(o)
}

// Main opens the window and runs until it is closed.
func Main(o Options) (err error) {
	// Inputs first: a bad run folder or embeddings file fails before any window.
	var run *runView
	var emb *embeddings
	if o.Run != "" {
		if run, err = openRun(o.Run); err != nil {
			return err
		}
	}
	if o.Embeddings != "" {
		if emb, err = openEmbeddings(o.Embeddings); err != nil {
			return err
		}
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return fmt.Errorf("no display: DISPLAY is not set; run the viewer in a desktop session, over 'ssh -X', or under xvfb-run")
	}
	if err := glfw.Init(); err != nil {
		return fmt.Errorf("cannot open a window on display %q: %w", os.Getenv("DISPLAY"), err)
	}
	defer glfw.Terminate()
	if !glfw.VulkanSupported() {
		return fmt.Errorf("%w: glfw found no Vulkan loader with window-system support; install libvulkan1 and a driver (mesa-vulkan-drivers)", vk.ErrNoPresent)
	}
	glfw.WindowHint(glfw.ClientAPI, glfw.NoAPI)
	glfw.WindowHint(glfw.Resizable, glfw.True)
	win, err := glfw.CreateWindow(o.Width, o.Height, "vkclr view", nil, nil)
	if err != nil {
		return fmt.Errorf("cannot open a window: %w", err)
	}
	defer win.Destroy()
	ctx, err := vk.Open(vk.Options{Device: o.Device, Validate: o.Validate, InstanceExtensions: win.GetRequiredInstanceExtensions(), Present: true})
	if err != nil {
		return err
	}
	// Counted after everything is destroyed, so leaks reported at vkDestroyDevice count too.
	defer func(validating bool) {
		if validating {
			fmt.Fprintf(os.Stderr, "vkclr view: %d Vulkan validation messages\n", vk.ValidationMessages())
		}
	}(ctx.Validating())
	defer ctx.Close()
	h := ctx.InstanceHandle()
	ref, err := win.CreateWindowSurface(*(**byte)(unsafe.Pointer(&h)), nil)
	if err != nil {
		return fmt.Errorf("%w: cannot create a Vulkan surface for the window: %w", vk.ErrNoPresent, err)
	}
	// glfw returns the address of the VkSurfaceKHR it filled in, not the handle.
	surface := **(**uintptr)(unsafe.Pointer(&ref))
	fw, fh := win.GetFramebufferSize()
	sc, err := ctx.NewSwapchain(surface, fw, fh)
	if err != nil {
		return err
	}
	defer sc.Close()

	v := &viewer{o: o, win: win, sc: sc, run: run, fb: image.Pt(fw, fh)}
	if emb != nil {
		k, err := ops.New(ctx, ops.Options{})
		if err != nil {
			return err
		}
		x, err := newIndex(&train.Session{Ctx: ctx, K: k}, emb)
		if err != nil {
			return err
		}
		defer x.close()
		v.nv = &neighbourView{e: emb, x: x, k: o.K}
		v.nv.accK = min(20, emb.n-1)
		if v.nv.acc, v.nv.accN, err = x.knnAccuracy(emb, v.nv.accK, o.KNNQueries); err != nil {
			return err
		}
		if err := v.nv.setQuery(0); err != nil {
			return err
		}
	}
	return v.loop()
}

// viewer is the window's state between frames.
type viewer struct {
	o      Options
	win    *glfw.Window
	sc     *vk.Swapchain
	run    *runView
	nv     *neighbourView
	panel  int
	dirty  bool
	frame  *image.RGBA // the last composed frame
	frames int         // frames presented
	fb     image.Point // framebuffer size the swapchain was built for
	err    error       // from a callback, ends the loop
}

// panels lists what Tab cycles through.
func (v *viewer) panels() []string {
	var p []string
	if v.run != nil {
		p = append(p, "curves", "settings")
	}
	if v.nv != nil {
		p = append(p, "neighbours")
	}
	return p
}

func (v *viewer) compose(w, h int) *image.RGBA {
	img := v.frame
	if img == nil || img.Rect.Dx() != w || img.Rect.Dy() != h {
		img = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	switch v.panels()[v.panel] {
	case "curves":
		v.run.drawCurves(img, keysHelp)
	case "settings":
		v.run.drawSettings(img, keysHelp)
	case "neighbours":
		v.nv.draw(img, keysHelp+"  arrows/click query")
	}
	return img
}

func (v *viewer) fail(err error) {
	if err != nil && v.err == nil {
		v.err = err
		v.win.SetShouldClose(true)
	}
}

func (v *viewer) key(k glfw.Key) {
	v.dirty = true
	switch k {
	case glfw.KeyQ, glfw.KeyEscape:
		v.win.SetShouldClose(true)
	case glfw.KeyTab:
		v.panel = (v.panel + 1) % len(v.panels())
	case glfw.KeyS:
		name := filepath.Join(v.o.ShotDir, "vkclr-view-"+time.Now().Format("20060102-150405.000")+".png")
		if err := v.screenshot(name); err != nil {
			fmt.Fprintf(os.Stderr, "vkclr view: screenshot: %v\n", err)
		}
	}
	if v.nv == nil || v.panels()[v.panel] != "neighbours" {
		return
	}
	step := map[glfw.Key]int{glfw.KeyLeft: -1, glfw.KeyRight: 1, glfw.KeyUp: -1, glfw.KeyDown: 1,
		glfw.KeyPageUp: -len(v.nv.layout.Grid), glfw.KeyPageDown: len(v.nv.layout.Grid)}
	if k == glfw.KeyUp || k == glfw.KeyDown {
		cols := 1
		if g := v.nv.layout.Grid; len(g) > 1 {
			for cols < len(g) && g[cols].Min.Y == g[0].Min.Y {
				cols++
			}
		}
		step[k] *= cols
	}
	if d, ok := step[k]; ok {
		v.fail(v.nv.move(d))
	}
}

func (v *viewer) click(x, y int) {
	if v.nv != nil && v.panels()[v.panel] == "neighbours" {
		hit, err := v.nv.click(x, y)
		v.fail(err)
		v.dirty = v.dirty || hit
	}
}

// screenshot writes the frame on screen as a PNG.
func (v *viewer) screenshot(name string) error {
	if v.frame == nil {
		return errors.New("no frame presented yet")
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := png.Encode(f, v.frame); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	x, y := v.win.GetPos()
	fmt.Fprintf(v.o.Out, "screenshot %s: %dx%d at %d,%d (VkFormat %d)\n", name, v.frame.Rect.Dx(), v.frame.Rect.Dy(), x, y, v.sc.Format())
	return nil
}

// present composes and shows a frame at the window's current size,
// rebuilding the swapchain when the window changed. It reports whether a
// frame was shown (not when minimized).
func (v *viewer) present() (bool, error) {
	for try := 0; try < 3; try++ {
		fw, fh := v.win.GetFramebufferSize()
		if fw == 0 || fh == 0 {
			return false, nil
		}
		if fb := image.Pt(fw, fh); fb != v.fb { // the window changed size: a swapchain to match
			if err := v.sc.Resize(fw, fh); err != nil {
				return false, err
			}
			v.fb = fb
		}
		w, h := v.sc.Extent()
		if w == 0 || h == 0 {
			return false, nil
		}
		v.frame = v.compose(w, h)
		err := v.sc.Present(v.frame)
		if errors.Is(err, vk.ErrOutOfDate) {
			if err := v.sc.Resize(fw, fh); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, err
		}
		v.frames++
		return true, nil
	}
	return false, nil
}

func (v *viewer) loop() error {
	v.win.SetKeyCallback(func(_ *glfw.Window, k glfw.Key, _ int, a glfw.Action, _ glfw.ModifierKey) {
		if a == glfw.Press || a == glfw.Repeat {
			v.key(k)
		}
	})
	v.win.SetMouseButtonCallback(func(w *glfw.Window, b glfw.MouseButton, a glfw.Action, _ glfw.ModifierKey) {
		if b == glfw.MouseButtonLeft && a == glfw.Press {
			x, y := w.GetCursorPos()
			v.click(int(x), int(y))
		}
	})
	v.win.SetRefreshCallback(func(*glfw.Window) { v.dirty = true })
	v.win.SetFramebufferSizeCallback(func(*glfw.Window, int, int) { v.dirty = true })
	var sc *script
	if v.o.Script != "" {
		var err error
		if sc, err = parseScript(v.o.Script); err != nil {
			return err
		}
	}
	v.dirty = true
	lastPoll := time.Now()
	for !v.win.ShouldClose() {
		if sc != nil {
			glfw.PollEvents()
			if err := sc.step(v); err != nil {
				return err
			}
		} else if v.win.GetAttrib(glfw.Iconified) == glfw.True {
			glfw.WaitEvents() // minimized: nothing to draw until it is restored
			v.dirty = true
		} else {
			// Sleeps until an event or the next look at metrics.jsonl.
			glfw.WaitEventsTimeout(0.25)
		}
		if v.err != nil {
			return v.err
		}
		// Scripts look every frame, so what a test appended before a command is seen by the next frame.
		if v.run != nil && (sc != nil || time.Since(lastPoll) > 200*time.Millisecond) {
			lastPoll = time.Now()
			grew, err := v.run.poll()
			if err != nil {
				return fmt.Errorf("%s: %w", v.run.dir, err)
			}
			v.dirty = v.dirty || grew
		}
		if v.dirty || (sc != nil && sc.wantFrame) {
			shown, err := v.present()
			if err != nil {
				return err
			}
			v.dirty = !shown && v.dirty
			if sc != nil && shown {
				sc.presented()
			}
		}
	}
	if sc != nil {
		fmt.Fprintf(v.o.Out, "presented %d frames\n", v.frames)
	}
	return v.err
}

// script drives the viewer frame by frame for tests: commands separated by
// ';', each of
//
//	frames N     present N more frames (composed afresh)
//	key NAME     press a key (Tab, Left, Right, Up, Down, S, Q, Escape)
//	click X Y    click at window coordinates
//	shot FILE    save the frame on screen as a PNG
//	waitfile F   keep presenting until file F exists
//	resize W H   resize the window
//	print        report the query and its neighbours (neighbours panel)
//	quit         close the window
type script struct {
	cmds      [][]string
	pending   int // frames still to present for the current "frames" command
	wantFrame bool
}

func parseScript(s string) (*script, error) {
	sc := &script{}
	for _, c := range strings.Split(s, ";") {
		f := strings.Fields(c)
		if len(f) == 0 {
			continue
		}
		want := map[string]int{"frames": 1, "key": 1, "click": 2, "shot": 1, "waitfile": 1, "resize": 2, "print": 0, "quit": 0}
		n, ok := want[f[0]]
		if !ok || len(f)-1 != n {
			return nil, fmt.Errorf("--script: bad command %q", strings.TrimSpace(c))
		}
		sc.cmds = append(sc.cmds, f)
	}
	return sc, nil
}

var keyNames = map[string]glfw.Key{"Tab": glfw.KeyTab, "Left": glfw.KeyLeft, "Right": glfw.KeyRight, "Up": glfw.KeyUp,
	"Down": glfw.KeyDown, "S": glfw.KeyS, "Q": glfw.KeyQ, "Escape": glfw.KeyEscape, "PageDown": glfw.KeyPageDown, "PageUp": glfw.KeyPageUp}

func (s *script) presented() {
	if s.pending > 0 {
		s.pending--
	}
	s.wantFrame = s.pending > 0
}

// step runs commands until one needs frames to pass.
func (s *script) step(v *viewer) error {
	for s.pending == 0 && len(s.cmds) > 0 {
		c := s.cmds[0]
		atoi := func(i int) int {
			var n int
			fmt.Sscan(c[i], &n)
			return n
		}
		switch c[0] {
		case "frames":
			s.pending = atoi(1)
			v.dirty = true
		case "key":
			k, ok := keyNames[c[1]]
			if !ok {
				return fmt.Errorf("--script: unknown key %q", c[1])
			}
			v.key(k)
			s.pending = 1 // show the result before the next command
		case "click":
			v.click(atoi(1), atoi(2))
			v.dirty, s.pending = true, 1
		case "shot":
			if err := v.screenshot(c[1]); err != nil {
				return err
			}
		case "waitfile":
			if !fileExists(c[1]) {
				time.Sleep(20 * time.Millisecond)
				v.dirty = true // keep presenting the same content while waiting
				return nil
			}
		case "resize":
			v.win.SetSize(atoi(1), atoi(2))
			v.dirty, s.pending = true, 2
		case "print":
			if v.nv != nil {
				fmt.Fprintf(v.o.Out, "query %d:", v.nv.query)
				for _, nb := range v.nv.nbrs {
					fmt.Fprintf(v.o.Out, " %d=%.6f", nb.Index, nb.Sim)
				}
				fmt.Fprintln(v.o.Out)
				for c, a := range v.nv.acc {
					fmt.Fprintf(v.o.Out, "knn class %d: %d/%d\n", c, a.Correct, a.Total)
				}
			}
		case "quit":
			v.win.SetShouldClose(true)
		}
		s.cmds = s.cmds[1:]
	}
	if s.pending == 0 && len(s.cmds) == 0 {
		v.win.SetShouldClose(true) // a script ends the session
	}
	s.wantFrame = s.pending > 0
	return nil
}
