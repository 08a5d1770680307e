package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/nabla-go/nabla/internal/fsutil"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/safetensors"
	"github.com/nabla-go/nabla/tensor"
)

// CheckpointFile is the checkpoint's name inside a run folder.
const CheckpointFile = "checkpoint.safetensors"

// Metadata keys nabla writes into safetensors files.
const (
	MetaCheckpoint = "nabla.checkpoint" // JSON: loop state of a checkpoint
	MetaMLP        = "nabla.mlp"        // JSON: an nn.MLPConfig, in files written before MetaArch (still read)
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
	meta, err := modelMetadata(t.Model, t.Config.Metadata)
	if err != nil {
		return err
	}
	meta[MetaCheckpoint] = string(js)
	return safetensors.WriteFile(path, ts, meta)
}

// ErrNoCheckpoint is the error (wrapped) of Resume on a run folder
// without a checkpoint: the run was killed in its first epoch, or never
// had a run folder.
var ErrNoCheckpoint = errors.New("no checkpoint")

// Resume restores the trainer from the checkpoint in dir (see
// CheckpointFile): weights, optimiser and schedule state, generators, the
// epoch and step counters and the metrics history. Run then continues with
// the next epoch. The model, optimiser and schedule must be built as for
// the run that wrote the checkpoint; a mismatch is an error naming the
// tensor.
//
// When dir is the trainer's run folder, Resume takes its lock first (see
// Lock) and rewrites metrics.jsonl from the checkpoint's history, so
// that lines of epochs after the checkpoint (written by a run killed
// before it could save again) are dropped.
func (t *Trainer) Resume(dir string) error {
	if filepath.Clean(dir) == filepath.Clean(t.Config.Dir) {
		if err := t.Lock(); err != nil {
			return err
		}
	}
	path := filepath.Join(dir, CheckpointFile)
	ts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("train: %w in %s (the run saved none: it stopped in its first epoch, or had no run folder)", ErrNoCheckpoint, dir)
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
	oldOpt := t.Opt.StateDict() // copies already (Optimizer.StateDict's contract)
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
	t.saved = filepath.Clean(dir) == filepath.Clean(t.Config.Dir)
	if t.saved {
		return t.rewriteMetrics()
	}
	return nil
}

// rewriteMetrics writes metrics.jsonl (atomically) from the history.
func (t *Trainer) rewriteMetrics() error {
	var buf bytes.Buffer
	for _, m := range t.history {
		line, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		buf.Write(append(line, '\n'))
	}
	err := fsutil.WriteFile(filepath.Join(t.Config.Dir, MetricsFile), 0o644, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
	if err != nil {
		return fmt.Errorf("train: %w", err)
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
