package train

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vkclr/vkclr/model"
	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/train/data"
	"github.com/vkclr/vkclr/train/progress"
)

// Encoder is a frozen encoder on the device: a checkpoint's weights, or a
// random initialisation of the same architecture (the baseline).
type Encoder struct {
	Cfg  model.Config
	W    *model.Weights
	Hash string // sha256 of the checkpoint file ("" for a random init)
	ext  *Extractor
}

// LoadEncoder reads a checkpoint (vkclr's, with its model configuration) onto the device.
func LoadEncoder(s *Session, path string) (*Encoder, error) {
	cfg, _, err := model.ReadConfig(path)
	if err != nil {
		return nil, err
	}
	g, err := model.Build(cfg, 2)
	if err != nil {
		return nil, err
	}
	ck, err := g.Load(path)
	if err != nil {
		return nil, err
	}
	h, err := fileHash(path)
	if err != nil {
		return nil, err
	}
	return newEncoder(s, cfg, g, ck.Params, ck.State, h)
}

// RandomEncoder initialises cfg's encoder from seed, like a training run's step 0.
func RandomEncoder(s *Session, cfg model.Config, seed uint64) (*Encoder, error) {
	g, err := model.Build(cfg, 2)
	if err != nil {
		return nil, err
	}
	p, st := make([]float32, g.NParams), make([]float32, g.NState)
	g.Init(seed, p, st)
	return newEncoder(s, cfg, g, p, st, "")
}

func newEncoder(s *Session, cfg model.Config, g *model.Graph, params, state []float32, hash string) (*Encoder, error) {
	w, err := model.NewWeights(s.Ctx, g)
	if err != nil {
		return nil, err
	}
	if err := w.Upload(s.Ctx, params, state); err != nil {
		w.Release()
		return nil, err
	}
	ext, err := NewExtractor(s, cfg, w)
	if err != nil {
		w.Release()
		return nil, err
	}
	return &Encoder{Cfg: cfg, W: w, Hash: hash, ext: ext}, nil
}

// Close frees the encoder.
func (e *Encoder) Close() {
	e.ext.Close()
	e.W.Release()
}

// Dim is the feature width.
func (e *Encoder) Dim() int { return e.Cfg.FeatureDim() }

// Features computes (N, Dim) features of ds with a progress bar on log,
// reading and writing a cache file in cacheDir when the encoder came from a
// checkpoint (keyed by the checkpoint's hash, the dataset's digest and flip).
func (e *Encoder) Features(ds *data.Dataset, flip bool, cacheDir string, log io.Writer) ([]float32, error) {
	if err := e.checkInput(ds); err != nil {
		return nil, err
	}
	var cache string
	if e.Hash != "" && cacheDir != "" {
		key := fmt.Sprintf("%s-%s-%d-%v", e.Hash[:16], ds.Digest(), ds.N, flip)
		sum := sha256.Sum256([]byte(key))
		cache = filepath.Join(cacheDir, "features-"+hex.EncodeToString(sum[:8])+".safetensors")
		if f, err := safetensors.Read(cache); err == nil {
			if t, ok := f.Tensors["features"]; ok && len(t.Shape) == 2 && t.Shape[0] == ds.N && t.Shape[1] == e.Dim() {
				if v, err := t.Float32s(); err == nil {
					fmt.Fprintf(log, "features of %s (%d images) from the cache %s\n", ds.Name, ds.N, filepath.Base(cache))
					return v, nil
				}
			}
		}
	}
	if err := e.ext.Grow(ds.N); err != nil {
		return nil, err
	}
	bar := progress.New(ds.N, "features "+ds.Name, log)
	v, err := e.ext.Features(ds, flip, func(done, total int) { bar.Set(done, "") })
	bar.Finish()
	if err != nil {
		return nil, err
	}
	if cache != "" {
		f := safetensors.NewFile(safetensors.F32("features", []int{ds.N, e.Dim()}, v))
		f.Metadata = map[string]string{"checkpoint_sha256": e.Hash, "dataset": ds.Name, "digest": ds.Digest()}
		if err := safetensors.Write(cache, f); err != nil {
			fmt.Fprintf(log, "could not cache features: %v\n", err)
		}
	}
	return v, nil
}

func (e *Encoder) checkInput(ds *data.Dataset) error {
	if ds.C != e.Cfg.InChannels {
		return fmt.Errorf("%s has %d channels, the encoder was trained on %d: use a dataset like the one it was trained on", ds.Name, ds.C, e.Cfg.InChannels)
	}
	return nil
}

func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// PixelFeatures are the baseline without a network: each image's raw pixels in [0, 1], (N, H*W*C).
func PixelFeatures(ds *data.Dataset) []float32 {
	v := make([]float32, len(ds.Images))
	for i, b := range ds.Images {
		v[i] = float32(b) / 255
	}
	return v
}
