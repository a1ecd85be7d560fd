package model

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vkclr/vkclr/model/safetensors"
	"github.com/vkclr/vkclr/ops/ref"
)

// Checkpoints are safetensors files. Encoder tensors carry torchvision's
// resnet state_dict names, shapes and layouts (conv weights [K, C, R, S],
// linear [O, I]); the head lives under "projector."; optimizer state under
// "optimizer." in the flat device layout (so a resume is bit-exact); run
// metadata in __metadata__ ("config" holds the model Config as JSON).

// Checkpoint is what a run saves and restores.
type Checkpoint struct {
	Cfg Config
	// Params (NParams) and State (NState) in the graph's device layout.
	Params, State []float32
	// BatchesTracked is every batchnorm's num_batches_tracked.
	BatchesTracked int64
	// Opt holds optimizer state buffers by name ("momentum", "adam_m", "adam_v"), flat device layout.
	Opt map[string][]float32
	// Meta is free-form run metadata (epoch, step, the training configuration).
	Meta map[string]string
	// EncoderOnly is set on load when the file had no projection head
	// (a torchvision state dict used as an initialisation).
	EncoderOnly bool
}

const metaConfig = "config"

// torchShape is a parameter's PyTorch shape and layout conversion.
func (p Param) torchShape() []int {
	switch p.kind {
	case convWeight:
		return []int{p.Shape[3], p.trueC, p.Shape[0], p.Shape[1]}
	case linWeight:
		return []int{p.Shape[1], p.Shape[0]}
	}
	return slices.Clone(p.Shape)
}

// toTorch converts a parameter from the device layout.
func (p Param) toTorch(v []float32) []float32 {
	switch p.kind {
	case convWeight:
		R, S, C, K := p.Shape[0], p.Shape[1], p.Shape[2], p.Shape[3]
		out := make([]float32, K*p.trueC*R*S)
		for k := 0; k < K; k++ {
			for c := 0; c < p.trueC; c++ {
				for r := 0; r < R; r++ {
					for s := 0; s < S; s++ {
						out[((k*p.trueC+c)*R+r)*S+s] = v[((r*S+s)*C+c)*K+k]
					}
				}
			}
		}
		return out
	case linWeight:
		out := make([]float32, p.Len)
		ref.LinearWeightToOI(p.Shape[0], p.Shape[1], v, out)
		return out
	}
	return slices.Clone(v)
}

// fromTorch converts into the device layout (padding channels zero).
func (p Param) fromTorch(t []float32, dst []float32) {
	switch p.kind {
	case convWeight:
		R, S, C, K := p.Shape[0], p.Shape[1], p.Shape[2], p.Shape[3]
		clear(dst)
		for k := 0; k < K; k++ {
			for c := 0; c < p.trueC; c++ {
				for r := 0; r < R; r++ {
					for s := 0; s < S; s++ {
						dst[((r*S+s)*C+c)*K+k] = t[((k*p.trueC+c)*R+r)*S+s]
					}
				}
			}
		}
	case linWeight:
		ref.LinearWeightFromOI(p.Shape[0], p.Shape[1], t, dst)
	default:
		copy(dst, t)
	}
}

// Save writes ck atomically (temporary file, fsync, rename).
func (g *Graph) Save(path string, ck *Checkpoint) error {
	f := safetensors.NewFile()
	for _, p := range g.Params {
		f.Add(safetensors.F32(p.Name, p.torchShape(), p.toTorch(ck.Params[p.Offset:p.Offset+p.Len])))
	}
	for _, s := range g.Stats {
		f.Add(safetensors.F32(s.Prefix+".running_mean", []int{s.C}, ck.State[s.MeanOff:s.MeanOff+s.C]))
		f.Add(safetensors.F32(s.Prefix+".running_var", []int{s.C}, ck.State[s.VarOff:s.VarOff+s.C]))
		f.Add(safetensors.I64(s.Prefix+".num_batches_tracked", []int{}, []int64{ck.BatchesTracked}))
	}
	for name, v := range ck.Opt {
		if len(v) != g.NParams {
			return fmt.Errorf("checkpoint: optimizer state %q has %d values, the model %d", name, len(v), g.NParams)
		}
		f.Add(safetensors.F32("optimizer."+name, []int{len(v)}, v))
	}
	f.Metadata = map[string]string{}
	for k, v := range ck.Meta {
		f.Metadata[k] = v
	}
	cfg, _ := json.Marshal(g.Cfg)
	f.Metadata[metaConfig] = string(cfg)
	f.Metadata["format"] = "vkclr"
	return safetensors.Write(path, f)
}

// ReadConfig reads a checkpoint's model configuration and metadata, so the
// caller can build the matching graph before Load.
func ReadConfig(path string) (Config, map[string]string, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return Config{}, nil, err
	}
	raw, ok := f.Metadata[metaConfig]
	if !ok {
		return Config{}, f.Metadata, fmt.Errorf("%s: no vkclr model configuration in the metadata; a torchvision state dict loads with --init-from and explicit --arch/--stem/--width", path)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return Config{}, f.Metadata, fmt.Errorf("%s: bad model configuration in the metadata: %w", path, err)
	}
	return cfg, f.Metadata, nil
}

// Load reads a checkpoint into g's layout, checking every tensor's name,
// shape and dtype. A file without "projector." tensors (a torchvision
// encoder state dict) loads the encoder and leaves the head to the caller
// (EncoderOnly); torchvision's classifier ("fc.") is ignored.
func (g *Graph) Load(path string) (*Checkpoint, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{Cfg: g.Cfg, Params: make([]float32, g.NParams), State: make([]float32, g.NState), Opt: map[string][]float32{}, Meta: f.Metadata}
	bad := func(name, format string, args ...any) error {
		return fmt.Errorf("%s: tensor %q: %s", path, name, fmt.Sprintf(format, args...))
	}
	get := func(name string, shape []int) ([]float32, error) {
		t, ok := f.Tensors[name]
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q is missing: the checkpoint does not match %s (width %d, %s stem)", path, name, g.Cfg.Arch, g.Cfg.Width, g.Cfg.Stem)
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, bad(name, "shape %v, the model needs %v (different architecture, width or stem?)", t.Shape, shape)
		}
		if t.DType != safetensors.DTypeF32 && t.DType != "F16" && t.DType != "BF16" && t.DType != "F64" {
			return nil, bad(name, "dtype %s, want a float type", t.DType)
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		return v, finite(path, name, v)
	}
	hasHead := false
	for name := range f.Tensors {
		if strings.HasPrefix(name, "projector.") {
			hasHead = true
		}
	}
	ck.EncoderOnly = !hasHead
	known := map[string]bool{}
	for _, p := range g.Params {
		known[p.Name] = true
		if isHead(p.Name) && !hasHead {
			continue
		}
		v, err := get(p.Name, p.torchShape())
		if err != nil {
			return nil, err
		}
		p.fromTorch(v, ck.Params[p.Offset:p.Offset+p.Len])
	}
	for _, s := range g.Stats {
		for _, sfx := range []string{".running_mean", ".running_var", ".num_batches_tracked"} {
			known[s.Prefix+sfx] = true
		}
		if isHead(s.Prefix) && !hasHead {
			for i := 0; i < s.C; i++ {
				ck.State[s.VarOff+i] = 1
			}
			continue
		}
		m, err := get(s.Prefix+".running_mean", []int{s.C})
		if err != nil {
			return nil, err
		}
		v, err := get(s.Prefix+".running_var", []int{s.C})
		if err != nil {
			return nil, err
		}
		copy(ck.State[s.MeanOff:], m)
		copy(ck.State[s.VarOff:], v)
		if t, ok := f.Tensors[s.Prefix+".num_batches_tracked"]; ok {
			n, err := t.Int64s()
			if err != nil || len(n) != 1 {
				return nil, bad(t.Name, "want one int64")
			}
			ck.BatchesTracked = n[0]
		}
	}
	for name, t := range f.Tensors {
		switch {
		case known[name], strings.HasPrefix(name, "fc."):
		case strings.HasPrefix(name, "optimizer."):
			v, err := t.Float32s()
			if err == nil {
				err = finite(path, name, v)
			}
			if err != nil {
				return nil, err
			}
			if len(v) != g.NParams {
				return nil, bad(name, "%d values, the model's optimizer state has %d", len(v), g.NParams)
			}
			ck.Opt[strings.TrimPrefix(name, "optimizer.")] = v
		default:
			return nil, bad(name, "not a tensor of %s (width %d, %s stem, head %d -> %d)", g.Cfg.Arch, g.Cfg.Width, g.Cfg.Stem, g.Cfg.ProjHidden, g.Cfg.ProjDim)
		}
	}
	return ck, nil
}

// finite refuses a tensor with NaN or Inf: the run that wrote it had
// diverged, and everything computed from it would be NaN too.
func finite(path, name string, v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%s: tensor %q: element %d is %v: the checkpoint holds non-finite values (the run that wrote it diverged); use an earlier checkpoint", path, name, i, x)
		}
	}
	return nil
}

// MetaInt reads an integer from checkpoint metadata (0 when absent).
func MetaInt(meta map[string]string, key string) int {
	n, _ := strconv.Atoi(meta[key])
	return n
}
