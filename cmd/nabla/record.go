package main

import (
	"flag"
	"fmt"

	"github.com/nabla-go/nabla/train"
)

// defineRecordFlags adds --record and --record-every to the training
// flags. They are part of the run's settings (config.json), so a resumed
// run keeps recording as it started.
func defineRecordFlags(fs *flag.FlagSet, f *trainFlags) {
	fs.BoolVar(&f.Record, "record", false, "record gradient flow and activation statistics per layer to records.jsonl (see 'nabla plot run')")
	fs.IntVar(&f.RecordEvery, "record-every", 10, "with --record: record at step 1 and every this many optimiser steps")
}

// attachRecorder hooks a train.Recorder into the run when f asks for one;
// call it after Resume. It returns nil when nothing is recorded.
func attachRecorder(r *trainRun, f trainFlags) (*train.Recorder, error) {
	if !f.Record {
		return nil, nil
	}
	if f.RecordEvery < 1 {
		return nil, fmt.Errorf("train: --record-every must be at least 1, not %d", f.RecordEvery)
	}
	rec := train.NewRecorder(r.model, f.RecordEvery)
	if err := rec.Attach(r.trainer); err != nil {
		return nil, err
	}
	return rec, nil
}

// recorderErr is the recorder's write error, if any (nil for no recorder).
func recorderErr(rec *train.Recorder) error {
	if rec == nil {
		return nil
	}
	return rec.Err()
}
