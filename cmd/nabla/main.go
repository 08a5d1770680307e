// Command nabla trains, checks and explains neural networks built with the
// nabla library.
//
// Usage:
//
//	nabla <command> [flags]
//
// Commands:
//
//	train        train a network (default: a 2-layer ReLU net on the spiral set)
//	eval         score a saved model on a data set, with a confusion matrix
//	layers       list the layer kinds and presets an --arch spec can use
//	gradcheck    compare every op's gradient with finite differences
//	plot         draw activations and their derivatives, a run's curves and
//	             gradient flow, a model's decision boundary, a CNN's filters,
//	             feature maps and saliency
//	graph        write a computation graph, with gradient norms, as Graphviz DOT
//	experiment   run a demonstration (vanishing: gradient flow by activation)
//	sweep        train a grid of hyper-parameters or architectures
//	serve        the browser views: playground, chain-rule stepper, activations
//	export       write a model as ONNX, or an ONNX model as safetensors
//	version      print the version
//
// Run "nabla <command> -h" for a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is a subcommand: it parses its own flags from args and writes
// its report to stdout.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"train":     {"train a network (default: a 2-layer ReLU net on the spiral set)", runTrain},
	"eval":      {"score a saved model on a data set, with a confusion matrix", runEval},
	"gradcheck": {"compare every op's gradient with finite differences", runGradcheck},
	"version":   {"print the version", runVersion},
}

const version = "0.1.0-dev"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "nabla:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitStatus is an error that asks for a particular exit code without a
// message of its own (the command already reported).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func exitCode(err error) int {
	var es exitStatus
	if errors.As(err, &es) {
		return int(es)
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

func run(args []string, stdout, stderr io.Writer) error {
	return dispatch("nabla", "command", commands, args, stdout, stderr)
}

// dispatch runs the entry of table that args[0] names with the rest of
// args, or, for no argument or -h, lists the table on stdout (prog and
// noun fill in the usage line: "nabla <command>", "nabla plot <figure>").
func dispatch(prog, noun string, table map[string]command, args []string, stdout, stderr io.Writer) error {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stdout, "Usage: %s <%s> [flags]\n\n%ss:\n", prog, noun, strings.ToUpper(noun[:1])+noun[1:])
		for _, n := range names {
			fmt.Fprintf(stdout, "  %-12s  %s\n", n, table[n].summary)
		}
		fmt.Fprintf(stdout, "\nRun '%s <%s> -h' for its flags.\n", prog, noun)
		if len(args) == 0 {
			return fmt.Errorf("no %s given (one of %s)", noun, strings.Join(names, ", "))
		}
		return nil
	}
	c, ok := table[args[0]]
	if !ok {
		return fmt.Errorf("unknown %s %q (one of %s)", noun, args[0], strings.Join(names, ", "))
	}
	err := c.run(args[1:], stdout, stderr)
	var ce *commandError
	if err == nil || errors.Is(err, flag.ErrHelp) || errors.As(err, &ce) {
		return err
	}
	var es exitStatus
	if errors.As(err, &es) {
		return err
	}
	name := strings.TrimPrefix(prog+" "+args[0], "nabla ")
	return &commandError{name: name, err: err}
}

// commandError is an error of a command, shown once with the command's
// name ("plot boundary: …"): the prefixes of the packages and commands it
// passed through ("train: ", "nn: ") are dropped, so that no message
// reads "train: train: …".
type commandError struct {
	name string
	err  error
}

func (e *commandError) Unwrap() error { return e.err }

func (e *commandError) Error() string {
	msg := e.err.Error()
	for {
		word, rest, ok := strings.Cut(msg, ": ")
		if !ok || !droppedPrefix(word, e.name) {
			break
		}
		msg = rest
	}
	return e.name + ": " + msg
}

// droppedPrefix reports whether word, before a ": ", names a package or
// the command itself rather than saying something.
func droppedPrefix(word, command string) bool {
	switch word {
	case "train", "nn", "data", "safetensors", "optim", "loss", "plot", "tensor", "ag", "gradcheck":
		return true
	}
	return word == command || strings.HasPrefix(command, word+" ") || strings.HasSuffix(command, " "+word)
}

// newFlags returns a flag set that reports errors instead of exiting and
// prints its help to stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: nabla %s\n\n", synopsis)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args. A bad flag gives one line naming it (no usage
// dump); -h prints the usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return fmt.Errorf("%s: %v (see 'nabla %s -h')", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "nabla", version)
	return nil
}
