// The `vkclr data` command: fetch a dataset, or describe one.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vkclr/vkclr/train/data"
	"github.com/vkclr/vkclr/train/progress"
)

func init() {
	register("data", "datasets: fetch cifar10|cifar100|stl10|imagenette, info", cmdData)
}

func cmdData(args []string) error {
	usage := "Usage: vkclr data VERB [flags]\n\nVerbs:\n" +
		"  fetch NAME               download, verify and extract a dataset (" + strings.Join(data.Fetchable, ", ") + ")\n" +
		"  info                     list the built-in datasets and whether they are here\n" +
		"  info --data NAME|PATH    size, classes, per-class counts, checksums\n"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(usage)
		if len(args) == 0 {
			return usagef("data needs a verb (fetch or info)")
		}
		return nil
	}
	var err error
	switch args[0] {
	case "fetch":
		err = cmdDataFetch(args[1:])
	case "info":
		err = cmdDataInfo(args[1:])
	default:
		return usagef("unknown verb %q; run 'vkclr data --help'", args[0])
	}
	if err != nil {
		return trimPrefix{err, "data: "}
	}
	return nil
}

func cmdDataFetch(args []string) error {
	fs := newFlags("data fetch", "data fetch "+strings.Join(data.Fetchable, "|")+" [--data-dir DIR]")
	dir := fs.String("data-dir", "", "where to put the dataset (default: the user cache directory, vkclr/data/NAME)")
	base := fs.String("base-url", "", "where the archive is published (a mirror, or a local server; default: the official site)")
	sum := fs.String("md5", "", "expected md5 of the archive (default: the official one)")
	quiet := fs.BoolP("quiet", "q", false, "no progress output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("data fetch takes one dataset name (%s)", strings.Join(data.Fetchable, ", "))
	}
	name := fs.Arg(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var bar *progress.Bar
	opts := data.FetchOptions{BaseURL: *base, MD5: *sum}
	if !*quiet {
		opts.Log = func(format string, a ...any) {
			if bar != nil { // a message ends the bar of the attempt before it
				bar.Finish()
				bar = nil
			}
			fmt.Fprintf(os.Stderr, format, a...)
		}
		opts.Progress = func(done, total int64) {
			if bar == nil {
				bar = progress.New(int(max(total, 0)), "download", os.Stderr)
			}
			field := fmt.Sprintf("%.1f MB", float64(done)/1e6)
			if total > 0 {
				field = fmt.Sprintf("%.1f / %.1f MB", float64(done)/1e6, float64(total)/1e6)
			}
			bar.Set(int(done), field)
		}
	}
	err := data.Fetch(ctx, name, *dir, opts)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if !*quiet {
		where := *dir
		if where == "" {
			where, _ = data.DefaultDir(name)
		}
		fmt.Fprintf(os.Stderr, "%s ready in %s\n", name, where)
	}
	return nil
}

func cmdDataInfo(args []string) error {
	fs := newFlags("data info", "data info [--data NAME|PATH] [--data-dir DIR] [--split train|test|both]")
	name := fs.String("data", "", "dataset: "+strings.Join(data.Builtin, ", ")+", or an image folder")
	dir := fs.String("data-dir", "", "folder holding the dataset's files (default: where 'data fetch' puts them)")
	split := fs.String("split", "both", "train, test or both")
	size := fs.Int("size", data.DefaultFolderSize, "training size an image folder's cache is built for (stored at 1.15x)")
	valFraction := fs.Float64("val-fraction", 0, "image folder without a val/ folder: the held-out fraction shown as test")
	cacheDir := fs.String("cache-dir", "", "where decoded image-folder caches go (default: the user cache, vkclr/images)")
	strict := fs.Bool("strict-data", false, "fail on the first unreadable image (default: skip it and report it)")
	noSums := fs.Bool("no-checksums", false, "skip hashing the files")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return listDatasets(*dir)
	}
	splits := []string{*split}
	switch *split {
	case "both":
		splits = []string{"train", "test"}
	case "train", "test":
	default:
		return usagef("--split %q: want train, test or both", *split)
	}
	for i, s := range splits {
		d, err := data.Open(*name, *dir, s, data.FolderOptions{Side: data.CacheSide(*size), ValFraction: *valFraction,
			CacheDir: *cacheDir, Strict: *strict, Log: os.Stderr})
		if err != nil {
			if *split == "both" && s == "test" && !data.IsBuiltin(*name) {
				fmt.Printf("\n(no test split in %s)\n", *name)
				continue
			}
			return err
		}
		if i > 0 {
			fmt.Println()
		}
		if err := printInfo(d, s, !*noSums); err != nil {
			return err
		}
	}
	return nil
}

// loadData loads a built-in dataset, or an image folder through its cache
// for training at size.
func loadData(name, dir, split string, size int, cacheDir string) (*data.Dataset, error) {
	return data.Open(name, dir, split, data.FolderOptions{Side: data.CacheSide(size), CacheDir: cacheDir, Log: os.Stderr})
}

// datasetNotes describes the built-in datasets for `vkclr data info`.
var datasetNotes = map[string]string{
	data.CIFAR10:      "32x32 RGB, 10 classes, 50,000 train / 10,000 test",
	data.CIFAR100:     "32x32 RGB, 100 classes, 50,000 train / 10,000 test",
	data.FashionMNIST: "28x28 gray, 10 classes, 60,000 train / 10,000 test",
	data.MNIST:        "28x28 gray, 10 classes, 60,000 train / 10,000 test",
	data.STL10:        "96x96 RGB, 10 classes, 5,000 train / 8,000 test, 100,000 unlabeled (pre-training reads train+unlabeled)",
	data.Imagenette:   "160-px ImageNet subset, 10 classes, 9,469 train / 3,925 val (ImageNet layout)",
}

// listDatasets prints the built-in datasets, whether each is where Load
// looks, and how to get it.
func listDatasets(dir string) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "dataset\tcontent\tstatus\n")
	for _, name := range data.Builtin {
		where := dir
		if where == "" {
			where, _ = data.DefaultDir(name)
		}
		status := "present in " + where
		if !data.Present(name, where) {
			status = "not in " + where
			if slices.Contains(data.Fetchable, name) {
				status += "; vkclr data fetch " + name
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", name, datasetNotes[name], status)
	}
	fmt.Fprintf(w, "FOLDER\tyour images: root/train/CLASS/* + root/val/CLASS/*, root/CLASS/*, or root/* unlabeled (jpg, png, webp)\t--data FOLDER\n")
	return w.Flush()
}

func printInfo(d *data.Dataset, split string, sums bool) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(w, "%s\t%v\n", k, v) }
	row("dataset", fmt.Sprintf("%s (%s)", d.Name, split))
	if d.Dims != nil {
		row("images", fmt.Sprintf("%d of varying size, shorter side at most %d, %d channels; %.1f MB memory-mapped from the decoded cache",
			d.N, d.H, d.C, float64(len(d.Images))/1e6))
	} else {
		row("images", fmt.Sprintf("%d of %dx%dx%d (H x W x C), %.1f MB in memory", d.N, d.H, d.W, d.C, float64(len(d.Images))/1e6))
	}
	row("mean", fmtFloats(d.Mean))
	row("std", fmtFloats(d.Std))
	if d.Labels == nil {
		row("classes", "none (unlabeled)")
	} else {
		row("classes", len(d.Classes))
	}
	w.Flush()
	if counts := d.ClassCounts(); counts != nil {
		width := 0
		for _, c := range d.Classes {
			width = max(width, len(c))
		}
		for k, n := range counts {
			fmt.Printf("  %3d  %-*s %7d\n", k, width, d.Classes[k], n)
		}
	}
	if !sums {
		return nil
	}
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "content sha256\t%s\n", d.Digest())
	w.Flush()
	files, err := d.Checksums()
	if err != nil {
		return err
	}
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	for _, f := range files {
		note := ""
		switch f.Official {
		case "match":
			note = "official checksum: match"
		case "MISMATCH":
			note = "official checksum: MISMATCH"
		}
		fmt.Fprintf(w, "  %s\t%d bytes\tsha256 %s\t%s\n", f.Path, f.Size, f.SHA256, note)
	}
	return w.Flush()
}

func fmtFloats(v []float32) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.4f", x)
	}
	return strings.Join(parts, " ")
}

// trimPrefix drops a package prefix that repeats the command name main
// already prints ("vkclr data: data: ..."), keeping the error chain.
type trimPrefix struct {
	err    error
	prefix string
}

func (e trimPrefix) Error() string { return strings.TrimPrefix(e.err.Error(), e.prefix) }
func (e trimPrefix) Unwrap() error { return e.err }
