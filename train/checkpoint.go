package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/safetensors"
	"github.com/nabla-go/nabla/tensor"
)

// CheckpointFile is the checkpoint's name inside a run folder.
const CheckpointFile = "checkpoint.safetensors"

// Metadata keys nabla writes into safetensors files.
const (
	MetaCheckpoint = "nabla.checkpoint" // JSON: loop state of a checkpoint
	MetaMLP        = "nabla.mlp"        // JSON: the nn.MLPConfig that rebuilds the model
)

// loopState is the part of a checkpoint that is not a tensor.
type loopState struct {
	Epoch   int               `json:"epoch"`
	Step    int               `json:"step"`
	Best    *float64          `json:"best_monitor,omitempty"` // absent while +Inf
	Bad     int               `json:"epochs_without_improvement"`
	RNG     map[string][]byte `json:"rng"` // PCG states (MarshalBinary), base64 in JSON
	History []Metrics         `json:"history"`
}

type stateful interface {
	StateDict() map[string]*tensor.Tensor
	LoadStateDict(map[string]*tensor.Tensor) error
}

func (t *Trainer) saveCheckpoint(path string) error {
	ts := map[string]*tensor.Tensor{}
	for k, v := range nn.StateDict(t.Model) {
		ts["model."+k] = v
	}
	for k, v := range t.Opt.StateDict() {
		ts["optim."+k] = v
	}
	if s, ok := t.Schedule.(stateful); ok {
		for k, v := range s.StateDict() {
			ts["schedule."+k] = v
		}
	}
	st := loopState{Epoch: t.epoch, Step: t.step, Bad: t.bad, RNG: map[string][]byte{}, History: t.history}
	if !math.IsInf(t.best, 1) {
		b := t.best
		st.Best = &b
	}
	for name, r := range t.RNG {
		b, err := r.MarshalBinary()
		if err != nil {
			return fmt.Errorf("train: saving generator %q: %w", name, err)
		}
		st.RNG[name] = b
	}
	js, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	meta := map[string]string{MetaCheckpoint: string(js)}
	for k, v := range t.Config.Metadata {
		meta[k] = v
	}
	return safetensors.WriteFile(path, ts, meta)
}

// Resume restores the trainer from the checkpoint in dir (see
// CheckpointFile): weights, optimiser and schedule state, generators, the
// epoch and step counters and the metrics history. Run then continues with
// the next epoch. The model, optimiser and schedule must be built as for
// the run that wrote the checkpoint; a mismatch is an error naming the
// tensor.
func (t *Trainer) Resume(dir string) error {
	path := filepath.Join(dir, CheckpointFile)
	ts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("train: no checkpoint in %s (was the run started with a run folder?)", dir)
		}
		return fmt.Errorf("train: %w", err)
	}
	var st loopState
	if err := json.Unmarshal([]byte(meta[MetaCheckpoint]), &st); err != nil {
		return fmt.Errorf("train: %s is not a nabla checkpoint: %v", path, err)
	}
	groups := map[string]map[string]*tensor.Tensor{"model": {}, "optim": {}, "schedule": {}}
	for k, v := range ts {
		prefix, rest, _ := strings.Cut(k, ".")
		g, ok := groups[prefix]
		if !ok {
			return fmt.Errorf("train: %s: unexpected tensor %q", path, k)
		}
		g[rest] = v
	}
	// Restore everything or nothing: each LoadStateDict checks before it
	// copies, and a later failure puts back what an earlier one changed.
	rngs := map[string][]byte{}
	for name := range t.RNG {
		b, ok := st.RNG[name]
		if !ok {
			return fmt.Errorf("train: %s has no state for generator %q", path, name)
		}
		rngs[name] = b
	}
	oldModel := cloneAll(nn.StateDict(t.Model))
	oldOpt := cloneAll(t.Opt.StateDict())
	undo := func() {
		nn.LoadStateDict(t.Model, oldModel)
		t.Opt.LoadStateDict(oldOpt)
	}
	if err := nn.LoadStateDict(t.Model, groups["model"]); err != nil {
		return fmt.Errorf("train: %s: %w", path, err)
	}
	if err := t.Opt.LoadStateDict(groups["optim"]); err != nil {
		undo()
		return fmt.Errorf("train: %s: optimiser state: %w", path, err)
	}
	if s, ok := t.Schedule.(stateful); ok {
		if err := s.LoadStateDict(groups["schedule"]); err != nil {
			undo()
			return fmt.Errorf("train: %s: schedule state: %w", path, err)
		}
	}
	for name, r := range t.RNG {
		if err := r.UnmarshalBinary(rngs[name]); err != nil {
			undo()
			return fmt.Errorf("train: %s: generator %q: %w", path, name, err)
		}
	}
	t.epoch, t.step, t.bad, t.history = st.Epoch, st.Step, st.Bad, st.History
	t.best = math.Inf(1)
	if st.Best != nil {
		t.best = *st.Best
	}
	return nil
}

func cloneAll(sd map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	out := make(map[string]*tensor.Tensor, len(sd))
	for k, v := range sd {
		out[k] = v.Clone()
	}
	return out
}

// Epoch is the number of completed epochs (after Resume, those restored).
func (t *Trainer) Epoch() int { return t.epoch }

// SaveModel writes m's parameters to path as safetensors (atomically),
// with metadata (such as MetaMLP) and "format": "pt" so that PyTorch's
// safetensors loader accepts the file.
func SaveModel(path string, m nn.Module, metadata map[string]string) error {
	meta := map[string]string{"format": "pt"}
	for k, v := range metadata {
		meta[k] = v
	}
	if err := safetensors.WriteFile(path, nn.StateDict(m), meta); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// LoadMLP rebuilds an MLP from a safetensors file. A file written by nabla
// carries its architecture (MetaMLP); for any other file of Linear layers
// named "<index>.weight" and "<index>.bias", as a PyTorch nn.Sequential of
// Linear layers and activations saves them, the layer sizes are read from
// the shapes and activation names the activation (it must be given then).
// A non-empty activation overrides the file's.
func LoadMLP(path, activation string) (*nn.Sequential, nn.MLPConfig, error) {
	ts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nn.MLPConfig{}, fmt.Errorf("train: %w", err)
	}
	var cfg nn.MLPConfig
	if js, ok := meta[MetaMLP]; ok {
		if err := json.Unmarshal([]byte(js), &cfg); err != nil {
			return nil, cfg, fmt.Errorf("train: %s: bad %s metadata: %v", path, MetaMLP, err)
		}
		// Check the metadata against the tensors before building anything
		// from it: a corrupt size must not allocate gigabytes.
		held := 0
		for _, t := range ts {
			held += t.Len()
		}
		if want := nn.MLPParams(cfg); want != held {
			return nil, cfg, fmt.Errorf("train: %s: its %s metadata describes %d parameters but the file holds %d", path, MetaMLP, want, held)
		}
	} else {
		cfg, err = inferMLP(ts)
		if err != nil {
			return nil, cfg, fmt.Errorf("train: %s: %w", path, err)
		}
		if activation == "" && len(cfg.Hidden) > 0 {
			return nil, cfg, fmt.Errorf("train: %s does not say which activation its layers use; name it (e.g. --activation relu)", path)
		}
	}
	if activation != "" {
		cfg.Activation = activation
	}
	m, err := nn.NewMLP(cfg, tensor.NewRand(0))
	if err != nil {
		return nil, cfg, fmt.Errorf("train: %s: %w", path, err)
	}
	if err := nn.LoadStateDict(m, ts); err != nil {
		return nil, cfg, fmt.Errorf("train: %s: %w", path, err)
	}
	return m, cfg, nil
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
		i, err := strconv.Atoi(name)
		if err != nil {
			return nn.MLPConfig{}, fmt.Errorf("tensor %q is not a layer of a Sequential of Linear layers", k)
		}
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		return nn.MLPConfig{}, errors.New(`no "<index>.weight" tensors: not an MLP`)
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
