package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/safetensors"
	"github.com/nabla-go/nabla/tensor"
)

// ModelFile is the final model's name inside a run folder.
const ModelFile = "model.safetensors"

// Metadata keys of nabla's model files, beside MetaCheckpoint.
const (
	MetaArch  = "nabla.arch"  // JSON: the nn.Spec that rebuilds the model
	MetaInput = "nabla.input" // JSON: an Input, what the model needs to read its data
)

// Input is what a model needs to read its inputs, saved in its model file
// (MetaInput) so that any later reader (nabla eval, plot boundary, a
// program) prepares data exactly as training did.
type Input struct {
	// Shape is one example's shape ([2] for the spiral set, [1, 28, 28]
	// for MNIST).
	Shape []int `json:"shape"`
	// Classes is the number of classes the model was trained on.
	Classes int `json:"classes"`
	// Data names the data set it was trained on (informational).
	Data string `json:"data,omitempty"`
	// RawPixels records that image pixels were fed as 0…255 rather than
	// scaled to [0, 1].
	RawPixels bool `json:"raw_pixels,omitempty"`
	// Mean and Std, when set, standardise each feature (of the flattened
	// example): x' = (x − Mean[j]) / Std[j], as --normalize did in training.
	Mean []float64 `json:"mean,omitempty"`
	Std  []float64 `json:"std,omitempty"`
}

// Check reports whether in is well formed: positive dimensions, at least
// one class and, when set, Mean and Std with one entry per feature, Std
// positive and both finite.
func (in Input) Check() error {
	if len(in.Shape) == 0 {
		return errors.New("the input shape is missing")
	}
	n := 1
	for _, d := range in.Shape {
		if d < 1 || d > math.MaxInt32 || n > math.MaxInt32/d {
			return fmt.Errorf("input shape %v is not a valid shape", in.Shape)
		}
		n *= d
	}
	if in.Classes < 1 {
		return fmt.Errorf("%d classes", in.Classes)
	}
	if in.Mean != nil || in.Std != nil {
		if len(in.Mean) != n || len(in.Std) != n {
			return fmt.Errorf("the normaliser has %d means and %d standard deviations for %d features", len(in.Mean), len(in.Std), n)
		}
		for j := range n {
			if math.IsNaN(in.Mean[j]) || math.IsInf(in.Mean[j], 0) || !(in.Std[j] > 0) || math.IsInf(in.Std[j], 0) {
				return fmt.Errorf("normaliser entry %d (mean %v, std %v) is not usable", j, in.Mean[j], in.Std[j])
			}
		}
	}
	return nil
}

// Features is the number of values in one example.
func (in Input) Features() int {
	n := 1
	for _, d := range in.Shape {
		n *= d
	}
	return n
}

// Prepare checks that ds fits a model with this input (the same number of
// features and of classes) and returns it as the model reads it:
// standardised when the model was trained so, and shaped like Shape. The
// error says what does not fit.
func (in Input) Prepare(ds *data.InMemory) (*data.InMemory, error) {
	if ds.Features() != in.Features() {
		return nil, fmt.Errorf("the model takes examples of shape %v (%d features) but %s has %d features", in.Shape, in.Features(), ds.Name, ds.Features())
	}
	if ds.Classes() != in.Classes {
		return nil, fmt.Errorf("the model has %d classes but %s has %d", in.Classes, ds.Name, ds.Classes())
	}
	if in.Mean != nil {
		ds = data.Normalizer{Mean: in.Mean, Std: in.Std}.Apply(ds)
	}
	out := *ds
	out.ExampleShape = slices.Clone(in.Shape)
	return &out, nil
}

// Model is a model read from a file, with what the file says about it.
type Model struct {
	Module nn.Module // the model, in training mode as built (nn.SetTraining it for inference)
	Spec   nn.Spec
	// Input is what the model needs to read its data; HasInput is false
	// for a file that does not say (a PyTorch file, or one written before
	// nabla recorded it), where only Shape and Classes are known, from the
	// first and last layers.
	Input    Input
	HasInput bool
	// Path is the file read (model.safetensors or checkpoint.safetensors
	// when a run folder was named); Checkpoint is set for a checkpoint,
	// Epoch then its epoch.
	Path       string
	Checkpoint bool
	Epoch      int
}

// LoadOptions are the choices LoadModel cannot read from the file.
type LoadOptions struct {
	// Activation names the activation between Linear layers for a plain
	// PyTorch file of Linear layers, which does not record it; set, it
	// overrides a nabla file's MLP activation too.
	Activation string
	// With ForceDType, the parameters are of dtype DType; without, of the
	// file's (float32 for F16, BF16 and F32 tensors, float64 when every
	// tensor is F64).
	ForceDType bool
	DType      tensor.DType
}

// LoadModel rebuilds a model from a file alone: a model file written by
// nabla (its MetaArch spec, or the MetaMLP configuration of files from
// before specs), a run's checkpoint, a run folder (its model file, or its
// checkpoint when the run has not finished), or a PyTorch safetensors file
// of an nn.Sequential of Linear layers (with LoadOptions.Activation).
// F16 and BF16 tensors are widened. Everything the file claims is checked
// against its tensors before anything is built, so a corrupt file is an
// error, never a panic or an allocation beyond the file's size.
func LoadModel(path string, opt LoadOptions) (*Model, error) {
	path, err := modelPath(path)
	if err != nil {
		return nil, err
	}
	ts, meta, err := readTensors(path, opt.ForceDType, opt.DType)
	if err != nil {
		return nil, err
	}
	return buildModel(path, ts, meta, opt)
}

// buildModel rebuilds the model of a file's tensors and metadata (path
// names the file in errors).
func buildModel(path string, ts map[string]*tensor.Tensor, meta map[string]string, opt LoadOptions) (*Model, error) {
	res := &Model{Path: path}
	if js, ok := meta[MetaCheckpoint]; ok {
		var st loopState
		if err := json.Unmarshal([]byte(js), &st); err != nil {
			return nil, fmt.Errorf("%s: bad %s metadata: %v", path, MetaCheckpoint, err)
		}
		res.Checkpoint, res.Epoch = true, st.Epoch
		model := map[string]*tensor.Tensor{}
		for k, v := range ts {
			if rest, ok := strings.CutPrefix(k, "model."); ok {
				model[rest] = v
			}
		}
		ts = model
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("%s holds no model tensors", path)
	}
	if js, ok := meta[MetaInput]; ok {
		if err := json.Unmarshal([]byte(js), &res.Input); err != nil {
			return nil, fmt.Errorf("%s: bad %s metadata: %v", path, MetaInput, err)
		}
		if err := res.Input.Check(); err != nil {
			return nil, fmt.Errorf("%s: bad %s metadata: %v", path, MetaInput, err)
		}
		res.HasInput = true
	}
	spec, err := specOfFile(path, ts, meta, opt.Activation, res)
	if err != nil {
		return nil, err
	}
	// Check the spec against the tensors before building anything: a
	// corrupt size must not allocate gigabytes.
	held := int64(0)
	for _, t := range ts {
		held += int64(t.Len())
	}
	want, err := nn.Size(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if want != held {
		return nil, fmt.Errorf("%s: its architecture has %d parameters but the file holds %d", path, want, held)
	}
	if res.HasInput {
		if _, out, err := nn.Resolve(spec, res.Input.Shape); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		} else if len(out) != 1 || out[0] < res.Input.Classes {
			return nil, fmt.Errorf("%s: the model's output %v does not give %d class scores", path, out, res.Input.Classes)
		}
	}
	dt := fileDType(ts)
	if opt.ForceDType {
		dt = opt.DType
	}
	m, err := nn.Build(spec, dt, tensor.NewRand(0))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := nn.LoadStateDict(m, ts); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	res.Module, res.Spec = m, spec
	return res, nil
}

// modelPath resolves a run folder to its model file, or its checkpoint
// when the run has not finished.
func modelPath(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: no such file or folder", path)
		}
		return "", err
	}
	if !fi.IsDir() {
		return path, nil
	}
	for _, name := range []string{ModelFile, CheckpointFile} {
		p := filepath.Join(path, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is a folder without %s or %s (is it a run folder whose run saved nothing yet?)", path, ModelFile, CheckpointFile)
}

// readTensors reads a safetensors file once, at float64 when every
// tensor is F64 (or when forced), at float32 otherwise: half-precision
// tensors (F16, BF16) are widened.
func readTensors(path string, force bool, dt tensor.DType) (map[string]*tensor.Tensor, map[string]string, error) {
	if !force {
		infos, _, err := safetensors.ReadHeader(path)
		if err != nil {
			return nil, nil, err
		}
		dt = tensor.Float64
		for _, in := range infos {
			if in.DType != "F64" {
				dt = tensor.Float32
			}
		}
	}
	o := safetensors.As(dt)
	o.Ints = true // num_batches_tracked is I64 in PyTorch's files
	return o.ReadFile(path)
}

// fileDType is float64 when every tensor is, float32 otherwise.
func fileDType(ts map[string]*tensor.Tensor) tensor.DType {
	for _, t := range ts {
		if t.DType() != tensor.Float64 {
			return tensor.Float32
		}
	}
	return tensor.Float64
}

// specOfFile reads the architecture: MetaArch, the older MetaMLP, or the
// shapes of a PyTorch file's Linear layers. It fills res.Input's shape and
// classes where the file has no MetaInput.
func specOfFile(path string, ts map[string]*tensor.Tensor, meta map[string]string, activation string, res *Model) (nn.Spec, error) {
	var cfg nn.MLPConfig
	switch {
	case meta[MetaArch] != "":
		var s nn.Spec
		if err := json.Unmarshal([]byte(meta[MetaArch]), &s); err != nil {
			return s, fmt.Errorf("%s: bad %s metadata: %v", path, MetaArch, err)
		}
		s, _, err := nn.Resolve(s, nil)
		if err != nil {
			return s, fmt.Errorf("%s: %v", path, err)
		}
		if activation != "" {
			return s, fmt.Errorf("%s records its architecture (%s); --activation applies only to files that do not", path, s.Text())
		}
		if !res.HasInput {
			res.Input = inputOfSpec(s)
		}
		return s, nil
	case meta[MetaMLP] != "":
		if err := json.Unmarshal([]byte(meta[MetaMLP]), &cfg); err != nil {
			return nn.Spec{}, fmt.Errorf("%s: bad %s metadata: %v", path, MetaMLP, err)
		}
		if cfg.DType != tensor.Float32 && cfg.DType != tensor.Float64 {
			return nn.Spec{}, fmt.Errorf("%s: bad %s metadata: unknown dtype %d", path, MetaMLP, cfg.DType)
		}
	default:
		var err error
		cfg, err = inferMLP(ts)
		if err != nil {
			return nn.Spec{}, fmt.Errorf("%s: %w", path, err)
		}
		if activation == "" && len(cfg.Hidden) > 0 {
			return nn.Spec{}, fmt.Errorf("%s does not say which activation its layers use; name it (e.g. --activation relu)", path)
		}
	}
	if activation != "" {
		cfg.Activation = activation
	}
	if nn.MLPParams(cfg) < 0 {
		return nn.Spec{}, fmt.Errorf("%s: layer sizes %d, %v, %d are not valid", path, cfg.In, cfg.Hidden, cfg.Out)
	}
	s, err := nn.MLPSpec(cfg)
	if err != nil {
		return s, fmt.Errorf("%s: %v", path, err)
	}
	if !res.HasInput {
		res.Input = Input{Shape: []int{cfg.In}, Classes: cfg.Out}
	}
	return s, nil
}

// inputOfSpec guesses the input of a spec without MetaInput: the first
// Linear's inputs and the last Linear's outputs.
func inputOfSpec(s nn.Spec) Input {
	var in Input
	var visit func(nn.Spec)
	visit = func(s nn.Spec) {
		if s.Type == "Linear" {
			if in.Shape == nil {
				in.Shape = []int{s.Int("in")}
			}
			in.Classes = s.Int("out")
		}
		for _, l := range s.Layers {
			visit(l)
		}
	}
	visit(s)
	return in
}

// SaveModel writes m's parameters and buffers to path as safetensors
// (atomically), with metadata and "format": "pt" so that PyTorch's
// safetensors loader accepts the file. When m describes itself (nn.Specer)
// and metadata has neither MetaArch nor MetaMLP, its spec is added, so that LoadModel
// rebuilds it from the file alone.
func SaveModel(path string, m nn.Module, metadata map[string]string) error {
	meta, err := modelMetadata(m, metadata)
	if err != nil {
		return err
	}
	meta["format"] = "pt"
	if err := safetensors.WriteFile(path, nn.StateDict(m), meta); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// modelMetadata copies metadata and adds m's spec (MetaArch) when m
// describes itself and metadata names no architecture.
func modelMetadata(m nn.Module, metadata map[string]string) (map[string]string, error) {
	meta := map[string]string{}
	for k, v := range metadata {
		meta[k] = v
	}
	_, arch := meta[MetaArch]
	_, mlp := meta[MetaMLP]
	if !arch && !mlp {
		if s, err := nn.SpecOf(m); err == nil {
			js, err := json.Marshal(s)
			if err != nil {
				return nil, fmt.Errorf("train: %w", err)
			}
			meta[MetaArch] = string(js)
		}
	}
	return meta, nil
}

// LoadMLP rebuilds an MLP from a safetensors file (see LoadModel, which
// reads any model; this is the MLP-only form kept for existing callers).
// A non-empty activation overrides the file's.
//
// Deprecated: use LoadModel.
func LoadMLP(path, activation string) (*nn.Sequential, nn.MLPConfig, error) {
	m, err := LoadModel(path, LoadOptions{Activation: activation})
	if err != nil {
		return nil, nn.MLPConfig{}, fmt.Errorf("train: %w", err)
	}
	seq, ok := m.Module.(*nn.Sequential)
	if !ok {
		return nil, nn.MLPConfig{}, fmt.Errorf("train: %s is not a Sequential", path)
	}
	cfg := nn.MLPConfig{In: m.Input.Features(), DType: nn.DTypeOf(seq)}
	var outs []int
	for _, l := range seq.Layers {
		switch l := l.(type) {
		case *nn.Linear:
			outs = append(outs, l.Out)
		case *nn.Activation:
			cfg.Activation = l.Name()
		case *nn.Dropout:
			cfg.Dropout = l.P
		case *nn.Flatten:
			cfg.Flatten = true
		default:
			return nil, cfg, fmt.Errorf("train: %s is not an MLP (it has a %T layer): use LoadModel", path, l)
		}
	}
	if len(outs) == 0 {
		return nil, cfg, fmt.Errorf("train: %s has no Linear layer: use LoadModel", path)
	}
	cfg.Hidden, cfg.Out = outs[:len(outs)-1], outs[len(outs)-1]
	return seq, cfg, nil
}

// inferMLP reads layer sizes from "<i>.weight" [out, in] tensors, ordered
// by i, checking that consecutive layers fit and that the indices step by
// two (Linear, activation, Linear, …).
func inferMLP(ts map[string]*tensor.Tensor) (nn.MLPConfig, error) {
	var idx []int
	for k := range ts {
		name, ok := strings.CutSuffix(k, ".weight")
		if !ok {
			continue
		}
		var i int
		if _, err := fmt.Sscanf(name, "%d", &i); err != nil || fmt.Sprint(i) != name {
			return nn.MLPConfig{}, fmt.Errorf("tensor %q is not a layer of a Sequential of Linear layers", k)
		}
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		return nn.MLPConfig{}, errors.New(`no "<index>.weight" tensors: not an MLP, and no nabla.arch metadata says what it is`)
	}
	sort.Ints(idx)
	cfg := nn.MLPConfig{DType: ts[fmt.Sprintf("%d.weight", idx[0])].DType()}
	for j, i := range idx {
		if i != 2*j {
			return cfg, fmt.Errorf("layer indices %v are not 0, 2, 4, … (Linear, activation, Linear, …)", idx)
		}
		w := ts[fmt.Sprintf("%d.weight", i)]
		if w.Dims() != 2 {
			return cfg, fmt.Errorf("%d.weight has shape %v, want [out, in]", i, w.Shape())
		}
		out, in := w.Dim(0), w.Dim(1)
		if j == 0 {
			cfg.In = in
		} else if prev := cfg.Hidden[len(cfg.Hidden)-1]; in != prev {
			return cfg, fmt.Errorf("%d.weight takes %d inputs but the layer before gives %d", i, in, prev)
		}
		cfg.Hidden = append(cfg.Hidden, out)
	}
	cfg.Out = cfg.Hidden[len(cfg.Hidden)-1]
	cfg.Hidden = cfg.Hidden[:len(cfg.Hidden)-1]
	return cfg, nil
}
