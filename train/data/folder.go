// Image folders of any size: the ImageNet layout (root/train/CLASS/*,
// root/val/CLASS/*), class folders (root/CLASS/*) or a flat unlabeled folder
// (root/*), read through the decoded cache (cache.go).
package data

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultFolderSize is the training side Load assumes for an image folder;
// Open takes the side to store at.
const DefaultFolderSize = 32

// CacheSide returns the shorter side an image folder is stored at for
// training at imageSize: 1.15x (rounded up), so RandomResizedCrop has some
// resolution to spare, as ImageNet recipes resize to 256 for 224.
func CacheSide(imageSize int) int { return int(math.Ceil(1.15 * float64(imageSize))) }

// FolderOptions configures how Open reads image folders (and STL-10).
type FolderOptions struct {
	Side        int       // shorter side images are stored at; 0 means CacheSide(DefaultFolderSize)
	CacheDir    string    // where cache files go; "" means os.UserCacheDir()/vkclr/images
	Strict      bool      // fail on the first unreadable image instead of skipping it
	ValFraction float64   // without a val folder: this fraction of the images (chosen by path hash) is the test split
	Workers     int       // decoding goroutines; 0 means GOMAXPROCS
	Log         io.Writer // cache progress and the unreadable-file summary; nil means silent
	// Ctx, when not nil, stops a cache build when cancelled (Ctrl-C); the
	// partial file is removed and the next run builds again.
	Ctx context.Context
}

func (o FolderOptions) side() int {
	if o.Side > 0 {
		return o.Side
	}
	return CacheSide(DefaultFolderSize)
}

// cacheDir returns the folder cache files go to.
func (o FolderOptions) cacheDir() (string, error) {
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no cache directory for the decoded images (set --cache-dir): %w", err)
	}
	return filepath.Join(c, "vkclr", "images"), nil
}

// listing is the images of one folder in a stable order.
type listing struct {
	dir     string
	names   []string // relative to dir
	labels  []int32  // nil when unlabeled
	classes []string
	skipped []string // files that are not images by their extension
	key     []byte   // names, sizes, modification times and labels
}

// listFolder lists dir as class folders (labels are the sorted folder names)
// or as a flat folder of images (no labels). Hidden files are ignored; other
// non-image files are listed in skipped, for the report.
func listFolder(dir string) (*listing, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	l := &listing{dir: dir}
	var classes, loose []os.DirEntry
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "."):
		case isDir(dir, e):
			classes = append(classes, e)
		case isImageFile(e.Name()):
			loose = append(loose, e)
		default:
			l.skipped = append(l.skipped, e.Name())
		}
	}
	add := func(sub string, e os.DirEntry, label int32) error {
		info, err := os.Stat(filepath.Join(dir, sub, e.Name()))
		if err != nil {
			return fmt.Errorf("data: image folder: %w", err)
		}
		name := filepath.Join(sub, e.Name())
		l.names = append(l.names, name)
		if l.classes != nil {
			l.labels = append(l.labels, label)
		}
		var b [20]byte
		binary.LittleEndian.PutUint64(b[0:], uint64(info.Size()))
		binary.LittleEndian.PutUint64(b[8:], uint64(info.ModTime().UnixNano()))
		binary.LittleEndian.PutUint32(b[16:], uint32(label))
		l.key = append(append(append(l.key, name...), 0), b[:]...)
		return nil
	}
	switch {
	case len(classes) > 0 && len(loose) > 0:
		return nil, fmt.Errorf("data: %s: holds both class folders (%s, ...) and images (%s, ...); "+
			"want root/CLASS/*.jpg (labeled) or root/*.jpg (unlabeled)", dir, classes[0].Name(), loose[0].Name())
	case len(classes) > 0:
		for _, c := range classes {
			l.classes = append(l.classes, c.Name())
		}
		sort.Strings(l.classes)
		for k, c := range l.classes {
			files, err := os.ReadDir(filepath.Join(dir, c))
			if err != nil {
				return nil, fmt.Errorf("data: image folder: %w", err)
			}
			n := 0
			for _, f := range files {
				switch {
				case strings.HasPrefix(f.Name(), "."):
				case !isDir(filepath.Join(dir, c), f) && isImageFile(f.Name()):
					if err := add(c, f, int32(k)); err != nil {
						return nil, err
					}
					n++
				default:
					l.skipped = append(l.skipped, filepath.Join(c, f.Name()))
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("data: %s: class folder %s has no .jpg, .png or .webp images", dir, c)
			}
		}
	case len(loose) > 0:
		for _, e := range loose {
			if err := add("", e, -1); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("data: %s: no images (want root/CLASS/*.jpg|png|webp, root/*.jpg|png|webp, "+
			"or root/train/CLASS/* and root/val/CLASS/*): %w", dir, ErrNotFound)
	}
	return l, nil
}

// isDir reports whether entry e of dir is a folder, following symbolic links.
func isDir(dir string, e os.DirEntry) bool {
	if e.Type()&os.ModeSymlink != 0 {
		st, err := os.Stat(filepath.Join(dir, e.Name()))
		return err == nil && st.IsDir()
	}
	return e.IsDir()
}

// splitDirs returns the folder holding split ("train" or "test") of an
// image folder, and whether it must be carved out of the training folder by
// ValFraction: root/train and root/val (or root/test) in the ImageNet layout,
// otherwise root itself for training.
func splitDirs(root, split string, valFraction float64) (dir string, carve bool, err error) {
	exists := func(p string) bool { st, err := os.Stat(p); return err == nil && st.IsDir() }
	train := root
	if exists(filepath.Join(root, "train")) {
		train = filepath.Join(root, "train")
	}
	if split == "train" {
		return train, valFraction > 0, nil
	}
	for _, v := range []string{"val", "test"} {
		if p := filepath.Join(root, v); exists(p) {
			return p, false, nil
		}
	}
	if valFraction > 0 {
		return train, true, nil
	}
	return "", false, fmt.Errorf("data: %s: no test split (want %s/val/CLASS/*, or --val-fraction F to hold out a fraction of %s): %w",
		root, root, train, ErrNotFound)
}

// OpenFolder returns split ("train" or "test") of an image folder through
// its decoded cache, building the cache first when the folder is new or has
// changed. A folder that holds a built-in dataset's files (CIFAR, STL-10) is
// read as that dataset.
func OpenFolder(root, split string, opts FolderOptions) (*Dataset, error) {
	if split != "train" && split != "test" {
		return nil, fmt.Errorf("data: split %q: want train or test", split)
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("data: %q is neither a built-in dataset (%s) nor a folder: %w",
			root, strings.Join(Builtin, ", "), ErrNotFound)
	}
	if name, err := recognize(root); err != nil {
		return nil, err
	} else if name != "" {
		return Open(name, root, split, opts)
	}
	if !(opts.ValFraction >= 0 && opts.ValFraction < 1) {
		return nil, fmt.Errorf("data: --val-fraction %v: want in [0, 1)", opts.ValFraction)
	}
	dir, carve, err := splitDirs(root, split, opts.ValFraction)
	if err != nil {
		return nil, err
	}
	l, err := listFolder(dir)
	if err != nil {
		return nil, err
	}
	if opts.Log != nil && len(l.skipped) > 0 {
		fmt.Fprintf(opts.Log, "%s: %d files are not .jpg, .jpeg, .png or .webp images and were not read (e.g. %s)\n",
			dir, len(l.skipped), strings.Join(l.skipped[:min(len(l.skipped), badShown)], ", "))
	}
	side := opts.side()
	cdir, err := opts.cacheDir()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "vkclr image cache %d side %d\x00", cacheVersion, side)
	h.Write(l.key)
	key := hex.EncodeToString(h.Sum(nil))
	where := sha256.Sum256([]byte(abs))
	name := filepath.Base(filepath.Clean(root))
	spec := cacheSpec{
		path: filepath.Join(cdir, fmt.Sprintf("%s-%s-s%d.vkimg", sanitize(filepath.Base(abs)), hex.EncodeToString(where[:6]), side)),
		key:  key, name: name, root: dir, side: side,
		names: l.names, labels: l.labels, classes: l.classes,
		decode: func(i int) ([]uint8, int, int, error) {
			path := filepath.Join(dir, l.names[i])
			buf, err := os.ReadFile(path)
			if err != nil {
				return nil, 0, 0, err
			}
			return decodeImage(l.names[i], buf, side)
		},
		strict: opts.Strict, workers: opts.Workers, log: opts.Log, ctx: opts.Ctx,
	}
	d, src, err := openCache(spec)
	if err != nil {
		return nil, err
	}
	if carve {
		d = holdOut(d, src, l.names, opts.ValFraction, split == "test")
		if d.N == 0 {
			return nil, fmt.Errorf("data: %s: --val-fraction %v leaves no images for the %s split", dir, opts.ValFraction, split)
		}
	}
	return d, d.Check()
}

// holdOut keeps the images whose path hashes below fraction (test) or not
// (train): a split that does not change when other files are added.
func holdOut(d *Dataset, src []int32, names []string, fraction float64, test bool) *Dataset {
	s := *d
	s.Dims, s.Labels = []Dim{}, nil
	if d.Labels != nil {
		s.Labels = []int32{}
	}
	for i := range d.N {
		h := fnv.New64a()
		h.Write([]byte(filepath.ToSlash(names[src[i]])))
		if (float64(h.Sum64())/math.Exp2(64) < fraction) != test {
			continue
		}
		s.Dims = append(s.Dims, d.Dims[i])
		if d.Labels != nil {
			s.Labels = append(s.Labels, d.Labels[i])
		}
	}
	s.N = len(s.Dims)
	split := "train"
	if test {
		split = "test"
	}
	s.Key = fmt.Sprintf("%s|val-fraction %v %s", d.Key, fraction, split)
	return &s
}

// sanitize keeps a folder name usable inside a file name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}

// recognize returns the built-in dataset whose files a folder holds (the
// files of CIFAR-10, CIFAR-100 or STL-10, directly or in the archive's
// folder), "" for an ordinary image folder, or an error for idx files, which
// do not say whether they are MNIST or Fashion-MNIST.
func recognize(dir string) (string, error) {
	has := func(names ...string) bool {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				return true
			}
		}
		return false
	}
	for _, name := range []string{CIFAR10, CIFAR100} {
		f := cifarFormats[name]
		if has(f.test[0], filepath.Join(f.subdir, f.test[0])) {
			return name, nil
		}
	}
	if has(stl10Files["test"][0], filepath.Join(stl10Subdir, stl10Files["test"][0])) {
		return STL10, nil
	}
	if has("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz") {
		return "", fmt.Errorf("data: %s holds idx files, not images: use --data mnist or --data fashion-mnist with --data-dir %s", dir, dir)
	}
	return "", nil
}
