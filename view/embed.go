// The neighbours panel: a grid of a dataset's images, a query, and its k
// nearest neighbours by cosine similarity of the features `vkclr embed` wrote.
package view

import (
	"fmt"
	"image"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/ops"
	"github.com/vkclr/vkclr/ops/ref"
	"github.com/vkclr/vkclr/train"
	"github.com/vkclr/vkclr/train/augment"
	"github.com/vkclr/vkclr/train/data"
	"github.com/vkclr/vkclr/vk"
)

// maxThumb bounds the side of the images kept for display.
const maxThumb = 64

// embeddings is one `vkclr embed` file with its images.
type embeddings struct {
	path       string
	n, dim     int
	z          []float32 // (N, D) features scaled to unit length
	labels     []int32   // (N), nil when unlabeled
	classes    []string
	imgs       []uint8 // (N, H, W, C)
	h, w, c    int
	imagesFrom string // where the images came from, for the header
}

// openEmbeddings reads FEATS.safetensors: features [N, D] float32, optional
// labels [N] int64, and the images, either in the file (images [N, H, W, C]
// uint8, from `vkclr embed --images`) or named by its metadata (data,
// data_dir, split, subset), which `vkclr embed` records.
func openEmbeddings(path string) (*embeddings, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, err
	}
	ft, err := f.Tensor("features")
	if err != nil || len(ft.Shape) != 2 {
		return nil, fmt.Errorf("%s: no features [N, D] tensor; is it a 'vkclr embed' file?", path)
	}
	v, err := ft.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%s: features: %w", path, err)
	}
	e := &embeddings{path: path, n: ft.Shape[0], dim: ft.Shape[1]}
	if e.n < 2 || e.dim < 1 {
		return nil, fmt.Errorf("%s: %d features of dimension %d: need at least 2 to have neighbours", path, e.n, e.dim)
	}
	e.z = make([]float32, len(v))
	ref.L2NormalizeForward(e.n, e.dim, v, e.z, make([]float32, e.n))
	if lt, err := f.Tensor("labels"); err == nil {
		l, err := lt.Int64s()
		if err != nil || len(l) != e.n {
			return nil, fmt.Errorf("%s: labels: want %d int64 labels", path, e.n)
		}
		e.labels = make([]int32, e.n)
		for i, y := range l {
			e.labels[i] = int32(y)
		}
	}
	if s := f.Metadata["classes"]; s != "" {
		e.classes = strings.Split(s, ",")
	}
	if it, err := f.Tensor("images"); err == nil {
		if it.DType != safetensors.DTypeU8 || len(it.Shape) != 4 || it.Shape[0] != e.n || (it.Shape[3] != 1 && it.Shape[3] != 3) {
			return nil, fmt.Errorf("%s: images: want uint8 [%d, H, W, 1 or 3], got %s %v", path, e.n, it.DType, it.Shape)
		}
		e.imgs, e.h, e.w, e.c = it.Data, it.Shape[1], it.Shape[2], it.Shape[3]
		e.imagesFrom = "the file"
		return e, nil
	}
	name := f.Metadata["data"]
	if name == "" {
		return nil, fmt.Errorf("%s carries no images and names no dataset; write it again with 'vkclr embed --images ...' (or a vkclr embed that records its --data)", path)
	}
	split := f.Metadata["split"]
	if split == "" {
		split = "test"
	}
	ds, err := data.Load(name, f.Metadata["data_dir"], split)
	if err != nil {
		return nil, fmt.Errorf("%s: the images of its dataset: %w", path, err)
	}
	if n, _ := strconv.Atoi(f.Metadata["subset"]); n > 0 && n < ds.N {
		ds = ds.Subset(n)
	}
	if ds.N != e.n {
		return nil, fmt.Errorf("%s: %d features but its dataset %s (%s) holds %d images; write it again with 'vkclr embed --images'", path, e.n, name, split, ds.N)
	}
	side := min(ds.H, maxThumb)
	if e.imgs, err = augment.Thumbnails(ds, side); err != nil {
		return nil, err
	}
	e.h, e.w, e.c = side, side, ds.C
	if e.classes == nil {
		e.classes = ds.Classes
	}
	e.imagesFrom = name + " " + split
	return e, nil
}

func (e *embeddings) className(i int) string {
	if e.labels == nil {
		return "-"
	}
	y := int(e.labels[i])
	if y >= 0 && y < len(e.classes) {
		return e.classes[y]
	}
	return strconv.Itoa(y)
}

func (e *embeddings) image(i int) []uint8 {
	s := e.h * e.w * e.c
	return e.imgs[i*s : (i+1)*s]
}

// index finds neighbours on the device: the unit features stay there, and a
// query is one matmul (queries x features^T) through the project's GEMM,
// so 50,000 images answer at once; only the top-k selection runs on the host.
type index struct {
	s         *train.Session
	n, dim    int
	chunk     int // queries per matmul
	bank, q   *vk.Buffer
	sim       *vk.Buffer
	simHost   []float32
	heapSpace []int
}

func newIndex(s *train.Session, e *embeddings) (*index, error) {
	x := &index{s: s, n: e.n, dim: e.dim}
	x.chunk = max(1, min(256, int(s.Ctx.Caps.MaxStorageBufferRange/uint64(4*e.n))))
	var err error
	if x.bank, err = s.Ctx.NewBuffer(uint64(4 * e.n * e.dim)); err != nil {
		return nil, err
	}
	if x.q, err = s.Ctx.NewBuffer(uint64(4 * x.chunk * e.dim)); err != nil {
		x.close()
		return nil, err
	}
	if x.sim, err = s.Ctx.NewBuffer(uint64(4 * x.chunk * e.n)); err != nil {
		x.close()
		return nil, err
	}
	if err := s.Ctx.UploadF32(x.bank.All(), e.z); err != nil {
		x.close()
		return nil, err
	}
	x.simHost = make([]float32, x.chunk*e.n)
	return x, nil
}

func (x *index) close() {
	for _, b := range []*vk.Buffer{x.bank, x.q, x.sim} {
		b.Release()
	}
}

// similarities returns the cosine similarity of each of m <= chunk unit
// queries (m, D) with every feature: (m, N), valid until the next call.
func (x *index) similarities(q []float32) ([]float32, error) {
	m := len(q) / x.dim
	c := x.s.Ctx
	if err := c.UploadF32(ops.F32(x.q, 0, m*x.dim), q); err != nil {
		return nil, err
	}
	p := ref.Matmul{M: m, N: x.n, K: x.dim, TransB: true}
	if err := c.Run(func(sq *vk.Seq) {
		x.s.K.Matmul(sq, p, ops.F32(x.q, 0, m*x.dim), x.bank.All(), ops.F32(x.sim, 0, m*x.n), false)
	}); err != nil {
		return nil, err
	}
	out := x.simHost[:m*x.n]
	return out, c.DownloadF32(out, ops.F32(x.sim, 0, m*x.n))
}

// Neighbour is one result: an image and its cosine similarity to the query.
type Neighbour struct {
	Index int
	Sim   float32
}

// nearest returns the k images most similar to row's query, the query
// itself left out, by decreasing similarity (ties: lower index first).
func nearest(row []float32, self, k int) []Neighbour {
	out := make([]Neighbour, 0, k+1)
	for j, s := range row {
		if j == self {
			continue
		}
		if len(out) == k && !better(Neighbour{j, s}, out[k-1]) {
			continue
		}
		i := sort.Search(len(out), func(i int) bool { return better(Neighbour{j, s}, out[i]) })
		out = append(out, Neighbour{})
		copy(out[i+1:], out[i:])
		out[i] = Neighbour{j, s}
		if len(out) > k {
			out = out[:k]
		}
	}
	return out
}

func better(a, b Neighbour) bool { return a.Sim > b.Sim || (a.Sim == b.Sim && a.Index < b.Index) }

// ClassAcc is the leave-one-out kNN accuracy of one class.
type ClassAcc struct {
	Correct, Total int
}

// knnAccuracy classifies up to maxQ images spread over the set (every
// image when maxQ >= N) by their k nearest others, each voting for its
// class with weight exp(sim / 0.1) as `vkclr eval knn` does, and counts
// the hits per class.
func (x *index) knnAccuracy(e *embeddings, k, maxQ int) ([]ClassAcc, int, error) {
	if e.labels == nil {
		return nil, 0, nil
	}
	classes := len(e.classes)
	for _, y := range e.labels {
		classes = max(classes, int(y)+1)
	}
	acc := make([]ClassAcc, classes)
	m := min(maxQ, e.n)
	qs := make([]int, m)
	for i := range qs {
		qs[i] = int(int64(i) * int64(e.n) / int64(m))
	}
	votes := make([]float64, classes)
	for lo := 0; lo < m; lo += x.chunk {
		hi := min(lo+x.chunk, m)
		q := make([]float32, 0, (hi-lo)*e.dim)
		for _, i := range qs[lo:hi] {
			q = append(q, e.z[i*e.dim:(i+1)*e.dim]...)
		}
		sims, err := x.similarities(q)
		if err != nil {
			return nil, 0, err
		}
		for r, i := range qs[lo:hi] {
			clear(votes)
			for _, nb := range nearest(sims[r*e.n:(r+1)*e.n], i, k) {
				votes[e.labels[nb.Index]] += math.Exp(float64(nb.Sim) / 0.1)
			}
			best := 0
			for c := range votes {
				if votes[c] > votes[best] {
					best = c
				}
			}
			y := e.labels[i]
			acc[y].Total++
			if int32(best) == y {
				acc[y].Correct++
			}
		}
	}
	return acc, m, nil
}

// neighbourView is the state of the neighbours panel.
type neighbourView struct {
	e      *embeddings
	x      *index
	k      int
	query  int
	nbrs   []Neighbour
	cache  map[int][]Neighbour // neighbours of queries answered already
	acc    []ClassAcc
	accN   int
	accK   int
	layout EmbedLayout
}

// prefetch is how many queries one matmul answers: the GEMM's register
// tiles are 8 rows tall, so 8 queries cost what one does, and the images
// around the query (the next arrow key) come for free.
const prefetch = 8

func (v *neighbourView) setQuery(i int) error {
	v.query = min(max(i, 0), v.e.n-1)
	if nb, ok := v.cache[v.query]; ok {
		v.nbrs = nb
		return nil
	}
	lo := max(0, min(v.query-prefetch/2, v.e.n-prefetch))
	hi := min(lo+prefetch, v.e.n)
	sims, err := v.x.similarities(v.e.z[lo*v.e.dim : hi*v.e.dim])
	if err != nil {
		return err
	}
	if v.cache == nil || len(v.cache) > 4096 {
		v.cache = map[int][]Neighbour{}
	}
	for q := lo; q < hi; q++ {
		v.cache[q] = nearest(sims[(q-lo)*v.e.n:(q-lo+1)*v.e.n], q, v.k)
	}
	v.nbrs = v.cache[v.query]
	return nil
}

// EmbedLayout places the neighbours panel: the query and its neighbours in
// a row of result cells under the header, the browsing grid below, and the
// per-class kNN accuracy in the top-right corner.
type EmbedLayout struct {
	Zoom     int               // result cells show images zoomed this much
	Result   []image.Rectangle // image rectangles: [0] the query, [1:] neighbours by rank
	GridZoom int
	Grid     []image.Rectangle // image rectangles of the browsing grid, row-major
	Corner   image.Rectangle   // per-class accuracy
}

// Layout computes the EmbedLayout of a w x h panel for H x W images and k
// neighbours (fewer result cells when k do not fit).
func Layout(w, h, imgH, imgW, k int) EmbedLayout {
	var l EmbedLayout
	const cornerW, gap = 230, 10
	l.Zoom = max(1, 64/max(imgH, imgW))
	cellW := max(imgW*l.Zoom, 12*charW) + gap
	x, y := gap, headerH+gap+lineH
	for i := 0; i <= k; i++ {
		if x+cellW > w-cornerW {
			break
		}
		l.Result = append(l.Result, image.Rect(x, y, x+imgW*l.Zoom, y+imgH*l.Zoom))
		x += cellW
		if i == 0 {
			x += gap // set the query apart
		}
	}
	l.Corner = image.Rect(w-cornerW, headerH, w, h)
	l.GridZoom = max(1, 32/max(imgH, imgW))
	tw, th := imgW*l.GridZoom+4, imgH*l.GridZoom+4
	gy := y + imgH*l.Zoom + 2*lineH + 2*gap
	cols, rows := max((w-cornerW-gap)/tw, 0), max((h-gy-gap)/th, 0)
	for r := range rows {
		for c := range cols {
			x0, y0 := gap+c*tw+2, gy+r*th+2
			l.Grid = append(l.Grid, image.Rect(x0, y0, x0+imgW*l.GridZoom, y0+imgH*l.GridZoom))
		}
	}
	return l
}

// pageStart is the first image of the grid page that holds the query.
func (v *neighbourView) pageStart() int {
	n := max(len(v.layout.Grid), 1)
	return v.query / n * n
}

func (v *neighbourView) draw(img *image.RGBA, keys string) {
	e := v.e
	w, h := img.Rect.Dx(), img.Rect.Dy()
	v.layout = Layout(w, h, e.h, e.w, v.k)
	l := v.layout
	fillRect(img, img.Rect, colBackground)
	header(img, fmt.Sprintf("%s: %d images, %d-d features, query %d (%s)", e.path, e.n, e.dim, v.query, e.className(v.query)), keys)
	if len(l.Result) > 0 {
		text(img, l.Result[0].Min.X, l.Result[0].Min.Y-lineH, "query", colQuery, 0)
	}
	if len(l.Result) > 1 {
		text(img, l.Result[1].Min.X, l.Result[1].Min.Y-lineH, fmt.Sprintf("%d nearest by cosine similarity", min(len(v.nbrs), len(l.Result)-1)), colNeighbour, 0)
	}
	for i, r := range l.Result {
		idx, label := v.query, fmt.Sprintf("#%d", v.query)
		c := colQuery
		if i > 0 {
			if i-1 >= len(v.nbrs) {
				break
			}
			idx, label, c = v.nbrs[i-1].Index, fmt.Sprintf("%.4f", v.nbrs[i-1].Sim), colNeighbour
		}
		frameRect(img, r.Inset(-2), c)
		thumb(img, e.image(idx), e.h, e.w, e.c, r.Min.X, r.Min.Y, l.Zoom)
		text(img, r.Min.X, r.Max.Y+4, label, colText, 0)
		text(img, r.Min.X, r.Max.Y+4+lineH, e.className(idx), colDim, max(r.Dx(), 12*charW))
	}
	mark := map[int]bool{}
	for _, nb := range v.nbrs {
		mark[nb.Index] = true
	}
	first := v.pageStart()
	for j, r := range l.Grid {
		i := first + j
		if i >= e.n {
			break
		}
		thumb(img, e.image(i), e.h, e.w, e.c, r.Min.X, r.Min.Y, l.GridZoom)
		if i == v.query {
			frameRect(img, r.Inset(-2), colQuery)
		} else if mark[i] {
			frameRect(img, r.Inset(-2), colNeighbour)
		}
	}
	if len(l.Grid) > 0 {
		last := min(first+len(l.Grid), e.n)
		text(img, l.Grid[0].Min.X, l.Grid[0].Min.Y-lineH-2, fmt.Sprintf("images %d-%d of %d (images from %s)", first, last-1, e.n, e.imagesFrom), colDim, 0)
	}
	v.drawCorner(img, l.Corner)
}

func (v *neighbourView) drawCorner(img *image.RGBA, r image.Rectangle) {
	fillRect(img, r, colHeader)
	x, y := r.Min.X+8, r.Min.Y+8
	if v.acc == nil {
		text(img, x, y, "no labels: no kNN accuracy", colDim, r.Dx()-16)
		return
	}
	text(img, x, y, "leave-one-out kNN accuracy", colText, r.Dx()-16)
	text(img, x, y+lineH, fmt.Sprintf("k=%d, %d of %d images", v.accK, v.accN, v.e.n), colDim, r.Dx()-16)
	y += 2*lineH + 4
	hit, all := 0, 0
	for c, a := range v.acc {
		if a.Total == 0 {
			continue
		}
		name := strconv.Itoa(c)
		if c < len(v.e.classes) {
			name = v.e.classes[c]
		}
		text(img, x, y, fmt.Sprintf("%-12.12s %5.1f%% of %d", name, 100*float64(a.Correct)/float64(a.Total), a.Total), colText, 0)
		y += lineH
		hit, all = hit+a.Correct, all+a.Total
	}
	text(img, x, y+4, fmt.Sprintf("%-12s %5.1f%%", "all", 100*float64(hit)/float64(max(all, 1))), colText, 0)
}

// move changes the query by d images (arrow keys).
func (v *neighbourView) move(d int) error {
	return v.setQuery(min(max(v.query+d, 0), v.e.n-1))
}

// click makes the image under (x, y) the query: a grid cell or a result cell.
func (v *neighbourView) click(x, y int) (bool, error) {
	p := image.Pt(x, y)
	for j, r := range v.layout.Grid {
		if p.In(r.Inset(-2)) && v.pageStart()+j < v.e.n {
			return true, v.setQuery(v.pageStart() + j)
		}
	}
	for i, r := range v.layout.Result {
		if i > 0 && i-1 < len(v.nbrs) && p.In(r) {
			return true, v.setQuery(v.nbrs[i-1].Index)
		}
	}
	return false, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
