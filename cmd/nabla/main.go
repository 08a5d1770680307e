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
//	gradcheck    compare every op's gradient with finite differences
//	plot         draw activations and their derivatives, a run's curves and
//	             gradient flow, or a model's decision boundary
//	graph        write a small network's computation graph as Graphviz DOT
//	experiment   run a demonstration (vanishing: gradient flow by activation)
//	sweep        train a grid of hyper-parameters and tabulate the results
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q (run 'nabla help' for the list)", args[0])
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: nabla <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s  %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'nabla <command> -h' for a command's flags.")
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
