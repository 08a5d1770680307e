package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/fsutil"
	"github.com/nabla-go/nabla/nn"
)

const runFlagsFile = "config.json"

// writeRunFlags saves a run's settings in its folder (atomically), for
// --resume and for the record.
func writeRunFlags(dir string, f trainFlags) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, runFlagsFile), append(b, '\n'))
}

// writeFileAtomic writes b to path through fsutil.WriteFile: a reader, or
// a run killed meanwhile, sees the old file or the new one, never part.
func writeFileAtomic(path string, b []byte) error {
	return fsutil.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// loadRunFlags reads the settings of the run in dir into f, then applies
// the flags given on this command line, refusing any that would change the
// run: only the number of epochs (to train longer), where the data lives,
// the thread count and the recording of gradient flow may differ.
func loadRunFlags(fs *flag.FlagSet, dir string, f *trainFlags) error {
	b, err := os.ReadFile(filepath.Join(dir, runFlagsFile))
	if err != nil {
		return fmt.Errorf("train: --resume %s: %v (is it a run folder?)", dir, err)
	}
	given := *f
	if err := json.Unmarshal(b, f); err != nil {
		return fmt.Errorf("train: --resume %s: %s is not valid: %v", dir, runFlagsFile, err)
	}
	var bad []string
	fs.Visit(func(fl *flag.Flag) {
		switch {
		case fl.Name == "epochs":
			f.Epochs = given.Epochs
		case fl.Name == "data-dir":
			f.DataDir = given.DataDir
		case fl.Name == "record": // recording reads the training, it does not change it
			f.Record = given.Record
		case fl.Name == "record-every":
			f.RecordEvery = given.RecordEvery
		case fl.Name == "resume" || fl.Name == "threads" || fl.Name == "quiet" || fl.Name == "out":
		default:
			bad = append(bad, "--"+fl.Name)
		}
	})
	if len(bad) > 0 {
		return fmt.Errorf("train: cannot change %s when resuming (only --epochs, --data-dir, --threads, --record and --record-every)", strings.Join(bad, ", "))
	}
	return nil
}

func paramNodes(m nn.Module) []*ag.Node {
	ps := m.Params()
	out := make([]*ag.Node, len(ps))
	for i, p := range ps {
		out[i] = p.Node
	}
	return out
}

// describeSpec names a model by its spec's text form.
func describeSpec(s nn.Spec) string {
	t := s.Text()
	if len(t) > 120 {
		t = t[:117] + "…"
	}
	return "the network " + t
}

// isTerminal reports whether w is a character device (a terminal), where a
// redrawn progress bar makes sense.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
